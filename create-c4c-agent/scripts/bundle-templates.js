// @ts-check
/* global process, console, URL -- node globals */
// npm pack hooks: `copy` (prepack) brings the repository's templates/ into this package, so the
// published creator carries them; `clean` (postpack) removes the copy again, so a checkout always
// reads the repository's templates/, the one source of truth.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../../templates', import.meta.url));
const target = fileURLToPath(new URL('../templates', import.meta.url));
const SKIP = new Set(['node_modules', 'dist', 'package-lock.json', '.c4c']);

const action = process.argv[2];
if (action === 'copy') {
  if (!existsSync(source)) {
    console.error(
      `bundle-templates: ${source} is missing; pack create-c4c-agent from inside the c4c-runner repository`,
    );
    process.exit(1);
  }
  rmSync(target, { recursive: true, force: true });
  cpSync(source, target, { recursive: true, filter: (path) => !SKIP.has(basename(path)) });
} else if (action === 'clean') {
  rmSync(target, { recursive: true, force: true });
} else {
  console.error('usage: node scripts/bundle-templates.js copy|clean');
  process.exit(1);
}
