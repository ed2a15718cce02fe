/**
 * The JSON body POSTed to a webhook: the same keys and values the public client (`c4c connect
 * --webhook`) sends, so a receiver written for it works unchanged.
 *
 * Top-level keys come in the order the public client writes them (Go's encoding/json sorts map
 * keys), and `messageId` / `timestamp` are always present ("" when the platform left them out), as
 * there. Nested objects (`metadata`, `data`) carry every key and value received, unknown ones
 * included; their key order is not part of the contract (it was not with the public client either),
 * so receivers compare parsed JSON and verify signatures over the raw bytes.
 */
import type { Id } from '../protocol/ids.js';
import type { MessageFrame, NotificationFrame } from '../protocol/frames.js';

/** What a webhook receives for a chat message. */
export interface MessageWebhookBody {
  content: string;
  employmentId: Id;
  messageId: string;
  metadata?: MessageFrame['metadata'];
  timestamp: string;
  type: 'message';
}

/** What a webhook receives for a notification. */
export interface NotificationWebhookBody {
  data: Record<string, unknown>;
  domain: string;
  event: string;
  messageId: string;
  timestamp: string;
  type: 'notification';
}

export type WebhookBody = MessageWebhookBody | NotificationWebhookBody;

/** A frame a webhook can be given: messages and notifications (read receipts and errors are not forwarded). */
export type ForwardableFrame = MessageFrame | NotificationFrame;

/** The body for a frame, with its keys in wire order. */
export function webhookBody(frame: ForwardableFrame): WebhookBody {
  if (frame.type === 'message') {
    const body: MessageWebhookBody = {
      content: frame.content,
      employmentId: frame.employmentId,
      messageId: frame.messageId,
      ...(frame.metadata !== undefined ? { metadata: frame.metadata } : {}),
      timestamp: frame.timestamp,
      type: 'message',
    };
    return body;
  }
  return {
    data: frame.data,
    domain: frame.domain,
    event: frame.event,
    messageId: frame.messageId ?? '',
    timestamp: frame.timestamp ?? '',
    type: 'notification',
  };
}

/** The exact bytes sent (and signed). */
export function encodeWebhookBody(frame: ForwardableFrame): string {
  return JSON.stringify(webhookBody(frame));
}
