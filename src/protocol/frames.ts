/**
 * WebSocket frames of the Claw4Claw platform (docs/protocol.md, "WebSocket frames").
 *
 * Objects are loose: the real platform may send keys this project does not know, and they must
 * pass through to handlers untouched.
 */
import { z } from 'zod';
import { idSchema } from './ids.js';

/** Largest frame, in bytes, that the runner and the embedded platform accept. @default 1 MiB */
export const MAX_FRAME_BYTES = 1024 * 1024;

export const attachmentSchema = z.looseObject({
  type: z.string().optional(),
  url: z.string(),
  name: z.string().optional(),
  size: z.number().nonnegative().optional(),
});
export type Attachment = z.infer<typeof attachmentSchema>;

export const messageMetadataSchema = z.looseObject({
  format: z.string().optional(),
  language: z.string().optional(),
  attachments: z.array(attachmentSchema).optional(),
});
export type MessageMetadata = z.infer<typeof messageMetadataSchema>;

/** The public client sends a number; a numeric string is accepted too and kept as sent (ids.ts). */
const employmentId = idSchema;
const timestamp = z.string();

/** A chat message, the same shape in both directions. */
export const messageFrameSchema = z.looseObject({
  type: z.literal('message'),
  employmentId,
  messageId: z.string().min(1),
  timestamp,
  content: z.string(),
  metadata: messageMetadataSchema.optional(),
});
export type MessageFrame = z.infer<typeof messageFrameSchema>;

/**
 * {@link messageFrameSchema}'s fields, unknown keys ignored instead of copied: what
 * {@link decodeServerFrame} checks a message frame with before it hands on the parsed JSON itself.
 */
const messageFieldsSchema = z.object(messageFrameSchema.shape);

/**
 * A message as a client may send it: the public client always fills `messageId` and `timestamp`,
 * but the platform fills them when a lenient client leaves them out.
 */
export const outgoingMessageFrameSchema = messageFrameSchema.extend({
  messageId: z.string().min(1).optional(),
  timestamp: timestamp.optional(),
});
export type OutgoingMessageFrame = z.infer<typeof outgoingMessageFrameSchema>;

export const notificationFrameSchema = z.looseObject({
  type: z.literal('notification'),
  domain: z.string(),
  event: z.string(),
  messageId: z.string().optional(),
  timestamp: timestamp.optional(),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type NotificationFrame = z.infer<typeof notificationFrameSchema>;

export const readFrameSchema = z.looseObject({
  type: z.literal('read'),
  employmentId,
  messageId: z.string().optional(),
  lastReadMessageId: z.string().optional(),
  timestamp: timestamp.optional(),
});
export type ReadFrame = z.infer<typeof readFrameSchema>;

export const errorFrameSchema = z.looseObject({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorFrame = z.infer<typeof errorFrameSchema>;

const heartbeatTimestamp = z.union([z.string(), z.number()]).optional();
export const pingFrameSchema = z.looseObject({ type: z.literal('ping'), timestamp: heartbeatTimestamp });
export const pongFrameSchema = z.looseObject({ type: z.literal('pong'), timestamp: heartbeatTimestamp });
export type PingFrame = z.infer<typeof pingFrameSchema>;
export type PongFrame = z.infer<typeof pongFrameSchema>;

/** Any frame the platform may send to an agent. */
export const serverFrameSchema = z.discriminatedUnion('type', [
  messageFrameSchema,
  notificationFrameSchema,
  readFrameSchema,
  errorFrameSchema,
  pingFrameSchema,
  pongFrameSchema,
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

/** Any frame an agent may send to the platform. */
export const clientFrameSchema = z.discriminatedUnion('type', [
  outgoingMessageFrameSchema,
  readFrameSchema,
  pingFrameSchema,
  pongFrameSchema,
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** Error codes this project uses on the wire (docs/protocol.md, "WebSocket frames"). The real platform may send others. */
export const ERROR_CODES = [
  'UNAUTHORIZED',
  'EMPLOYMENT_NOT_ACTIVE',
  'RATE_LIMITED',
  'INVALID_FRAME',
  'NOT_FOUND',
] as const;
export type WireErrorCode = (typeof ERROR_CODES)[number];

/**
 * Classifies an error frame leniently, by code or by message text, since the real platform's codes
 * are not public.
 */
export function classifyError(frame: { code?: string; message?: string }): WireErrorCode | 'UNKNOWN' {
  const text = `${frame.code ?? ''} ${frame.message ?? ''}`.toLowerCase();
  if (/unauthori[sz]ed|authentication|invalid api key|401/.test(text)) return 'UNAUTHORIZED';
  if (/employment.?not.?active|not active/.test(text)) return 'EMPLOYMENT_NOT_ACTIVE';
  if (/rate.?limit|too many|429/.test(text)) return 'RATE_LIMITED';
  if (/invalid.?frame|malformed|bad frame/.test(text)) return 'INVALID_FRAME';
  if (/not.?found|404/.test(text)) return 'NOT_FOUND';
  return 'UNKNOWN';
}

export type DecodeResult =
  | { ok: true; frame: ServerFrame }
  | {
      ok: false;
      reason: 'too-large' | 'not-json' | 'not-object' | 'unknown-type' | 'invalid';
      detail: string;
    };

/**
 * Turns raw text from the socket into a validated frame, or says why it is not one.
 * Never throws: a bad frame is a counted rejection, not a crash.
 */
export function decodeServerFrame(raw: string | Buffer): DecodeResult {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
  if (size > MAX_FRAME_BYTES) {
    return { ok: false, reason: 'too-large', detail: `frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: 'not-json', detail: (error as Error).message };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not-object', detail: 'a frame must be a JSON object' };
  }
  const type = (value as { type?: unknown }).type;
  if (type === 'message') {
    // The hot path. Checked by the message schema's fields without its copy: a message frame has no
    // defaults or transforms, so the parsed copy equals the input, keys zod does not know included
    // (the loose schema copies them one by one). The frame is the parsed JSON itself.
    const checked = messageFieldsSchema.safeParse(value);
    if (!checked.success) return { ok: false, reason: 'invalid', detail: z.prettifyError(checked.error) };
    return { ok: true, frame: value as MessageFrame };
  }
  if (!SERVER_FRAME_TYPES.has(type as string)) {
    return { ok: false, reason: 'unknown-type', detail: `unknown frame type ${JSON.stringify(type)}` };
  }
  const parsed = serverFrameSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, reason: 'invalid', detail: z.prettifyError(parsed.error) };
  }
  return { ok: true, frame: parsed.data };
}

const SERVER_FRAME_TYPES = new Set(['message', 'notification', 'read', 'error', 'ping', 'pong']);

/** `msg_` + a UUID, as the public client fills it. */
export function newMessageId(): string {
  return `msg_${crypto.randomUUID()}`;
}

/** RFC 3339 in UTC with seconds, as the public client writes it (`2026-04-12T10:00:00Z`). */
export function rfc3339(date?: Date): string {
  if (date) return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  // Now, to the second: formatted once per second, not once per frame (a Date, toISOString and a
  // regex per reply were ~3 µs of the runner's CPU per reply; docs/benchmarks.md).
  const second = Math.floor(Date.now() / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastStamp = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return lastStamp;
}

let lastSecond = Number.NaN;
let lastStamp = '';

const CLIENT_FRAME_TYPES = new Set(['message', 'read', 'ping', 'pong']);

export type ClientDecodeResult =
  | { ok: true; frame: ClientFrame }
  | {
      ok: false;
      reason: 'binary' | 'too-large' | 'not-json' | 'not-object' | 'unknown-type' | 'invalid';
      detail: string;
      /** The refused frame's `messageId`, when it had a string one (for `details.messageId`). */
      messageId?: string;
    };

/**
 * Turns raw data from an agent's socket into a validated client frame, or says why it is not one.
 * The embedded platform answers every refusal with an `INVALID_FRAME` error frame. Never throws.
 */
export function decodeClientFrame(raw: string | Buffer, isBinary = false): ClientDecodeResult {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
  if (size > MAX_FRAME_BYTES) {
    return {
      ok: false,
      reason: 'too-large',
      detail: `frame of ${size} bytes exceeds the limit of ${MAX_FRAME_BYTES} bytes`,
    };
  }
  if (isBinary)
    return { ok: false, reason: 'binary', detail: 'binary frames are not supported; send JSON text frames' };
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: 'not-json', detail: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not-object', detail: 'a frame must be a JSON object with a "type"' };
  }
  const candidate = (value as { messageId?: unknown }).messageId;
  const messageId = typeof candidate === 'string' && candidate ? { messageId: candidate } : {};
  const type = (value as { type?: unknown }).type;
  if (!CLIENT_FRAME_TYPES.has(type as string)) {
    return {
      ok: false,
      reason: 'unknown-type',
      detail: `unknown frame type ${JSON.stringify(type)}; an agent may send ${[...CLIENT_FRAME_TYPES].join(', ')}`,
      ...messageId,
    };
  }
  const parsed = clientFrameSchema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      reason: 'invalid',
      detail: `invalid ${String(type)} frame: ${z.prettifyError(parsed.error)}`,
      ...messageId,
    };
  }
  return { ok: true, frame: parsed.data };
}
