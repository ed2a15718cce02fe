/**
 * Finding and reading the config: cosmiconfig looks in the project folder, jiti loads TypeScript
 * and ESM config files, then `resolveConfig` checks and fills it.
 */
import { access, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, relative, resolve } from 'node:path';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import { createJiti } from 'jiti';
import { C4cError } from '../errors.js';
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

  const explorer = cosmiconfig('c4c', {
    searchPlaces: [...CONFIG_FILES],
    searchStrategy: 'none',
    packageProp: 'c4c',
    cache: false,
    loaders: { '.ts': loadModule, '.mts': loadModule, '.js': loadModule, '.mjs': loadModule },
  });

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
    result = file ? await explorer.load(file) : await explorer.search(cwd);
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

/** TypeScript and ESM config files, loaded fresh each time (a changed config is seen on restart of dev). */
const loadModule: Loader = async (filepath) => {
  // `c4c-runner` (for defineConfig) is imported natively, not evaluated a second time through jiti.
  const jiti = createJiti(import.meta.url, {
    moduleCache: false,
    interopDefault: true,
    nativeModules: ['c4c-runner'],
  });
  return jiti.import(filepath, { default: true });
};

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
