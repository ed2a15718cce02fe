/**
 * `c4c-runner connect` as a user runs it: a child process against the embedded platform on a free
 * port, with a real webhook receiver on another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { restCall } from '../helpers/rest-call.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { NOTIFICATIONS, type NotificationEventName } from '../../src/protocol/events.js';
import { paths } from '../../src/protocol/rest.js';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { startWebhookServer, type ReceivedRequest, type WebhookServer } from '../helpers/webhook-server.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function platformFor(
  seed?: NonNullable<Parameters<typeof startPlatform>[0]>['seed'],
  options: { faults?: boolean } = {},
): Promise<Platform> {
  const platform = await startPlatform({ port: 0, ...(seed ? { seed } : {}), ...options });
  cleanup.push(() => platform.close());
  return platform;
}

async function webhook(...args: Parameters<typeof startWebhookServer>): Promise<WebhookServer> {
  const server = await startWebhookServer(...args);
  cleanup.push(() => server.close());
  return server;
}

/** An empty project folder that is also HOME, so no real ~/.c4c or c4c.config.ts leaks in. */
async function folder(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'c4c-connect-test-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  return dir;
}

async function connect(
  platform: Platform,
  args: string[],
  options: { dir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliProcess> {
  const dir = options.dir ?? (await folder());
  const cli = spawnCli(['connect', '--cwd', dir, ...args], {
    cwd: dir,
    env: {
      HOME: dir,
      C4C_API_ENDPOINT: platform.url,
      C4C_API_TOKEN: platform.world.agent.token,
      C4C_WEBHOOK_URL: '',
      C4C_WEBHOOK_SECRET: '',
      ...options.env,
    },
  });
  cleanup.push(() => cli.stop());
  await cli.waitForLine('Listening for messages...');
  return cli;
}

/** What the employer sees in an employment, oldest first. */
async function history(platform: Platform, employmentId: number, token = platform.world.employer.token) {
  const page = await restCall<{
    messages: { content: string; senderAgentId: number; messageId: string; readAt: string | null }[];
  }>({ url: platform.url, token }, 'GET', `${paths.messages(employmentId)}?limit=100`);
  return page.messages.slice().reverse();
}

const headerLines = (url?: string) =>
  [
    ...(url
      ? [
          `Webhook forwarding enabled: ${url}`,
          "  The webhook's answer is sent back as the reply (--no-reply to forward only)",
        ]
      : []),
    'Connecting to Claw4Claw platform...',
    '⟳ Connecting...',
    '✓ Connection established',
    '✓ Connected successfully!',
    'Listening for messages... (Press Ctrl+C to disconnect)',
  ]
    .map((line) => `${line}\n`)
    .join('');

describe('c4c-runner connect: the guide listener', () => {
  it("prints messages and notifications in the guide's format, byte for byte", async () => {
    const platform = await platformFor();
    const cli = await connect(platform, []);
    const { employmentId, agent } = platform.world;

    platform.sendMessage({ employmentId, content: 'hello there', metadata: { format: 'markdown' } });
    await cli.waitForLine('  Format: markdown');
    platform.sendMessage({ employmentId, content: 'plain' });
    await cli.waitForLine('  Content: plain');
    platform.notify(agent.id, 'task-application', {
      taskTitle: 'Task A',
      applicantAgentName: 'agent-x',
      bounty: '10',
    });
    await cli.waitForLine('[task]');
    platform.notify(agent.id, 'employment-terminated', { employerAgentName: 'Boss', reason: 'budget' });
    await cli.waitForLine('[employment]');

    expect(cli.stdout()).toBe(
      headerLines() +
        `\n[Message] Employment #${employmentId}\n  Content: hello there\n  Format: markdown\n\n` +
        `\n[Message] Employment #${employmentId}\n  Content: plain\n\n` +
        "\n[task] Agent 'agent-x' applied for your task 'Task A' (Bounty: 10)\n" +
        "\n[employment] Your employment with 'Boss' was terminated. Reason: budget\n",
    );
    // The line the agent guide's scripts grep.
    expect(/Employment #\d+/.exec(cli.stdout())?.[0]).toBe(`Employment #${employmentId}`);
    expect(await cli.stop()).toBe(0);
    expect(cli.stdout().endsWith('\nDisconnecting...\n✓ Disconnected successfully\n')).toBe(true);
  });

  it('acknowledges each printed message (marks it read on the platform)', async () => {
    const platform = await platformFor();
    const cli = await connect(platform, []);
    const sent = platform.sendMessage({ employmentId: platform.world.employmentId, content: 'ack me' });
    await cli.waitForLine('  Content: ack me');
    await waitFor(
      async () =>
        (await history(platform, platform.world.employmentId)).find((m) => m.messageId === sent.messageId)
          ?.readAt,
    );
  });

  it('refuses to start without a token, saying where to put one', async () => {
    const platform = await platformFor();
    const dir = await folder();
    const cli = spawnCli(['connect', '--cwd', dir], {
      cwd: dir,
      env: { HOME: dir, C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: '' },
    });
    cleanup.push(() => cli.stop());
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/no API token: set C4C_API_TOKEN/);
  });

  it('a refused token stops at once with exit code 1 and never prints the token', async () => {
    const platform = await platformFor();
    const dir = await folder();
    const cli = spawnCli(['connect', '--cwd', dir], {
      cwd: dir,
      env: { HOME: dir, C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: 'cl_not_a_real_token' },
    });
    cleanup.push(() => cli.stop());
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/authentication failed/i);
    expect(cli.output()).not.toContain('cl_not_a_real_token');
  });

  it('prints the public client lines when the connection drops, and keeps listening', async () => {
    const platform = await platformFor(undefined, { faults: true });
    const dir = await folder({
      'c4c.config.ts': 'export default { reconnect: { initialDelay: 20, maxDelay: 50 } };\n',
    });
    const cli = await connect(platform, [], { dir });
    platform.faults.dropConnections();
    await waitFor(() => cli.stdout().split('✓ Connection established').length === 3, {
      message: 'a second "Connection established"',
    });
    expect(cli.stdout()).toContain(
      '(Press Ctrl+C to disconnect)\n✗ Connection lost\n⟳ Reconnecting...\n⟳ Connecting...\n✓ Connection established\n',
    );
    platform.sendMessage({ employmentId: platform.world.employmentId, content: 'after the drop' });
    await cli.waitForLine('  Content: after the drop');
  });
});

describe('c4c-runner connect --webhook', () => {
  it('forwards a message and every notification kind with the exact body', async () => {
    const platform = await platformFor();
    const hook = await webhook(() => ({ status: 204 }));
    const cli = await connect(platform, ['--webhook', hook.url]);
    const { employmentId, agent } = platform.world;

    const record = platform.sendMessage({
      employmentId,
      content: 'forward me',
      metadata: { format: 'text', language: 'zh' },
    });
    const names = Object.keys(NOTIFICATIONS) as NotificationEventName[];
    const frames = names.map((name, i) =>
      platform.notify(agent.id, name, {
        taskTitle: `T${i}`,
        serviceTitle: `S${i}`,
        employmentId: 1,
      } as never),
    );
    await hook.request(1 + names.length);

    // Top-level keys in the public client's order; nested objects with the same keys and values.
    const bodies = hook.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    const message = bodies.find((b) => b.type === 'message')!;
    expect(Object.keys(message)).toEqual([
      'content',
      'employmentId',
      'messageId',
      'metadata',
      'timestamp',
      'type',
    ]);
    expect(message).toEqual({
      content: 'forward me',
      employmentId,
      messageId: record.messageId,
      metadata: { format: 'text', language: 'zh' },
      timestamp: record.createdAt,
      type: 'message',
    });
    for (const frame of frames) {
      const body = bodies.find((b) => b.messageId === frame.messageId);
      expect(body, frame.event).toBeDefined();
      expect(Object.keys(body!)).toEqual(['data', 'domain', 'event', 'messageId', 'timestamp', 'type']);
      expect(body).toEqual({
        data: frame.data,
        domain: frame.domain,
        event: frame.event,
        messageId: frame.messageId,
        timestamp: frame.timestamp,
        type: 'notification',
      });
    }
    for (const request of hook.requests) {
      expect(request.method).toBe('POST');
      expect(request.headers['content-type']).toBe('application/json');
    }
    await cli.waitForLine(`[Webhook] ✓ Forwarded to ${hook.url} (status: 204)`);
    await cli.waitForLine(`[Webhook] ✓ Forwarded notification to ${hook.url} (status: 204)`);
  });

  it("sends the webhook's answer back: text as the message, JSON as the service output", async () => {
    const platform = await platformFor();
    const hook = await webhook((request) => {
      const body = JSON.parse(request.body) as {
        type: string;
        content?: string;
        data?: { input?: { text?: string } };
      };
      if (body.type === 'message')
        return { status: 200, headers: { 'content-type': 'text/plain' }, body: `echo: ${body.content}` };
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ upper: String(body.data?.input?.text).toUpperCase() }),
      };
    });
    const cli = await connect(platform, ['--webhook', hook.url]);
    const { employmentId, employer } = platform.world;

    platform.sendMessage({ employmentId, content: 'hi' });
    await waitFor(async () => (await history(platform, employmentId)).find((m) => m.content === 'echo: hi'), {
      message: 'the reply in the history',
    });
    await cli.waitForLine('[Webhook] ↩ Replying to message');

    const as = { url: platform.url, token: employer.token };
    const invocation = await restCall<{ invocationId: number }>(as, 'POST', paths.invocations(), {
      serviceId: 1,
      input: { text: 'shout' },
      maxPrice: 5,
      idempotencyKey: 'connect-test-1',
    });
    const done = await waitFor(
      async () => {
        const inv = await restCall<{ status: string; output?: unknown }>(
          as,
          'GET',
          paths.invocation(invocation.invocationId),
        );
        return inv.status === 'completed' ? inv : undefined;
      },
      { message: 'the invocation completed' },
    );
    expect(done.output).toEqual({ upper: 'SHOUT' });
  });

  it('--no-reply forwards only, like the public client', async () => {
    const platform = await platformFor();
    const hook = await webhook(() => ({
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: 'would be a reply',
    }));
    const cli = await connect(platform, ['--webhook', hook.url, '--no-reply']);
    platform.sendMessage({ employmentId: platform.world.employmentId, content: 'quiet' });
    await cli.waitForLine('[Webhook] ✓ Forwarded to');
    // The acknowledgement comes after the handler returned: once it is there, any reply would be too.
    await waitFor(
      async () =>
        (await history(platform, platform.world.employmentId)).find((m) => m.content === 'quiet')?.readAt,
    );
    expect((await history(platform, platform.world.employmentId)).map((m) => m.content)).toEqual(['quiet']);
  });

  it('signs requests (env C4C_WEBHOOK_SECRET) so the README recipe verifies them', async () => {
    const platform = await platformFor();
    const hook = await webhook(() => ({ status: 204 }));
    const cli = await connect(platform, ['--webhook', hook.url], {
      env: { C4C_WEBHOOK_SECRET: 'whsec_cli' },
    });
    expect(cli.stdout()).toContain(
      '  Requests are signed (X-C4C-Signature, secret from env C4C_WEBHOOK_SECRET)',
    );
    expect(cli.output()).not.toContain('whsec_cli');
    platform.sendMessage({ employmentId: platform.world.employmentId, content: 'signed' });
    const request = await hook.request(1);
    expect(readmeVerify('whsec_cli', request)).toBe(true);
    expect(readmeVerify('whsec_cli', { ...request, body: request.body.replace('signed', 'forged') })).toBe(
      false,
    );
    expect(readmeVerify('another', request)).toBe(false);
  });

  it('reads webhook_url from ~/.c4c/config.json like the public client', async () => {
    const platform = await platformFor();
    const hook = await webhook(() => ({ status: 204 }));
    const dir = await folder();
    await mkdir(join(dir, '.c4c'));
    await writeFile(
      join(dir, '.c4c', 'config.json'),
      JSON.stringify({
        api_token: platform.world.agent.token,
        api_endpoint: platform.url,
        webhook_url: hook.url,
      }),
    );
    const cli = await connect(platform, [], { dir, env: { C4C_API_TOKEN: '', C4C_API_ENDPOINT: '' } });
    expect(cli.stdout()).toContain(`Webhook forwarding enabled: ${hook.url}`);
    platform.sendMessage({ employmentId: platform.world.employmentId, content: 'via home config' });
    expect(JSON.parse((await hook.request(1)).body)).toMatchObject({ content: 'via home config' });
  });

  it('Ctrl-C while the webhook is down stops at once; the message stays unread for next time', async () => {
    const platform = await platformFor();
    const hook = await webhook(() => ({ status: 503 }));
    // A drain this long would time the test out if a retrying forward held up the exit.
    const dir = await folder({ 'c4c.config.ts': 'export default { drainTimeout: 60_000 };\n' });
    const cli = await connect(platform, ['--webhook', hook.url], { dir });
    const sent = platform.sendMessage({ employmentId: platform.world.employmentId, content: 'keep me' });
    await cli.waitForLine(/Received status 503 .*retrying in/);
    expect(await cli.stop('SIGINT')).toBe(0);
    expect(cli.stdout()).toMatch(/\nDisconnecting\.\.\.\n(.*\n)*✓ Disconnected successfully\n$/);
    const message = (await history(platform, platform.world.employmentId)).find(
      (m) => m.messageId === sent.messageId,
    );
    expect(message?.readAt).toBeNull();
  });

  it('retries a failing webhook in order, never holding up another employment, and loses nothing', async () => {
    // Two employments of the same agent; fast retries from c4c.config.ts.
    const platform = await platformFor({
      agents: [
        { id: 1, name: 'Employer One', token: 'cl_one' },
        { id: 2, name: 'Worker', token: 'cl_worker' },
        { id: 3, name: 'Employer Three', token: 'cl_three' },
      ],
      employments: [
        { id: 1, employerAgentId: 1, employeeAgentId: 2 },
        { id: 2, employerAgentId: 3, employeeAgentId: 2 },
      ],
    });
    let employmentOneUp = false;
    const hook = await webhook((request) => {
      const body = JSON.parse(request.body) as { employmentId: number; content: string };
      if (body.employmentId === 1 && !employmentOneUp) return { status: 500 };
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: `got ${body.content}` };
    });
    const dir = await folder({
      'c4c.config.ts': 'export default { webhook: { retry: { initialDelay: 20, maxDelay: 40 } } };\n',
    });
    const cli = await connect(platform, ['--webhook', hook.url], { dir });

    for (const content of ['a1', 'a2', 'a3']) platform.sendMessage({ employmentId: 1, content });
    await cli.waitForLine(/Received status 500 .*; retrying in/);
    for (const content of ['b1', 'b2']) platform.sendMessage({ employmentId: 2, content });
    // Employment 2 is answered while employment 1 keeps failing.
    await waitFor(async () => (await history(platform, 2, 'cl_three')).some((m) => m.content === 'got b2'), {
      message: 'employment 2 answered',
    });
    const one = await history(platform, 1, 'cl_one');
    expect(one.map((m) => m.content)).toEqual(['a1', 'a2', 'a3']);
    expect(one.every((m) => m.readAt === null)).toBe(true);

    employmentOneUp = true;
    await waitFor(async () => (await history(platform, 1, 'cl_one')).some((m) => m.content === 'got a3'), {
      message: 'employment 1 answered',
    });
    const after = await history(platform, 1, 'cl_one');
    expect(after.filter((m) => m.senderAgentId === 2).map((m) => m.content)).toEqual([
      'got a1',
      'got a2',
      'got a3',
    ]);
    // In order within employment 1: every retry of a1 before a2 was ever forwarded.
    const sequence = hook.requests
      .map((r) => JSON.parse(r.body) as { employmentId: number; content: string })
      .filter((b) => b.employmentId === 1);
    const firstA2 = sequence.findIndex((b) => b.content === 'a2');
    expect(sequence.slice(0, firstA2).every((b) => b.content === 'a1')).toBe(true);
    expect(firstA2).toBeGreaterThan(1);
    expect(sequence.slice(firstA2).map((b) => b.content)).toEqual(['a2', 'a3']);
  });
  it('a webhook that keeps failing: the event is kept in the dead-letter file, the conversation goes on, and replay forwards it once the webhook is up', async () => {
    const platform = await platformFor();
    const { employmentId } = platform.world;
    let down = true;
    const hook = await webhook((request) => {
      const body = JSON.parse(request.body) as { content: string };
      if (down) return { status: 500 };
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: `got ${body.content}` };
    });
    const fast = '{ attempts: 2, initialDelay: 10, maxDelay: 20 }';
    const dir = await folder({
      'c4c.config.ts': `export default { retry: ${fast}, webhook: { retry: ${fast} } };\n`,
    });
    const cli = await connect(platform, ['--webhook', hook.url], { dir });
    const lost = platform.sendMessage({ employmentId, content: 'first' });
    const line = await cli.waitForLine(/^✗ message failed for good/);
    expect(line).toBe(
      `✗ message failed for good and was kept in .c4c/dead-letters.jsonl; once the webhook works, run: c4c-runner replay --cwd ${JSON.stringify(dir)}`,
    );
    expect(hook.requests).toHaveLength(4); // two forwards on each of two runs
    const file = join(dir, '.c4c', 'dead-letters.jsonl');
    const letters = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(letters).toEqual([
      expect.objectContaining({
        event: 'message',
        file: 'c4c-runner connect',
        error: expect.objectContaining({ code: 'E_WEBHOOK' }),
        frame: expect.objectContaining({ messageId: lost.messageId, content: 'first' }),
      }),
    ]);
    expect(cli.stderr()).toMatch(/failed 2 times .*check that it is running and answers 2xx/);

    // The conversation goes on, and the failed message is read: it is kept, not pending.
    down = false;
    platform.sendMessage({ employmentId, content: 'second' });
    await waitFor(
      async () => (await history(platform, employmentId)).some((m) => m.content === 'got second'),
      {
        message: 'the later message answered',
      },
    );
    await waitFor(
      async () => (await history(platform, employmentId)).find((m) => m.messageId === lost.messageId)?.readAt,
      { message: 'the failed message read', timeout: 20_000 },
    );

    const env = {
      HOME: dir,
      C4C_API_ENDPOINT: platform.url,
      C4C_API_TOKEN: platform.world.agent.token,
      C4C_WEBHOOK_URL: '',
      C4C_WEBHOOK_SECRET: '',
    };
    // Without a webhook, replay says how to give one, and keeps the letter.
    const blind = spawnCli(['replay', '--cwd', dir], { cwd: dir, env });
    expect(await blind.exited).toBe(1);
    expect(blind.stdout()).toContain(
      'it came from c4c-runner connect and no webhook is set; run: c4c-runner replay --webhook <url>',
    );
    const replay = spawnCli(['replay', '--cwd', dir, '--webhook', hook.url], { cwd: dir, env });
    expect(await replay.exited).toBe(0);
    expect(replay.stdout()).toContain('1 of 1 dead letter(s) replayed.');
    const replies = (await history(platform, employmentId))
      .filter((m) => m.senderAgentId === platform.world.agent.id)
      .map((m) => m.content);
    expect(replies).toEqual(['got second', 'got first']);
    expect(await readFile(file, 'utf8')).toBe('');
  });
});

/** The README's verification recipe, as a receiver would write it. */
function readmeVerify(secret: string, request: Pick<ReceivedRequest, 'body' | 'headers'>): boolean {
  const timestamp = String(request.headers['x-c4c-timestamp']);
  const signature = String(request.headers['x-c4c-signature']);
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`;
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
  return (
    fresh &&
    signature.length === expected.length &&
    timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  );
}
