/**
 * `c4c-runner start` as a child process, the way production runs it: a temp project, env pointing
 * at an embedded platform, another client on the other end.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Peer } from '../../src/party/peer.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import { DEV_ONLY, moduleRecorder } from '../helpers/modules.js';
import { makeProject, type Project } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'cl_start_secret_9f3k2q';
const seed = {
  agents: [
    { id: 1, name: 'Employer', token: 'cl_start_employer' },
    { id: 2, name: 'Worker', token: TOKEN },
  ],
  employments: [{ id: 1, employerAgentId: 1, employeeAgentId: 2, salary: '1' }],
};

const HANDLER = `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  ctx.log.info('started ' + ctx.event.content);
  if (ctx.event.content === 'slow') await new Promise((resolve) => setTimeout(resolve, 300));
  return 'echo: ' + ctx.event.content;
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

function start(p: Project, env: NodeJS.ProcessEnv, args: string[] = []): CliProcess {
  const cli = spawnCli(['start', ...args], { cwd: p.dir, env: { HOME: join(p.dir, 'home'), ...env } });
  cleanups.push(() => cli.stop('SIGKILL'));
  return cli;
}

describe('c4c-runner start', () => {
  it('answers a message sent by another client, logs JSON lines without the token, and drains on SIGTERM (exit 0)', async () => {
    platform = await startPlatform({ seed });
    const p = await project({
      'handlers/message.ts': HANDLER,
      'c4c.config.ts': `import { defineConfig } from 'c4c-runner';\nexport default defineConfig({ concurrency: 4 });`,
    });
    const recorder = await moduleRecorder(p);
    const cli = start(p, { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN, ...recorder.env });
    await cli.waitForLine('c4c-runner started');

    const employer = new Peer({ url: platform.url, token: 'cl_start_employer' });
    await employer.connect();
    cleanups.push(() => employer.close());
    const reply = (content: string) =>
      employer.waitFor((f) => f.type === 'message' && f.content === `echo: ${content}`, {
        timeout: 10_000,
        what: `the reply to ${content}`,
      });
    const first = reply('hello');
    await employer.send(1, 'hello');
    await first;

    // SIGTERM while a handler is running: it finishes, its reply goes out, then a clean exit.
    const slow = reply('slow');
    await employer.send(1, 'slow');
    await cli.waitForLine('started slow');
    expect(await cli.stop('SIGTERM')).toBe(0);
    await slow;

    const stdout = cli.stdout().trim().split('\n');
    for (const line of stdout) expect(() => JSON.parse(line), line).not.toThrow();
    expect(stdout.map((l) => JSON.parse(l).msg)).toEqual(
      expect.arrayContaining([
        'SIGTERM: stopping; waiting up to 10000 ms for running handlers',
        'runner closed',
      ]),
    );
    expect(cli.output()).not.toContain(TOKEN);
    expect(cli.stderr()).toBe('');

    // Production loads no dev-only part: no watcher, no local platform, no pretty printer.
    const modules = await recorder.modules();
    // The bundled CLI (cli.js holds `start`) and runtime (the runner): the recorder does see them.
    expect(modules.some((m) => /dist\/bundle\/cli\.js$/.test(m))).toBe(true);
    expect(modules.some((m) => /dist\/bundle\/runtime-[^/]*\.js$/.test(m))).toBe(true);
    const devOnly = modules.filter((m) => DEV_ONLY.test(m));
    expect(devOnly).toEqual([]);
    // Without --health-port, neither the health server nor prom-client is loaded.
    expect(
      modules.filter((m) =>
        /node_modules\/prom-client\/|dist\/ops\/(health|prometheus)\.js|dist\/bundle\/ops[-.]/.test(m),
      ),
    ).toEqual([]);
  });

  it("one copy of c4c-runner: a C4cError the handler imports from 'c4c-runner' is the runner's own class", async () => {
    // The CLI and `import 'c4c-runner'` load the same bundled files (dist/bundle/). Were they two
    // copies, the runner's `instanceof C4cError` would not know the handler's E_NETWORK error as one
    // worth retrying, and the event would fail unanswered.
    platform = await startPlatform({ seed });
    const p = await project({
      'handlers/message.ts': `import { C4cError, defineHandler } from 'c4c-runner';
let tries = 0;
export default defineHandler('message', (ctx) => {
  tries++;
  if (tries === 1) throw new C4cError('E_NETWORK', 'the upstream hiccuped');
  return 'try ' + tries + ': ' + ctx.event.content;
});`,
    });
    const cli = start(p, { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN });
    await cli.waitForLine('c4c-runner started');
    const employer = new Peer({ url: platform.url, token: 'cl_start_employer' });
    await employer.connect();
    cleanups.push(() => employer.close());
    const reply = employer.waitFor((f) => f.type === 'message', { timeout: 10_000, what: 'a reply' });
    await employer.send(1, 'x');
    expect(await reply).toMatchObject({ content: 'try 2: x' });
    expect(await cli.stop('SIGTERM')).toBe(0);
  });

  it('a restart reads the c4c.config.ts the first start transpiled, from node_modules/.cache, and answers as before', async () => {
    platform = await startPlatform({ seed });
    const p = await project({
      'handlers/message.ts': HANDLER,
      'c4c.config.ts': `import { defineConfig } from 'c4c-runner';\nconst concurrency: number = 4;\nexport default defineConfig({ concurrency });\n`,
    });
    const env = { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN };
    const first = start(p, env);
    await first.waitForLine('c4c-runner started');
    expect(await first.stop('SIGTERM')).toBe(0);
    const cacheDir = join(p.dir, 'node_modules', '.cache', 'c4c-runner');
    const [stored] = (await readdir(cacheDir)).filter((name) => name.endsWith('.cjs'));
    expect(stored).toBeDefined();
    // Marked, so the second start shows that it ran the stored file rather than transpiling again.
    const file = join(cacheDir, stored!);
    await writeFile(file, (await readFile(file, 'utf8')).replace('concurrency = 4', 'concurrency = 3'));
    const second = start(p, env);
    const started = JSON.parse(await second.waitForLine('c4c-runner started')) as { concurrency: number };
    expect(started.concurrency).toBe(3);
    const employer = new Peer({ url: platform.url, token: 'cl_start_employer' });
    await employer.connect();
    cleanups.push(() => employer.close());
    const reply = employer.waitFor((f) => f.type === 'message', { timeout: 10_000, what: 'a reply' });
    await employer.send(1, 'again');
    expect(await reply).toMatchObject({ content: 'echo: again' });
    expect(await second.stop('SIGTERM')).toBe(0);
  });

  it('a second signal while draining exits at once with 1', async () => {
    platform = await startPlatform({ seed });
    const p = await project({
      'handlers/message.ts': `export default async (ctx) => { ctx.log.info('stuck'); await new Promise(() => {}); };`,
      'c4c.config.json': JSON.stringify({ drainTimeout: 600_000, timeout: 600_000 }),
    });
    const cli = start(p, { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN });
    await cli.waitForLine('c4c-runner started');
    platform.sendMessage({ employmentId: 1, content: 'x' });
    await cli.waitForLine('"msg":"stuck"');
    cli.child.kill('SIGTERM');
    await cli.waitForLine('SIGTERM: stopping');
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toContain('second signal: exiting without waiting for handlers');
  });

  it('a bad token: "authentication failed", exit 1, one attempt only, token not printed', async () => {
    platform = await startPlatform({ seed });
    let refused = 0;
    platform.on('unauthorized', () => refused++);
    const p = await project({ 'handlers/message.ts': HANDLER });
    const cli = start(p, { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: 'cl_not_the_right_one' });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(
      /^error authentication failed: invalid API key .*; the token in use came from env C4C_API_TOKEN\n$/,
    );
    expect(refused).toBe(1);
    expect(cli.output()).not.toContain('cl_not_the_right_one');
  });

  it('no token anywhere: a clear error before any connection, exit 1', async () => {
    platform = await startPlatform({ seed });
    const p = await project({ 'handlers/message.ts': HANDLER });
    const cli = start(p, { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: '' });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(
      'error no API token: set C4C_API_TOKEN, or platform.token in c4c.config.ts, or api_token in ~/.c4c/config.json',
    );
    expect(platform.stats.connectionsOpened).toBe(0);
  });

  it('a bad config or a bad handler file: the sentence that names the file, exit 1, no connection', async () => {
    platform = await startPlatform({ seed });
    const env = { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN };
    const badConfig = await project({
      'handlers/message.ts': HANDLER,
      'conf/c4c.json': '{ "concurrency": -1 }',
    });
    const a = start(badConfig, env, ['--config', 'conf/c4c.json']);
    expect(await a.exited).toBe(1);
    expect(a.stderr()).toContain('error conf/c4c.json: concurrency must be a positive integer, got -1');

    const badHandler = await project({ 'handlers/mesage.ts': HANDLER });
    const b = start(badHandler, env);
    expect(await b.exited).toBe(1);
    expect(b.stderr()).toContain(
      'error handlers/mesage.ts: no event is called "mesage"; did you mean "message"?',
    );
    expect(platform.stats.connectionsOpened).toBe(0);
  });

  it('a handler file that does not load: the same sentence naming the file and line, exit 1, its early socket closed', async () => {
    platform = await startPlatform({ seed });
    const broken = await project({
      'handlers/message.ts': `import { defineHandler } from 'c4c-runner';\nexport default defineHandler('message', (ctx) => {\n  return ctx.event.content +;\n});\n`,
    });
    const cli = start(broken, { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/^error handlers\/message\.ts:3:\d+: could not be loaded/m);
    // The socket opened while the handler loaded did not outlive the process.
    await waitFor(() => platform!.stats.connectedAgents().length === 0, {
      message: 'the early socket to close',
    });
  });

  it('--cwd points at the project from elsewhere', async () => {
    platform = await startPlatform({ seed });
    const p = await project({ 'agent/handlers/message.ts': HANDLER });
    const cli = spawnCli(['start', '--cwd', join(p.dir, 'agent')], {
      cwd: p.dir,
      env: { HOME: join(p.dir, 'home'), C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN },
    });
    cleanups.push(() => cli.stop('SIGKILL'));
    await cli.waitForLine('c4c-runner started: 1 handler(s)');
    expect(await cli.stop('SIGINT')).toBe(0);
  });
});
