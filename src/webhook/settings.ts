/**
 * Where the webhook target comes from. `connect` reads the same places as the public client
 * (`--webhook`, env `C4C_WEBHOOK_URL`, `webhook_url` in ~/.c4c/config.json) plus c4c-runner's own
 * (`webhook` in c4c.config.ts, a signing secret). Precedence: flag > env > c4c.config.ts > ~/.c4c.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { C4cError } from '../errors.js';
import { parseWebhookUrl } from './client.js';

const positiveInt = (hint: string) =>
  z
    .number({ error: `must be a positive integer (${hint})` })
    .int({ error: `must be a positive integer (${hint})` })
    .positive({ error: `must be a positive integer (${hint})` });

/**
 * The `webhook` key of c4c.config.ts: where events without a handler file are forwarded.
 * @example
 * export default defineConfig({ webhook: { url: 'http://localhost:8080/webhook', secret: process.env.WEBHOOK_SECRET } });
 */
export const webhookConfigSchema = z.strictObject({
  /** The webhook URL (http or https). @default env C4C_WEBHOOK_URL */
  url: z
    .string({ error: 'must be an http(s) URL such as "http://localhost:8080/webhook"' })
    .refine(isHttp, { error: 'must be an http(s) URL such as "http://localhost:8080/webhook"' })
    .optional(),
  /** Signs each request with HMAC-SHA256 (`X-C4C-Signature`). @default env C4C_WEBHOOK_SECRET, else unsigned */
  secret: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
  /** Time limit of one POST, in ms. @default 10000 */
  timeout: positiveInt('milliseconds, e.g. 10000').optional(),
  /** Retries of a failed forward (network error, timeout, 408, 429, 5xx). */
  retry: z
    .strictObject({
      /** Attempts in all; `Infinity` retries until it succeeds or the runner stops. @default Infinity */
      attempts: z
        .union([positiveInt('a number of attempts, or Infinity'), z.literal(Number.POSITIVE_INFINITY)])
        .optional(),
      /** First wait, in ms; doubles after each failure. @default 1000 */
      initialDelay: positiveInt('milliseconds, e.g. 1000').optional(),
      /** Longest wait, in ms. @default 30000 */
      maxDelay: positiveInt('milliseconds, e.g. 30000').optional(),
    })
    .optional(),
});

/** What c4c.config.ts may say under `webhook`. */
export type WebhookConfig = z.input<typeof webhookConfigSchema>;

/** Where a webhook setting came from, for a start-up line that explains itself. */
export type WebhookSource = 'flag' | 'env' | 'config' | 'home';

/** The webhook to forward to, once every source has been read. */
export interface WebhookSettings {
  url: string;
  secret: string | undefined;
  timeout: number | undefined;
  retry: { attempts?: number; initialDelay?: number; maxDelay?: number };
  sources: { url: WebhookSource; secret: WebhookSource | undefined };
}

export interface WebhookSettingsInput {
  /** `--webhook`, `--webhook-secret`. */
  flags?: { url?: string | undefined; secret?: string | undefined };
  /** The `webhook` key of c4c.config.ts, if any. */
  config?: WebhookConfig | undefined;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The folder holding `.c4c/config.json`; `undefined` skips that file. */
  home?: string | undefined;
}

/**
 * The webhook settings, or `undefined` when no source names a URL (then `connect` only prints).
 * Throws `C4cError('E_CONFIG')` naming the source of a bad value.
 */
export async function resolveWebhookSettings(
  input: WebhookSettingsInput,
): Promise<WebhookSettings | undefined> {
  const env = input.env ?? process.env;
  const home: HomeWebhook =
    input.home === undefined ? { file: '~/.c4c/config.json' } : await readHome(input.home);
  const url = pick<string>(
    [input.flags?.url, 'flag'],
    [nonEmpty(env.C4C_WEBHOOK_URL), 'env'],
    [input.config?.url, 'config'],
    [home.url, 'home'],
  );
  if (!url) return undefined;
  const secret = pick<string>(
    [input.flags?.secret, 'flag'],
    [nonEmpty(env.C4C_WEBHOOK_SECRET), 'env'],
    [input.config?.secret, 'config'],
    [home.secret, 'home'],
  );
  const where = {
    flag: '--webhook',
    env: 'env C4C_WEBHOOK_URL',
    config: 'webhook.url in c4c.config.ts',
    home: `webhook_url in ${home.file}`,
  }[url[1]];
  try {
    parseWebhookUrl(url[0]);
  } catch (error) {
    throw new C4cError('E_CONFIG', `${where}: ${(error as Error).message}`, { cause: error });
  }
  return {
    url: url[0],
    secret: secret?.[0],
    timeout: input.config?.timeout,
    retry: { ...input.config?.retry },
    sources: { url: url[1], secret: secret?.[1] },
  };
}

function pick<T>(...candidates: [T | undefined, WebhookSource][]): [T, WebhookSource] | undefined {
  for (const [value, source] of candidates) if (value !== undefined && value !== '') return [value, source];
  return undefined;
}

/** `webhook_url` (the public client's key) and `webhook_secret` (ours) from ~/.c4c/config.json. */
interface HomeWebhook {
  url?: string;
  secret?: string;
  file: string;
}

async function readHome(dir: string): Promise<HomeWebhook> {
  const file = join(dir, '.c4c', 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    // Missing or unreadable: the config loader has already said so when it matters (the token).
    return { file };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new C4cError(
      'E_CONFIG',
      `${file}: is not valid JSON (${(error as Error).message}); fix it or remove it`,
      { cause: error },
    );
  }
  if (typeof value !== 'object' || value === null) return { file };
  const record = value as Record<string, unknown>;
  const out: HomeWebhook = { file };
  for (const [key, field] of [
    ['webhook_url', 'url'],
    ['webhook_secret', 'secret'],
  ] as const) {
    const v = record[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string')
      throw new C4cError('E_CONFIG', `${file}: ${key} must be a string, got a ${typeof v}`);
    out[field] = v;
  }
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function isHttp(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
