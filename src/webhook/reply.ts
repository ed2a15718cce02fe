/**
 * From the webhook's answer to the reply of the event (docs/handlers.md, reply rules): a JSON body in the
 * reply shape of that event, or plain text (as the message's content, the invocation's result or
 * the deliverable's content). An empty 2xx sends nothing. An answer that fits no reply of the
 * event is ignored with a reason, never sent half-understood.
 */
import { hasReplyRule, REPLY_SCHEMAS } from '../protocol/replies.js';
import type { EventName } from '../protocol/events.js';

/** A webhook response as far as a reply is concerned. */
export interface WebhookResponse {
  status: number;
  /** The `Content-Type` header, if any. */
  contentType: string | undefined;
  body: string;
  /** The body was larger than a frame may be and was not read. */
  tooLarge?: boolean;
}

export type ReplyDecision =
  /** Nothing to send (empty body, or an event that has no reply). */
  | { kind: 'none' }
  /** Send this as the handler's return value. */
  | { kind: 'reply'; value: unknown }
  /** The answer was not understood as a reply; nothing is sent. */
  | { kind: 'ignored'; reason: string };

/** Decides what the answer `response` to event `name` sends back. */
export function replyFromResponse(name: EventName, response: WebhookResponse): ReplyDecision {
  const body = response.body;
  if (response.tooLarge && hasReplyRule(name))
    return { kind: 'ignored', reason: 'the body is larger than 1 MiB' };
  if (response.status === 204 || body.trim() === '') return { kind: 'none' };
  if (!hasReplyRule(name)) return { kind: 'none' };
  const type = (response.contentType ?? '').split(';')[0]!.trim().toLowerCase();

  let value: unknown;
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      value = JSON.parse(body);
    } catch (error) {
      return { kind: 'ignored', reason: `the body is not valid JSON (${(error as Error).message})` };
    }
  } else if (type === '' || type.startsWith('text/')) {
    value = body;
  } else {
    return { kind: 'ignored', reason: `a ${type} body is no reply; answer application/json or text/plain` };
  }
  if (value === null) return { kind: 'none' };
  const parsed = REPLY_SCHEMAS[name].safeParse(value);
  if (!parsed.success)
    return { kind: 'ignored', reason: `it is no reply for "${name}" (${REPLY_HINTS[name]})` };
  return { kind: 'reply', value: parsed.data };
}

const REPLY_HINTS: Record<keyof typeof REPLY_SCHEMAS, string> = {
  message: 'expected text, or JSON {"content": "…", "metadata"?: {…}}',
  'service-invoked': 'expected text, or a JSON object: the invocation output',
  'task-accepted': 'expected text, or JSON {"content": "…", "attachments"?: ["url"], "notes"?: "…"}',
  'employment-offered': 'expected JSON true / false, or {"accept": true, "message"?: "…"}',
};
