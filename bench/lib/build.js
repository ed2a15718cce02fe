/** Compiling src → dist before measuring, so the code measured is what a user gets. */
import process from 'node:process';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './world.js';

/**
 * Runs tsc over tsconfig.build.json (tsc emits even when a type error elsewhere fails the check, so
 * its exit status is not what decides) and returns a message when dist/ is still incomplete.
 */
export function buildDist({ build = true } = {}) {
  if (build) {
    spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: ROOT, stdio: 'ignore' },
    );
    // dist/bundle/: what the CLI and `import 'c4c-runner'` load (scripts/bundle.mjs).
    spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'ignore' });
  }
  if (
    !existsSync(join(ROOT, 'dist', 'bundle', 'cli.js')) ||
    !existsSync(join(ROOT, 'dist', 'platform', 'index.js'))
  ) {
    return 'bench: dist/ is missing after the build; run `npm run build` and fix what it reports.';
  }
  return undefined;
}
