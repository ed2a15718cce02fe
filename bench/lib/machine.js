/** The machine a run was measured on, for the report. */
import process from 'node:process';
import { cpus, loadavg, totalmem } from 'node:os';
import { availableParallelism } from 'node:os';

export function machine() {
  const list = cpus();
  return {
    cpu: list[0]?.model?.trim() ?? 'unknown',
    nproc: availableParallelism(),
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavg: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    date: new Date().toISOString(),
  };
}
