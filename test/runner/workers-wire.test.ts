/**
 * How errors and log arguments cross a thread (src/runner/workers/wire.ts): through a real
 * structured clone, as a MessagePort copies them.
 */
import { describe, expect, it } from 'vitest';
import { C4cError, PlatformError } from '../../src/errors.js';
import { RetryLaterError } from '../../src/runner/retry.js';
import { WebhookError } from '../../src/webhook/client.js';
import { fromWire, logArgsFromWire, logArgsToWire, toWire } from '../../src/runner/workers/wire.js';

const cross = (error: unknown): unknown => fromWire(structuredClone(toWire(error)));

describe('errors across a thread', () => {
  it('the runner’s classes come back as themselves, with code, details and their own fields', () => {
    const platform = cross(new PlatformError(404, 'NOT_FOUND', 'no such employment', { details: { id: 9 } }));
    expect(platform).toBeInstanceOf(PlatformError);
    expect(platform).toMatchObject({
      status: 404,
      platformCode: 'NOT_FOUND',
      code: 'E_PLATFORM',
      details: { id: 9 },
    });

    const retry = cross(new RetryLaterError('busy', { delay: 250 }));
    expect(retry).toBeInstanceOf(RetryLaterError);
    expect(retry).toMatchObject({ message: 'busy', delay: 250 });

    // A subclass the other side has no constructor for keeps its name, code and fields.
    const webhook = cross(new WebhookError('the webhook kept failing', 3));
    expect(webhook).toBeInstanceOf(C4cError);
    expect(webhook).toMatchObject({ name: 'WebhookError', code: 'E_WEBHOOK', attempts: 3 });
  });

  it('built-in classes, causes, stacks and a user class’s name and fields survive; a non-Error stays a value', () => {
    class QuotaError extends Error {
      override name = 'QuotaError';
      readonly code = 'E_QUOTA';
      readonly socket = () => 'not cloneable';
    }
    const original = new TypeError('bad input', { cause: new QuotaError('over quota') });
    const back = cross(original) as TypeError & { cause: Error & { code: string; socket?: unknown } };
    expect(back).toBeInstanceOf(TypeError);
    expect(back.stack).toBe(original.stack);
    // Not a C4cError for having an E_ code: only the runner's own errors are rebuilt as one.
    expect(back.cause).not.toBeInstanceOf(C4cError);
    expect(back.cause).toMatchObject({ name: 'QuotaError', message: 'over quota', code: 'E_QUOTA' });
    expect(back.cause.socket).toBeUndefined();

    expect(cross('a string')).toBe('a string');
    expect(cross({ reason: 'plain object' })).toEqual({ reason: 'plain object' });
  });

  it('log arguments: errors at the top level or under a key are rebuilt; what cannot be cloned is described', () => {
    const args = logArgsToWire([{ err: new C4cError('E_STATE', 'gone'), fn: () => 1, n: 1 }, 'message']);
    const [object, message] = logArgsFromWire(structuredClone(args)) as [Record<string, unknown>, string];
    expect(object.err).toBeInstanceOf(C4cError);
    expect(object.err).toMatchObject({ code: 'E_STATE', message: 'gone' });
    expect(object.fn).toBe('() => 1');
    expect(object.n).toBe(1);
    expect(message).toBe('message');
    expect(logArgsFromWire(structuredClone(logArgsToWire([new RangeError('r')])))[0]).toBeInstanceOf(
      RangeError,
    );
  });
});
