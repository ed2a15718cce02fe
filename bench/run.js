/**
 * `npm run bench`: c4c-runner against a hand-written ws agent, over loopback WebSockets through the
 * embedded platform, every figure a ratio to its baseline measured in the same run.
 *
 *   node bench/run.js [--runs 5] [--quick] [--only null,echo,slow,reload,startup,cpu,catchup,redis] [--write] [--keep]
 *
 * The `redis` case is bench/redis.js (also `npm run bench:redis`), run as its own process: 1 vs 2
 * `start --redis` processes with a CPU-bound handler, and the cost per reply through Redis. It needs
 * Debian's redis-server; without it the case says so and the run fails.
 *
 * --quick   2 runs with short windows (for development; not for published figures)
 * --write   replace the results block of docs/benchmarks.md (and the README's short table) with this run's
 * --keep    keep the temp folder (agent logs, projects)
 * --no-build  skip compiling src → dist first
 * Results also go to bench/results/latest.json (with --write, to bench/results/published.json too).
 */
import process from 'node:process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { echoRun } from './cases/echo.js';
import { slowRun, SLOW_DELAY_MS } from './cases/slow.js';
import { calibrate, cpuRun, cpuSummary, writeCpuProject, CPU_WORK_MS } from './cases/cpu.js';
import { startupRun } from './cases/startup.js';
import { reloadRuns } from './cases/reload.js';
import { catchupRun, CATCHUP_SIZES } from './cases/catchup.js';
import { buildDist } from './lib/build.js';
import { machine } from './lib/machine.js';
import { buildReadmeTable, buildReport, writeBenchmarksMd, writeReadmeTable } from './lib/report.js';
import { formatSummary, summarize } from './lib/stats.js';
import { launchRaw, launchRunner, writeRunnerProject } from './lib/subjects.js';
import { ROOT } from './lib/world.js';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    write: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    build: { type: 'boolean', default: true },
  },
  allowNegative: true,
});
const quick = opts.quick;
const runs = Number(opts.runs ?? (quick ? 2 : 5));
const CASES = ['null', 'echo', 'slow', 'reload', 'startup', 'cpu', 'catchup', 'redis'];
const only = new Set((opts.only ?? CASES.join(',')).split(','));
for (const name of only) {
  if (!CASES.includes(name)) {
    process.stderr.write(`bench: unknown case "${name}" in --only; the cases are ${CASES.join(', ')}\n`);
    process.exit(2);
  }
}
const timing = quick
  ? { warmupMs: 300, measureMs: 1000, slowWarmupMs: 800, slowMeasureMs: 1500, reloads: 5, restarts: 2 }
  : { warmupMs: 500, measureMs: 2000, slowWarmupMs: 2000, slowMeasureMs: 3000, reloads: 10, restarts: 3 };

// Measure the code in src as a user gets it: compiled to dist.
const missing = buildDist({ build: opts.build });
if (missing) {
  process.stderr.write(`${missing}\n`);
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'c4c-bench-'));
const log = (line) => process.stderr.write(`${line}\n`);
const started = Date.now();
const results = {
  machine: machine(),
  runs,
  quick,
  timing,
  nullEcho: [],
  echo: [],
  slow: [],
  reload: null,
  startup: [],
  cpu: [],
  catchup: [],
};

const echoProject = writeRunnerProject(join(tmp, 'echo-project'));
const noAckProject = writeRunnerProject(join(tmp, 'echo-project-no-ack'), { ack: false });
const slowProject = writeRunnerProject(join(tmp, 'slow-project'), { delayMs: SLOW_DELAY_MS });
const slowNoAckProject = writeRunnerProject(join(tmp, 'slow-project-no-ack'), {
  delayMs: SLOW_DELAY_MS,
  ack: false,
});

/** Alternates which subject goes first, so drift on a shared machine favours neither. */
function ordered(run, pairs) {
  return run % 2 === 0 ? pairs : [...pairs].reverse();
}

try {
  log(
    `bench: ${results.machine.cpu}, ${results.machine.nproc} cores, node ${results.machine.node}, load ${results.machine.loadavg}; ${runs} runs${quick ? ' (quick)' : ''}`,
  );
  if (only.has('null')) {
    // The headline: the agent alone, against a stand-in platform that costs next to nothing.
    for (let run = 0; run < runs; run += 1) {
      const row = {};
      const echo = (launch) => () => echoRun({ ...timing, world: 'null', levels: [1, 16, 256], launch });
      const subjects = [
        ['raw', echo((platform) => launchRaw({ platform, tmp, name: 'raw-null' }))],
        [
          'runner',
          echo((platform) => launchRunner({ platform, tmp, project: echoProject, name: 'runner-null' })),
        ],
      ];
      for (const [name, measure] of ordered(run, subjects)) row[name] = await measure();
      results.nullEcho.push(row);
      log(
        `null-platform run ${run + 1}/${runs}: ${[1, 16, 256].map((n) => `${n}: raw ${row.raw[n].rate.toFixed(0)}/s ${row.raw[n].agentUsPerMsg.toFixed(0)} µs/reply, runner ${row.runner[n].rate.toFixed(0)}/s ${row.runner[n].agentUsPerMsg.toFixed(0)} µs/reply`).join(' · ')}`,
      );
    }
  }
  if (only.has('echo')) {
    for (let run = 0; run < runs; run += 1) {
      const row = {};
      const echo =
        (launch, world = 'platform') =>
        () =>
          echoRun({ ...timing, world, levels: [1, 16, 256], launch });
      const subjects = [
        ['raw', echo((platform) => launchRaw({ platform, tmp }))],
        ['runner', echo((platform) => launchRunner({ platform, tmp, project: echoProject }))],
        [
          'runnerNoAck',
          echo((platform) => launchRunner({ platform, tmp, project: noAckProject, name: 'runner-no-ack' })),
        ],
        ['relay', echo((platform) => launchRaw({ platform, tmp, name: 'raw-relay' }), 'relay')],
      ];
      for (const [name, measure] of ordered(run, subjects)) row[name] = await measure();
      results.echo.push(row);
      log(
        `echo run ${run + 1}/${runs}: ${[1, 16, 256].map((n) => `${n}: raw ${row.raw[n].rate.toFixed(0)}/s runner ${row.runner[n].rate.toFixed(0)}/s (ack: false ${row.runnerNoAck[n].rate.toFixed(0)}/s)`).join(' · ')}`,
      );
    }
  }
  if (only.has('slow')) {
    for (let run = 0; run < runs; run += 1) {
      const row = {};
      const slow = (launch) => () =>
        slowRun({ warmupMs: timing.slowWarmupMs, measureMs: timing.slowMeasureMs, launch });
      const subjects = [
        ['raw', slow((platform) => launchRaw({ platform, tmp, delayMs: SLOW_DELAY_MS, name: 'raw-slow' }))],
        [
          'runner',
          slow((platform) => launchRunner({ platform, tmp, project: slowProject, name: 'runner-slow' })),
        ],
        [
          'runnerNoAck',
          slow((platform) =>
            launchRunner({ platform, tmp, project: slowNoAckProject, name: 'runner-slow-no-ack' }),
          ),
        ],
      ];
      for (const [name, measure] of ordered(run, subjects)) row[name] = await measure();
      results.slow.push(row);
      log(
        `slow run ${run + 1}/${runs}: raw ${row.raw.rate.toFixed(0)}/s runner ${row.runner.rate.toFixed(0)}/s (ack: false ${row.runnerNoAck.rate.toFixed(0)}/s)`,
      );
    }
  }
  if (only.has('reload')) {
    results.reload = await reloadRuns({ tmp, runs, reloads: timing.reloads, restarts: timing.restarts, log });
  }
  if (only.has('startup')) {
    // A first start in a project jiti has never seen transpiles c4c.config.ts and the handlers (and
    // loads babel for it); later starts read jiti's cache. The cold start is reported on its own;
    // the runs below measure the warm one, as a restarted production agent starts.
    const coldProject = writeRunnerProject(join(tmp, `startup-project-${process.pid}`));
    results.startupCold = await startupRun({
      launch: (platform) =>
        launchRunner({ platform, tmp, project: coldProject, name: 'runner-startup-cold' }),
    });
    log(
      `startup cold: runner ${results.startupCold.spawnMs.toFixed(0)} ms ${results.startupCold.rssMiB.toFixed(1)} MiB`,
    );
    for (let run = 0; run < runs; run += 1) {
      const row = {};
      const subjects = [
        [
          'raw',
          () => startupRun({ launch: (platform) => launchRaw({ platform, tmp, name: 'raw-startup' }) }),
        ],
        [
          'runner',
          () =>
            startupRun({
              launch: (platform) =>
                launchRunner({ platform, tmp, project: coldProject, name: 'runner-startup' }),
            }),
        ],
      ];
      for (const [name, measure] of ordered(run, subjects)) row[name] = await measure();
      // The same start in the 1,000-employment world of the other cases: catch-up reads every
      // employment's unread history before the agent is idle.
      row.runnerWide = await startupRun({
        employments: 1000,
        launch: (platform) =>
          launchRunner({ platform, tmp, project: coldProject, name: 'runner-startup-wide' }),
      });
      results.startup.push(row);
      log(
        `startup run ${run + 1}/${runs}: raw ${row.raw.spawnMs.toFixed(0)} ms ${row.raw.rssMiB.toFixed(1)} MiB · runner ${row.runner.spawnMs.toFixed(0)} ms ${row.runner.rssMiB.toFixed(1)} MiB`,
      );
    }
  }
  if (only.has('cpu')) {
    // A fixed amount of work per handler (~20 ms on an idle core), in-process and in 1 or 2 threads.
    const iterations = calibrate(CPU_WORK_MS);
    results.cpuIterations = iterations;
    const projects = Object.fromEntries(
      [0, 1, 2].map((workers) => [
        workers,
        writeCpuProject(join(tmp, `cpu-project-${workers}`), { iterations, workers }),
      ]),
    );
    for (let run = 0; run < runs; run += 1) {
      const row = {};
      const subjects = [0, 1, 2].map((workers) => [
        `workers${workers}`,
        () =>
          cpuRun({
            warmupMs: timing.slowWarmupMs,
            measureMs: timing.slowMeasureMs,
            launch: (platform) =>
              launchRunner({ platform, tmp, project: projects[workers], name: `runner-cpu-${workers}` }),
          }),
      ]);
      for (const [name, measure] of ordered(run, subjects)) row[name] = await measure();
      results.cpu.push(row);
      log(
        `cpu run ${run + 1}/${runs}: in-process ${row.workers0.rate.toFixed(1)}/s · 1 thread ${row.workers1.rate.toFixed(1)}/s · 2 threads ${row.workers2.rate.toFixed(1)}/s · 2 vs 1: ${(row.workers2.rate / row.workers1.rate).toFixed(2)}×`,
      );
    }
  }
  if (only.has('catchup')) {
    // Catch-up at scale: the agent alone (no baseline: a bare client does not catch up).
    const catchupProject = writeRunnerProject(join(tmp, 'catchup-project'));
    for (let run = 0; run < runs; run += 1) {
      for (const employments of CATCHUP_SIZES) {
        const row = await catchupRun({
          employments,
          launch: (platform) =>
            launchRunner({ platform, tmp, project: catchupProject, name: `runner-catchup-${employments}` }),
        });
        results.catchup.push(row);
        log(
          `catchup run ${run + 1}/${runs} at ${employments}: live answered in ${row.liveMs.toFixed(0)} ms · all read in ${row.totalMs.toFixed(0)} ms (${row.perSecond.toFixed(0)}/s) · ${row.requestsPerEmployment.toFixed(3)} requests/employment · CPU per employment: agent ${row.agentCpuUs.toFixed(0)} µs, platform ${row.platformCpuUs.toFixed(0)} µs · ${row.rssMiB.toFixed(1)} MiB`,
        );
      }
    }
    for (const employments of CATCHUP_SIZES) {
      const rows = results.catchup.filter((r) => r.employments === employments);
      const f = (key, digits, unit) => formatSummary(summarize(rows.map((r) => r[key])), digits, unit);
      log(
        `catchup at ${employments}: live ${f('liveMs', 0, ' ms')} · total ${f('totalMs', 0, ' ms')} · ${f('perSecond', 0, '/s')} · ${f('requestsPerEmployment', 3, '')} req/employment · CPU/employment agent ${f('agentCpuUs', 0, ' µs')}, platform ${f('platformCpuUs', 0, ' µs')} · RSS ${f('rssMiB', 1, ' MiB')}`,
      );
    }
  }
  if (only.has('redis')) {
    // Its own script (its own platform, Redis and load); its report goes to bench/results/redis-latest.json.
    const redis = spawnSync(
      process.execPath,
      [join(ROOT, 'bench', 'redis.js'), '--runs', String(Math.min(runs, 3))],
      { stdio: 'inherit' },
    );
    if (redis.status !== 0)
      throw new Error('the redis case failed (is redis-server installed? apt-get install redis-server)');
  }
  results.elapsedSeconds = Math.round((Date.now() - started) / 1000);
  const report = [buildReport(results), results.cpu.length ? cpuSummary(results) : '']
    .filter(Boolean)
    .join('\n\n');
  process.stdout.write(`${report}\n`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (opts.write) {
    writeBenchmarksMd(join(ROOT, 'docs', 'benchmarks.md'), report);
    writeReadmeTable(join(ROOT, 'README.md'), buildReadmeTable(results));
    writeFileSync(join(ROOT, 'bench', 'results', 'published.json'), `${JSON.stringify(results, null, 2)}\n`);
    log('bench: docs/benchmarks.md updated');
  }
  log(`bench: done in ${results.elapsedSeconds} s`);
} catch (error) {
  process.stderr.write(`bench failed: ${error.stack ?? error}\n(agent logs kept in ${tmp})\n`);
  opts.keep = true;
  process.exitCode = 1;
} finally {
  if (!opts.keep) rmSync(tmp, { recursive: true, force: true });
  else log(`bench: temp folder kept: ${tmp}`);
}
