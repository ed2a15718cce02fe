/**
 * Secrets stay secret: credentials in the platform URL go as Basic auth (REST and the WebSocket
 * upgrade) and never reach a log line, nor does a webhook URL's query, its signing secret or the
 * token; files holding tokens are owner-only; the dev API refuses clients from other machines.
 */
import { stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeDevState, DEV_STATE_PATH } from '../../src/cli/dev-state.js';
import { Peer } from '../../src/client/peer.js';
import { startPlatform } from '../../src/platform/index.js';
import { redactText, redactUrl } from '../../src/redact.js';
import { spawnCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';
import { startWebhookServer } from '../helpers/webhook-server.js';

const TOKEN = 'cl_hardening_worker_5e2';
const BASIC_PASSWORD = 'pw_s3cret_basic';
const HOOK_QUERY_SECRET = 'qsecret_hook_42';
const HOOK_SIGNING_SECRET = 'whsec_sig_secret_77';
const seed = {
  agents: [
    { id: 1, name: 'Employer', token: 'cl_hardening_employer' },
    { id: 2, name: 'Worker', token: TOKEN },
  ],
  employments: [{ id: 1, employerAgentId: 1, employeeAgentId: 2, salary: '1' }],
};

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TCP relay in front of the platform that keeps every request head a client sent. */
async function recordingProxy(target: number) {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client: Socket) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    let pending: string | undefined = '';
    let bodyLeft = 0;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      if (pending === undefined) return; // a WebSocket now: frames, not requests
      pending += chunk.toString('latin1');
      for (;;) {
        if (bodyLeft > 0) {
          const skipped = Math.min(bodyLeft, pending.length);
          pending = pending.slice(skipped);
          bodyLeft -= skipped;
        }
        const end = pending.indexOf('\r\n\r\n');
        if (bodyLeft > 0 || end === -1) return;
        const head = pending.slice(0, end);
        heads.push(head);
        pending = pending.slice(end + 4);
        if (/\r\nupgrade: *websocket/i.test(head)) {
          pending = undefined;
          return;
        }
        bodyLeft = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      }
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    heads,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('secrets in logs', () => {
  it('a run with URL credentials, a webhook query secret and a token: Basic auth on REST and the upgrade, and no secret in any line', async () => {
    const platform = await startPlatform({ seed });
    cleanups.push(() => platform.close());
    const proxy = await recordingProxy(platform.port);
    cleanups.push(() => proxy.close());
    let calls = 0;
    const hook = await startWebhookServer((req) =>
      // The first forward fails, so the retry line (which names the webhook) is logged too.
      ++calls === 1 ? { status: 503 } : { status: 200, body: `echo: ${JSON.parse(req.body).content}` },
    );
    cleanups.push(() => hook.close());

    const project = await makeProject({
      'handlers/read.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('read', (ctx) => { ctx.log.info('read receipt'); });`,
      'c4c.config.json': JSON.stringify({
        logLevel: 'debug',
        webhook: {
          url: `${hook.url}?key=${HOOK_QUERY_SECRET}`,
          secret: HOOK_SIGNING_SECRET,
          retry: { initialDelay: 20, maxDelay: 50 },
        },
      }),
    });
    cleanups.push(() => project.remove());
    const endpoint = `http://bob:${BASIC_PASSWORD}@127.0.0.1:${proxy.port}`;
    const cli = spawnCli(['start'], {
      cwd: project.dir,
      env: { HOME: join(project.dir, 'home'), C4C_API_ENDPOINT: endpoint, C4C_API_TOKEN: TOKEN },
    });
    cleanups.push(() => cli.stop('SIGKILL'));
    await cli.waitForLine('c4c-runner started');

    const employer = new Peer({ url: platform.url, token: 'cl_hardening_employer' });
    await employer.connect();
    cleanups.push(() => employer.close());
    const reply = employer.waitFor((f) => f.type === 'message' && f.content === 'echo: hi', {
      timeout: 10_000,
      what: 'the webhook’s reply',
    });
    await employer.send(1, 'hi');
    await reply;
    // The acknowledgement is a REST call too.
    await waitFor(() => proxy.heads.some((h) => /^POST \S+\/read /.test(h)), {
      message: 'the mark-read call',
    });
    expect(await cli.stop('SIGTERM')).toBe(0);

    const basic = `Basic ${Buffer.from(`bob:${BASIC_PASSWORD}`).toString('base64')}`;
    expect(proxy.heads.some((h) => h.startsWith('GET /ws'))).toBe(true);
    expect(proxy.heads.filter((h) => h.includes('/openapi/')).length).toBeGreaterThanOrEqual(2);
    for (const head of proxy.heads) {
      expect(head, head.split('\r\n')[0]).toMatch(new RegExp(`\\r\\nauthorization: ${basic}(\\r\\n|$)`, 'i'));
      // The request line and Host carry no credentials.
      expect(head).not.toContain(BASIC_PASSWORD);
    }
    expect(hook.requests.length).toBe(2);
    expect(hook.requests[0]!.path).toBe(`/webhook?key=${HOOK_QUERY_SECRET}`);

    const output = cli.output();
    const lines = output.trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const secret of [TOKEN, BASIC_PASSWORD, HOOK_QUERY_SECRET, HOOK_SIGNING_SECRET, basic.slice(6)])
      expect(output, `a log line holds ${secret}`).not.toContain(secret);
    // The lines that would have held them are there, redacted.
    expect(output).toContain(`key=[redacted]`);
    expect(output).toContain('http://[redacted]@127.0.0.1');
  });

  it('redactUrl hides user info and query values; redactText hides user info and Basic headers', () => {
    expect(redactUrl('https://u:p@hook.example/h?token=abc&x=1#top')).toBe(
      'https://[redacted]@hook.example/h?token=[redacted]&x=[redacted]#top',
    );
    expect(redactUrl('http://localhost:8080/webhook')).toBe('http://localhost:8080/webhook');
    expect(redactText('to wss://a:b@h/ws and Authorization: Basic Zm9vOmJhcg==')).toBe(
      'to wss://[redacted]@h/ws and Authorization: Basic [redacted]',
    );
  });
});

describe('files holding tokens', () => {
  it('the platform --data file and .c4c/dev.json are written 0600, also over an older 0644 file', async () => {
    const project = await makeProject({ [DEV_STATE_PATH]: '{}' });
    cleanups.push(() => project.remove());
    const mode = async (file: string) => (await stat(file)).mode & 0o777;
    expect(await mode(join(project.dir, DEV_STATE_PATH))).not.toBe(0o600);

    const dataFile = join(project.dir, 'state', 'platform.json');
    const platform = await startPlatform({ seed, dataFile });
    await platform.close();
    expect(await mode(dataFile)).toBe(0o600);

    const file = await writeDevState(project.dir, {
      url: platform.url,
      employer: { id: 1, name: 'Employer', token: 'cl_hardening_employer' },
      agent: { id: 2, name: 'Worker', token: TOKEN },
      employmentId: 1,
      pid: process.pid,
    } as Parameters<typeof writeDevState>[1]);
    expect(await mode(file)).toBe(0o600);
  });
});

describe('the dev API on a non-loopback host', () => {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  it('refuses /dev/* from another address unless the dev token comes with it; loopback clients pass', async () => {
    const platform = await startPlatform({ seed, host: '0.0.0.0', devToken: 'dev_tok_1' });
    cleanups.push(() => platform.close());
    const post = (host: string, headers: Record<string, string> = {}) =>
      fetch(`http://${host}:${platform.port}/dev/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ employmentId: 1, from: 1, content: 'x' }),
      });
    expect((await post('127.0.0.1')).status).not.toBe(403);
    if (!external) {
      console.warn(
        'notice: no non-loopback IPv4 interface here; the remote-client half of this test did not run',
      );
      return;
    }
    const refused = await post(external);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('X-C4C-Dev-Token');
    expect((await post(external, { 'x-c4c-dev-token': 'wrong' })).status).toBe(403);
    expect((await post(external, { 'x-c4c-dev-token': 'dev_tok_1' })).status).not.toBe(403);
    // REST and the socket are not the dev API: they keep their own token checks.
    expect((await fetch(`http://${external}:${platform.port}/health`)).status).toBe(200);
  });

  it('`platform --host 0.0.0.0` warns that /dev/* acts as any party', async () => {
    const cli = spawnCli(['platform', '--port', '0', '--host', '0.0.0.0']);
    cleanups.push(() => cli.stop('SIGKILL'));
    const line = await cli.waitForLine('warning:');
    expect(line).toContain('/dev/* API acts as any party without a token');
    expect(line).toContain('--dev-token');
    await cli.waitForLine('listening on');
    expect(await cli.stop('SIGTERM')).toBe(0);
  });
});
