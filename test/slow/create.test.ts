/**
 * The "done when" of `npm create c4c-agent`: both packages packed with `npm pack`, the creator run
 * the way `npm create` runs it (`npm exec` of the packed tarball), the new project installed with
 * the packed c4c-runner — and then the project's own `npm test` and `npm run typecheck` pass, and
 * the agent answers a message on a platform. Also the creator's prompts on a real terminal (a pty
 * made by `script`), including Ctrl-C at a prompt.
 *
 * Slow (installs from the npm registry or its cache): one install shared by every assertion.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Peer } from '../../src/party/peer.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { MessageFrame } from '../../src/protocol/frames.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CREATE_DIR = join(ROOT, 'create-c4c-agent');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const INSTALL_TIMEOUT = 300_000;

/** The environment of a user's shell: none of this test run's npm, c4c or LLM settings leak in. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^(npm_|c4c_|openai_|vitest|create_c4c_agent_)/i.test(key) ||
      key === 'NODE_OPTIONS' ||
      key === 'TEST' ||
      key === 'VITEST'
    )
      continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1', ...extra };
}

interface Done {
  code: number | null;
  output: string;
}

/** Runs a command to its end; output is stdout and stderr interleaved. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<Done> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? INSTALL_TIMEOUT);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function mustRun(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<string> {
  const done = await run(command, args, options);
  if (done.code !== 0)
    throw new Error(`${command} ${args.join(' ')} (in ${options.cwd}) exited ${done.code}:\n${done.output}`);
  return done.output;
}

/** `npm pack` of a package folder into `into`; returns the tarball's path. */
async function pack(dir: string, into: string, extra: string[] = []): Promise<string> {
  const out = await mustRun(NPM, ['pack', '--json', '--pack-destination', into, ...extra], { cwd: dir });
  // Lifecycle scripts print before the JSON; the JSON is the last thing on stdout.
  const json = out.slice(out.indexOf('[\n'));
  const [info] = JSON.parse(json) as { filename: string }[];
  return join(into, info!.filename);
}

/** A long-running command in its own process group (npm and its child stop together). */
function startBackground(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    output: () => output,
    /** Resolves with the output once it matches; rejects with the output if the process exits first. */
    waitFor(pattern: RegExp, what: string): Promise<string> {
      return Promise.race([
        waitFor(() => (pattern.test(output) ? output : undefined), { timeout: 60_000, message: what }).catch(
          (error: Error) => {
            throw new Error(`${error.message}; output so far:\n${output}`);
          },
        ),
        exited.then((code) => {
          if (pattern.test(output)) return output;
          throw new Error(`${command} ${args.join(' ')} exited (${code}) before ${what}; output:\n${output}`);
        }),
      ]);
    },
    /** Never resolves; rejects with the output if the process exits (for racing against a wait). */
    failOnExit(what: string): Promise<never> {
      return exited.then((code) => {
        throw new Error(`${command} ${args.join(' ')} exited (${code}) before ${what}; output:\n${output}`);
      });
    },
    async stop(): Promise<void> {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
        process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}

let work: string;
let runnerTarball: string;
let createTarball: string;
let createOutput: string;
let project: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'c4c-create-pack-'));
  // dist was built by test/global-setup.ts; `prepare` would build again, so skip scripts here.
  runnerTarball = await pack(ROOT, work, ['--ignore-scripts']);
  // The creator's prepack copies templates/ into it: that is part of what is tested.
  createTarball = await pack(CREATE_DIR, work);

  // What `npm create c4c-agent my-agent` does: `npm exec` the create-c4c-agent package.
  createOutput = await mustRun(
    NPM,
    [
      'exec',
      '--yes',
      `--package=${createTarball}`,
      '--',
      'create-c4c-agent',
      'my-agent',
      '--yes',
      '--runner',
      runnerTarball,
    ],
    { cwd: work },
  );
  project = join(work, 'my-agent');
  await mustRun(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project });
}, INSTALL_TIMEOUT);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed creator', () => {
  it('carries the templates, with _gitignore kept under its npm-safe name', () => {
    const listing = spawnSync('tar', ['-tzf', createTarball], { encoding: 'utf8' }).stdout.split('\n');
    expect(listing).toEqual(
      expect.arrayContaining([
        'package/index.js',
        'package/templates/default/_gitignore',
        'package/templates/default/handlers/message.ts',
        'package/templates/llm/lib/llm.ts',
        'package/templates/llm/_gitignore',
      ]),
    );
    expect(listing.some((entry) => entry.includes('node_modules'))).toBe(false);
    // postpack removed the copy: the repository's templates/ stays the only source.
    expect(existsSync(join(CREATE_DIR, 'templates'))).toBe(false);
  });

  it('prints the next commands for npm, which ran it', () => {
    const steps = createOutput
      .split('\n')
      .filter((line) => line.startsWith('  '))
      .map((line) => line.trim());
    expect(steps).toEqual(['cd my-agent', 'npm install', 'npm run dev']);
  });
});

describe('the generated project', () => {
  it('is named, has its .gitignore and depends on the packed runner', async () => {
    const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('my-agent');
    expect(pkg.dependencies['c4c-runner']).toBe(`file:${runnerTarball}`);
    const entries = await readdir(project);
    expect(entries).toContain('.gitignore');
    expect(entries).not.toContain('_gitignore');
    expect(existsSync(join(project, 'node_modules/c4c-runner/dist/testing/index.js'))).toBe(true);
  });

  it('passes its own npm test', async () => {
    const done = await run(NPM, ['test'], { cwd: project });
    expect(done.output).toMatch(/Test Files\s+3 passed/);
    expect(done.code).toBe(0);
  }, 120_000);

  it('passes its own typecheck against the published types', async () => {
    const done = await run(NPM, ['run', 'typecheck'], { cwd: project });
    expect(done.output).not.toContain('error TS');
    expect(done.code).toBe(0);
  }, 120_000);

  it('answers a message in npm run dev, talked to the way its banner says', async () => {
    const dev = startBackground(NPM, ['run', 'dev', '--', '--port', '0'], project, cleanEnv());
    try {
      const banner = await dev.waitFor(/ready in \d+ ms[\s\S]*Talk to it:.*\n/, 'the dev banner');
      const talk = /Talk to it:\s+npx c4c-runner chat (\d+) -m/.exec(banner);
      expect(talk).not.toBeNull();
      const chat = await run(NPM, ['exec', '--', 'c4c-runner', 'chat', talk![1]!, '-m', 'ship it'], {
        cwd: project,
        timeout: 60_000,
      });
      expect(chat.output).toContain('You said: ship it');
      expect(chat.code).toBe(0);
    } finally {
      await dev.stop();
    }
  }, 120_000);

  it('answers a message in npm start, on the platform its environment names', async () => {
    const platform: Platform = await startPlatform();
    const employer = new Peer({ url: platform.url, token: platform.world.employer.token });
    const agent = startBackground(
      NPM,
      ['start'],
      project,
      cleanEnv({ C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: platform.world.agent.token }),
    );
    try {
      await employer.connect();
      await Promise.race([
        waitFor(() => platform.stats.connectedAgents().includes(platform.world.agent.id), {
          timeout: 60_000,
          message: 'the generated agent to connect',
        }),
        agent.failOnExit('connecting'),
      ]);
      const reply = employer.waitFor<MessageFrame>((frame) => frame.type === 'message', {
        timeout: 30_000,
        what: 'a reply',
      });
      await employer.send(platform.world.employmentId, 'ship it');
      expect((await reply).content).toBe('You said: ship it');
    } finally {
      await agent.stop();
      await employer.close();
      await platform.close();
    }
  }, 120_000);
});

describe('the llm template', () => {
  it('passes its own tests with no key and no network', async () => {
    const llm = join(work, 'llm-agent');
    await mustRun(
      NPM,
      [
        'exec',
        '--yes',
        `--package=${createTarball}`,
        '--',
        'create-c4c-agent',
        'llm-agent',
        '--template',
        'llm',
        '--yes',
        '--runner',
        runnerTarball,
      ],
      { cwd: work },
    );
    // Same dependencies as the default template: share its install instead of a second one.
    expect(JSON.parse(await readFile(join(llm, 'package.json'), 'utf8')).dependencies).toEqual(
      JSON.parse(await readFile(join(project, 'package.json'), 'utf8')).dependencies,
    );
    await symlink(join(project, 'node_modules'), join(llm, 'node_modules'), 'dir');
    const done = await run(NPM, ['test'], {
      cwd: llm,
      env: cleanEnv({ OPENAI_BASE_URL: 'http://127.0.0.1:9/unreachable' }),
    });
    expect(done.output).toMatch(/Test Files\s+3 passed/);
    expect(done.code).toBe(0);
  }, 120_000);
});

describe('on a terminal', () => {
  /** The creator under a pseudo-terminal, as `npm create` runs it in a shell; `keys` answers each prompt. */
  function onTerminal(
    cwd: string,
    script: (screen: () => string, type: (keys: string) => void) => Promise<void>,
  ) {
    const command = `stty cols 120 rows 40; exec ${NPM} exec --yes --package=${createTarball} -- create-c4c-agent`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd,
      env: cleanEnv({ TERM: 'xterm' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return script(
      () => screen,
      (keys) => child.stdin.write(keys),
    ).then(async () => ({ code: await exited, screen }));
  }

  it('asks for the folder and the template', async () => {
    const cwd = await mkdtemp(join(work, 'tty-'));
    const { code, screen } = await onTerminal(cwd, async (screen, type) => {
      await waitFor(() => screen().includes('Project folder'), {
        timeout: 60_000,
        message: 'the folder prompt',
      });
      type('tty-agent\r');
      await waitFor(() => screen().includes('Template'), { message: 'the template prompt' });
      type('\u001b[B'); // arrow down: from "default" to "llm"
      await waitFor(() => /llm/.test(screen().slice(screen().lastIndexOf('Template'))), {
        message: 'the list',
      });
      type('\r');
      await waitFor(() => screen().includes('Next steps'), { message: 'the closing lines' });
    });
    expect(code).toBe(0);
    expect(screen).toContain('npm run dev');
    expect(existsSync(join(cwd, 'tty-agent/lib/llm.ts'))).toBe(true);
    expect(JSON.parse(await readFile(join(cwd, 'tty-agent/package.json'), 'utf8')).name).toBe('tty-agent');
  }, 120_000);

  it('leaves nothing behind when Ctrl-C is pressed at a prompt', async () => {
    const cwd = await mkdtemp(join(work, 'tty-cancel-'));
    const { code, screen } = await onTerminal(cwd, async (screen, type) => {
      await waitFor(() => screen().includes('Project folder'), {
        timeout: 60_000,
        message: 'the folder prompt',
      });
      type('half-typed');
      type('\u0003');
      await waitFor(() => screen().includes('Cancelled'), { message: 'the cancel line' });
    });
    expect(screen).toContain('nothing was written');
    expect(code).not.toBe(0);
    expect(await readdir(cwd)).toEqual([]);
  }, 120_000);
});
