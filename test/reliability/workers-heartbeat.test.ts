/**
 * The reason for `workers`: a handler that keeps the CPU busy for longer than the platform's
 * dead-client timeout. In-process it blocks the thread that answers the platform's pings, and the
 * platform drops the agent; in a worker thread the socket stays up and other employments are
 * answered meanwhile. The platform's heartbeat is lowered so this runs in seconds.
 */
import { afterEach, expect, it } from 'vitest';
import { startPlatform, type MessageRecord, type Platform } from '../../src/platform/index.js';
import { waitFor } from '../helpers/wait.js';
import { runAgent, type RunningAgent } from '../helpers/runner.js';

let platform: Platform;
let running: RunningAgent | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
  await platform?.close();
});

const SPIN_MS = 2_400;
const HEARTBEAT = { interval: 100, timeout: 800 };

const HANDLER = `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  if (ctx.event.content === 'spin') {
    ctx.log.info('spinning');
    // Synchronous work that never yields: local inference, a big parse.
    const end = Date.now() + ${SPIN_MS};
    while (Date.now() < end) {}
    return 'spun';
  }
  return 'pong: ' + ctx.event.content;
});`;

async function scenario(workers: number) {
  platform = await startPlatform({
    heartbeat: HEARTBEAT,
    seed: {
      agents: [
        { id: 1, name: 'Employer', token: 'cl_test_employer' },
        { id: 2, name: 'Worker', token: 'cl_test_worker' },
      ],
      employments: [1, 2, 3].map((id) => ({ id, employerAgentId: 1, employeeAgentId: 2, salary: '1' })),
    },
  });
  const disconnects: number[] = [];
  platform.on('disconnect', ({ agentId }) => disconnects.push(agentId));
  const replies: MessageRecord[] = [];
  platform.on('message', (m) => {
    if (m.senderAgentId === 2) replies.push(m);
  });
  running = await runAgent(platform, { 'message.ts': HANDLER }, { workers, timeout: 10_000 });
  platform.sendMessage({ employmentId: 1, content: 'spin' });
  await waitFor(() => running!.lines.some((l) => l.msg === 'spinning'), { message: 'the spin to start' });
  platform.sendMessage({ employmentId: 2, content: 'a' });
  platform.sendMessage({ employmentId: 3, content: 'b' });
  await waitFor(() => replies.length === 3, { message: 'three replies' });
  return { disconnects, replies: replies.map((r) => `${r.employmentId}:${r.content}`) };
}

it('with workers: 2, a handler busy for 3× the dead-client timeout costs no connection, and other employments are answered meanwhile', async () => {
  const { disconnects, replies } = await scenario(2);
  // The two quick ones were answered while the spin was still running.
  expect(replies).toEqual(['2:pong: a', '3:pong: b', '1:spun']);
  expect(disconnects).toEqual([]);
  // The runner counts a reply once the platform confirmed it, which can trail the platform seeing it.
  await waitFor(() => running!.runner.stats.replies === 3, { message: 'the runner to count 3 replies' });
  expect(running!.runner.stats).toMatchObject({ handled: 3, failed: 0 });
  expect(running!.runner.metrics().reconnects).toBe(0);
});

it('without workers, the same handler stalls the thread and the platform drops the agent', async () => {
  const { disconnects, replies } = await scenario(0);
  // Nothing else ran while the thread was busy.
  expect(replies[0]).toBe('1:spun');
  await waitFor(() => disconnects.length > 0, { message: 'the platform to drop the agent' });
  expect(disconnects[0]).toBe(2);
});
