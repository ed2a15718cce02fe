/**
 * The layers of `src/`, encoded: which top-level folder (or file) may import which. Reads every import a
 * file makes — static, `export … from`, type-only and dynamic `import()` — through TypeScript's own
 * pre-processor, so an arrow upward cannot hide in a lazy import. Used by test/layers.test.ts.
 *
 * The picture, bottom to top:
 * - the bottom: protocol/ (schemas), errors, log, redact, suggest, describe, limits;
 * - connection/, platform/ and api/ import only the bottom;
 * - config/ imports the bottom and connection/ (whose defaults its schema refers to), no feature folder;
 * - webhook/ and state/ are leaves over config/;
 * - runner/ wires connection, api, config, webhook and state;
 * - party/ (the other party's client), ops/, dev/ and testing/ sit on the runner and the platform;
 * - scale/ (many processes through Redis) sits on the runner's parts, beside it;
 * - cli/ is the top: only it prints and exits.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const BOTTOM = ['protocol', 'errors.ts', 'log.ts', 'redact.ts', 'suggest.ts', 'describe.ts', 'limits.ts'];

/** dev/ and testing/: the runner, the embedded platform and everything under them. */
const ABOVE_THE_RUNNER = [
  ...BOTTOM,
  'api',
  'config',
  'connection',
  'platform',
  'runner',
  'state',
  'webhook',
  'party',
];

/** What each top-level part of `src/` may import besides itself. A part missing here is an error. */
export const LAYERS: Record<string, readonly string[]> = {
  ...Object.fromEntries(BOTTOM.map((part) => [part, BOTTOM])),
  connection: BOTTOM,
  platform: BOTTOM,
  api: BOTTOM,
  config: [...BOTTOM, 'connection'],
  webhook: [...BOTTOM, 'config'],
  state: [...BOTTOM, 'config', 'api'],
  runner: [...BOTTOM, 'api', 'config', 'connection', 'webhook', 'state'],
  party: [...BOTTOM, 'api'],
  ops: [...BOTTOM, 'config', 'runner'],
  scale: [...BOTTOM, 'api', 'config', 'connection', 'runner', 'state', 'webhook'],
  dev: ABOVE_THE_RUNNER,
  testing: ABOVE_THE_RUNNER,
  'index.ts': [...BOTTOM, 'api', 'config', 'connection', 'runner', 'state', 'webhook', 'ops'],
  cli: ['*'],
};

/** One import that breaks the layers (or comes from a part the map does not know). */
export interface LayerViolation {
  file: string;
  line: number;
  specifier: string;
  reason: string;
}

/** Every violation under `srcDir`, as `file:line` with a sentence each. */
export function checkLayers(
  srcDir: string,
  layers: Record<string, readonly string[]> = LAYERS,
): LayerViolation[] {
  const out: LayerViolation[] = [];
  for (const file of sourceFiles(srcDir)) {
    const from = partOf(srcDir, file);
    const allowed = layers[from];
    const rel = relative(srcDir, file).split(sep).join('/');
    const text = readFileSync(file, 'utf8');
    const { importedFiles } = ts.preProcessFile(text, true, true);
    for (const ref of importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), ref.fileName);
      const to = partOf(srcDir, target);
      if (to === from) continue;
      const line = lineOf(text, ref.pos);
      if (!allowed) {
        out.push({
          file: rel,
          line,
          specifier: ref.fileName,
          reason: `src/${from} is not in the layer map; add it to LAYERS in test/helpers/layers.ts`,
        });
        break;
      }
      if (allowed.includes('*') || allowed.includes(to)) continue;
      out.push({
        file: rel,
        line,
        specifier: ref.fileName,
        reason: `src/${from} may not import src/${to} (it may import: ${allowed.join(', ')})`,
      });
    }
  }
  return out;
}

function partOf(srcDir: string, file: string): string {
  const first = relative(srcDir, file).split(sep)[0]!;
  return first.replace(/\.js$/, '.ts');
}

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) files.push(path);
  }
  return files.sort();
}
