/**
 * The processes under test: spawning an agent (the bare ws script or the runner's CLI) with its
 * output going to a file (so reading it costs the load generator nothing), waiting for its socket
 * to reach the platform, and reading its memory and CPU from /proc.
 */
import { clearTimeout, setTimeout } from 'node:timers';
import process from 'node:process';
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat counts CPU time in these ticks

/**
 * Spawns `node <args>` and resolves once the platform reports the agent's socket open.
 * Returns { child, pid, spawnMs (spawn → connected), logFile, stop() }.
 */
export async function spawnAgent({
  platform,
  agentId,
  args,
  cwd,
  env,
  logFile,
  timeoutMs = 30_000,
  nodeArgs = [],
}) {
  const fd = openSync(logFile, 'a');
  let connectedAt;
  let onConnection;
  const connected = new Promise((resolve) => {
    onConnection = ({ agentId: id }) => {
      if (id !== agentId || connectedAt !== undefined) return;
      connectedAt = performance.now();
      resolve();
    };
    platform.on('connection', onConnection);
  });
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let timer;
  const outcome = await Promise.race([
    connected.then(() => 'connected'),
    exited.then((code) => `exited (${code})`),
    new Promise((resolve) => (timer = setTimeout(() => resolve('timed out'), timeoutMs))),
  ]);
  clearTimeout(timer);
  platform.off?.('connection', onConnection);
  const handle = {
    child,
    pid: child.pid,
    spawnMs: connectedAt === undefined ? Number.NaN : connectedAt - t0,
    logFile,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      let kill;
      const result = await Promise.race([
        exited,
        new Promise((resolve) => (kill = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(kill);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        return exited;
      }
      return result;
    },
  };
  if (outcome !== 'connected') {
    await handle.stop('SIGKILL');
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8').slice(-3000);
    } catch {
      // no output at all
    }
    throw new Error(
      `agent \`node ${args.join(' ')}\` ${outcome} before connecting to the platform; its output:\n${log}`,
    );
  }
  return handle;
}

/** Resolves once the agent's log file matches `pattern` (e.g. dev's "ready" banner); polls, bounded. */
export async function waitForLog(logFile, pattern, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      // not written yet
    }
    if (pattern.test(text)) return;
    if (performance.now() > deadline)
      throw new Error(`${logFile} never matched ${pattern}; its end:\n${text.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resident set size of a process, in MiB (from /proc/<pid>/status VmRSS). */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces; fields after the closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * A probe for Generator.closedLoop: CPU share (0..1 of one core) of the agent and of this process
 * (platform + generator) over the measured window.
 */
export function cpuProbe(pid) {
  return (start) => {
    const now = { t: performance.now(), agent: cpuSeconds(pid), self: process.cpuUsage() };
    if (!start) return now;
    const wall = (now.t - start.t) / 1000;
    const self = process.cpuUsage(start.self);
    return {
      agentCpu: (now.agent - start.agent) / wall,
      benchCpu: (self.user + self.system) / 1e6 / wall,
    };
  };
}

export function logPath(dir, name) {
  return join(dir, `${name}.log`);
}
