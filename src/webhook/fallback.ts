/**
 * The `webhook` of c4c.config.ts as the runner's fallback handler: events that have no handler
 * file are forwarded, and the webhook's answer is their reply. Reports become log lines.
 */
import type { WebhookConfig, WebhookSettings } from '../config/schema.js';
import { C4cError } from '../errors.js';
import { MAX_TIMER } from '../limits.js';
import type { Logger } from '../log.js';
import { redactUrl } from '../redact.js';
import { WebhookClient } from './client.js';
import { createWebhookHandler, type WebhookHandlerContext } from './handler.js';
import type { WebhookReporter } from './report.js';

/** A handler that is not a file: the shape the runner takes as its fallback for unhandled events. */
export interface WebhookFallback {
  readonly file: string;
  readonly label: string;
  readonly handle: (ctx: WebhookHandlerContext) => Promise<unknown>;
  readonly timeout: number;
}

/**
 * A fallback handler for resolved webhook settings. Retries without end by default (`retry.attempts`
 * limits it), so its time limit is the retries' budget, not the runner's per-handler timeout.
 * `reply: false` forwards only. @default reply: true
 */
export function webhookFallbackFor(
  settings: WebhookSettings,
  report?: WebhookReporter,
  options: { reply?: boolean } = {},
): WebhookFallback {
  const client = new WebhookClient({
    url: settings.url,
    ...(settings.secret ? { secret: settings.secret } : {}),
    ...(settings.timeout ? { timeout: settings.timeout } : {}),
    retry: { attempts: Number.POSITIVE_INFINITY, ...settings.retry },
  });
  const label = `webhook ${redactUrl(settings.url)}`;
  return Object.freeze({
    file: label,
    label,
    handle: createWebhookHandler(client, report, options),
    timeout: Math.min(client.budget, MAX_TIMER),
  });
}

/**
 * The fallback for the `webhook` key of a resolved config (env `C4C_WEBHOOK_URL` / `C4C_WEBHOOK_SECRET`
 * already won over the file), reporting to the log. Throws `E_CONFIG` when it has no URL.
 */
export function configWebhookFallback(config: WebhookConfig, logger: Logger): WebhookFallback {
  if (!config.url) {
    throw new C4cError(
      'E_CONFIG',
      'c4c.config.ts: webhook has no url; set webhook.url (e.g. "http://localhost:8080/webhook") or env C4C_WEBHOOK_URL',
      { details: { key: 'webhook.url' } },
    );
  }
  const settings: WebhookSettings = {
    url: config.url,
    secret: config.secret,
    timeout: config.timeout,
    retry: { ...config.retry },
    sources: { url: 'config', secret: config.secret === undefined ? undefined : 'config' },
  };
  return webhookFallbackFor(settings, logReporter(logger.child({ component: 'webhook' })));
}

/** Webhook reports as log lines: deliveries at debug, retries and refusals at warn. */
export function logReporter(logger: Logger): WebhookReporter {
  return (report) => {
    const url = redactUrl(report.url);
    switch (report.type) {
      case 'delivered':
        logger.debug(
          { url, status: report.status, attempt: report.attempt },
          `forwarded ${report.kind} to the webhook`,
        );
        return;
      case 'failed':
        logger.warn(
          {
            url,
            status: report.status,
            error: report.error,
            attempt: report.attempt,
            retryIn: report.retryIn,
          },
          report.retryIn !== undefined
            ? `webhook forward failed (${report.status ?? report.error}); retrying in ${report.retryIn} ms`
            : `webhook forward failed (${report.status ?? report.error}) on its last attempt; the runner's retry decides what comes next (another run later, or the dead-letter file)`,
        );
        return;
      case 'rejected':
        logger.warn(
          { url, status: report.status },
          `the webhook refused the ${report.kind} with status ${report.status}; not retried`,
        );
        return;
      case 'reply':
        logger.debug({ url, event: report.event }, 'the webhook answered with a reply');
        return;
      case 'ignored':
        logger.warn({ url, event: report.event }, `the webhook's answer was not sent: ${report.reason}`);
        return;
    }
  };
}
