/**
 * `npm run bench:redis`: what serving one agent from several processes through Redis buys and costs.
 *
 *   node bench/redis.js [--runs 3] [--seconds 8] [--write]
 *
 * 1. Throughput with a CPU-bound handler (~20 ms of synchronous work per message): replies/s of one
 *    `start --redis` process and of two, with 32 messages kept in flight over 64 employments (closed
 *    loop). The ratio two / one is the figure; on 2 cores shared with the platform, Redis and the load
 *    generator, 1.6× is the mark (the issue's).
 * 2. Cost per reply: an echo handler at a fixed offered load (200 messages/s), CPU time per reply of
 *    the agent (its process, plus redis-server when through Redis) in-process (`start`) vs through
 *    Redis (`start --redis`, one process): what going through Redis adds per reply.
 *
 * The platform (`startPlatform` from dist/) and the load run in this process; redis-server (Debian's)
 * on a unix socket in a temp folder. Results: bench/results/redis-latest.json (with --write,
 * bench/results/redis.json too, the figures docs/scaling.md quotes).
 */
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval, setTimeout } from 'node:timers';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDist } from './lib/build.js';
import { machine } from './lib/machine.js';
import { ROOT } from './lib/world.js';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    write: { type: 'boolean', default: false },
  },
});
const RUNS = Number(opts.runs);
const MEASURE_MS = Number(opts.seconds) * 1000;
const WARMUP_MS = 2_000;
const EMPLOYMENTS = 64;
const IN_FLIGHT = 32;
const CPU_MS = 20;
const OFFERED_PER_S = 200;
const TOKEN = 'cl_bench_redis_worker';
const log = (line) => process.stderr.write(`${line}\n`);

const missing = buildDist();
if (missing) {
  log(missing);
  process.exit(1);
}
const { startPlatform } = await import('../dist/platform/index.js');
const tmp = mkdtempSync(join(tmpdir(), 'c4c-bench-redis-'));
const TICK = 100; // clock ticks per second of /proc/<pid>/stat (Linux's USER_HZ)

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

function startRedis() {
  const dir = join(tmp, `redis-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir);
  const path = join(dir, 'redis.sock');
  const child = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', path, '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  child.on('error', () => {
    log('bench: redis-server is not installed (apt-get install redis-server)');
    process.exit(1);
  });
  return { child, url: `unix://${path}`, path };
}

function project(name, handler) {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'handlers'), { recursive: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'c4c-runner'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  writeFileSync(
    join(dir, 'c4c.config.json'),
    JSON.stringify({ concurrency: 16, logLevel: 'warn', redis: { partitions: 16 } }),
  );
  writeFileSync(join(dir, 'handlers', 'message.ts'), handler);
  return dir;
}

const CPU_HANDLER = `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', (ctx) => {
  const until = performance.now() + ${CPU_MS};
  while (performance.now() < until) {}
  return ctx.event.content;
});`;
const ECHO_HANDLER = `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', (ctx) => ctx.event.content);`;

function startAgent(dir, platform, redisUrl) {
  const args = [join(ROOT, 'bin', 'c4c-runner.js'), 'start', ...(redisUrl ? ['--redis', redisUrl] : [])];
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: {
      ...process.env,
      HOME: dir,
      C4C_API_ENDPOINT: platform.url,
      C4C_API_TOKEN: TOKEN,
      C4C_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
  const waitFor = (re, ms = 30_000) =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (re.test(out)) {
          clearInterval(poll);
          resolve();
        } else if (Date.now() - started > ms || child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`agent: no ${re} in time; output:\n${out.slice(-2000)}`));
        }
      }, 20);
    });
  return {
    child,
    waitFor,
    stop: () =>
      new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGKILL')))),
  };
}

async function world() {
  const seed = {
    agents: [
      { id: 1, name: 'Worker', token: TOKEN },
      { id: 2, name: 'Employer', token: 'cl_bench_redis_employer' },
    ],
    employments: Array.from({ length: EMPLOYMENTS }, (_, i) => ({
      id: i + 1,
      employerAgentId: 2,
      employeeAgentId: 1,
      salary: '1',
    })),
  };
  return startPlatform({ seed });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Closed loop: IN_FLIGHT messages outstanding; replies/s over the measured window. */
async function throughput(processes) {
  const platform = await world();
  const redis = startRedis();
  const dir = project(`cpu-${processes}-${Date.now()}`, CPU_HANDLER);
  const agents = [];
  try {
    for (let i = 0; i < processes; i++) {
      const agent = startAgent(dir, platform, redis.url);
      agents.push(agent);
      await agent.waitFor(/c4c-runner started/);
    }
    for (const agent of agents) await agent.waitFor(/consuming partitions: \d/);
    // Let the first process hand partitions back until each holds its share.
    if (processes > 1) await sleep(3_000);
    let replies = 0;
    let seq = 0;
    const sendOne = (employmentId) => platform.sendMessage({ employmentId, content: `m${++seq}`, from: 2 });
    platform.on('message', (record) => {
      if (record.senderAgentId !== 1) return;
      replies++;
      sendOne(record.employmentId);
    });
    for (let i = 0; i < IN_FLIGHT; i++) sendOne((i % EMPLOYMENTS) + 1);
    await sleep(WARMUP_MS);
    const from = replies;
    const t0 = performance.now();
    await sleep(MEASURE_MS);
    return (replies - from) / ((performance.now() - t0) / 1000);
  } finally {
    for (const agent of agents) await agent.stop();
    redis.child.kill('SIGKILL');
    await platform.close();
  }
}

/** Open loop at OFFERED_PER_S with an echo handler: CPU µs per reply of the agent (and Redis). */
async function cost(throughRedis) {
  const platform = await world();
  const redis = throughRedis ? startRedis() : undefined;
  const dir = project(`echo-${throughRedis ? 'redis' : 'plain'}-${Date.now()}`, ECHO_HANDLER);
  const agent = startAgent(dir, platform, redis?.url);
  try {
    await agent.waitFor(/c4c-runner started/);
    if (throughRedis) await agent.waitFor(/consuming partitions: \d/);
    let replies = 0;
    platform.on('message', (record) => {
      if (record.senderAgentId === 1) replies++;
    });
    let seq = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < OFFERED_PER_S / 20; i++)
        platform.sendMessage({ employmentId: (seq % EMPLOYMENTS) + 1, content: `m${++seq}`, from: 2 });
    }, 50);
    await sleep(WARMUP_MS);
    const cpu0 = cpuSeconds(agent.child.pid) + (redis ? cpuSeconds(redis.child.pid) : 0);
    const redisCpu0 = redis ? cpuSeconds(redis.child.pid) : 0;
    const from = replies;
    await sleep(MEASURE_MS);
    const cpu1 = cpuSeconds(agent.child.pid) + (redis ? cpuSeconds(redis.child.pid) : 0);
    const redisCpu = redis ? cpuSeconds(redis.child.pid) - redisCpu0 : 0;
    clearInterval(timer);
    const n = replies - from;
    return { replies: n, cpuUsPerReply: ((cpu1 - cpu0) * 1e6) / n, redisUsPerReply: (redisCpu * 1e6) / n };
  } finally {
    await agent.stop();
    redis?.child.kill('SIGKILL');
    await platform.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {
  machine: machine(),
  runs: RUNS,
  measureMs: MEASURE_MS,
  cpuMs: CPU_MS,
  inFlight: IN_FLIGHT,
  throughput: [],
  cost: [],
};
try {
  for (let run = 1; run <= RUNS; run++) {
    // Alternate which goes first: the machine is shared and noisy.
    const order = run % 2 ? [1, 2] : [2, 1];
    const r = {};
    for (const n of order) r[n] = await throughput(n);
    const ratio = r[2] / r[1];
    results.throughput.push({ one: r[1], two: r[2], ratio });
    log(
      `run ${run}: CPU-bound ${CPU_MS} ms: 1 process ${r[1].toFixed(1)}/s, 2 processes ${r[2].toFixed(1)}/s, ratio ${ratio.toFixed(2)}×`,
    );
    const plain = await cost(false);
    const through = await cost(true);
    results.cost.push({ inProcess: plain, throughRedis: through });
    log(
      `run ${run}: cost per reply: in-process ${plain.cpuUsPerReply.toFixed(0)} µs, through Redis ${through.cpuUsPerReply.toFixed(0)} µs (of which redis-server ${through.redisUsPerReply.toFixed(0)} µs)`,
    );
  }
  results.summary = {
    oneProcessPerS: median(results.throughput.map((t) => t.one)),
    twoProcessesPerS: median(results.throughput.map((t) => t.two)),
    ratio: median(results.throughput.map((t) => t.ratio)),
    mark: 1.6,
    inProcessUsPerReply: median(results.cost.map((c) => c.inProcess.cpuUsPerReply)),
    throughRedisUsPerReply: median(results.cost.map((c) => c.throughRedis.cpuUsPerReply)),
    redisServerUsPerReply: median(results.cost.map((c) => c.throughRedis.redisUsPerReply)),
  };
  const s = results.summary;
  log(
    `\nmedian of ${RUNS}: 1 process ${s.oneProcessPerS.toFixed(1)}/s, 2 processes ${s.twoProcessesPerS.toFixed(1)}/s: ${s.ratio.toFixed(2)}× (mark 1.6×); cost per reply ${s.inProcessUsPerReply.toFixed(0)} µs in-process vs ${s.throughRedisUsPerReply.toFixed(0)} µs through Redis (redis-server ${s.redisServerUsPerReply.toFixed(0)} µs)`,
  );
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'redis-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (opts.write)
    writeFileSync(join(ROOT, 'bench', 'results', 'redis.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
}
