/**
 * A new user's first runs of `start` (and of every command's --log-level), as child processes in
 * temp projects against an embedded platform: .env, log levels, a missing config, an unreachable
 * platform, a handler file named the platform's way, and ctx.state across a restart.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Peer } from '../../src/party/peer.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { MessageFrame } from '../../src/protocol/frames.js';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import { makeProject, type Project } from '../helpers/runner.js';

const TOKEN = 'cl_first_run_agent';
const seed = {
  agents: [
    { id: 1, name: 'Employer', token: 'cl_first_run_employer' },
    { id: 2, name: 'Worker', token: TOKEN },
  ],
  employments: [{ id: 1, employerAgentId: 1, employeeAgentId: 2, salary: '1' }],
};
const CONFIG = { 'c4c.config.json': '{}' };

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
  const proc = spawnCli(args, {
    cwd: p.dir,
    env: {
      HOME: join(p.dir, 'home'),
      // Unset (spawn drops undefined), so the test's own environment cannot leak in.
      C4C_API_ENDPOINT: undefined,
      C4C_API_TOKEN: undefined,
      C4C_LOG_LEVEL: undefined,
      ...env,
    },
  });
  cleanups.push(() => proc.stop('SIGKILL'));
  return proc;
}

async function employer(url: string): Promise<Peer> {
  const peer = new Peer({ url, token: 'cl_first_run_employer' });
  await peer.connect();
  cleanups.push(() => peer.close());
  return peer;
}

async function ask(peer: Peer, content: string): Promise<string> {
  const reply = peer.waitFor<MessageFrame>((f) => f.type === 'message' && f.employmentId === 1, {
    timeout: 10_000,
    what: `a reply to "${content}"`,
  });
  await peer.send(1, content);
  return (await reply).content;
}

describe('.env', () => {
  it('start reads .env from the project folder; a variable set in the environment wins', async () => {
    platform = await startPlatform({ seed });
    const p = await project({
      ...CONFIG,
      '.env': `# the platform and a wrong token\nC4C_API_ENDPOINT=${platform.url}\nC4C_API_TOKEN=cl_wrong_from_file\nGREETING=hello from .env\n`,
      'handlers/message.ts': `export default () => process.env.GREETING;`,
    });
    const start = cli(p, ['start'], { C4C_API_TOKEN: TOKEN });
    await start.waitForLine('c4c-runner started');
    expect(await ask(await employer(platform.url), 'hi')).toBe('hello from .env');
  });
});

describe('log levels', () => {
  it.each([
    ['start'],
    ['dev'],
    ['chat', '1', '-m', 'hi'],
    ['emit', 'task-accepted'],
    ['connect'],
    ['platform'],
  ])('%s takes --log-level and refuses a bad one in one line', async (...command) => {
    const p = await project({});
    const proc = cli(p, [...command, '--log-level', 'loud']);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr().trim()).toBe(
      'error --log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    );
  });

  it('a bad C4C_LOG_LEVEL is one line, not a stack', async () => {
    const p = await project(CONFIG);
    const proc = cli(p, ['start'], { C4C_LOG_LEVEL: 'verbose' });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr().trim()).toBe(
      'error C4C_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "verbose"',
    );
  });

  it('--log-level wins over C4C_LOG_LEVEL and the config’s logLevel', async () => {
    platform = await startPlatform({ seed });
    const p = await project({
      'c4c.config.json': JSON.stringify({ logLevel: 'error' }),
      'handlers/message.ts': `export default () => 'ok';`,
    });
    const env = { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN, C4C_LOG_LEVEL: 'warn' };
    const debug = cli(p, ['start', '--log-level', 'debug'], env);
    await debug.waitForLine(/"level":20,.*runner ready/);
    expect(await debug.stop('SIGTERM')).toBe(0);

    // Without the flag, C4C_LOG_LEVEL=warn: no info line such as "c4c-runner started".
    const quiet = cli(p, ['start'], env);
    await ask(await employer(platform.url), 'are you up?');
    expect(await quiet.stop('SIGTERM')).toBe(0);
    expect(quiet.stdout()).not.toContain('c4c-runner started');
  });
});

describe('start, when something is off', () => {
  it('says "no c4c.config.* in <dir>" in a folder with neither config nor handlers', async () => {
    const p = await project({});
    const proc = cli(p, ['start'], { C4C_API_TOKEN: TOKEN });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(`error no c4c.config.* in ${p.dir} (and no handlers folder);`);
  });

  it('says "cannot reach <url> (from <source>)" when the first connection fails, not "lost"', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const p = await project({ ...CONFIG, 'handlers/message.ts': `export default () => 'ok';` });
    const proc = cli(p, ['start'], { C4C_API_ENDPOINT: `http://127.0.0.1:${port}`, C4C_API_TOKEN: TOKEN });
    const line = await proc.waitForLine('cannot reach');
    expect(line).toContain(
      `cannot reach ws://127.0.0.1:${port}/ws (from env C4C_API_ENDPOINT): ECONNREFUSED`,
    );
    expect(proc.output()).not.toContain('lost');
  });

  it('tells a handler file named after the platform’s event name which file name to use', async () => {
    platform = await startPlatform({ seed });
    const p = await project({
      ...CONFIG,
      'handlers/task_application_accepted.ts': `export default () => undefined;`,
    });
    const proc = cli(p, ['start'], { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain('rename the file to handlers/task-accepted.ts');
  });
});

describe('ctx.state in start', () => {
  it('survives a restart: the file store in .c4c/state/ is read back', async () => {
    platform = await startPlatform({ seed });
    const p = await project({
      ...CONFIG,
      'handlers/message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => 'visit ' + (await ctx.state.update<number>((n) => (n ?? 0) + 1)));`,
    });
    const env = { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN };
    const peer = await employer(platform.url);
    const first = cli(p, ['start'], env);
    await first.waitForLine('c4c-runner started');
    expect(await ask(peer, 'a')).toBe('visit 1');
    expect(await ask(peer, 'b')).toBe('visit 2');
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = cli(p, ['start'], env);
    await second.waitForLine('c4c-runner started');
    expect(await ask(peer, 'c')).toBe('visit 3');
  });
});
