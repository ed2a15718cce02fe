/**
 * create-c4c-agent as a child process, the way `npm create c4c-agent` runs it, writing into real
 * temp folders: what it creates, what it refuses, and that an interrupted run leaves nothing.
 * (The packed creator, its prompts on a terminal and the generated project's own tests are in
 * test/slow/create.test.ts.)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';

const CREATE_BIN = fileURLToPath(new URL('../../create-c4c-agent/index.js', import.meta.url));
const TEMPLATES = fileURLToPath(new URL('../../templates', import.meta.url));

interface Run {
  code: number | string;
  stdout: string;
  stderr: string;
}

function create(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const child = spawn(process.execPath, [CREATE_BIN, ...args], {
    cwd: options.cwd,
    // No user agent by default: the creator must then assume npm.
    env: { ...process.env, npm_config_user_agent: '', CREATE_C4C_AGENT_TEMPLATES: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? signal ?? -1, stdout, stderr })),
  );
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'c4c-create-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  return dir;
}

describe('create-c4c-agent --yes', () => {
  it('copies the default template, renames _gitignore and names the package after the folder', async () => {
    const cwd = await freshDir('basic');
    const run = await create(['My Agent', '--yes'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const project = join(cwd, 'My Agent');
    const files = await listFiles(project);
    expect(files).toEqual([
      '.dockerignore',
      '.gitignore',
      'Dockerfile',
      'README.md',
      'c4c.config.ts',
      'handlers/message.ts',
      'handlers/service-invoked.ts',
      'handlers/task-accepted.ts',
      'package.json',
      'test/message.test.ts',
      'test/service-invoked.test.ts',
      'test/task-accepted.test.ts',
      'tsconfig.json',
      'vitest.config.ts',
    ]);
    expect(await readFile(join(project, '.gitignore'), 'utf8')).toBe(
      await readFile(join(TEMPLATES, 'default/_gitignore'), 'utf8'),
    );
    const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('my-agent');
    // Without --runner the template's own dependency stays.
    expect(pkg.dependencies['c4c-runner']).toBe('^0.1.0');
    expect(pkg.scripts).toMatchObject({
      dev: 'c4c-runner dev',
      start: 'c4c-runner start',
      test: 'vitest run',
    });
    // Nothing but the project is left beside it (no staging folder).
    expect(await readdir(cwd)).toEqual(['My Agent']);
  });

  it('takes the defaults when stdin is not a terminal, even without --yes', async () => {
    const cwd = await freshDir('piped');
    const run = await create([], { cwd });
    expect(run.code).toBe(0);
    expect(existsSync(join(cwd, 'my-agent/handlers/message.ts'))).toBe(true);
    expect(run.stdout).toContain('from the "default" template');
  });

  it('copies the llm template with --template llm', async () => {
    const cwd = await freshDir('llm');
    const run = await create(['bot', '--template', 'llm', '--yes'], { cwd });
    expect(run.code).toBe(0);
    const files = await listFiles(join(cwd, 'bot'));
    expect(files).toContain('lib/llm.ts');
    expect(files).toContain('handlers/message.ts');
    expect(files).toContain('.gitignore');
    expect(files).not.toContain('_gitignore');
    // The README is titled with the project's name and gets the next steps; the rest is the template's.
    const readme = await readFile(join(cwd, 'bot/README.md'), 'utf8');
    const template = await readFile(join(TEMPLATES, 'llm/README.md'), 'utf8');
    expect(template.split('\n')[0]).toBe('# my-agent');
    expect(readme.split('\n')[0]).toBe('# bot');
    const steps = readme.slice(
      readme.indexOf('## Next steps'),
      readme.indexOf('```\n', readme.indexOf('```sh') + 1) + 4,
    );
    expect(readme.replace(`${steps}\n`, '').split('\n').slice(1)).toEqual(template.split('\n').slice(1));
  });

  it('points c4c-runner at a tarball given with --runner, as an absolute file: spec', async () => {
    const cwd = await freshDir('runner');
    const run = await create(['a', '--yes', '--runner', './packs/c4c-runner-0.1.0.tgz'], { cwd });
    expect(run.code).toBe(0);
    const pkg = JSON.parse(await readFile(join(cwd, 'a/package.json'), 'utf8'));
    expect(pkg.dependencies['c4c-runner']).toBe(`file:${join(cwd, 'packs/c4c-runner-0.1.0.tgz')}`);

    const versioned = await create(['b', '--yes', '--runner', '0.2.0-beta.1'], { cwd });
    expect(versioned.code).toBe(0);
    expect(JSON.parse(await readFile(join(cwd, 'b/package.json'), 'utf8')).dependencies['c4c-runner']).toBe(
      '0.2.0-beta.1',
    );
  });
  it('creates into the current folder when it is empty, with no cd in the closing lines', async () => {
    const cwd = await freshDir('here-agent');
    const run = await create(['.', '--yes'], { cwd });
    expect(run.code).toBe(0);
    expect(existsSync(join(cwd, 'handlers/message.ts'))).toBe(true);
    expect(JSON.parse(await readFile(join(cwd, 'package.json'), 'utf8')).name).toBe('here-agent');
    expect(run.stdout).not.toContain('cd ');
    expect(run.stdout).toContain('  npm install');
  });

  it('prints its usage with --help and writes nothing', async () => {
    const cwd = await freshDir('help');
    const run = await create(['--help'], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: create-c4c-agent [directory] [options]');
    expect(run.stdout).toContain('--runner <spec>');
    expect(await readdir(cwd)).toEqual([]);
  });
});

describe('what it refuses', () => {
  it('refuses a non-empty folder without --force and changes nothing in it', async () => {
    const cwd = await freshDir('nonempty');
    await mkdir(join(cwd, 'taken'));
    await writeFile(join(cwd, 'taken/notes.txt'), 'mine');
    const run = await create(['taken', '--yes'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is not empty');
    expect(run.stderr).toContain('--force');
    expect(await readdir(join(cwd, 'taken'))).toEqual(['notes.txt']);
    expect(await readdir(cwd)).toEqual(['taken']);
  });

  it('writes into a non-empty folder with --force, keeping files the template does not have', async () => {
    const cwd = await freshDir('forced');
    await mkdir(join(cwd, 'taken'));
    await writeFile(join(cwd, 'taken/notes.txt'), 'mine');
    await writeFile(join(cwd, 'taken/README.md'), 'old readme');
    const run = await create(['taken', '--yes', '--force'], { cwd });
    expect(run.code).toBe(0);
    expect(await readFile(join(cwd, 'taken/notes.txt'), 'utf8')).toBe('mine');
    expect(await readFile(join(cwd, 'taken/README.md'), 'utf8')).toMatch(/^# taken\n\nA \[Claw4Claw/);
    expect(existsSync(join(cwd, 'taken/handlers/message.ts'))).toBe(true);
    expect(await readdir(cwd)).toEqual(['taken']);
  });

  it('treats a folder holding only .git as empty', async () => {
    const cwd = await freshDir('gitonly');
    await mkdir(join(cwd, 'repo/.git'), { recursive: true });
    const run = await create(['repo', '--yes'], { cwd });
    expect(run.code).toBe(0);
    expect(existsSync(join(cwd, 'repo/.git'))).toBe(true);
    expect(existsSync(join(cwd, 'repo/package.json'))).toBe(true);
  });

  it('names the templates that exist when asked for one that does not', async () => {
    const cwd = await freshDir('unknown');
    const run = await create(['x', '--template', 'nope', '--yes'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unknown template "nope"');
    expect(run.stderr).toContain('available templates: default, llm');
    expect(await readdir(cwd)).toEqual([]);
  });

  it('explains an unknown option with the usage', async () => {
    const cwd = await freshDir('badopt');
    const run = await create(['x', '--templat', 'llm'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Unknown option '--templat'");
    expect(run.stderr).toContain('Usage: create-c4c-agent');
    expect(await readdir(cwd)).toEqual([]);
  });
});

describe('closing lines', () => {
  const cases: [string, string[], string][] = [
    ['', ['cd app', 'npm install', 'npm run dev'], 'npx c4c-runner chat 1'],
    [
      'npm/10.8.2 node/v20.19.0 linux x64 workspaces/false',
      ['cd app', 'npm install', 'npm run dev'],
      'npx c4c-runner chat 1',
    ],
    [
      'pnpm/9.12.0 npm/? node/v20.19.0 linux x64',
      ['cd app', 'pnpm install', 'pnpm dev'],
      'pnpm exec c4c-runner chat 1',
    ],
    ['yarn/1.22.22 npm/? node/v20.19.0 linux x64', ['cd app', 'yarn', 'yarn dev'], 'yarn c4c-runner chat 1'],
    [
      'bun/1.1.30 npm/? node/v20.19.0 linux x64',
      ['cd app', 'bun install', 'bun run dev'],
      'bunx c4c-runner chat 1',
    ],
  ];
  it.each(cases)(
    'for user agent %j print the next commands of that package manager',
    async (agent, steps, chat) => {
      const cwd = await mkdtemp(join(work, 'pm-'));
      const run = await create(['app', '--yes'], { cwd, env: { npm_config_user_agent: agent } });
      expect(run.code).toBe(0);
      const printed = run.stdout
        .split('\n')
        .filter((line) => line.startsWith('  '))
        .map((line) => line.trim());
      expect(printed).toEqual(steps);
      expect(run.stdout).toContain(`Then, in another terminal, talk to it: ${chat} -m "hello"`);
      // The same commands are written into the project's README.
      const readme = await readFile(join(cwd, 'app', 'README.md'), 'utf8');
      const section = readme.slice(readme.indexOf('## Next steps'));
      expect(section.split('\n').slice(3, 5)).toEqual(steps.slice(1));
      expect(section).toContain(`${chat} -m "hello"`);
    },
  );
});

describe('file modes', () => {
  it('creates the project’s folders with the user’s umask, as mkdir would (not mkdtemp’s 0700)', async () => {
    const cwd = await freshDir('modes');
    await mkdir(join(cwd, 'probe'));
    const expected = (await stat(join(cwd, 'probe'))).mode & 0o777;
    const run = await create(['moded', '--yes'], { cwd });
    expect(run.code).toBe(0);
    expect(((await stat(join(cwd, 'moded'))).mode & 0o777).toString(8)).toBe(expected.toString(8));
    expect(((await stat(join(cwd, 'moded', 'handlers'))).mode & 0o777).toString(8)).toBe(
      expected.toString(8),
    );
  });
});

describe('Ctrl-C while copying', () => {
  it('stops, removes the half-written copy and exits 130', async () => {
    // A template big enough that the copy is still running when the signal comes.
    const templates = await mkdtemp(join(work, 'templates-'));
    const big = join(templates, 'big');
    await mkdir(join(big, 'files'), { recursive: true });
    await writeFile(join(big, 'package.json'), '{"name":"big"}\n');
    await Promise.all(
      Array.from({ length: 4000 }, (_, i) => writeFile(join(big, 'files', `f${i}.txt`), `file ${i}\n`)),
    );

    const cwd = await freshDir('interrupted');
    const child = spawn(process.execPath, [CREATE_BIN, 'proj', '--yes', '--template', 'big'], {
      cwd,
      env: { ...process.env, CREATE_C4C_AGENT_TEMPLATES: templates },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | string>((resolve) =>
      child.on('close', (code, signal) => resolve(code ?? signal ?? -1)),
    );

    // The staging folder exists and has files in it: the copy is under way.
    const staging = await waitFor(
      async () => {
        const found = (await readdir(cwd)).find((entry) => entry.startsWith('.proj-creating-'));
        if (!found) return undefined;
        const inside = await readdir(join(cwd, found, 'files')).catch(() => []);
        return inside.length > 0 ? found : undefined;
      },
      { interval: 2, message: 'the staging folder to fill' },
    );
    expect(staging).toMatch(/^\.proj-creating-/);
    child.kill('SIGINT');

    expect(await exited).toBe(130);
    expect(stderr).toContain('cancelled; nothing was written');
    expect(await readdir(cwd)).toEqual([]);
  });
});
