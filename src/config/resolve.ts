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
import { configSchema, isHttpUrl, knownKeys, type ResolvedConfig, type SettingSource } from './schema.js';
import { closest } from '../suggest.js';

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
}

/**
 * Precedence for the token and the URL: env > config file > ~/.c4c/config.json > default.
 * The environment wins over the committed file because it belongs to the deployment (12-factor):
 * a file in git is the project's default, the environment is where this copy runs.
 */
export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const { user, label } = input;
  if (typeof user !== 'object' || user === null || Array.isArray(user)) {
    throw new C4cError(
      'E_CONFIG',
      `${label}: must export a config object (export default defineConfig({ … })), got ${describeValue(user)}`,
      { details: { file: input.file } },
    );
  }
  const parsed = configSchema.safeParse(user);
  if (!parsed.success) {
    const lines = parsed.error.issues.flatMap((issue) => explain(issue, user, label));
    throw new C4cError('E_CONFIG', lines.join('\n'), { details: { file: input.file } });
  }
  const config = parsed.data;
  const { env, home } = input.credentials;

  const [url, urlSource] = pick<string>(
    [env.url, 'env'],
    [config.platform.url, 'config'],
    [home.url, 'home'],
    [DEFAULT_API_ENDPOINT, 'default'],
  );
  const [token, tokenSource] = pick<string>(
    [env.token, 'env'],
    [config.platform.token, 'config'],
    [home.token, 'home'],
  );

  // env > file, as for the token; the env alone does not turn the webhook on.
  if (config.webhook && env.webhookUrl !== undefined && !isHttpUrl(env.webhookUrl)) {
    throw new C4cError(
      'E_CONFIG',
      `env C4C_WEBHOOK_URL must be an http(s) URL such as "http://localhost:8080/webhook", got ${JSON.stringify(env.webhookUrl)}`,
    );
  }
  const webhook = config.webhook && {
    ...config.webhook,
    ...(env.webhookUrl !== undefined ? { url: env.webhookUrl } : {}),
    ...(env.webhookSecret !== undefined ? { secret: env.webhookSecret } : {}),
  };

  return {
    ...config,
    webhook,
    root: input.root,
    configFile: input.file,
    handlers: isAbsolute(config.handlers) ? config.handlers : resolve(input.root, config.handlers),
    platform: {
      url: url!,
      wsUrl: wsUrlFor(url!),
      token,
      sources: { url: urlSource, token: tokenSource },
    },
  };
}

function pick<T>(...candidates: [T | undefined, SettingSource][]): [T | undefined, SettingSource] {
  for (const [value, source] of candidates) if (value !== undefined) return [value, source];
  return [undefined, 'none'];
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
