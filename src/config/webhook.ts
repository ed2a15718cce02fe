/**
 * @module
 * Where the webhook target comes from. `connect` reads the same places as the public client
 * (`--webhook`, env `C4C_WEBHOOK_URL`, `webhook_url` in ~/.c4c/config.json) plus c4c-runner's own
 * (`webhook` in c4c.config.ts, a signing secret), in the one precedence order (./precedence.ts).
 * `start` and `dev` forward only when c4c.config.ts has a `webhook` key: an env var set for
 * `c4c connect` changes nothing else.
 */
import { C4cError } from '../errors.js';
import type { Credentials } from './credentials.js';
import { resolveSetting } from './precedence.js';
import { isHttpUrl, type SettingSource, type WebhookConfig, type WebhookSettings } from './schema.js';

/** What the webhook may be resolved from. */
export interface WebhookSettingsInput {
  /** `--webhook`, `--webhook-secret` (connect). */
  flags?: { url?: string | undefined; secret?: string | undefined };
  /** The `webhook` key of c4c.config.ts, if any. */
  config?: WebhookConfig | undefined;
  credentials: Credentials;
  /** Whether `~/.c4c/config.json` counts (connect: yes; the config's own key: no). */
  useHome: boolean;
  /** The config file's name for errors. @default 'c4c.config.ts' */
  label?: string;
}

/**
 * The webhook settings, or `undefined` when no source names a URL.
 * Throws `C4cError('E_CONFIG')` naming the source of a bad URL.
 */
export function resolveWebhookSettings(input: WebhookSettingsInput): WebhookSettings | undefined {
  const { env, home } = input.credentials;
  const label = input.label ?? 'c4c.config.ts';
  const url = resolveSetting({
    flag: input.flags?.url,
    env: env.webhookUrl,
    config: input.config?.url,
    home: input.useHome ? home.webhookUrl : undefined,
  });
  if (!url) return undefined;
  const secret = resolveSetting({
    flag: input.flags?.secret,
    env: env.webhookSecret,
    config: input.config?.secret,
    home: input.useHome ? home.webhookSecret : undefined,
  });
  if (!isHttpUrl(url[0])) {
    const where: Partial<Record<SettingSource, string>> = {
      flag: '--webhook',
      env: 'env C4C_WEBHOOK_URL',
      config: `${label}: webhook.url`,
      home: `${home.file}: webhook_url`,
    };
    throw new C4cError(
      'E_CONFIG',
      `${where[url[1]]} must be an http(s) URL such as "http://localhost:8080/webhook", got ${JSON.stringify(url[0])}`,
      { details: { source: url[1] } },
    );
  }
  return {
    url: url[0],
    secret: secret?.[0],
    timeout: input.config?.timeout,
    retry: { ...input.config?.retry },
    sources: { url: url[1], secret: secret?.[1] },
  };
}
