/**
 * Finding and reading the config: the first of {@link CONFIG_FILES} in the project folder, loaded
 * natively when it is JavaScript or JSON, through jiti when it is TypeScript (or JavaScript Node
 * cannot load as it is), through cosmiconfig for the rest (`.c4crc` in YAML); then `resolveConfig`
 * checks and fills it. jiti and cosmiconfig are imported only when needed: together they were
 * ~20–30 ms of `c4c-runner start`'s start-up (docs/benchmarks.md, "Start-up").
 */
import { access, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { createRequire, isBuiltin } from 'node:module';
import { pathToFileURL } from 'node:url';
import { C4cError } from '../errors.js';
import { cachePath, readCompiled, runCompiled, runsNatively, writeCompiled } from './compiled.js';
import { readCredentials } from './credentials.js';
import { resolveConfig } from './resolve.js';
import type { ResolvedConfig, UserConfig } from './schema.js';

/** Where cosmiconfig looks, in this order, in the project folder only. */
export const CONFIG_FILES = [
  'c4c.config.ts',
  'c4c.config.mts',
  'c4c.config.js',
  'c4c.config.mjs',
  'c4c.config.json',
  '.c4crc',
  '.c4crc.json',
  'package.json',
] as const;

/** Where to look for the config, and what to read the token and URL from. */
export interface LoadConfigOptions {
  /** The project folder. @default process.cwd() */
  cwd?: string;
  /** An explicit config file (`--config`), relative to `cwd`. @default searched in `cwd` */
  configFile?: string;
  /** Environment to read `C4C_API_TOKEN` / `C4C_API_ENDPOINT` from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Home folder holding `.c4c/config.json`. @default env.HOME, else os.homedir() */
  home?: string;
  /** Settings that win over the file (CLI flags), merged one level deep. */
  overrides?: UserConfig;
  /**
   * Flags that win over the environment too (flag > env > file), as the user typed them; checked here.
   */
  flags?: { workers?: string | undefined };
}

/** Finds, loads, checks and resolves the config. Throws `C4cError('E_CONFIG')` with a fix. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const home = options.home ?? env.HOME ?? homedir();
  await assertFolder(cwd);

  let result;
  let file: string | undefined;
  if (options.configFile) {
    file = resolve(cwd, options.configFile);
    try {
      await access(file);
    } catch {
      throw new C4cError(
        'E_CONFIG',
        `config file ${options.configFile} not found (looked for ${file}); check --config`,
        {
          details: { file },
        },
      );
    }
  }
  try {
    result = file ? await loadFile(file) : await search(cwd);
  } catch (error) {
    if (error instanceof C4cError) throw error;
    const where = file ?? (error as { filepath?: string }).filepath;
    const label = where ? labelFor(where, cwd) : 'config';
    throw new C4cError(
      'E_CONFIG',
      `${label}: could not be loaded: ${firstLine(error)}; fix the file and try again`,
      {
        cause: error,
        details: { file: where },
      },
    );
  }

  const found = result?.filepath;
  const root = found ? dirname(found) : cwd;
  const label = found ? labelFor(found, cwd) : 'config';
  let user: unknown = result && !result.isEmpty ? result.config : {};
  if (typeof user === 'function') user = await (user as () => unknown)();
  if (options.overrides) user = mergeOverrides(user, options.overrides);

  const credentials = await readCredentials(env, home);
  return resolveConfig({
    user,
    file: found,
    label,
    root,
    credentials,
    workers: { flag: options.flags?.workers, env: env.C4C_WORKERS },
  });
}

/** What a config file held: `isEmpty` for an empty file (or a module that exports nothing). */
interface Found {
  filepath: string;
  config: unknown;
  isEmpty: boolean;
}

/** The first config in the folder, in {@link CONFIG_FILES} order; package.json only with a "c4c" key. */
async function search(cwd: string): Promise<Found | undefined> {
  for (const name of CONFIG_FILES) {
    const file = join(cwd, name);
    if (!(await isFile(file))) continue;
    if (name === 'package.json') {
      let pkg: { c4c?: unknown } | null;
      try {
        pkg = JSON.parse(await readFile(file, 'utf8')) as { c4c?: unknown } | null;
      } catch (error) {
        throw Object.assign(error as Error, { filepath: file });
      }
      if (pkg?.c4c === undefined) continue;
      return { filepath: file, config: pkg.c4c, isEmpty: false };
    }
    return loadFile(file);
  }
  return undefined;
}

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/** Loads one config file; an error says which file (`filepath`), as the caller reports it. */
async function loadFile(file: string): Promise<Found> {
  try {
    return await readConfigFile(file);
  } catch (error) {
    throw error instanceof Error
      ? Object.assign(error, { filepath: file })
      : Object.assign(new Error(String(error)), { filepath: file });
  }
}

async function readConfigFile(file: string): Promise<Found> {
  const extension = extname(file);
  if (MODULE_EXTENSIONS.has(extension)) {
    const config = await loadModule(file);
    return { filepath: file, config, isEmpty: config === undefined };
  }
  if (basename(file) !== 'package.json' && (extension === '.json' || basename(file) === '.c4crc')) {
    const text = await readFile(file, 'utf8');
    if (text.trim() === '') return { filepath: file, config: undefined, isEmpty: true };
    try {
      return { filepath: file, config: JSON.parse(text) as unknown, isEmpty: false };
    } catch (error) {
      if (extension === '.json') throw error;
      // `.c4crc` may be YAML: cosmiconfig reads it.
    }
  }
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig('c4c', { packageProp: 'c4c', cache: false, searchStrategy: 'none' });
  const result = await explorer.load(file);
  return { filepath: file, config: result?.config, isEmpty: !result || result.isEmpty === true };
}

/**
 * A config module, loaded fresh each time (a changed config is seen on restart of dev). JavaScript
 * is imported natively; TypeScript, and JavaScript Node cannot load as it is (ESM syntax in a
 * CommonJS package), go through jiti.
 */
async function loadModule(filepath: string): Promise<unknown> {
  if (/\.[cm]?js$/.test(filepath)) {
    try {
      const module = (await import(`${pathToFileURL(filepath).href}?t=${Date.now()}`)) as {
        default?: unknown;
      };
      return module.default ?? module;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  // A warm start reads what an earlier one transpiled, without jiti (src/config/compiled.ts).
  const source = await readFile(filepath, 'utf8');
  const cached = cachePath(filepath, source, await isFolder(join(dirname(filepath), 'node_modules')));
  const stored = cached === undefined ? undefined : await readCompiled(cached);
  if (stored !== undefined) return runCompiled(stored, filepath, (id) => importFrom(filepath, id));
  // The CommonJS entry, required: the ES one makes Node lex jiti's 190 KB bundle first (~30 ms).
  const { createJiti } = createRequire(import.meta.url)('jiti') as typeof import('jiti');
  // `c4c-runner` (for defineConfig) is imported natively, not evaluated a second time through jiti.
  const jiti = createJiti(import.meta.url, {
    moduleCache: false,
    interopDefault: true,
    nativeModules: ['c4c-runner'],
  });
  if (cached !== undefined) {
    const code = jiti.transform({
      source,
      filename: filepath,
      ts: /\.[cm]?tsx?$/.test(filepath),
      async: true,
    });
    // Run the same way now as on the starts that will read it, so the first start is no different.
    if (runsNatively(code)) {
      await writeCompiled(cached, code);
      return runCompiled(code, filepath, (id) => importFrom(filepath, id));
    }
  }
  return jiti.import(filepath, { default: true });
}

/** A module the config imports, resolved from the config's folder as jiti resolves it. */
function importFrom(file: string, specifier: string): Promise<unknown> {
  if (isBuiltin(specifier)) return import(specifier);
  return import(pathToFileURL(createRequire(file).resolve(specifier)).href);
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function assertFolder(cwd: string): Promise<void> {
  try {
    if ((await stat(cwd)).isDirectory()) return;
  } catch {
    // fall through to the error below
  }
  throw new C4cError('E_CONFIG', `project folder ${cwd} does not exist or is not a folder; check --cwd`, {
    details: { cwd },
  });
}

function mergeOverrides(user: unknown, overrides: UserConfig): unknown {
  if (typeof user !== 'object' || user === null || Array.isArray(user)) return user;
  const out: Record<string, unknown> = { ...(user as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const previous = out[key];
    out[key] =
      typeof value === 'object' && value !== null && typeof previous === 'object' && previous !== null
        ? { ...previous, ...value }
        : value;
  }
  return out;
}

function labelFor(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  const name = rel && !rel.startsWith('..') ? rel : file;
  return basename(file) === 'package.json' ? `${name} ("c4c" key)` : name;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
