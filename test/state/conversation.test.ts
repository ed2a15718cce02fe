/**
 * `ctx.state` over a store: JSON in and out, update as one step per employment, clear errors for
 * what JSON cannot hold and for events without an employment.
 */
import { describe, expect, it } from 'vitest';
import { isC4cError } from '../../src/errors.js';
import { conversationState } from '../../src/state/conversation.js';
import { MemoryStateStore } from '../../src/state/memory.js';

const owner = { label: 'handlers/message.ts', event: 'message' };

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('conversationState', () => {
  it('gets, sets, updates and deletes JSON, typed by the generic', async () => {
    const store = new MemoryStateStore();
    const state = conversationState(store, 'employment:1', owner);
    expect(await state.get()).toBeUndefined();
    await state.set({ notes: ['a'] });
    const notes = await state.get<{ notes: string[] }>();
    expect(notes).toEqual({ notes: ['a'] });
    // A copy: changing what was read changes nothing until set.
    notes!.notes.push('not saved');
    expect(await state.get()).toEqual({ notes: ['a'] });
    const next = await state.update<{ notes: string[] }>((s) => ({ notes: [...(s?.notes ?? []), 'b'] }));
    expect(next).toEqual({ notes: ['a', 'b'] });
    expect(await store.get('employment:1')).toBe('{"notes":["a","b"]}');
    await state.set(undefined);
    expect(await state.get()).toBeUndefined();
    await state.set(0);
    expect(await state.get()).toBe(0);
    await state.delete();
    expect(store.size).toBe(0);
  });

  it('runs concurrent updates of one employment one after the other (none is lost)', async () => {
    const store = new MemoryStateStore();
    const a = conversationState(store, 'employment:1', owner);
    const b = conversationState(store, 'employment:1', { ...owner, label: 'handlers/employment-ended.ts' });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).update<number>(async (n) => {
          await Promise.resolve();
          return (n ?? 0) + 1;
        }),
      ),
    );
    expect(await a.get()).toBe(20);
  });

  it('a failing update changes nothing and does not block the next', async () => {
    const state = conversationState(new MemoryStateStore(), 'employment:1', owner);
    await state.set(1);
    const error = await rejection(
      state.update(() => {
        throw new Error('changed my mind');
      }),
    );
    expect(error.message).toBe('changed my mind');
    expect(await state.update<number>((n) => (n ?? 0) + 1)).toBe(2);
  });

  it('refuses what JSON cannot hold, naming the handler', async () => {
    const state = conversationState(new MemoryStateStore(), 'employment:1', owner);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [cyclic, 10n, () => 1]) {
      const error = await rejection(state.set(bad));
      expect(isC4cError(error, 'E_STATE')).toBe(true);
      expect(error.message).toMatch(/^handlers\/message\.ts: ctx\.state takes JSON/);
    }
  });

  it('an event without an employment gets a clear error on use', async () => {
    const state = conversationState(new MemoryStateStore(), undefined, {
      label: 'handlers/task-accepted.ts',
      event: 'task-accepted',
    });
    const error = await rejection(state.get());
    expect(isC4cError(error, 'E_STATE')).toBe(true);
    expect(error.message).toMatch(
      /^handlers\/task-accepted\.ts: ctx\.state is kept per employment, and "task-accepted" has none/,
    );
  });

  it('says which key is not JSON when a store holds something else', async () => {
    const store = new MemoryStateStore();
    await store.set('employment:1', 'not json');
    const error = await rejection(conversationState(store, 'employment:1', owner).get());
    expect(error.message).toMatch(/the state "employment:1" in the store is not JSON/);
  });
});
