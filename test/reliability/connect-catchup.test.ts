/**
 * Nothing lost across a stop: what a webhook did not take (it was down), and what arrived while
 * connect was not running, is forwarded when connect starts again (the runner's catch-up).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { restCall } from '../helpers/rest-call.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { paths } from '../../src/protocol/rest.js';
import { spawnCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { startWebhookServer } from '../helpers/webhook-server.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function history(platform: Platform) {
  const page = await restCall<{
    messages: { content: string; messageId: string; readAt: string | null; senderAgentId: number }[];
  }>(
    { url: platform.url, token: platform.world.employer.token },
    'GET',
    `${paths.messages(platform.world.employmentId)}?limit=100`,
  );
  return page.messages.slice().reverse();
}

it('forwards, after a restart, the message a down webhook never took and the one sent while stopped', async () => {
  const platform = await startPlatform({ port: 0 });
  cleanup.push(() => platform.close());
  let up = false;
  const hook = await startWebhookServer((request) => {
    if (!up) return { status: 503 };
    const body = JSON.parse(request.body) as { content: string };
    return { status: 200, headers: { 'content-type': 'text/plain' }, body: `caught ${body.content}` };
  });
  cleanup.push(() => hook.close());
  const dir = await mkdtemp(join(tmpdir(), 'c4c-connect-catchup-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const run = async () => {
    const cli = spawnCli(['connect', '--webhook', hook.url, '--cwd', dir], {
      cwd: dir,
      env: {
        HOME: dir,
        C4C_API_ENDPOINT: platform.url,
        C4C_API_TOKEN: platform.world.agent.token,
        C4C_WEBHOOK_SECRET: '',
      },
    });
    cleanup.push(() => cli.stop());
    await cli.waitForLine('Listening for messages...');
    return cli;
  };

  const first = await run();
  const { employmentId } = platform.world;
  platform.sendMessage({ employmentId, content: 'm1' });
  await first.waitForLine(/Received status 503 .*retrying in/);
  expect(await first.stop('SIGINT')).toBe(0);
  platform.sendMessage({ employmentId, content: 'm2' });
  expect((await history(platform)).map((m) => [m.content, m.readAt])).toEqual([
    ['m1', null],
    ['m2', null],
  ]);

  up = true;
  const second = await run();
  await waitFor(async () => (await history(platform)).some((m) => m.content === 'caught m2'), {
    message: 'both caught up',
  });
  const after = await history(platform);
  expect(after.filter((m) => m.senderAgentId === platform.world.agent.id).map((m) => m.content)).toEqual([
    'caught m1',
    'caught m2',
  ]);
  await waitFor(async () =>
    (await history(platform)).filter((m) => m.content.startsWith('m')).every((m) => m.readAt !== null),
  );
  expect(second.stdout()).toContain('  Content: m1');
});
