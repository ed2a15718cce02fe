/**
 * Case 3, hot reload: from the moment a new handlers/message.ts is written to the first reply
 * produced by the new code, (a) with hot reload (`c4c-runner dev`, or the registry-API fallback
 * when dev is missing) and (b) with what `node --watch` / `tsx watch` do: SIGTERM the running
 * `c4c-runner start`, wait for it to exit, start it again, reconnect.
 *
 * A probe loop sends a message every millisecond while none is outstanding (a probe lost while
 * the agent is down is replaced after 5 ms), each on the next of the world's 4 employments, and
 * stops at the first reply whose prefix names the new version.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setInterval, clearInterval, setTimeout, clearTimeout } from 'node:timers';
import { Generator, sleep } from '../lib/generator.js';
import { summarize } from '../lib/stats.js';
import { BIN, launchRunner, messageHandler, writeRunnerProject } from '../lib/subjects.js';
import { rssMiB, spawnAgent, logPath, waitForLog } from '../lib/proc.js';
import { AGENT, EMPLOYER, EMPLOYMENT_IDS, ROOT, RUNNER_ROOT, startWorld } from '../lib/world.js';

const PROBE_RESEND_MS = 5;
/**
 * Employments in the reload world: a few, like a developer's. (With the 1,000 of the throughput
 * cases, the restarted runner's catch-up would read 1,000 histories before the probe's turn.)
 */
const WORLD_EMPLOYMENTS = 4;

/**
 * Starts probing now; resolves with ms from `t0` to the first reply prefixed `version`.
 * `trigger()` runs right after probing starts (it writes the file, and may restart the agent).
 */
async function timeSwitch(generator, version, trigger, timeoutMs = 30_000) {
  let next = 0;
  let outstandingAt = -Infinity;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const t0 = performance.now();
  generator.onReply = (_frame, prefix, _entry, now) => {
    outstandingAt = -Infinity;
    if (prefix === version) resolveDone(now - t0);
  };
  const probe = () => {
    if (performance.now() - outstandingAt < PROBE_RESEND_MS) return;
    outstandingAt = performance.now();
    generator.send(EMPLOYMENT_IDS[next++ % WORLD_EMPLOYMENTS]);
  };
  const ticker = setInterval(probe, 1);
  let timer;
  try {
    await trigger();
    probe();
    return await Promise.race([
      done,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no reply from ${version} within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
    generator.onReply = null;
    generator.pending.clear();
  }
}

/** Waits until the agent answers with `version` (so a measurement starts from a settled state). */
async function settle(generator, version) {
  await timeSwitch(generator, version, async () => {});
  await sleep(50);
}

/** How the hot-reloading agent is started: `c4c-runner dev` when it exists, else the registry fallback. */
function hotLauncher() {
  // BENCH_HOT=registry measures the bare reload path (no chokidar, no settle) even when dev exists.
  if (process.env.BENCH_HOT !== 'registry' && existsSync(join(RUNNER_ROOT, 'dist', 'cli', 'dev.js'))) {
    return {
      via: '`c4c-runner dev`',
      launch: async ({ platform, tmp, project }) => {
        const agent = await spawnAgent({
          platform,
          agentId: AGENT.id,
          args: [BIN, 'dev', '--remote'],
          cwd: project,
          env: { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: AGENT.token },
          logFile: logPath(tmp, `dev-${process.pid}-${Date.now()}`),
        });
        // The watcher starts after the runner connects; dev's banner says it is ready.
        await waitForLog(agent.logFile, /ready in \d+ ms/);
        return agent;
      },
    };
  }
  return {
    via: 'registry API (fs.watch → registry.load → registry.set)',
    launch: ({ platform, tmp, project }) =>
      spawnAgent({
        platform,
        agentId: AGENT.id,
        args: [join(ROOT, 'bench', 'agents', 'registry-reload.js')],
        cwd: project,
        env: { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: AGENT.token },
        logFile: logPath(tmp, 'registry-reload'),
      }),
  };
}

/** One run: the median of `reloads` hot reloads and of `restarts` restarts, in ms. */
async function reloadRun({ tmp, run, reloads, restarts, hot }) {
  const platform = await startWorld('platform', { employments: WORLD_EMPLOYMENTS });
  const generator = await Generator.connect({ wsUrl: platform.wsUrl, token: EMPLOYER.token });
  const project = writeRunnerProject(join(tmp, `reload-project-${run}`), { prefix: 'v0' });
  const handlerFile = join(project, 'handlers', 'message.ts');
  const reloadTimes = [];
  const restartTimes = [];
  const loadTimes = [];
  let rssGrowthMiB;
  let agent;
  try {
    // (a) hot reload
    agent = await hot.launch({ platform, tmp, project });
    await settle(generator, 'v0');
    const rssBefore = rssMiB(agent.pid);
    for (let k = 1; k <= reloads; k += 1) {
      const version = `v${k}`;
      reloadTimes.push(
        await timeSwitch(generator, version, async () =>
          writeFileSync(handlerFile, messageHandler({ prefix: version })),
        ),
      );
      await sleep(100); // let a watcher's debounce and any trailing reload settle
    }
    // Memory across reloads (each reload evicts the handler module and evaluates it afresh).
    rssGrowthMiB = rssMiB(agent.pid) - rssBefore;
    // What dev itself reports per reload ("reloaded handlers/message.ts in N ms": the module load
    // alone), to split the total into watcher latency + load + first round trip.
    const devLog = readFileSync(agent.logFile, 'utf8');
    for (const match of devLog.matchAll(/reloaded \S+ in (\d+) ms/g)) loadTimes.push(Number(match[1]));
    await agent.stop();
    agent = undefined;
    // (b) restart and reconnect, as `node --watch` does
    writeFileSync(handlerFile, messageHandler({ prefix: 'r0' }));
    agent = await launchRunner({ platform, tmp, project, name: 'restart' });
    await settle(generator, 'r0');
    for (let k = 1; k <= restarts; k += 1) {
      const version = `r${k}`;
      restartTimes.push(
        await timeSwitch(generator, version, async () => {
          writeFileSync(handlerFile, messageHandler({ prefix: version }));
          await agent.stop();
          agent = await launchRunner({ platform, tmp, project, name: 'restart' });
        }),
      );
      await sleep(100);
    }
  } finally {
    await agent?.stop();
    await generator.close();
    await platform.close();
  }
  return {
    // The first save after start also loads the TypeScript transform (jiti's babel) the cached
    // start-up skipped; it is reported on its own, and the figure is the median of the others.
    firstReloadMs: reloadTimes[0],
    reloadMs: summarize(reloadTimes.slice(1)).median,
    restartMs: summarize(restartTimes).median,
    devLoadMs: summarize(loadTimes).median,
    rssGrowthMiB,
    reloadAll: reloadTimes,
    restartAll: restartTimes,
  };
}

/** Every run of the reload case: { via, runs: [{ reloadMs, restartMs, … }] }. */
export async function reloadRuns({ tmp, runs, reloads, restarts, log }) {
  const hot = hotLauncher();
  const out = { via: hot.via, runs: [] };
  for (let run = 0; run < runs; run += 1) {
    const row = await reloadRun({ tmp, run, reloads, restarts, hot });
    out.runs.push(row);
    log(
      `reload run ${run + 1}/${runs}: hot ${row.reloadMs.toFixed(1)} ms, restart ${row.restartMs.toFixed(0)} ms`,
    );
  }
  return out;
}
