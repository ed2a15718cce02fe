/**
 * Builds src → dist (tsc, then scripts/bundle.mjs) once per test run, so tests that spawn
 * `bin/c4c-runner.js` run the same code a user gets after `npm ci`. Type errors do not stop the emit
 * (tsc emits anyway); they are the typecheck step's business.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0 && process.env.C4C_DEBUG) process.stderr.write(result.stdout + result.stderr);
  // Then dist/bundle/, which the package's exports, the CLI and the worker threads load.
  const bundle = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, encoding: 'utf8' });
  if (bundle.status !== 0) throw new Error(`scripts/bundle.mjs failed:\n${bundle.stdout}${bundle.stderr}`);
}
