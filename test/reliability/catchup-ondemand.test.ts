/**
 * Catch-up on demand, from the outside: the runner in-process against the embedded platform over
 * real loopback sockets, seeded with many employments that each hold an unread message. A live
 * message on the last one — the one the background pass reaches last — is answered (after that
 * employment's own unread message) while the pass is still answering the others. Order of events
 * only: which replies the platform had stored when the live one's reply was stored.
 */
import { afterEach, expect, it } from 'vitest';
import { startPlatform, type MessageRecord, type Platform } from '../../src/platform/index.js';
import { waitFor } from '../helpers/wait.js';
import { runAgent, type RunningAgent } from '../helpers/runner.js';

const EMPLOYER = { id: 1, name: 'Employer', token: 'cl_od_employer' };
const WORKER = { id: 2, name: 'Worker', token: 'cl_od_worker' };
/** Enough that the pass is far from the last one when the live message comes. */
const COUNT = 1_000;

let platform: Platform | undefined;
let running: RunningAgent | undefined;

afterEach(async () => {
  await running?.stop();
  await platform?.close();
  running = undefined;
  platform = undefined;
});

it('a live message on the employment the pass reaches last is answered first, on demand, while the pass goes on', async () => {
  const ids = Array.from({ length: COUNT }, (_, i) => i + 1);
  platform = await startPlatform({
    seed: {
      agents: [EMPLOYER, WORKER],
      employments: ids.map((id) => ({
        id,
        employerAgentId: EMPLOYER.id,
        employeeAgentId: WORKER.id,
        salary: '1',
      })),
    },
  });
  // Stored while the runner is not running: every employment has one unread message.
  for (const id of ids) platform.sendMessage({ employmentId: id, content: `old ${id}` });
  const last = ids.at(-1)!;
  const replies: MessageRecord[] = [];
  let answeredBeforeLive: number | undefined;
  platform.on('message', (m) => {
    if (m.senderAgentId !== WORKER.id) return;
    if (m.content === 'echo: live')
      answeredBeforeLive = replies.filter((r) => r.employmentId !== last).length;
    replies.push(m);
  });
  // The live message goes out as soon as the runner's socket is open: the pass has just begun.
  const p = platform;
  p.on('connection', ({ agentId }) => {
    if (agentId === WORKER.id) p.sendMessage({ employmentId: last, content: 'live' });
  });

  running = await runAgent(
    platform,
    { 'message.ts': `export default async (ctx) => 'echo: ' + ctx.event.content;\n` },
    {},
    { token: WORKER.token },
  );
  await waitFor(() => replies.length === COUNT + 1, { message: `${COUNT + 1} replies`, timeout: 60_000 });

  // Answered while most of the others were still waiting for the pass.
  expect(answeredBeforeLive).toBeDefined();
  expect(answeredBeforeLive!).toBeLessThan(COUNT / 2);
  // Its own unread message first, then the live one; every other employment answered once.
  expect(replies.filter((r) => r.employmentId === last).map((r) => r.content)).toEqual([
    `echo: old ${last}`,
    'echo: live',
  ]);
  expect(new Set(replies.map((r) => r.employmentId)).size).toBe(COUNT);
  expect(running.runner.stats.catchUp).toMatchObject({ passes: 1, failures: 0 });
  await waitFor(() => !running!.runner.metrics().catchingUp, { message: 'the pass over' });
}, 90_000);
