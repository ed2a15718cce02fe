/**
 * What a handler may return, by event (docs/handlers.md, reply rules). Each schema is checked before the
 * reply leaves; the types are what `defineHandler` accepts as a return value.
 */
import { z } from 'zod';
import { messageMetadataSchema } from './frames.js';
import type { EventName } from './events.js';

/** `message`: a string is the content; an object may carry `content` and `metadata`. */
export const messageReplySchema = z.union([
  z.string(),
  z.object({ content: z.string(), metadata: messageMetadataSchema.optional() }),
]);

/**
 * `service-invoked`: the invocation's `output` object (submitted with `status: completed`).
 * A string is submitted as `{ result: <string> }`. A thrown error submits `status: failed`.
 */
export const serviceReplySchema = z.union([z.string(), z.record(z.string(), z.unknown())]);

/** `task-accepted`: the deliverable. A string is its `content`. */
export const taskReplySchema = z.union([
  z.string(),
  z.object({
    content: z.string(),
    attachments: z.array(z.string()).optional(),
    notes: z.string().optional(),
  }),
]);

/** `employment-offered`: accept (`true`) or reject (`false`), or say so with a message. */
export const offerReplySchema = z.union([
  z.boolean(),
  z.object({ accept: z.boolean(), message: z.string().optional(), reason: z.string().optional() }),
]);

export const REPLY_SCHEMAS = {
  message: messageReplySchema,
  'service-invoked': serviceReplySchema,
  'task-accepted': taskReplySchema,
  'employment-offered': offerReplySchema,
} as const;

export type RepliableEvent = keyof typeof REPLY_SCHEMAS;

/** The type a handler of event `E` may return. Events without a reply rule return nothing. */
export type ReplyOf<E extends EventName> = E extends RepliableEvent
  ? z.input<(typeof REPLY_SCHEMAS)[E]> | void | undefined | null
  : void | undefined;

export type MessageReply = z.infer<typeof messageReplySchema>;
export type ServiceReply = z.infer<typeof serviceReplySchema>;
export type TaskReply = z.infer<typeof taskReplySchema>;
export type OfferReply = z.infer<typeof offerReplySchema>;

export function hasReplyRule(name: EventName): name is RepliableEvent {
  return name in REPLY_SCHEMAS;
}
