/**
 * `--workers` / `C4C_WORKERS` / `workers` as a user meets them: `start` and `dev` as child
 * processes in temp projects; bad values refused with a sentence that says what to type; hot
 * reload with handlers in worker threads.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DevState } from '../../src/cli/dev-state.js';
import { Peer } from '../../src/party/peer.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { MessageFrame } from '../../src/protocol/frames.js';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import { makeProject, type Project } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'cl_workers_secret_7h2m';
const seed = {
  agents: [
    { id: 1, name: 'Employer', token: 'cl_workers_employer' },
    { id: 2, name: 'Worker', token: TOKEN },
  ],
  employments: [{ id: 1, employerAgentId: 1, employeeAgentId: 2, salary: '1' }],
};

const HANDLER = `import { defineHandler } from 'c4c-runner';
import { threadId } from 'node:worker_threads';
export default defineHandler('message', (ctx) => {
  ctx.log.info({ heard: ctx.event.content }, 'heard ' + ctx.event.content);
  return 'thread ' + threadId + ': ' + ctx.event.content;
});`;

let platform: Platform | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await platform?.close();
  platform = undefined;
});

async function project(files: Record<string, string>): Promise<Project> {
  const p = await makeProject(files);
  cleanups.push(() => p.remove());
  return p;
}

function cli(p: Project, args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawnCli(args, { cwd: p.dir, env: { HOME: join(p.dir, 'home'), ...env } });
  cleanups.push(() => child.stop('SIGKILL'));
  return child;
}

describe('--workers', () => {
  it('refuses a bad thread count from the flag, the environment or the config, before connecting', async () => {
    platform = await startPlatform({ seed });
    const env = { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN };
    const p = await project({ 'handlers/message.ts': HANDLER });

    const flag = cli(p, ['start', '--workers', 'two'], env);
    expect(await flag.exited).toBe(1);
    expect(flag.stderr()).toContain(
      'error --workers must be a whole number of worker threads from 0 to 256, got "two"; e.g. --workers 2 (0 runs handlers on the main thread)',
    );

    const fromEnv = cli(p, ['start'], { ...env, C4C_WORKERS: '-1' });
    expect(await fromEnv.exited).toBe(1);
    expect(fromEnv.stderr()).toContain(
      'error env C4C_WORKERS must be a whole number of worker threads from 0 to 256, got "-1"; e.g. C4C_WORKERS=2',
    );

    const bad = await project({ 'handlers/message.ts': HANDLER, 'c4c.config.json': '{ "workers": 1.5 }' });
    const file = cli(bad, ['start'], env);
    expect(await file.exited).toBe(1);
    expect(file.stderr()).toContain(
      'error c4c.config.json: workers must be a whole number of worker threads from 0 to 256, got 1.5 (e.g. 2; 0 runs handlers on the main thread)',
    );

    const dev = cli(p, ['dev', '--port', '0', '--workers', '1000']);
    expect(await dev.exited).toBe(1);
    expect(dev.stderr()).toContain(
      '--workers must be a whole number of worker threads from 0 to 256, got "1000"',
    );
    expect(platform.stats.connectionsOpened).toBe(0);
  });

  it('start: flag > env > config; the handler runs off the main thread and its log lines reach stdout with the token redacted', async () => {
    platform = await startPlatform({ seed });
    const replies: string[] = [];
    platform.on('message', (m) => {
      if (m.senderAgentId === 2) replies.push(m.content);
    });
    const p = await project({ 'handlers/message.ts': HANDLER, 'c4c.config.json': '{ "workers": 3 }' });
    const env = { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN };

    const fromFlag = cli(p, ['start', '--workers', '1'], { ...env, C4C_WORKERS: '2' });
    const started = await fromFlag.waitForLine('c4c-runner started');
    expect(JSON.parse(started)).toMatchObject({ workers: 1 });
    platform.sendMessage({ employmentId: 1, content: 'hi' });
    await waitFor(() => replies.length === 1, { message: 'the reply' });
    expect(replies[0]).toMatch(/^thread [1-9]\d*: hi$/);
    // A line logged in a worker goes through the main logger: its bindings, and the token censored.
    platform.sendMessage({ employmentId: 1, content: `my token is ${TOKEN}` });
    const heard = JSON.parse(await fromFlag.waitForLine('"msg":"heard my token is')) as Record<
      string,
      unknown
    >;
    expect(heard).toMatchObject({
      msg: 'heard my token is [redacted]',
      heard: 'my token is [redacted]',
      event: 'message',
      employmentId: 1,
      file: 'handlers/message.ts',
    });
    expect(await fromFlag.stop()).toBe(0);

    const fromEnv = cli(p, ['start'], { ...env, C4C_WORKERS: '2' });
    expect(JSON.parse(await fromEnv.waitForLine('c4c-runner started'))).toMatchObject({ workers: 2 });
    await fromEnv.stop();

    const fromFile = cli(p, ['start'], env);
    expect(JSON.parse(await fromFile.waitForLine('c4c-runner started'))).toMatchObject({ workers: 3 });
    await fromFile.stop();

    const off = cli(p, ['start', '--workers', '0'], { ...env, C4C_WORKERS: '2' });
    expect(JSON.parse(await off.waitForLine('c4c-runner started'))).toMatchObject({ workers: 0 });
    await off.stop();
  });

  it('dev --workers: a rewritten handler serves new events, while the event in flight finishes on the old code', async () => {
    const p = await project({
      'lib.ts': `export const tag = 'v1';\n`,
      'handlers/message.ts': `import { defineHandler } from 'c4c-runner';
import { existsSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { tag } from '../lib.js';
export default defineHandler('message', async (ctx) => {
  if (ctx.event.content === 'hold') {
    ctx.log.info('holding');
    // Released by the test once the new version is loaded.
    while (!existsSync(new URL('../release', import.meta.url))) await new Promise((r) => setTimeout(r, 20));
  }
  return tag + ' thread ' + threadId + ': ' + ctx.event.content;
});`,
    });
    const dev = cli(p, ['dev', '--port', '0', '--workers', '2']);
    await dev.waitForLine('Talk to it:');
    const state = JSON.parse(await readFile(join(p.dir, '.c4c', 'dev.json'), 'utf8')) as DevState;
    const employer = new Peer({ url: state.url, token: state.employer.token });
    await employer.connect();
    cleanups.push(() => employer.close());
    const next = () =>
      employer.waitFor<MessageFrame>((f) => f.type === 'message' && f.employmentId === state.employmentId, {
        timeout: 10_000,
        what: 'a reply',
      });

    let reply = next();
    await employer.send(state.employmentId, 'hold');
    await dev.waitForLine('holding');
    await writeFile(join(p.dir, 'lib.ts'), `export const tag = 'v2';\n`);
    await writeFile(
      join(p.dir, 'handlers', 'message.ts'),
      `import { defineHandler } from 'c4c-runner';
import { threadId } from 'node:worker_threads';
import { tag } from '../lib.js';
export default defineHandler('message', (ctx) => tag + ' new, thread ' + threadId + ': ' + ctx.event.content.toUpperCase());`,
    );
    await dev.waitForLine(/reloaded handlers\/message\.ts in \d+ ms/);
    await writeFile(join(p.dir, 'release'), '');
    expect((await reply).content).toMatch(/^v1 thread [1-9]\d*: hold$/);

    // Twice: each of the two threads loads the new version (and the changed lib.ts) when its turn comes.
    for (const word of ['after', 'again']) {
      reply = next();
      await employer.send(state.employmentId, word);
      expect((await reply).content).toMatch(new RegExp(`^v2 new, thread [1-9]\\d*: ${word.toUpperCase()}$`));
    }
    await rm(join(p.dir, 'release'));
  });
});
