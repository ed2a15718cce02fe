/**
 * What `c4c-runner dev` tells about a handler, as a user sees it in the terminal: a throw with the
 * TypeScript file:line and a code frame, the failing imported module, the fields a handler logs.
 * One dev child process on a temp project; the employer talks to it over a real socket.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Peer } from '../../src/party/peer.js';
import type { DevState } from '../../src/cli/dev-state.js';
import type { MessageFrame } from '../../src/protocol/frames.js';
import { ROOT, spawnCli, type CliProcess } from '../helpers/cli.js';

let project: string;
let dev: CliProcess;
let state: DevState;
let employer: Peer;

const HANDLER = `import { defineHandler } from 'c4c-runner';
import { check } from '../lib/check.js';

export default defineHandler('message', async (ctx) => {
  ctx.log.info({ orderId: 42, items: ['a', 'b'] }, 'order seen');
  if (ctx.event.content === 'throw') {
    const limits: Record<string, number> = { max: 3 }; throw new Error(\`over \${limits.max}\`, { cause: new Error('the cause') });
  }
  if (ctx.event.content === 'greet') return String(process.env.GREETING);
  if (ctx.event.content === 'count') return 'count ' + (await ctx.state.update<number>((n) => (n ?? 0) + 1));
  check(ctx.event.content);
  return 'ok ' + ctx.event.content;
});
`;

async function ask(content: string): Promise<string> {
  const reply = employer.waitFor<MessageFrame>(
    (f) => f.type === 'message' && f.employmentId === state.employmentId,
    { timeout: 10_000, what: `a reply to "${content}"` },
  );
  await employer.send(state.employmentId, content);
  return (await reply).content;
}

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'c4c-dev-handlers-'));
  await mkdir(join(project, 'handlers'));
  await mkdir(join(project, 'lib'));
  await mkdir(join(project, 'node_modules'));
  await symlink(ROOT, join(project, 'node_modules', 'c4c-runner'), 'dir');
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'dev-handlers', type: 'module' }));
  await writeFile(
    join(project, 'lib', 'check.ts'),
    `export function check(value: string): void {\n  if (value === 'bad') throw new RangeError('bad value');\n}\n`,
  );
  await writeFile(join(project, 'handlers', 'message.ts'), HANDLER);
  await writeFile(join(project, '.env'), 'GREETING=hello from .env\n');
  await writeFile(join(project, 'c4c.config.json'), JSON.stringify({ logLevel: 'debug' }));
  dev = spawnCli(['dev', '--port', '0'], {
    cwd: project,
    env: { C4C_LOG_LEVEL: undefined },
  });
  await dev.waitForLine('Talk to it:');
  state = JSON.parse(await readFile(join(project, '.c4c', 'dev.json'), 'utf8')) as DevState;
  employer = new Peer({ url: state.url, token: state.employer.token });
  await employer.connect();
});

afterEach(({ task }) => {
  if (task.result?.state === 'fail') process.stderr.write(`dev output so far:\n${dev?.output()}\n`);
});

afterAll(async () => {
  await employer?.close();
  await dev?.stop('SIGKILL');
  await rm(project, { recursive: true, force: true });
});

describe('c4c-runner dev: first run', () => {
  it('reads .env from the project folder, and honours the config’s logLevel', async () => {
    expect(await ask('greet')).toBe('hello from .env');
    // logLevel: 'debug' in c4c.config.json: the runner's debug lines show.
    await dev.waitForLine(/DEBUG: replied: message into employment/);
  });
});

describe('c4c-runner dev: a handler’s errors and logs', () => {
  it('shows the fields a handler logs', async () => {
    expect(await ask('fine')).toBe('ok fine');
    await dev.waitForLine(/INFO: order seen/);
    await dev.waitForLine('    orderId: 42');
    await dev.waitForLine('    items: ["a","b"]');
  });

  it('a throw prints the TypeScript file:line:column, a code frame and the cause', async () => {
    await employer.send(state.employmentId, 'throw');
    const column =
      '    const limits: Record<string, number> = { max: 3 }; throw new Error('.indexOf('new Error') + 1;
    const line = await dev.waitForLine(/ERROR: handlers\/message\.ts threw while handling "message"/);
    expect(line).toContain(`over 3 (at handlers/message.ts:7:${column})`);
    await dev.waitForLine(`> 7 |     const limits: Record<string, number> = { max: 3 }; throw new Error(`);
    await dev.waitForLine(/caused by: Error: the cause/);
    const out = dev.stdout();
    expect(out).toContain(`  6 |   if (ctx.event.content === 'throw') {`);
    expect(out).toContain(`handlers/message.ts:7:${column})`);
    // The runner's own frames are left out: the stack is the user's.
    const stack = out.slice(out.indexOf('over 3 (at'));
    expect(stack).not.toMatch(/pipeline\.js|p-queue/);
  });

  it('an error inside an imported module names that module', async () => {
    await employer.send(state.employmentId, 'bad');
    const line = await dev.waitForLine(/threw while handling "message": bad value/);
    const column = "  if (value === 'bad') throw new RangeError".indexOf('new') + 1;
    expect(line).toContain(`(at lib/check.ts:2:${column})`);
    await dev.waitForLine(`> 2 |   if (value === 'bad') throw new RangeError('bad value');`);
  });

  it('ctx.state (in memory) survives a hot reload of the handler', async () => {
    expect(await ask('count')).toBe('count 1');
    expect(await ask('count')).toBe('count 2');
    await writeFile(join(project, 'handlers', 'message.ts'), HANDLER.replace("'count '", "'v2 count '"));
    await dev.waitForLine(/reloaded handlers\/message\.ts in \d+ ms/);
    expect(await ask('count')).toBe('v2 count 3');
  });

  it('a syntax error in an imported module names that module with its line, and the old handler keeps serving', async () => {
    await writeFile(
      join(project, 'lib', 'check.ts'),
      `export function check(value: string): void {\n  const x = {;\n}\n`,
    );
    const line = await dev.waitForLine(/✗ handlers\/message\.ts: could not be loaded: lib\/check\.ts:2:\d+/);
    expect(line).toMatch(/lib\/check\.ts:2:14: .*Unexpected token/);
    await dev.waitForLine('> 2 |   const x = {;');
    expect(await ask('still')).toBe('ok still');
  });
});
