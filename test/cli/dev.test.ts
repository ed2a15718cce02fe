/**
 * `c4c-runner dev` end to end, as a user runs it: a child process in a temp project, the employer
 * chatting over a real socket, handler files rewritten, broken, fixed, added and removed.
 */
import { mkdtemp, mkdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Peer } from '../../src/party/peer.js';
import { restCall } from '../helpers/rest-call.js';
import { emit } from '../../src/party/emit.js';
import type { DevState } from '../../src/cli/dev-state.js';
import type { MessageFrame } from '../../src/protocol/frames.js';
import { ROOT, spawnCli, type CliProcess } from '../helpers/cli.js';
import { DEV_ONLY, moduleRecorder } from '../helpers/modules.js';
import { waitFor } from '../helpers/wait.js';

let project: string;
let dev: CliProcess;
let state: DevState;
let employer: Peer;

async function makeProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'c4c-dev-'));
  await mkdir(join(dir, 'handlers'));
  await mkdir(join(dir, 'node_modules'));
  // The project depends on c4c-runner as an installed package would be found.
  await symlink(ROOT, join(dir, 'node_modules', 'c4c-runner'), 'dir');
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'dev-e2e', type: 'module', private: true }),
  );
  await writeFile(join(dir, 'lib.ts'), `export const prefix = (v: string) => \`[\${v}]\`;\n`);
  await writeFile(
    join(dir, 'handlers', 'message.ts'),
    `import { defineHandler } from 'c4c-runner';
import { prefix } from '../lib.js';
export default defineHandler('message', (ctx) => \`\${prefix('v1')} \${ctx.event.content}\`);
`,
  );
  return dir;
}

/** Sends as the employer and resolves with the agent's next reply in the employment. */
async function ask(content: string): Promise<string> {
  const reply = employer.waitFor<MessageFrame>(
    (f) => f.type === 'message' && f.employmentId === state.employmentId,
    {
      timeout: 10_000,
      what: `a reply to "${content}"`,
    },
  );
  await employer.send(state.employmentId, content);
  return (await reply).content;
}

async function connectionsOpened(): Promise<number> {
  const stats = await restCall<{ connectionsOpened: number }>(
    { url: state.url, token: state.employer.token },
    'GET',
    '/dev/stats',
  );
  return stats.connectionsOpened;
}

describe('c4c-runner dev', () => {
  beforeAll(async () => {
    project = await makeProject();
    dev = spawnCli(['dev', '--port', '0'], { cwd: project });
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

  it('prints one banner with the platform URL, the employer token, the employment and the chat command', () => {
    const banner = dev.stdout();
    expect(banner).toContain(state.url);
    expect(banner).toContain(`token ${state.employer.token}`);
    expect(banner).toContain(`Employment: #${state.employmentId}`);
    expect(banner).toContain(`npx c4c-runner chat ${state.employmentId} -m`);
    expect(banner.match(/c4c-runner dev v/g)).toHaveLength(1);
  });

  it('answers, shows the message in the guide format, and reloads a rewritten handler without reconnecting', async () => {
    expect(await ask('hello')).toBe('[v1] hello');
    await dev.waitForLine(`[Message] Employment #${state.employmentId}`);
    expect(dev.stdout()).toContain('  Content: hello\n');
    // What the agent did, after the frame's lines, with the handler's time.
    await dev.waitForLine(
      new RegExp(`^  ↳ Employment #${state.employmentId}: replied in \\d+ ms: "\\[v1\\] hello"$`),
    );
    const before = await connectionsOpened();

    await writeFile(
      join(project, 'handlers', 'message.ts'),
      `import { defineHandler } from 'c4c-runner';
import { prefix } from '../lib.js';
export default defineHandler('message', (ctx) => \`\${prefix('v2')} \${ctx.event.content.toUpperCase()}\`);
`,
    );
    await dev.waitForLine(/reloaded handlers\/message\.ts in \d+ ms/);
    expect(await ask('again')).toBe('[v2] AGAIN');

    // A change to a module the handler imports reloads it too.
    await writeFile(join(project, 'lib.ts'), `export const prefix = (v: string) => \`<\${v}>\`;\n`);
    await waitFor(async () => (await ask('lib')) === '<v2> LIB', {
      message: 'the handler to use the changed lib.ts',
    });

    expect(await connectionsOpened()).toBe(before);
  });

  it('keeps the last good handler serving when a file breaks, reports the file once, and reloads the fix', async () => {
    const file = join(project, 'handlers', 'message.ts');
    await writeFile(file, `export default (ctx => 'broken' +;\n`);
    const line = await dev.waitForLine(/✗ handlers\/message\.ts/);
    // The file and the line of the error.
    expect(line).toMatch(/handlers\/message\.ts:1:\d+: could not be loaded/);
    expect(await ask('still')).toBe('<v2> STILL');

    await writeFile(file, `export default 42;\n`);
    await dev.waitForLine(/handlers\/message\.ts: the default export must be a function/);
    expect(await ask('still2')).toBe('<v2> STILL2');

    const reloads = () =>
      dev
        .stdout()
        .split('\n')
        .filter((l) => /reloaded handlers\/message\.ts/.test(l)).length;
    const before = reloads();
    await writeFile(
      file,
      `export default (ctx: { event: { content: string } }) => 'v3 ' + ctx.event.content;\n`,
    );
    await waitFor(() => reloads() > before, {
      message: 'the fixed file to reload',
    });
    expect(await ask('fixed')).toBe('v3 fixed');
    // Each failure was reported once, though editors' saves fire several change events.
    expect(
      dev
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('✗ handlers/message.ts')),
    ).toHaveLength(2);
  });

  it('registers a new handler file and unregisters a deleted one', async () => {
    const file = join(project, 'handlers', 'task-accepted.ts');
    await writeFile(
      file,
      `import { defineHandler } from 'c4c-runner';
export default defineHandler('task-accepted', (ctx) => ({ content: 'deliverable for ' + ctx.event.data.taskTitle }));
`,
    );
    await dev.waitForLine(/added handlers\/task-accepted\.ts/);
    const parties = { url: state.url, agent: state.agent, other: state.employer };
    const { taskId } = await emit('task-accepted', parties, { title: 'Write a haiku' });
    const other = { url: state.url, token: state.employer.token };
    await waitFor(
      async () =>
        (await restCall<{ status: string }>(other, 'GET', `/openapi/v1/agent/me/tasks/${taskId}`)).status ===
        'pending_review',
      { message: 'the task deliverable to be submitted by the new handler' },
    );

    await unlink(file);
    await dev.waitForLine(/removed handlers\/task-accepted\.ts/);
    const second = await emit('task-accepted', parties, { title: 'Nobody answers' });
    // With no handler the event is dropped: the task stays in progress. Prove the runner saw it first.
    await dev.waitForLine(/accepted.*Nobody answers|Nobody answers.*accepted/);
    const task = await restCall<{ status: string }>(
      other,
      'GET',
      `/openapi/v1/agent/me/tasks/${second.taskId}`,
    );
    expect(task.status).toBe('in_progress');
  });

  it('prints the outcome of a service invocation and of an accepted offer, in dev and from `emit`', async () => {
    await writeFile(
      join(project, 'handlers', 'service-invoked.ts'),
      `import { defineHandler } from 'c4c-runner';
export default defineHandler('service-invoked', (ctx) => ({ upper: String(ctx.event.data.input?.text).toUpperCase() }));
`,
    );
    await writeFile(
      join(project, 'handlers', 'employment-offered.ts'),
      `import { defineHandler } from 'c4c-runner';
export default defineHandler('employment-offered', () => true);
`,
    );
    await dev.waitForLine(/added handlers\/service-invoked\.ts/);
    await dev.waitForLine(/added handlers\/employment-offered\.ts/);

    const invoked = spawnCli(['emit', 'service-invoked', '--input', '{"text":"shout"}'], { cwd: project });
    expect(await invoked.exited).toBe(0);
    const invocationId = /invocationId (\d+)/.exec(invoked.stdout())![1];
    // emit prints the answer the caller got, read back from the platform.
    expect(invoked.stdout()).toContain(`↳ invocation ${invocationId} completed: {"upper":"SHOUT"}`);
    await dev.waitForLine(
      new RegExp(
        `^  ↳ service-invoked: invocation ${invocationId} completed in \\d+ ms: \\{"upper":"SHOUT"\\}$`,
      ),
    );

    const offered = spawnCli(['emit', 'employment-offered'], { cwd: project });
    expect(await offered.exited).toBe(0);
    const employmentId = /employmentId (\d+)/.exec(offered.stdout())![1];
    expect(offered.stdout()).toContain(`↳ employment ${employmentId} accepted`);
    await dev.waitForLine(
      new RegExp(`^  ↳ employment-offered: employment ${employmentId} accepted in \\d+ ms$`),
    );
  });

  it("prints a throwing handler's outcome, and `emit` says when no answer comes", async () => {
    await writeFile(
      join(project, 'handlers', 'employment-offered.ts'),
      `export default () => { throw new Error('offers are off today'); };\n`,
    );
    await dev.waitForLine(/reloaded handlers\/employment-offered\.ts/);
    const offered = spawnCli(['emit', 'employment-offered', '--timeout', '1500'], { cwd: project });
    await dev.waitForLine(
      /^ {2}✗ employment-offered: handlers\/employment-offered\.ts threw after \d+ ms: offers are off today$/,
    );
    expect(await offered.exited).toBe(1);
    expect(offered.stdout()).toMatch(/✓ employment-offered raised/);
    expect(offered.stderr()).toContain('no answer within 1.5 s');
    await unlink(join(project, 'handlers', 'employment-offered.ts'));
    await unlink(join(project, 'handlers', 'service-invoked.ts'));
    await dev.waitForLine(/removed handlers\/service-invoked\.ts/);
  });

  it('lets `emit` print the outcome of an event that takes no reply, or say that no handler takes it', async () => {
    await writeFile(
      join(project, 'handlers', 'task-cancelled.ts'),
      `export default (ctx: { log: { info(m: string): void } }) => { ctx.log.info('noted'); };\n`,
    );
    await dev.waitForLine(/added handlers\/task-cancelled\.ts/);
    const cancelled = spawnCli(['emit', 'task-cancelled'], { cwd: project });
    expect(await cancelled.exited).toBe(0);
    expect(cancelled.stdout()).toMatch(
      /✓ task-cancelled raised \(taskId \d+, applicationId \d+\)\n {2}↳ task-cancelled: returned nothing in \d+ ms\n/,
    );

    const unhandled = spawnCli(['emit', 'employment-rejected'], { cwd: project });
    expect(await unhandled.exited).toBe(0);
    expect(unhandled.stdout()).toContain('the agent has no handler for employment-rejected');
    await unlink(join(project, 'handlers', 'task-cancelled.ts'));
    await dev.waitForLine(/removed handlers\/task-cancelled\.ts/);
  });

  it('lets `chat -m` and `chat -i` with piped stdin talk to it', async () => {
    const one = spawnCli(['chat', String(state.employmentId), '-m', 'via chat'], { cwd: project });
    expect(await one.exited).toBe(0);
    expect(one.stdout()).toContain('[Reply] v3 via chat');

    const many = spawnCli(['chat', String(state.employmentId), '-i'], { cwd: project, stdin: 'pipe' });
    many.child.stdin!.end('first\nsecond\nthird\n');
    expect(await many.exited).toBe(0);
    for (const word of ['first', 'second', 'third']) expect(many.stdout()).toContain(`Agent: v3 ${word}`);
  });

  it('lets `chat -m` print every reply of a handler that sends two', async () => {
    await writeFile(
      join(project, 'handlers', 'message.ts'),
      `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  await ctx.reply('first of two: ' + ctx.event.content);
  return 'second of two';
});
`,
    );
    // Ready when the new handler answers, and its second reply is in (so it cannot reach `chat` below).
    await waitFor(
      async () => {
        const second = employer.waitFor((f) => f.type === 'message' && f.content === 'second of two', {
          timeout: 10_000,
        });
        second.catch(() => {});
        if (!(await ask('ready?')).startsWith('first of two')) return false;
        await second;
        return true;
      },
      { message: 'the two-reply handler to serve' },
    );
    const chat = spawnCli(['chat', String(state.employmentId), '-m', 'both'], { cwd: project });
    expect(await chat.exited).toBe(0);
    expect(chat.stdout()).toContain('[Reply] first of two: both\n[Reply] second of two\n');
  });

  it('stops cleanly on Ctrl-C: exit 0, port free, state file removed', async () => {
    await employer.close();
    const code = await dev.stop('SIGINT');
    expect(code).toBe(0);
    const port = Number(new URL(state.url).port);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    await expect(readFile(join(project, '.c4c', 'dev.json'), 'utf8')).rejects.toThrow();
  });
});

describe('c4c-runner dev with a broken handler at start', () => {
  it('starts anyway, reports the file, and serves it once fixed', async () => {
    const dir = await makeProject();
    const file = join(dir, 'handlers', 'message.ts');
    await writeFile(file, `export default (ctx => 'broken' +;\n`);
    const writer = {
      dir,
      write: async (f: string, t: string) => (await writeFile(join(dir, f), t), join(dir, f)),
    };
    const recorder = await moduleRecorder(writer);
    const proc = spawnCli(['dev', '--port', '0'], { cwd: dir, env: recorder.env });
    try {
      await proc.waitForLine('Talk to it:');
      await proc.waitForLine(/✗ handlers\/message\.ts:1:\d+: could not be loaded/);
      const local = JSON.parse(await readFile(join(dir, '.c4c', 'dev.json'), 'utf8')) as DevState;
      await writeFile(
        file,
        `export default (ctx: { event: { content: string } }) => 'fixed ' + ctx.event.content;\n`,
      );
      await proc.waitForLine(/added handlers\/message\.ts/);
      const peer = new Peer({ url: local.url, token: local.employer.token });
      await peer.connect();
      const reply = peer.waitFor<MessageFrame>((f) => f.type === 'message', {
        timeout: 10_000,
        what: 'a reply',
      });
      await peer.send(local.employmentId, 'now');
      expect((await reply).content).toBe('fixed now');
      await peer.close();
      expect(await proc.stop('SIGINT')).toBe(0);
      // The positive control of the check below: dev does load its own parts.
      expect((await recorder.modules()).filter((m) => DEV_ONLY.test(m)).length).toBeGreaterThan(0);
    } finally {
      await proc.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('c4c-runner --help', () => {
  it('lists the commands and loads no dev-only module', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'c4c-help-'));
    try {
      const writer = {
        dir,
        write: async (f: string, t: string) => (await writeFile(join(dir, f), t), join(dir, f)),
      };
      const recorder = await moduleRecorder(writer);
      const help = spawnCli(['--help'], { cwd: dir, env: recorder.env });
      expect(await help.exited).toBe(0);
      for (const command of ['dev', 'start', 'platform', 'chat', 'emit', 'connect'])
        expect(help.stdout()).toContain(command);
      const modules = await recorder.modules();
      expect(modules.filter((m) => DEV_ONLY.test(m))).toEqual([]);
      // Nor the runtime (zod, the runner, pino) or a line reader: the command table is all it needs.
      expect(
        modules.filter((m) => /node_modules\/(zod|pino)\/|\/dist\/bundle\/runtime-|^node:readline$/.test(m)),
      ).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('c4c-runner dev --remote', () => {
  it('runs against the platform the env names, with its token, and starts no embedded one', async () => {
    const { startPlatform } = await import('../../src/platform/index.js');
    const platform = await startPlatform();
    const dir = await makeProject();
    const proc = spawnCli(['dev', '--remote'], {
      cwd: dir,
      env: { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: platform.world.agent.token, HOME: dir },
    });
    try {
      await proc.waitForLine('(remote)');
      expect(proc.stdout()).toContain(platform.url);
      expect(proc.output()).not.toContain(platform.world.agent.token);
      const peer = new Peer({ url: platform.url, token: platform.world.employer.token });
      await peer.connect();
      const reply = peer.waitFor<MessageFrame>((f) => f.type === 'message', {
        timeout: 10_000,
        what: 'a reply',
      });
      await peer.send(platform.world.employmentId, 'remote');
      expect((await reply).content).toBe('[v1] remote');
      await peer.close();
      expect(await proc.stop('SIGINT')).toBe(0);
    } finally {
      await proc.stop('SIGKILL');
      await platform.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
