/**
 * A TypeScript config, read without jiti on a warm start. The first load transpiles it with jiti (as
 * before) and keeps the output under `node_modules/.cache/c4c-runner/`, keyed by the file's path and
 * content; the next start evaluates that file with Node alone. So jiti (190 KB of code, plus its
 * reading of its own cache) is loaded after the socket opens, for the handlers, instead of before it
 * (docs/benchmarks.md, section 6).
 *
 * Only a config whose imports Node resolves the same way jiti does takes this path: `c4c-runner`
 * (the running copy, as jiti's `nativeModules` gives it) and Node's built-in modules. A config that
 * imports its own files (`./lib/env.ts`) or another package, or calls `require`, goes through jiti
 * every time, as it did.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';

/** What the transpiled code's dynamic imports are called (jiti's `async` transform). */
const IMPORT = 'jitiImport';

/** Every `jitiImport(` in the code, with the specifier when it is a string literal. */
const IMPORTS = /\bjitiImport\(\s*(?:(["'])([^"'\\]*)\1\s*\))?/g;

/** Bumped when what is stored changes meaning; part of the key, so old entries are never read. */
const FORMAT = '1';

/** Where a config's transpiled code is kept: `undefined` when its folder has no node_modules. */
export function cachePath(file: string, source: string, hasNodeModules: boolean): string | undefined {
  if (!hasNodeModules) return undefined;
  const key = createHash('sha256').update(`${FORMAT}\0${file}\0${source}`).digest('hex').slice(0, 40);
  return join(dirname(file), 'node_modules', '.cache', 'c4c-runner', `config-${key}.cjs`);
}

/**
 * Whether Node alone can run this transpiled config as jiti would: every import a literal
 * `c4c-runner` or a built-in module, no `require` and no `import.meta.resolve` left in it, and
 * no parse error.
 */
export function runsNatively(code: string): boolean {
  // A file jiti could not parse comes back as a description of the error: jiti itself reports it.
  if (/\brequire\s*\(|\bjitiESMResolve\b|__JITI_ERROR__/.test(code)) return false;
  for (const match of code.matchAll(IMPORTS)) {
    const specifier = match[2];
    if (specifier === undefined) return false;
    if (specifier !== 'c4c-runner' && !isBuiltin(specifier)) return false;
  }
  return true;
}

/** The stored code of a config, or `undefined` when there is none (or it cannot be run natively). */
export async function readCompiled(path: string): Promise<string | undefined> {
  let code: string;
  try {
    code = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  return runsNatively(code) ? code : undefined;
}

/**
 * Keeps transpiled code for the next start. Written to a temporary name, then renamed: a start that
 * reads at the same time sees the whole file or none. A folder that cannot be written only costs
 * the next start its shortcut.
 */
export async function writeCompiled(path: string, code: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, code);
    await rename(temporary, path);
  } catch {
    // Not kept: the next start transpiles again, as it did before this cache existed.
  }
}

/**
 * Runs transpiled config code (CommonJS with `await jitiImport(…)` for its imports) and returns its
 * default export, or the module's exports when it has none — what `jiti.import(file, { default: true })`
 * returns. `import` is given the caller's own `import()`, so `c4c-runner` is the running copy.
 */
export async function runCompiled(
  code: string,
  file: string,
  importModule: (specifier: string) => Promise<unknown>,
): Promise<unknown> {
  // One line, so the positions in a stack are the file's own (jiti's transform keeps lines).
  const wrapped = `(async function (exports, module, __filename, __dirname, ${IMPORT}) {${code}\n})`;
  const run = runInThisContext(wrapped, { filename: file }) as (
    exports: unknown,
    module: { exports: unknown },
    filename: string,
    dirname: string,
    load: (specifier: string) => Promise<unknown>,
  ) => Promise<void>;
  const module: { exports: unknown } = { exports: {} };
  await run(module.exports, module, file, dirname(file), importModule);
  const exported = module.exports as { default?: unknown } | null | undefined;
  return exported?.default ?? exported;
}
