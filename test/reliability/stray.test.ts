/**
 * A stray unhandled rejection in the runner's process — not one of `ctx`'s calls, which are caught
 * with their event, but a promise a handler's helper fires and forgets — is logged by the CLI and
 * survived: `c4c-runner start` as a child process goes on answering, and still drains to exit 0.
 */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { MessageRecord } from '../../src/platform/index.js';
import { spawnCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'cl_stray_worker_7d2k';
const seed = {
  agents: [
    { id: 1, name: 'Employer', token: 'cl_stray_employer' },
    { id: 2, name: 'Worker', token: TOKEN },
  ],
  employments: [
    { id: 1, employerAgentId: 1, employeeAgentId: 2, salary: '1' },
    { id: 2, employerAgentId: 1, employeeAgentId: 2, salary: '1' },
  ],
};

let platform: Platform | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await platform?.close();
  platform = undefined;
});

it('c4c-runner start logs a stray unhandled rejection and goes on answering, then drains to exit 0', async () => {
  platform = await startPlatform({ seed });
  const replies: MessageRecord[] = [];
  platform.on('message', (m) => {
    if (m.senderAgentId === 2) replies.push(m);
  });
  const project = await makeProject({
    'c4c.config.json': '{}',
    'handlers/message.ts': `export default async (ctx) => {
  // A helper's promise, fired and forgotten: nothing in ctx knows about it.
  if (ctx.event.content === 'stray') void Promise.resolve().then(() => { throw new Error('the stray one'); });
  return 'echo: ' + ctx.event.content;
};`,
  });
  cleanups.push(() => project.remove());
  const cli = spawnCli(['start'], {
    cwd: project.dir,
    env: { HOME: join(project.dir, 'home'), C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN },
  });
  cleanups.push(() => cli.stop('SIGKILL'));
  await cli.waitForLine('c4c-runner started');

  platform.sendMessage({ employmentId: 1, content: 'stray' });
  const line = await cli.waitForLine('nothing handled it');
  expect(JSON.parse(line)).toMatchObject({ level: 50 });
  expect(line).toContain('the stray one');
  platform.sendMessage({ employmentId: 1, content: 'after' });
  platform.sendMessage({ employmentId: 2, content: 'elsewhere' });
  await waitFor(() => replies.length === 3, { message: 'three replies' });
  expect(replies.map((r) => r.content).sort()).toEqual(['echo: after', 'echo: elsewhere', 'echo: stray']);
  expect(await cli.stop()).toBe(0);
});
