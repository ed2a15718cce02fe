/**
 * From what a config file says (plus env and ~/.c4c) to the `ResolvedConfig` the runner uses.
 * Every problem becomes one sentence naming the file, the key, the bad value and the fix.
 */
import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { describeValue } from '../describe.js';
import { C4cError } from '../errors.js';
import { DEFAULT_API_ENDPOINT, wsUrlFor } from '../protocol/rest.js';
import type { Credentials } from './credentials.js';
import { resolveSetting } from './precedence.js';
import { configSchema, knownKeys, type ResolvedConfig } from './schema.js';
import { resolveWebhookSettings } from './webhook.js';
import { closest } from '../suggest.js';
import { MAX_WORKERS } from '../limits.js';

/** What `resolveConfig` needs: the file's export, where it came from, and the credentials. */
export interface ResolveInput {
  /** What the config file exported (or `{}` without a file). */
  user: unknown;
  /** The config file, absolute, if any. */
  file: string | undefined;
  /** Its name as the user should read it in errors (`c4c.config.ts`). */
  label: string;
  /** The folder relative paths are resolved against. */
  root: string;
  credentials: Credentials;
  /** `--workers` and env `C4C_WORKERS`, as typed (they win over the file's `workers`). */
  workers?: { flag?: string | undefined; env?: string | undefined };
}

/** Precedence for the token, the URL and the webhook: ./precedence.ts. */
export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const { user, label } = input;
  if (typeof user !== 'object' || user === null || Array.isArray(user)) {
    throw new C4cError(
      'E_CONFIG',
      `${label}: must export a config object (export default defineConfig({ … })), got ${describeValue(user)}`,
      { details: { file: input.file } },
    );
  }
  // Checked once per start: zod's compiled fast path (code generated per object schema) costs more to
  // build than this one parse takes without it.
  const parsed = configSchema.safeParse(user, { jitless: true });
  if (!parsed.success) {
    const lines = parsed.error.issues.flatMap((issue) => explain(issue, user, label));
    throw new C4cError('E_CONFIG', lines.join('\n'), { details: { file: input.file } });
  }
  const config = parsed.data;
  const credentials = input.credentials;
  const { env, home } = credentials;
  const [url, urlSource] = resolveSetting({
    env: env.url,
    config: config.platform.url,
    home: home.url,
    default: DEFAULT_API_ENDPOINT,
  })!;
  const [token, tokenSource] = resolveSetting({
    env: env.token,
    config: config.platform.token,
    home: home.token,
  }) ?? [undefined, 'none' as const];

  const [workers] = resolveSetting({
    flag: parseWorkers(input.workers?.flag, '--workers'),
    env: parseWorkers(input.workers?.env, 'env C4C_WORKERS'),
    config: config.workers,
  })!;

  // env > file, as for the token; the env alone does not turn the webhook on (it stays the config's key).
  const fromEnv =
    config.webhook && resolveWebhookSettings({ config: config.webhook, credentials, useHome: false, label });
  const webhook = config.webhook && {
    ...config.webhook,
    ...(fromEnv ? { url: fromEnv.url, secret: fromEnv.secret } : {}),
  };

  return {
    ...config,
    workers,
    webhook,
    root: input.root,
    configFile: input.file,
    handlers: isAbsolute(config.handlers) ? config.handlers : resolve(input.root, config.handlers),
    // A file store's folder, like the handlers folder, is relative to the config file.
    state:
      typeof config.state === 'object' && !('get' in config.state)
        ? { dir: resolve(input.root, config.state.dir) }
        : config.state,
    platform: {
      url,
      wsUrl: wsUrlFor(url),
      token,
      sources: { url: urlSource, token: tokenSource },
    },
  };
}

/** A thread count as typed on the command line or in the environment; `undefined` when not set there. */
function parseWorkers(raw: string | undefined, where: string): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value <= MAX_WORKERS)) {
    throw new C4cError(
      'E_CONFIG',
      `${where} must be a whole number of worker threads from 0 to ${MAX_WORKERS}, got ${JSON.stringify(raw)}; e.g. ${where === '--workers' ? '--workers 2' : 'C4C_WORKERS=2'} (0 runs handlers on the main thread)`,
      { details: { key: where } },
    );
  }
  return value;
}

function explain(issue: z.core.$ZodIssue, user: object, label: string): string[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(issue.path);
    return issue.keys.map((key) => {
      const dotted = [...issue.path, key].join('.');
      const guess = closest(key, known);
      const where = issue.path.length ? [...issue.path, guess].join('.') : guess;
      return guess
        ? `${label}: unknown key "${dotted}"; did you mean "${where}"?`
        : `${label}: unknown key "${dotted}"; known keys${issue.path.length ? ` of ${issue.path.join('.')}` : ''}: ${known.join(', ')}`;
    });
  }
  const key = issue.path.join('.') || '(config)';
  const value = valueAt(user, issue.path);
  // Never echo a token back, even a malformed one.
  const got = issue.path.at(-1) === 'token' ? kind(value) : describeValue(value);
  // "must be X (hint)" reads best as "must be X, got V (hint)".
  const [, rule, hint] = /^(.*?)(\s\(.*\))?$/s.exec(issue.message) ?? [undefined, issue.message, undefined];
  return [`${label}: ${key} ${rule}, got ${got}${hint ?? ''}`];
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`;
}
