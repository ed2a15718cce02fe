/**
 * Where an agent's CPU per reply goes: `node --cpu-prof` of the agent under test (the runner by
 * default) while the null platform keeps it busy, summarised by self time per module and per
 * function over the measured window only (start-up, catch-up and priming left out).
 *
 *   node bench/profile.js [--subject runner|raw] [--in-flight 16] [--seconds 10] [--out file.md] [--keep] [--no-build]
 *
 * Prints the summary; --out also writes it (with the machine line) to a file, e.g.
 * bench/results/profile-null-16.md. The raw .cpuprofile is kept with --keep (open it in Chrome's
 * DevTools or speedscope for the call tree).
 */
import process from 'node:process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDist } from './lib/build.js';
import { loadProfile, profileTables } from './lib/cpuprofile.js';
import { machine } from './lib/machine.js';
import { cpuProbe } from './lib/proc.js';
import { launchRaw, launchRunner, writeRunnerProject } from './lib/subjects.js';
import { EMPLOYMENT_IDS, startWorld } from './lib/world.js';

const { values: opts } = parseArgs({
  options: {
    subject: { type: 'string', default: 'runner' },
    'in-flight': { type: 'string', default: '16' },
    seconds: { type: 'string', default: '10' },
    interval: { type: 'string', default: '250' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    build: { type: 'boolean', default: true },
  },
  allowNegative: true,
});
const inFlight = Number(opts['in-flight']);
const seconds = Number(opts.seconds);
const intervalUs = Number(opts.interval);
if (!['runner', 'raw'].includes(opts.subject)) {
  process.stderr.write(`bench/profile: --subject is runner or raw, got "${opts.subject}"\n`);
  process.exit(2);
}
if (!(inFlight >= 1 && inFlight <= EMPLOYMENT_IDS.length) || !(seconds > 0) || !(intervalUs > 0)) {
  process.stderr.write(
    `bench/profile: --in-flight must be 1–${EMPLOYMENT_IDS.length}, --seconds and --interval (µs) positive numbers\n`,
  );
  process.exit(2);
}
const missing = buildDist({ build: opts.build });
if (missing) {
  process.stderr.write(`${missing}\n`);
  process.exit(1);
}

const hrUs = () => Number(process.hrtime.bigint() / 1000n);
const tmp = mkdtempSync(join(tmpdir(), 'c4c-bench-profile-'));
const profDir = join(tmp, 'profiles');
const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${intervalUs}`];
const m = machine();
const platform = await startWorld('null');
let agent;
try {
  agent =
    opts.subject === 'runner'
      ? await launchRunner({
          platform,
          tmp,
          project: writeRunnerProject(join(tmp, 'echo-project')),
          name: 'runner-profile',
          nodeArgs,
        })
      : await launchRaw({ platform, tmp, name: 'raw-profile', nodeArgs });
  const load = platform.load();
  await load.roundTrip(EMPLOYMENT_IDS[EMPLOYMENT_IDS.length - 1]);
  await load.closedLoop({ inFlight, employments: EMPLOYMENT_IDS, warmupMs: 0, measureMs: 2000 });
  const cpu = cpuProbe(agent.pid);
  let window;
  const result = await load.closedLoop({
    inFlight,
    employments: EMPLOYMENT_IDS,
    warmupMs: 500,
    measureMs: seconds * 1000,
    probe: (start) => {
      if (!start) return { at: hrUs(), cpu: cpu() };
      window = { fromUs: start.at, toUs: hrUs() };
      return cpu(start.cpu);
    },
  });
  // The profile is written when the agent exits; the runner exits on SIGTERM after draining.
  await agent.stop('SIGTERM', 15_000);
  agent = undefined;
  const file = readdirSync(profDir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${profDir}: did the agent exit on SIGTERM?`);
  let loaded = loadProfile(join(profDir, file), window);
  let note = 'the measured window only';
  if (loaded.windowUs < seconds * 1e6 * 0.5) {
    // The clocks did not line up (they should: both are the system's monotonic clock).
    loaded = loadProfile(join(profDir, file));
    note = 'the whole run (the measured window could not be located in the profile)';
  }
  const text = [
    `Profile of ${opts.subject === 'runner' ? '`c4c-runner start`' : 'the raw ws agent'} (echo handler) under the null platform, ` +
      `${inFlight} in flight, ${seconds} s measured, sampled every ${intervalUs} µs (\`node bench/profile.js --subject ${opts.subject} --in-flight ${inFlight} --seconds ${seconds}\`). ` +
      `${m.cpu}, ${m.nproc} cores, Node ${m.node}; load average at start ${m.loadavg}; ${m.date}.`,
    '',
    `Over the window: ${Math.round(result.rate).toLocaleString('en-US')} replies/s, agent CPU ${(result.usage.agentCpu * 100).toFixed(0)}% of a core, ` +
      `${((result.usage.agentCpu / result.rate) * 1e6).toFixed(1)} µs of agent CPU per reply (from /proc, including the profiler's own overhead). ` +
      `The tables cover ${note}.`,
    '',
    profileTables(loaded, { replies: result.replies }),
    '',
  ].join('\n');
  process.stdout.write(text);
  if (opts.out) writeFileSync(opts.out, text);
  if (opts.keep) process.stderr.write(`bench/profile: profile and logs kept in ${tmp}\n`);
} catch (error) {
  process.stderr.write(`bench/profile failed: ${error.stack ?? error}\n(logs kept in ${tmp})\n`);
  opts.keep = true;
  process.exitCode = 1;
} finally {
  await agent?.stop();
  await platform.close();
  if (!opts.keep) rmSync(tmp, { recursive: true, force: true });
}
