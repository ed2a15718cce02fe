/** dev's outcome lines and emit's answer lines: the text for each kind of outcome, exactly. */
import { describe, expect, it } from 'vitest';
import { formatAnswer } from '../../src/cli/answer-format.js';
import { formatOutcome } from '../../src/dev/outcome-format.js';
import { C4cError } from '../../src/errors.js';
import type { RoutedEvent } from '../../src/protocol/events.js';
import type { EventOutcome } from '../../src/runner/pipeline.js';

const message = {
  name: 'message',
  event: { type: 'message', employmentId: 3, messageId: 'msg_1', timestamp: '', content: 'hi' },
} as RoutedEvent;
const notification = (name: string, data: Record<string, unknown>) =>
  ({
    name,
    event: { type: 'notification', domain: 'x', event: 'x', messageId: 'n', timestamp: '', data },
  }) as unknown as RoutedEvent;

const outcome = (o: Partial<EventOutcome> & Pick<EventOutcome, 'kind'>): EventOutcome => ({
  routed: message,
  file: 'handlers/message.ts',
  durationMs: 2.6,
  ...o,
});

describe('formatOutcome', () => {
  it('shows a reply shortened to one line, with the handler time', () => {
    expect(
      formatOutcome(outcome({ kind: 'replied', value: 'echo: hi', action: 'message into employment 3' })),
    ).toEqual({
      ok: true,
      text: '↳ Employment #3: replied in 3 ms: "echo: hi"',
    });
    const long = formatOutcome(
      outcome({ kind: 'replied', value: { content: `a\nb${'x'.repeat(200)}` } }),
    ).text;
    expect(long).toMatch(/^↳ Employment #3: replied in 3 ms: "a ⏎ bx+…"$/);
    expect(long.length).toBeLessThan(130);
  });

  it('names the action of a service result, a deliverable and an offer', () => {
    const service = notification('service-invoked', { invocationId: 4 });
    expect(
      formatOutcome(
        outcome({
          routed: service,
          kind: 'replied',
          value: { upper: 'HI' },
          action: 'invocation 4 completed',
        }),
      ).text,
    ).toBe('↳ service-invoked: invocation 4 completed in 3 ms: {"upper":"HI"}');
    const task = notification('task-accepted', { applicationId: 5 });
    expect(
      formatOutcome(
        outcome({ routed: task, kind: 'replied', value: 'done', action: 'task application 5 submitted' }),
      ).text,
    ).toBe('↳ task-accepted: deliverable submitted for application 5 in 3 ms: "done"');
    const offer = notification('employment-offered', { employmentId: 7 });
    expect(
      formatOutcome(
        outcome({ routed: offer, kind: 'replied', value: false, action: 'employment 7 rejected' }),
      ).text,
    ).toBe('↳ employment-offered: employment 7 rejected in 3 ms');
  });

  it('tells nothing returned, a throw, a bad reply, a timeout, a shutdown and an unsent reply apart', () => {
    expect(formatOutcome(outcome({ kind: 'no-reply' }))).toEqual({
      ok: true,
      text: '↳ Employment #3: returned nothing in 3 ms (no reply sent)',
    });
    expect(formatOutcome(outcome({ kind: 'failed', error: new TypeError('x is not a function') }))).toEqual({
      ok: false,
      text: '✗ Employment #3: handlers/message.ts threw after 3 ms: TypeError: x is not a function',
    });
    expect(
      formatOutcome(outcome({ kind: 'failed', error: new C4cError('E_REPLY', 'returned 42') })).text,
    ).toBe('✗ Employment #3: bad reply after 3 ms: returned 42');
    expect(formatOutcome(outcome({ kind: 'timed-out', durationMs: 5000 })).text).toBe(
      '✗ Employment #3: handlers/message.ts timed out after 5000 ms',
    );
    expect(formatOutcome(outcome({ kind: 'aborted' })).text).toBe(
      '✗ Employment #3: handlers/message.ts was stopped by shutdown after 3 ms',
    );
    expect(formatOutcome(outcome({ kind: 'unsent', error: new Error('socket closed') })).text).toBe(
      '✗ Employment #3: the reply of handlers/message.ts could not be sent (socket closed); it will be retried',
    );
  });
});

describe('formatAnswer', () => {
  it('shows what the other party got back', () => {
    expect(formatAnswer({ kind: 'invocation', invocationId: 4, status: 'completed', output: { a: 1 } })).toBe(
      '↳ invocation 4 completed: {"a":1}',
    );
    expect(formatAnswer({ kind: 'invocation', invocationId: 4, status: 'failed', error: 'boom' })).toBe(
      '✗ invocation 4 failed: boom',
    );
    expect(formatAnswer({ kind: 'deliverable', taskId: 2, content: 'done' })).toBe(
      '↳ deliverable submitted for task 2: "done"',
    );
    expect(formatAnswer({ kind: 'offer', employmentId: 7, accepted: true })).toBe('↳ employment 7 accepted');
  });
});
