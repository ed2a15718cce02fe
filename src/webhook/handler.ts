/**
 * A webhook as a handler: forward the event, and turn the webhook's answer into the event's reply.
 * `c4c-runner connect --webhook` runs it for every event; `start` and `dev` run it for events that
 * have no handler file when `c4c.config.ts` names a `webhook`.
 */
import type { EventName } from '../protocol/events.js';
import type { ForwardableFrame } from './body.js';
import type { WebhookClient } from './client.js';
import { replyFromResponse } from './reply.js';
import type { WebhookReporter } from './report.js';

/** The part of a handler's context the webhook needs. */
export interface WebhookHandlerContext {
  name: EventName;
  event: unknown;
  signal: AbortSignal;
}

/**
 * A handler function that forwards messages and notifications (read receipts and errors are not
 * forwarded, as with the public client). Resolves with the reply (or `undefined`); throws
 * `WebhookError` when the webhook kept failing, so the event is not acknowledged.
 * `reply: false` forwards only (the public client's behaviour). @default reply: true
 */
export function createWebhookHandler(
  client: WebhookClient,
  report?: WebhookReporter,
  options: { reply?: boolean; stopRetrying?: AbortSignal } = {},
) {
  return async (ctx: WebhookHandlerContext): Promise<unknown> => {
    const frame = ctx.event as { type?: unknown };
    if (frame.type !== 'message' && frame.type !== 'notification') return undefined;
    const forwardable = ctx.event as ForwardableFrame;
    const kind = forwardable.type === 'message' ? 'message' : 'notification';
    const result = await client.forward(forwardable, {
      signal: ctx.signal,
      ...(report ? { report } : {}),
      ...(options.stopRetrying ? { stopRetrying: options.stopRetrying } : {}),
    });
    // A refusal is the webhook's answer, not an outage: the event counts as handled.
    if (!result.ok) return undefined;
    // Forward-only, as the public client: the answer is not read.
    if (options.reply === false) return undefined;
    const decision = replyFromResponse(ctx.name, result.response);
    if (decision.kind === 'reply') {
      report?.({ type: 'reply', url: client.url, kind, event: ctx.name });
      return decision.value;
    }
    if (decision.kind === 'ignored')
      report?.({ type: 'ignored', url: client.url, kind, event: ctx.name, reason: decision.reason });
    return undefined;
  };
}
