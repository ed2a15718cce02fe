/**
 * The layers of src/ hold: no import points upward, static or dynamic (see test/helpers/layers.ts for the
 * picture). A planted upward import of each kind proves the check can fail.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayers } from './helpers/layers.js';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function tree(files: Record<string, string>): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'c4c-layers-'));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  return dir;
}

describe('layers', () => {
  it('src/ has no import that points upward', () => {
    const violations = checkLayers(SRC).map((v) => `src/${v.file}:${v.line}: ${v.specifier}: ${v.reason}`);
    expect(violations).toEqual([]);
  });

  it('catches a planted static import, a planted dynamic import() and a type-only import, with file and line', async () => {
    const src = await tree({
      'protocol/frames.ts': "import { Runner } from '../runner/runner.js';\nexport const x = 1;\n",
      'config/load.ts':
        "export async function f() {\n  const m = await import('../webhook/client.js');\n  return m;\n}\n",
      'connection/url.ts':
        "import type { Platform } from '../platform/index.js';\nexport type P = Platform;\n",
      'runner/runner.ts': "import { x } from '../protocol/frames.js';\nexport const y = x;\n",
      'webhook/client.ts': 'export const z = 1;\n',
      'platform/index.ts': 'export type Platform = object;\n',
    });
    expect(checkLayers(src)).toEqual([
      expect.objectContaining({
        file: 'config/load.ts',
        line: 2,
        specifier: '../webhook/client.js',
        reason: expect.stringMatching(/^src\/config may not import src\/webhook/),
      }),
      expect.objectContaining({ file: 'connection/url.ts', line: 1, specifier: '../platform/index.js' }),
      expect.objectContaining({ file: 'protocol/frames.ts', line: 1, specifier: '../runner/runner.js' }),
    ]);
  });

  it('a folder the map does not know is reported, so a new part gets a place in the picture', async () => {
    const src = await tree({
      'gadgets/thing.ts': "import { y } from '../runner/runner.js';\nexport const t = y;\n",
      'runner/runner.ts': 'export const y = 1;\n',
    });
    expect(checkLayers(src)).toEqual([
      expect.objectContaining({
        file: 'gadgets/thing.ts',
        reason: expect.stringMatching(/not in the layer map/),
      }),
    ]);
  });
});
