/**
 * The reason for `workers`: a handler that keeps the CPU busy for longer than the platform's
 * dead-client timeout. In-process it blocks the thread that answers the platform's pings, and the
 * platform drops the agent; in a worker thread the socket stays up and other employments are
 * answered meanwhile. The agent is `c4c-runner start` in its own process (so its stalls are not the
 * platform's), and the platform's heartbeat is lowered so this runs in seconds.
 */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import { makeProject, type Project } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'cl_heartbeat_worker';
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

let platform: Platform | undefined;
let project: Project | undefined;
let agent: CliProcess | undefined;

afterEach(async () => {
  await agent?.stop('SIGKILL');
  await project?.remove();
  await platform?.close();
  agent = project = platform = undefined;
});

async function scenario(workers: number) {
  platform = await startPlatform({
    heartbeat: HEARTBEAT,
    seed: {
      agents: [
        { id: 1, name: 'Employer', token: 'cl_test_employer' },
        { id: 2, name: 'Worker', token: TOKEN },
      ],
      employments: [1, 2, 3].map((id) => ({ id, employerAgentId: 1, employeeAgentId: 2, salary: '1' })),
    },
  });
  const disconnects: number[] = [];
  platform.on('disconnect', ({ agentId }) => disconnects.push(agentId));
  const replies: string[] = [];
  platform.on('message', (m) => {
    if (m.senderAgentId === 2) replies.push(`${m.employmentId}:${m.content}`);
  });
  project = await makeProject({
    'handlers/message.ts': HANDLER,
    'c4c.config.json': JSON.stringify({ workers, timeout: 10_000 }),
  });
  agent = spawnCli(['start'], {
    cwd: project.dir,
    env: { HOME: join(project.dir, 'home'), C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN },
  });
  await agent.waitForLine('c4c-runner started');
  platform.sendMessage({ employmentId: 1, content: 'spin' });
  await agent.waitForLine('"msg":"spinning"');
  platform.sendMessage({ employmentId: 2, content: 'a' });
  platform.sendMessage({ employmentId: 3, content: 'b' });
  return { disconnects, replies };
}

it('with workers: 2, a handler busy for 3× the dead-client timeout costs no connection, and other employments are answered meanwhile', async () => {
  const { disconnects, replies } = await scenario(2);
  await waitFor(() => replies.length === 3, { message: 'three replies' });
  // The two quick ones were answered while the spin was still running.
  expect(replies).toEqual(['2:pong: a', '3:pong: b', '1:spun']);
  expect(disconnects).toEqual([]);
  expect(platform!.stats.connectionsOpened).toBe(1);
});

it('without workers, the same handler stalls the process and the platform drops the agent', async () => {
  const { disconnects, replies } = await scenario(0);
  await waitFor(() => disconnects.length > 0, { message: 'the platform to drop the agent' });
  expect(disconnects[0]).toBe(2);
  // Nothing else ran while the thread was busy; everything is answered once it reconnects.
  await waitFor(() => replies.length === 3, { message: 'three replies' });
  expect(replies[0]).toBe('1:spun');
});
