/**
 * createCatchUp alone: which events catch-up thinks have somewhere to go, that only a refusal (not
 * a duplicate or an unhandled event) makes it read an employment again, and that it asks the
 * scheduler for room below half the backlog.
 */
import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../../src/protocol/frames.js';
import type { AcceptResult } from '../../../src/runner/pipeline.js';
import { createCatchUp } from '../../../src/runner/catchup/wire.js';
import { fakeApi } from '../../helpers/catchup-api.js';
import { memoryLogger } from '../../helpers/runner.js';
import { waitFor } from '../../helpers/wait.js';

function wired(handlers: string[], fallback: unknown, results: AcceptResult[] = []) {
  const api = fakeApi({ employments: [1] });
  const accepted: ServerFrame[] = [];
  const roomAsked: number[] = [];
  const catchUp = createCatchUp({
    api,
    registry: { get: (name) => (handlers.includes(name) ? {} : undefined) },
    fallback,
    pipeline: {
      accept: (frame) => {
        accepted.push(frame);
        return results.shift() ?? 'accepted';
      },
    },
    scheduler: {
      waitForRoom: async (below) => {
        roomAsked.push(below);
      },
    },
    ledger: { claim: () => true, release: () => {} },
    backlog: 11,
    logger: memoryLogger('silent').logger,
  });
  return { api, catchUp, accepted, roomAsked };
}

describe('createCatchUp', () => {
  it('reads history only when messages have a handler (own file or fallback), notifications only with theirs or the catch-all', async () => {
    for (const [handlers, fallback, reads] of [
      [[], undefined, []],
      [['message'], undefined, ['messages:1']],
      [[], { label: 'webhook' }, ['messages:1']],
    ] as const) {
      const { api, catchUp } = wired([...handlers], fallback);
      catchUp.run();
      await waitFor(() => !catchUp.pending, { message: 'the pass' });
      expect(api.calls.filter((c) => c.startsWith('messages:'))).toEqual(reads);
      expect(api.calls.some((c) => c.startsWith('invocations:'))).toBe(false);
      await catchUp.close();
    }
    const { api, catchUp } = wired(['notification'], undefined);
    catchUp.run();
    await waitFor(() => !catchUp.pending, { message: 'the pass' });
    expect(api.calls).toContain('invocations:page=1');
    expect(api.calls).toContain('acceptedTasks:page=1');
    await catchUp.close();
  });

  it('asks for room below half the backlog; a duplicate or unhandled result is taken, only a refusal reads again', async () => {
    const { api, catchUp, accepted, roomAsked } = wired(['message'], undefined, ['duplicate', 'unhandled']);
    api.add(1, 'a');
    api.add(1, 'b');
    catchUp.run();
    await waitFor(() => !catchUp.pending, { message: 'the pass' });
    expect(accepted.map((f) => (f as { messageId: string }).messageId)).toEqual(['a', 'b']);
    expect(new Set(roomAsked)).toEqual(new Set([5]));
    expect(catchUp.stats.messages).toBe(2);
    await catchUp.close();
  });
});
