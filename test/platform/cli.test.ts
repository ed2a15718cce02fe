/** `c4c-runner platform` as a child process, the way a user runs it. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import type { Json } from '../helpers/platform.js';

let dir: string;
let seedFile: string;
const running: CliProcess[] = [];
const start = (args: string[]) => {
  const cli = spawnCli(['platform', ...args]);
  running.push(cli);
  return cli;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c4c-platform-cli-'));
  seedFile = join(dir, 's.json');
  await writeFile(
    seedFile,
    '{"agents":[{"id":1,"name":"Boss","token":"cl_boss"},{"id":2,"name":"Worker","token":"cl_worker"}],"employments":[{"id":123,"employerAgentId":1,"employeeAgentId":2,"status":"active","salary":"10"}]}',
  );
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => cli.stop('SIGKILL')));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const urlOf = async (cli: CliProcess) =>
  (await cli.waitForLine(/listening on http:\/\//)).match(/(http:\/\/\S+)/)![1]!;

describe('c4c-runner platform', () => {
  it('with --seed and --port 0 prints its URL and the world, and a few-line ws client chats through it', async () => {
    const cli = start(['--seed', seedFile, '--port', '0']);
    const url = await urlOf(cli);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    await cli.waitForLine('Press Ctrl-C to stop.');
    expect(cli.stdout()).toContain(`ws://${url.slice('http://'.length)}/ws`);
    expect(cli.stdout()).toMatch(/Employer +#1 Boss +token cl_boss/);
    expect(cli.stdout()).toMatch(/Agent +#2 Worker +token cl_worker/);
    expect(cli.stdout()).toMatch(/Employment +#123 \(active\)/);

    // The client of a few lines a user would write.
    const wsUrl = url.replace('http', 'ws') + '/ws';
    const boss = new WebSocket(wsUrl, { headers: { 'X-API-Key': 'cl_boss' } });
    const worker = new WebSocket(`${wsUrl}?api_key=cl_worker`);
    await Promise.all([boss, worker].map((ws) => new Promise((resolve) => ws.once('open', resolve))));
    const got = new Promise<Json>((resolve) =>
      worker.once('message', (data) => resolve(JSON.parse(String(data)))),
    );
    boss.send(
      JSON.stringify({
        type: 'message',
        employmentId: 123,
        messageId: 'msg_cli',
        timestamp: new Date().toISOString(),
        content: 'hello from the CLI test',
      }),
    );
    expect(await got).toMatchObject({
      type: 'message',
      employmentId: 123,
      messageId: 'msg_cli',
      content: 'hello from the CLI test',
    });
    boss.close();
    worker.close();

    const history = await fetch(`${url}/openapi/v1/agent/me/employments/123/messages`, {
      headers: { 'X-Api-Key': 'cl_worker' },
    });
    expect(((await history.json()) as Json).data.messages[0].content).toBe('hello from the CLI test');
  });

  it('without --seed prints the default world', async () => {
    const cli = start(['--port', '0']);
    await cli.waitForLine('Press Ctrl-C to stop.');
    expect(cli.stdout()).toMatch(/Employer +#1 Local Employer +token cl_local_employer/);
    expect(cli.stdout()).toMatch(/Agent +#2 Local Agent +token cl_local_agent/);
    expect(cli.stdout()).toMatch(/Employment +#1 \(active\)/);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('stops cleanly on %s: exit 0, port freed', async (signal) => {
    const cli = start(['--port', '0', '--faults']);
    const url = await urlOf(cli);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, {
      headers: { 'X-API-Key': 'cl_local_agent' },
    });
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise((resolve) => ws.once('close', resolve));
    expect(await cli.stop(signal)).toBe(0);
    await closed;
    expect(cli.stdout()).toContain('platform stopped');
    const port = Number(new URL(url).port);
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
    });
  });

  it('refuses a bad seed with the key and what is wrong, exit 1, and starts nothing', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({ agents: [{ id: 1, name: 'Boss', token: 'boss' }], employments: [] }),
    );
    const cli = start(['--seed', bad, '--port', '0']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(`${bad}: agents[0].token: a token starts with "cl_"`);
    expect(cli.stdout()).not.toContain('listening');
  });

  it('refuses a bad --port before starting', async () => {
    const cli = start(['--port', 'abc']);
    expect(await cli.exited).not.toBe(0);
    expect(cli.stderr()).toMatch(/--port.*expected a port number/s);
  });

  it('keeps state with --data across runs', async () => {
    const data = join(dir, 'data.json');
    const first = start(['--port', '0', '--data', data]);
    const url = await urlOf(first);
    const posted = await fetch(`${url}/dev/messages`, {
      method: 'POST',
      body: JSON.stringify({ employmentId: 1, content: 'kept' }),
    });
    expect(posted.status).toBe(201);
    expect(await first.stop()).toBe(0);
    const second = start(['--port', '0', '--data', data]);
    const again = await urlOf(second);
    const history = await fetch(`${again}/openapi/v1/agent/me/employments/1/messages`, {
      headers: { 'X-API-Key': 'cl_local_agent' },
    });
    expect(((await history.json()) as Json).data.messages.map((m: Json) => m.content)).toEqual(['kept']);
  });
});
