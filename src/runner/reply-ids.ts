/**
 * Deterministic reply ids. Handling is at-least-once: a process killed after a reply went out but
 * before its acknowledgement handles the message again after the restart. The second run's replies
 * get the same `messageId`s as the first run's (derived from the incoming event's id and the reply's
 * position), and the platform stores and delivers a repeated `messageId` in an employment once — so
 * the other party sees each reply once, even when the handler ran twice.
 */
import { createHash } from 'node:crypto';
import type { ClientFrame } from '../protocol/frames.js';

/**
 * The id of the `index`-th message sent while handling the event `sourceId`: `msg_` + a UUID-shaped
 * (version 8, RFC 9562) digest, so it looks like any other client's id.
 */
export function replyMessageId(sourceId: string, index: number): string {
  const hex = createHash('sha256').update(`c4c-reply\u0000${sourceId}\u0000${index}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `msg_${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Wraps the senders of one event: each message frame either sends gets the next deterministic id,
 * in the order they are sent. Other frames pass unchanged.
 */
export function replySenders<S extends (frame: ClientFrame) => Promise<unknown>>(
  send: S,
  confirmed: S,
  sourceId: string,
): { send: S; confirmed: S } {
  let index = 0;
  const wrap =
    (inner: S) =>
    (frame: ClientFrame): Promise<unknown> =>
      frame.type === 'message'
        ? inner({ ...frame, messageId: replyMessageId(sourceId, index++) })
        : inner(frame);
  return { send: wrap(send) as S, confirmed: wrap(confirmed) as S };
}

/**
 * Wraps a sender so that its promise rejects with the signal's reason once `signal` aborts, even if
 * the underlying send would wait on (a confirmation from a platform that stopped answering).
 */
export function untilAborted<S extends (frame: ClientFrame) => Promise<unknown>>(
  send: S,
  signal: AbortSignal,
): S {
  return ((frame: ClientFrame) => {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      send(frame).then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }) as S;
}
