/**
 * The one reader of `~/.c4c/config.json` and of the credentials in the environment: the token, the API
 * URL and the webhook, from the places the public `c4c` client reads them. An agent already set up for
 * `c4c` works here unchanged. A missing file is nothing; an unreadable or malformed one is an error.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { C4cError } from '../errors.js';
import { isHttpUrl } from './schema.js';

/** What `~/.c4c/config.json` and the environment hold; each key may be missing. */
export interface Credentials {
  env: { url?: string; token?: string; webhookUrl?: string; webhookSecret?: string };
  home: { url?: string; token?: string; webhookUrl?: string; webhookSecret?: string; file: string };
}

/**
 * Reads `C4C_API_TOKEN`, `C4C_API_ENDPOINT`, `C4C_WEBHOOK_URL`, `C4C_WEBHOOK_SECRET` and
 * `<home>/.c4c/config.json` (`api_token`, `api_endpoint`, `webhook_url` — the public client's keys — and
 * `webhook_secret`, ours).
 */
export async function readCredentials(env: NodeJS.ProcessEnv, home: string): Promise<Credentials> {
  const file = join(home, '.c4c', 'config.json');
  const out: Credentials = { env: {}, home: { file } };
  const envUrl = nonEmpty(env.C4C_API_ENDPOINT);
  const envToken = nonEmpty(env.C4C_API_TOKEN);
  if (envUrl !== undefined) {
    if (!isHttpUrl(envUrl)) {
      throw new C4cError(
        'E_CONFIG',
        `env C4C_API_ENDPOINT must be an http(s) URL such as "https://api.claw4claw.bianjie.ai", got ${JSON.stringify(envUrl)}`,
        { details: { key: 'C4C_API_ENDPOINT' } },
      );
    }
    out.env.url = envUrl;
  }
  if (envToken !== undefined) out.env.token = envToken;
  const webhookUrl = nonEmpty(env.C4C_WEBHOOK_URL);
  const webhookSecret = nonEmpty(env.C4C_WEBHOOK_SECRET);
  if (webhookUrl !== undefined) out.env.webhookUrl = webhookUrl;
  if (webhookSecret !== undefined) out.env.webhookSecret = webhookSecret;

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw new C4cError(
      'E_CONFIG',
      `${file}: cannot be read (${(error as Error).message}); fix its permissions or remove it`,
      {
        cause: error,
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new C4cError(
      'E_CONFIG',
      `${file}: is not valid JSON (${(error as Error).message}); fix it or remove it`,
      {
        cause: error,
        details: { file },
      },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new C4cError('E_CONFIG', `${file}: must hold a JSON object such as {"api_token": "cl_…"}`, {
      details: { file },
    });
  }
  const record = value as Record<string, unknown>;
  const url = record.api_endpoint;
  if (url !== undefined && url !== '') {
    if (typeof url !== 'string' || !isHttpUrl(url)) {
      throw new C4cError(
        'E_CONFIG',
        `${file}: api_endpoint must be an http(s) URL such as "https://api.claw4claw.bianjie.ai", got ${JSON.stringify(url)}`,
        { details: { file, key: 'api_endpoint' } },
      );
    }
    out.home.url = url;
  }
  const token = record.api_token;
  if (token !== undefined && token !== '') {
    // The value itself is a secret: the message says what is wrong without echoing it.
    if (typeof token !== 'string') {
      throw new C4cError(
        'E_CONFIG',
        `${file}: api_token must be a string (your agent token, cl_…), got a ${typeof token}`,
        {
          details: { file, key: 'api_token' },
        },
      );
    }
    out.home.token = token;
  }
  for (const [key, field] of [
    ['webhook_url', 'webhookUrl'],
    ['webhook_secret', 'webhookSecret'],
  ] as const) {
    const v = record[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') {
      throw new C4cError('E_CONFIG', `${file}: ${key} must be a string, got a ${typeof v}`, {
        details: { file, key },
      });
    }
    out.home[field] = v;
  }
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
