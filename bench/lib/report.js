/**
 * The results table: every figure is the median over runs with (min–max), and every comparison
 * is computed per run (runner vs baseline of the same run) before taking the median.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { summarize, formatSummary } from './stats.js';
import { SLOW_IDEAL } from '../cases/slow.js';

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

const per = (rows, fn) => summarize(rows.map(fn));
const rate = (s) => (s.n ? `${fmtInt(s.median)}/s (${fmtInt(s.min)}–${fmtInt(s.max)})` : 'n/a');
const fmtInt = (v) => Math.round(v).toLocaleString('en-US');
const verdict = (ok) => (ok === undefined ? '' : ok ? 'met' : '**missed**');

/** Markdown: machine line, the main table, and the CPU table. */
export function buildReport(results) {
  const m = results.machine;
  const lines = [];
  lines.push(
    `Machine: ${m.cpu}, ${m.nproc} cores (nproc), ${m.memGiB} GiB, ${m.platform}, Node ${m.node}; load average at start ${m.loadavg}; ` +
      `${results.runs} runs${results.quick ? ' (quick mode: short windows, not for publication)' : ''}, ${results.elapsedSeconds ?? '?'} s in all, ${m.date}.`,
  );
  lines.push('');
  lines.push(
    '| case | baseline (raw `ws` agent unless named) | c4c-runner (`start` unless named) | c4c-runner vs baseline | target | |',
  );
  lines.push('|---|---|---|---|---|---|');
  const echo = results.echo;
  if (echo.length) {
    for (const n of [1, 16, 256]) {
      const ratio = per(echo, (r) => r.runner[n].rate / r.raw[n].rate);
      const target = n === 16 ? 0.9 : n === 256 ? 0.8 : undefined;
      lines.push(
        `| echo, ${n} in flight: throughput | ${rate(per(echo, (r) => r.raw[n].rate))} | ${rate(per(echo, (r) => r.runner[n].rate))} | ` +
          `${formatSummary(ratio, 2, '×')} | ${target ? `≥ ${target.toFixed(2)}×` : '—'} | ${target ? verdict(ratio.median >= target) : ''} |`,
      );
    }
    for (const n of [1, 16, 256]) {
      const diff = per(echo, (r) => r.runner[n].p50 - r.raw[n].p50);
      const target = n === 1 ? 25 : undefined;
      lines.push(
        `| echo, ${n} in flight: p50 latency | ${formatSummary(
          per(echo, (r) => r.raw[n].p50),
          0,
          ' µs',
        )} | ${formatSummary(
          per(echo, (r) => r.runner[n].p50),
          0,
          ' µs',
        )} | ` +
          `${signed(diff, ' µs')} | ${target ? `≤ +${target} µs` : '—'} | ${target ? verdict(diff.median <= target) : ''} |`,
      );
    }
    for (const n of [1, 16, 256]) {
      lines.push(
        `| echo, ${n} in flight: p99 latency | ${formatSummary(
          per(echo, (r) => r.raw[n].p99),
          0,
          ' µs',
        )} | ${formatSummary(
          per(echo, (r) => r.runner[n].p99),
          0,
          ' µs',
        )} | ` +
          `${signed(
            per(echo, (r) => r.runner[n].p99 - r.raw[n].p99),
            ' µs',
          )} | — | |`,
      );
    }
  }
  const slow = results.slow;
  if (slow.length) {
    const ratio = per(slow, (r) => r.runner.rate / SLOW_IDEAL);
    lines.push(
      `| slow handlers (100 ms, concurrency 256, 1,000 employments): throughput vs ideal ${fmtInt(SLOW_IDEAL)}/s | ${rate(per(slow, (r) => r.raw.rate))} = ${formatSummary(
        per(slow, (r) => r.raw.rate / SLOW_IDEAL),
        3,
        '×',
      )} | ` +
        `${rate(per(slow, (r) => r.runner.rate))} = ${formatSummary(ratio, 3, '×')} | ${formatSummary(
          per(slow, (r) => r.runner.rate / r.raw.rate),
          3,
          '×',
        )} | ≥ 0.95× ideal | ${verdict(ratio.median >= 0.95)} |`,
    );
  }
  const reload = results.reload;
  if (reload?.runs?.length) {
    const fast = per(reload.runs, (r) => r.reloadMs);
    const restart = per(reload.runs, (r) => r.restartMs);
    const speedup = per(reload.runs, (r) => r.restartMs / r.reloadMs);
    lines.push(
      `| hot reload: save → first reply from new code (${reload.via}) | restart + reconnect: ${formatSummary(restart, 0, ' ms')} | ${formatSummary(fast, 1, ' ms')} | ` +
        `${formatSummary(speedup, 0, '×')} faster | ≤ 25 ms and ≥ 15× | ${verdict(fast.median <= 25 && speedup.median >= 15)} |`,
    );
  }
  const startup = results.startup;
  if (startup.length) {
    const spawn = per(startup, (r) => r.runner.spawnMs / r.raw.spawnMs);
    const rss = per(startup, (r) => r.runner.rssMiB / r.raw.rssMiB);
    lines.push(
      `| start-up: spawn → connected | ${formatSummary(
        per(startup, (r) => r.raw.spawnMs),
        0,
        ' ms',
      )} | ${formatSummary(
        per(startup, (r) => r.runner.spawnMs),
        0,
        ' ms',
      )} | ` + `${formatSummary(spawn, 2, '×')} | ≤ 2× | ${verdict(spawn.median <= 2)} |`,
    );
    lines.push(
      `| idle RSS (after 20 echoes and 1 s idle) | ${formatSummary(
        per(startup, (r) => r.raw.rssMiB),
        1,
        ' MiB',
      )} | ${formatSummary(
        per(startup, (r) => r.runner.rssMiB),
        1,
        ' MiB',
      )} | ` + `${formatSummary(rss, 2, '×')} | ≤ 1.5× | ${verdict(rss.median <= 1.5)} |`,
    );
  }
  if (echo.length && echo[0].relay) {
    lines.push('');
    lines.push(
      'Where the CPU goes during echo (share of one core over the measured window, median; the bench process holds the platform and the load generator):',
    );
    lines.push('');
    lines.push(
      '| in flight | raw via bare relay: msg/s · agent · bench | raw via platform: msg/s · agent · bench | runner via platform: msg/s · agent · bench |',
    );
    lines.push('|---|---|---|---|');
    for (const n of [1, 16, 256]) {
      const cell = (k) =>
        `${fmtInt(per(echo, (r) => r[k][n].rate).median)} · ${pct(per(echo, (r) => r[k][n].agentCpu))} · ${pct(per(echo, (r) => r[k][n].benchCpu))}`;
      lines.push(`| ${n} | ${cell('relay')} | ${cell('raw')} | ${cell('runner')} |`);
    }
  }
  if (reload?.note) lines.push('', reload.note);
  return lines.join('\n');
}

function signed(s, unit) {
  if (!s.n) return 'n/a';
  const f = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(0)}`;
  return `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})`;
}

function pct(s) {
  return s.n ? `${Math.round(s.median * 100)}%` : 'n/a';
}

/** Replaces the block between the result markers of BENCHMARKS.md (appends one if missing). */
export function writeBenchmarksMd(file, report) {
  const block = `${START}\n${report}\n${END}`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + block + text.slice(end + END.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
