/**
 * Many `c4c-runner start --redis` processes against one embedded platform: a temp project whose
 * handler answers `<pid>:<content>` (so the reply says which process ran it), a seed of one worker
 * agent employed `employments` times, and the platform's own events as the record: who holds a
 * socket of the agent (never two at once) and every message stored.
 */
import { join } from 'node:path';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { MessageRecord } from '../../src/platform/state.js';
import { spawnCli, type CliProcess } from './cli.js';
import { makeProject, type Project } from './runner.js';
import { waitFor } from './wait.js';

export const WORKER_TOKEN = 'cl_scale_worker_secret_7d1';
export const WORKER = 1;
export const EMPLOYER = 2;

/** The handler: answers with the process id, after `delayMs` of waiting or of CPU work. */
export function echoHandler(options: { delayMs?: number; cpu?: boolean } = {}): string {
  const { delayMs = 0, cpu = false } = options;
  const work = cpu
    ? `const until = performance.now() + ${delayMs}; while (performance.now() < until) {}`
    : delayMs > 0
      ? `await new Promise((resolve) => setTimeout(resolve, ${delayMs}));`
      : '';
  return `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  ${work}
  return process.pid + ':' + ctx.event.content;
});`;
}

export interface ScaleWorld {
  platform: Platform;
  project: Project;
  /** Every message the worker agent sent, in the order the platform stored them. */
  replies: MessageRecord[];
  /** Sockets of the worker agent open now, and the most ever open at once. */
  readonly sockets: { open: number; peak: number; opened: number };
  /** Starts one more `start --redis` process (through `redisUrl` when given, e.g. a proxy). */
  start(extraEnv?: NodeJS.ProcessEnv, redisUrl?: string): CliProcess;
  processes: CliProcess[];
  close(): Promise<void>;
}

/** A platform with `employments` employments of the worker, and a project to start processes in. */
export async function scaleWorld(options: {
  redisUrl: string;
  employments: number;
  handler?: string;
  config?: Record<string, unknown>;
  platform?: Parameters<typeof startPlatform>[0];
}): Promise<ScaleWorld> {
  const seed = {
    agents: [
      { id: WORKER, name: 'Worker', token: WORKER_TOKEN },
      { id: EMPLOYER, name: 'Employer', token: 'cl_scale_employer' },
    ],
    employments: Array.from({ length: options.employments }, (_, i) => ({
      id: i + 1,
      employerAgentId: EMPLOYER,
      employeeAgentId: WORKER,
      salary: '1',
    })),
  };
  const platform = await startPlatform({ seed, ...options.platform });
  const project = await makeProject({
    'handlers/message.ts': options.handler ?? echoHandler(),
    'c4c.config.json': JSON.stringify({ redis: { partitions: 8, lease: 1_500 }, ...options.config }),
  });
  const replies: MessageRecord[] = [];
  const sockets = { open: 0, peak: 0, opened: 0 };
  platform.on('message', (record) => {
    if (record.senderAgentId === WORKER) replies.push(record);
  });
  platform.on('connection', ({ agentId }) => {
    if (agentId !== WORKER) return;
    sockets.open++;
    sockets.opened++;
    sockets.peak = Math.max(sockets.peak, sockets.open);
  });
  platform.on('disconnect', ({ agentId }) => {
    if (agentId === WORKER) sockets.open--;
  });
  const processes: CliProcess[] = [];
  return {
    platform,
    project,
    replies,
    sockets,
    processes,
    start(extraEnv = {}, redisUrl = options.redisUrl) {
      const cli = spawnCli(['start', '--redis', redisUrl], {
        cwd: project.dir,
        env: {
          HOME: join(project.dir, 'home'),
          C4C_API_ENDPOINT: platform.url,
          C4C_API_TOKEN: WORKER_TOKEN,
          C4C_LOG_LEVEL: 'info',
          ...extraEnv,
        },
      });
      processes.push(cli);
      return cli;
    },
    async close() {
      await Promise.all(processes.map((p) => (p.child.exitCode === null ? p.stop('SIGKILL') : p.exited)));
      await platform.close();
      await project.remove();
    },
  };
}

/** The replies of one employment, as `[pid, content]`, in the order the platform stored them. */
export function repliesOf(world: ScaleWorld, employmentId: number): [string, string][] {
  return world.replies
    .filter((r) => r.employmentId === employmentId)
    .map((r) => {
      const at = r.content.indexOf(':');
      return [r.content.slice(0, at), r.content.slice(at + 1)];
    });
}

/** Waits until the worker agent has sent `count` replies. */
export function waitForReplies(world: ScaleWorld, count: number, timeout = 30_000): Promise<true> {
  return waitFor(() => world.replies.length >= count || undefined, {
    timeout,
    interval: 25,
    message: `${count} replies (have ${world.replies.length})`,
  });
}
