/**
 * Case 6, CPU-bound handlers (`workers`): every handler does ~20 ms of synchronous work (a fixed
 * amount, calibrated once on this machine, not a wall-clock spin: on a loaded machine it takes
 * longer, as real work would). 16 employments each keep one message in flight. Subjects: handlers
 * in-process, in 1 worker thread and in 2; the figure is replies/s and the 2-vs-1 ratio. The
 * platform and the load generator share the machine's cores with the agent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { quantile } from '../lib/stats.js';
import { Generator } from '../lib/generator.js';
import { cpuProbe } from '../lib/proc.js';
import { writeRunnerProject } from '../lib/subjects.js';
import { EMPLOYER, EMPLOYMENT_IDS, startWorld } from '../lib/world.js';

/** The synchronous work each handler does, in ms on an idle core. */
export const CPU_WORK_MS = 20;
/** Messages in flight (one per employment): enough to keep two threads busy. */
export const CPU_IN_FLIGHT = 16;

/** The work: a loop the JIT cannot drop (its result is returned). */
function work(iterations) {
  let x = 0;
  for (let i = 0; i < iterations; i += 1) x = (x + Math.sqrt(i * 1.000001)) % 1e9;
  return x;
}

/** How many iterations of {@link work} take `ms` here (the best of a few tries: the least disturbed). */
export function calibrate(ms = CPU_WORK_MS) {
  const probe = 1_000_000;
  work(probe); // warm the JIT
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i += 1) {
    const t0 = performance.now();
    work(probe);
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round((probe * ms) / best);
}

/** A runner project whose handler does `iterations` of the work, with `workers` threads (0: in-process). */
export function writeCpuProject(dir, { iterations, workers }) {
  writeRunnerProject(dir);
  mkdirSync(join(dir, 'handlers'), { recursive: true });
  writeFileSync(
    join(dir, 'c4c.config.ts'),
    `import { defineConfig } from 'c4c-runner';\n\nexport default defineConfig({ handlers: './handlers', concurrency: ${CPU_IN_FLIGHT}, workers: ${workers} });\n`,
  );
  writeFileSync(
    join(dir, 'handlers', 'message.ts'),
    `import { defineHandler } from 'c4c-runner';

${work.toString()}

export default defineHandler('message', (ctx) => {
  work(${iterations});
  return ctx.event.content;
});
`,
  );
  return dir;
}

/** One run for one subject: { rate, p50, agentCpu, benchCpu, lost }. */
export async function cpuRun({ launch, warmupMs, measureMs }) {
  const platform = await startWorld('platform');
  let agent;
  let generator;
  try {
    agent = await launch(platform);
    generator = await Generator.connect({ wsUrl: platform.wsUrl, token: EMPLOYER.token });
    // Catch-up done (see slow.js), and each thread has run the handler once.
    await generator.roundTrip(EMPLOYMENT_IDS[EMPLOYMENT_IDS.length - 1]);
    const result = await generator.closedLoop({
      inFlight: CPU_IN_FLIGHT,
      employments: EMPLOYMENT_IDS,
      warmupMs,
      measureMs,
      probe: cpuProbe(agent.pid),
      drainMs: 15_000,
    });
    if (generator.errors.length)
      throw new Error(`the platform refused frames: ${generator.errors.slice(0, 3).join('; ')}`);
    return {
      rate: result.rate,
      p50: quantile(result.latenciesUs, 0.5) / 1000,
      agentCpu: result.usage.agentCpu,
      benchCpu: result.usage.benchCpu,
      lost: result.lost,
    };
  } finally {
    await generator?.close();
    await agent?.stop();
    await platform.close();
  }
}

/** The case's table (markdown), for the report. */
export function cpuSummary(results) {
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const rows = results.cpu;
  const rate = (key) => median(rows.map((r) => r[key].rate));
  const ratio = median(rows.map((r) => r.workers2.rate / r.workers1.rate));
  const cpu = (key) => `${(median(rows.map((r) => r[key].agentCpu)) * 100).toFixed(0)}%`;
  const p50 = (key) => `${median(rows.map((r) => r[key].p50)).toFixed(0)} ms`;
  return [
    `### CPU-bound handlers (\`workers\`): ~${CPU_WORK_MS} ms of synchronous work per message, ${CPU_IN_FLIGHT} in flight`,
    '',
    '| handlers run | replies/s (median) | p50 latency | agent CPU |',
    '| --- | ---: | ---: | ---: |',
    `| in-process (\`workers: 0\`) | ${rate('workers0').toFixed(1)} | ${p50('workers0')} | ${cpu('workers0')} |`,
    `| 1 worker thread | ${rate('workers1').toFixed(1)} | ${p50('workers1')} | ${cpu('workers1')} |`,
    `| 2 worker threads | ${rate('workers2').toFixed(1)} | ${p50('workers2')} | ${cpu('workers2')} |`,
    '',
    `2 threads vs 1: **${ratio.toFixed(2)}×** (median of ${rows.length} runs; per run: ${rows.map((r) => (r.workers2.rate / r.workers1.rate).toFixed(2)).join(', ')}); the mark is ≥ 1.6×.`,
  ].join('\n');
}
