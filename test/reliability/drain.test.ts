/**
 * Drain: `c4c-runner start` as a child process gets SIGTERM with 500 handlers in flight — some
 * finish within the drain timeout, some wait on `ctx.signal`, some ignore it behind a long timer.
 * The process exits 0 once the drain timeout has passed; every message is either answered and
 * marked read, or left unread; the next start answers the unread ones, and nothing twice.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { makeProject } from '../helpers/runner.js';

const IN_FLIGHT = 500;
const DRAIN_TIMEOUT = 3_000;
const EMPLOYER = { id: 1, name: 'Employer', token: 'cl_drain_employer' };
const WORKER = { id: 2, name: 'Worker', token: 'cl_drain_worker' };

/**
 * By employment: id % 3 == 1 finishes within the drain timeout; == 2 waits for `ctx.signal` (the
 * well-behaved long handler); == 0 ignores it behind a timer far longer than the drain. In the
 * second life (FAST=1) every handler answers at once.
 */
const HANDLER = `import { appendFileSync } from 'node:fs';
export default async (ctx) => {
  appendFileSync(process.env.STARTED_FILE, ctx.event.employmentId + '\\n');
  if (process.env.FAST !== '1') {
    const kind = ctx.event.employmentId % 3;
    if (kind === 1) await new Promise((resolve) => setTimeout(resolve, 200 + (ctx.event.employmentId % 7) * 100));
    else if (kind === 2) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    else await new Promise((resolve) => setTimeout(resolve, 120_000));
  }
  return 'answer ' + ctx.event.content;
};
`;

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

it(
  'SIGTERM with 500 handlers in flight: exit 0 after the drain timeout, each answered or left unread, the rest answered at the next start',
  { timeout: 90_000 },
  async () => {
    const platform: Platform = await startPlatform({
      seed: {
        agents: [EMPLOYER, WORKER],
        employments: Array.from({ length: IN_FLIGHT }, (_, i) => ({
          id: i + 1,
          employerAgentId: 1,
          employeeAgentId: 2,
          salary: '1',
        })),
      },
    });
    cleanup.push(() => platform.close());
    const project = await makeProject({
      'c4c.config.json': JSON.stringify({
        concurrency: IN_FLIGHT,
        drainTimeout: DRAIN_TIMEOUT,
        logLevel: 'info',
      }),
      'handlers/message.ts': HANDLER,
    });
    cleanup.push(() => project.remove());
    const started = join(project.dir, 'started.txt');
    const startedCount = async () =>
      (await readFile(started, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    let connections = 0;
    platform.on('connection', () => connections++);

    const life = async (env: NodeJS.ProcessEnv): Promise<CliProcess> => {
      const before = connections;
      const cli = spawnCli(['start', '--cwd', project.dir], {
        cwd: project.dir,
        env: {
          HOME: join(project.dir, 'home'),
          C4C_API_ENDPOINT: platform.url,
          C4C_API_TOKEN: WORKER.token,
          STARTED_FILE: started,
          ...env,
        },
      });
      cleanup.push(() => cli.stop('SIGKILL'));
      await waitFor(() => connections > before || cli.child.exitCode !== null, {
        timeout: 30_000,
        message: 'the runner connected',
      });
      return cli;
    };

    const first = await life({});
    for (let id = 1; id <= IN_FLIGHT; id++) platform.sendMessage({ employmentId: id, content: `#${id}` });
    await waitFor(async () => (await startedCount()) === IN_FLIGHT, {
      timeout: 30_000,
      message: `${IN_FLIGHT} handlers running`,
    });

    first.child.kill('SIGTERM');
    // Bounded: the drain timeout, then a margin for flushing and closing.
    const code = await Promise.race([
      first.exited,
      waitFor(() => false, { timeout: DRAIN_TIMEOUT + 10_000, message: 'the exit after the drain' }).catch(
        (error: Error) => {
          throw new Error(`${error.message}; output:\n${first.output().slice(-2_000)}`);
        },
      ),
    ]);
    expect(code, first.output()).toBe(0);
    expect(first.output()).toContain(`handlers still running after ${DRAIN_TIMEOUT} ms were aborted`);

    const state = (id: number) => {
      const list = platform.state.messagesOf(id);
      const incoming = list.find((m) => m.senderAgentId === EMPLOYER.id)!;
      return {
        answered: list.filter((m) => m.senderAgentId === WORKER.id).map((m) => m.content),
        read: incoming.readAt !== null,
      };
    };
    const answered: number[] = [];
    const unread: number[] = [];
    for (let id = 1; id <= IN_FLIGHT; id++) {
      const { answered: replies, read } = state(id);
      // Answered and acknowledged, or neither: never answered-but-unread, never read-but-unanswered.
      if (replies.length === 1) {
        expect(replies[0]).toBe(`answer #${id}`);
        expect(read, `employment ${id}: answered, so marked read`).toBe(true);
        answered.push(id);
      } else {
        expect(replies, `employment ${id}`).toEqual([]);
        expect(read, `employment ${id}: not answered, so left unread`).toBe(false);
        unread.push(id);
      }
    }
    // The quick third were answered; the ones waiting for the signal and the ones ignoring it were not.
    expect(answered.every((id) => id % 3 === 1)).toBe(true);
    expect(answered.length).toBe(
      Array.from({ length: IN_FLIGHT }, (_, i) => i + 1).filter((id) => id % 3 === 1).length,
    );

    // The next start answers what the first left unread — each once.
    const second = await life({ FAST: '1' });
    await waitFor(() => unread.every((id) => state(id).answered.length === 1), {
      timeout: 30_000,
      message: 'the unread ones answered',
    });
    expect(await second.stop('SIGTERM'), second.output()).toBe(0);
    for (let id = 1; id <= IN_FLIGHT; id++) {
      expect(state(id)).toEqual({ answered: [`answer #${id}`], read: true });
    }
  },
);
