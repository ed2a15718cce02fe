/**
 * The `webhook` key of c4c.config.ts: events that have no handler file go to the webhook, and its
 * answer is their reply; handler files keep their own events. In-process runner, real platform,
 * real webhook receiver, real files.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { restCall } from '../../src/client/peer.js';
import { loadConfig } from '../../src/config/load.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { paths } from '../../src/protocol/rest.js';
import { createRunner, type Runner } from '../../src/runner/runner.js';
import { verifyWebhookSignature } from '../../src/webhook/sign.js';
import { waitFor } from '../helpers/wait.js';
import { startWebhookServer } from '../helpers/webhook-server.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'c4c-webhook-config-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  return dir;
}

async function setup(webhook: string, env: NodeJS.ProcessEnv = {}) {
  const platform = await startPlatform({ port: 0 });
  cleanup.push(() => platform.close());
  const hook = await startWebhookServer((request) => {
    const body = JSON.parse(request.body) as { event?: string; data?: { input?: { text?: string } } };
    if (body.event === 'service_invoked') {
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ upper: String(body.data?.input?.text).toUpperCase() }),
      };
    }
    return { status: 204 };
  });
  cleanup.push(() => hook.close());
  const dir = await project({
    'c4c.config.ts': `export default { platform: { url: ${JSON.stringify(platform.url)}, token: 'cl_local_agent' }, webhook: ${webhook.replace('HOOK', hook.url)} };\n`,
    'handlers/message.ts': "export default (ctx) => 'file: ' + ctx.event.content;\n",
  });
  const config = await loadConfig({ cwd: dir, env: { ...env }, home: dir });
  const runner: Runner = createRunner(config);
  cleanup.push(() => runner.close({ drainTimeout: 0 }));
  return { platform, hook, runner, dir };
}

async function invoke(platform: Platform, text: string) {
  const as = { url: platform.url, token: platform.world.employer.token };
  const { invocationId } = await restCall<{ invocationId: number }>(as, 'POST', paths.invocations(), {
    serviceId: 1,
    input: { text },
    maxPrice: 5,
    idempotencyKey: `webhook-config-${text}`,
  });
  return waitFor(async () => {
    const inv = await restCall<{ status: string; output?: unknown }>(
      as,
      'GET',
      paths.invocation(invocationId),
    );
    return inv.status === 'completed' ? inv : undefined;
  });
}

describe('webhook in c4c.config.ts', () => {
  it('forwards events without a handler file (signed), replies with the answer, and leaves handler files their events', async () => {
    const { platform, hook, runner } = await setup("{ url: 'HOOK', secret: 'cfg_secret' }");
    await runner.start();

    // message.ts handles messages: the webhook never sees them.
    platform.sendMessage({ employmentId: platform.world.employmentId, content: 'hi' });
    await waitFor(() => runner.stats.replies >= 1);
    // No service-invoked.ts: the webhook answers, and its answer is the output.
    const done = await invoke(platform, 'loud');
    expect(done.output).toEqual({ upper: 'LOUD' });
    // A notification with no reply rule is forwarded too.
    platform.notify(platform.world.agent.id, 'task-completed', { taskTitle: 'T', bounty: '3' });
    await hook.request(2);

    const events = hook.requests.map(
      (r) => (JSON.parse(r.body) as { type: string; event?: string }).event ?? 'message',
    );
    expect(events).toEqual(['service_invoked', 'task_completed']);
    for (const request of hook.requests) {
      const ok = verifyWebhookSignature({
        secret: 'cfg_secret',
        body: request.body,
        timestamp: request.headers['x-c4c-timestamp'] as string,
        signature: request.headers['x-c4c-signature'] as string,
      });
      expect(ok).toBe(true);
    }
  });

  it('a forward that finally fails (retry.attempts) is run again by the runner (its retry), then dead-lettered; the next one still goes through', async () => {
    const platform = await startPlatform({ port: 0 });
    cleanup.push(() => platform.close());
    let up = false;
    const hook = await startWebhookServer((request) => {
      const body = JSON.parse(request.body) as { content: string };
      return up
        ? { status: 200, headers: { 'content-type': 'text/plain' }, body: `ok ${body.content}` }
        : { status: 500 };
    });
    cleanup.push(() => hook.close());
    const dir = await project({
      'c4c.config.ts': `export default { platform: { url: ${JSON.stringify(platform.url)}, token: 'cl_local_agent' }, webhook: { url: ${JSON.stringify(hook.url)}, retry: { attempts: 3, initialDelay: 10, maxDelay: 20 } }, retry: { attempts: 2, initialDelay: 10, maxDelay: 20 } };\n`,
      'handlers/.keep': '',
    });
    const runner = createRunner(await loadConfig({ cwd: dir, env: {}, home: dir }));
    cleanup.push(() => runner.close({ drainTimeout: 0 }));
    await runner.start();
    const as = { url: platform.url, token: platform.world.employer.token };
    const { employmentId } = platform.world;
    const read = async () =>
      (
        await restCall<{ messages: { content: string; readAt: string | null }[] }>(
          as,
          'GET',
          paths.messages(employmentId),
        )
      ).messages;

    platform.sendMessage({ employmentId, content: 'lost?' });
    await waitFor(() => runner.stats.failed === 1, { message: 'the forward to give up' });
    // Three forwards per attempt, two attempts; then it is kept in the dead-letter file for replay.
    expect(hook.requests).toHaveLength(6);
    expect(runner.stats.retried).toBe(1);
    await waitFor(
      async () => (await readFile(join(dir, '.c4c', 'dead-letters.jsonl'), 'utf8')).includes('lost?'),
      {
        message: 'the dead letter',
      },
    );

    up = true;
    platform.sendMessage({ employmentId, content: 'next' });
    await waitFor(async () => (await read()).some((m) => m.content === 'ok next'), {
      message: 'the next message answered',
    });
  });

  it('env C4C_WEBHOOK_URL wins over the file, as env wins for the token', async () => {
    const other = await startWebhookServer(() => ({ status: 204 }));
    cleanup.push(() => other.close());
    const { platform, hook, runner } = await setup("{ url: 'HOOK' }", { C4C_WEBHOOK_URL: other.url });
    await runner.start();
    platform.notify(platform.world.agent.id, 'task-completed', { taskTitle: 'T' });
    await other.request(1);
    expect(hook.requests).toHaveLength(0);
  });

  it('a webhook without a url anywhere fails start with the fix', async () => {
    const { runner } = await setup("{ secret: 'x' }");
    await expect(runner.start()).rejects.toThrow(/webhook has no url; set webhook\.url/);
  });

  it('a bad webhook url fails loading the config, naming the key', async () => {
    const dir = await project({
      'c4c.config.ts': "export default { webhook: { url: 'localhost:8080' } };\n",
    });
    await expect(loadConfig({ cwd: dir, env: {}, home: dir })).rejects.toThrow(
      /c4c\.config\.ts: webhook\.url must be an http\(s\) URL/,
    );
  });
});
