/**
 * The package as npm ships it: `npm pack`, the file list checked, installed into a fresh project
 * (no warning, no build step), its declarations type-checked with `skipLibCheck: false`, and its
 * bin run through `npx`.
 *
 * Slow (installs from the npm registry or its cache).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** A user's shell: none of this test run's npm or vitest settings leak in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!/^(npm_|c4c_|vitest)/i.test(key) && key !== 'NODE_OPTIONS' && key !== 'VITEST') env[key] = value;
  return { ...env, NO_COLOR: '1', CI: '1' };
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function mustRun(command: string, args: string[], cwd: string): Promise<string> {
  const done = await run(command, args, cwd);
  if (done.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${done.code}:\n${done.output}`);
  return done.output;
}

let work: string;
let files: string[];
let tarball: string;
let installOutput: string;
let project: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'c4c-pack-'));
  // dist was built by test/global-setup.ts; prepack would build it again.
  const packed = JSON.parse(
    await mustRun(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT),
  ) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, packed[0]!.filename);
  files = packed[0]!.files.map((f) => f.path);

  project = join(work, 'project');
  await mkdir(join(project, 'handlers'), { recursive: true });
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'packed-user', version: '1.0.0', private: true, type: 'module' }),
  );
  installOutput = await mustRun(
    NPM,
    ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, '@types/node@^20.19.0'],
    project,
  );
}, 320_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed c4c-runner', () => {
  it('ships bin, dist and templates — no sources, no tests, no .tsbuildinfo — and maps that carry their sources', async () => {
    for (const path of [
      'bin/c4c-runner.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/ops/index.js',
      'dist/testing/index.d.ts',
      // What the exports, the bin and the worker threads load (scripts/bundle.mjs).
      'dist/bundle/index.js',
      'dist/bundle/testing.js',
      'dist/bundle/ops.js',
      'dist/bundle/cli.js',
      'dist/bundle/worker.js',
    ])
      expect(files).toContain(path);
    expect(files.some((f) => f.startsWith('templates/default/'))).toBe(true);
    expect(files.filter((f) => /^(src|test|bench|examples)\//.test(f) || f.endsWith('.tsbuildinfo'))).toEqual(
      [],
    );
    const maps = files.filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    const map = JSON.parse(
      await readFile(join(project, 'node_modules', 'c4c-runner', 'dist', 'runner', 'runner.js.map'), 'utf8'),
    ) as { sources: string[]; sourcesContent?: string[] };
    expect(map.sourcesContent?.[0]).toContain('export function createRunner');
  });

  it('installs without a warning or an install script', () => {
    expect(installOutput.split('\n').filter((line) => /warn/i.test(line))).toEqual([]);
  });

  it('type-checks a handler and the public entry points with skipLibCheck: false', async () => {
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
        },
        include: ['handlers'],
      }),
    );
    await writeFile(
      join(project, 'handlers', 'message.ts'),
      `import { defineHandler, createRunner, loadConfig, type RunnerMetrics } from 'c4c-runner';
import { startHealthServer } from 'c4c-runner/ops';
import { createTestAgent } from 'c4c-runner/testing';
export default defineHandler('message', async (ctx) => \`You said: \${ctx.event.content}\`);
export async function embedded(): Promise<RunnerMetrics> {
  const runner = createRunner(await loadConfig());
  const health = await startHealthServer(runner, { port: 0 });
  await health.close();
  return runner.metrics();
}
export const agent: typeof createTestAgent = createTestAgent;
`,
    );
    const done = await run(process.execPath, [TSC, '-p', project], project);
    expect(done.output).toBe('');
    expect(done.code).toBe(0);
  }, 180_000);

  it('runs its bin through npx', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await mustRun(NPX, ['--no-install', 'c4c-runner', '--version'], project)).trim()).toBe(version);
  }, 60_000);
});
