/**
 * HeldFrames alone: which live messages are held, in what order they come back, and what a limit,
 * a refusal (dirty) and a new socket (forget) do to them.
 */
import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../../src/protocol/frames.js';
import { HeldFrames } from '../../../src/runner/catchup/held.js';

const live = (employmentId: number, messageId: string): Extract<ServerFrame, { type: 'message' }> => ({
  type: 'message',
  employmentId,
  messageId,
  timestamp: '2026-11-30T00:00:00Z',
  content: messageId,
});
const ids = (held: HeldFrames, id: number): (string | undefined)[] => {
  const out: (string | undefined)[] = [];
  for (let f = held.shift(id); f; f = held.shift(id)) out.push((f as { messageId?: string }).messageId);
  return out;
};

describe('HeldFrames', () => {
  it('passes an employment that is not held, holds one that is, and returns its frames in arrival order', () => {
    const held = new HeldFrames(10);
    expect(held.offer(live(1, 'a'))).toBe('pass');
    held.hold(1);
    expect(held.offer(live(1, 'b'))).toBe('held');
    expect(held.offer(live(2, 'x'))).toBe('pass');
    expect(held.offer(live(1, 'c'))).toBe('held');
    expect(held.size).toBe(2);
    expect(held.messageIds(1)).toEqual(new Set(['b', 'c']));
    expect(held.shift(1)).toMatchObject({ messageId: 'b' });
    // A frame held while the list drains joins its end.
    expect(held.offer(live(1, 'd'))).toBe('held');
    expect(ids(held, 1)).toEqual(['c', 'd']);
    expect(held.has(1)).toBe(false);
    expect(held.size).toBe(0);
    expect(held.employments()).toEqual([]);
  });

  it('holdAll holds every employment until the list is known; then only the listed ones stay held', () => {
    const held = new HeldFrames(10);
    held.holdAll();
    expect(held.offer(live(7, 'a'))).toBe('held');
    expect(held.offer(live(8, 'b'))).toBe('held');
    held.hold(7);
    held.holdListed();
    expect(held.isHolding(7)).toBe(true);
    expect(held.isHolding(8)).toBe(false);
    // Employment 8's frame is still held until someone releases it.
    expect(held.employments().sort()).toEqual([7, 8]);
    held.unholdAllBut(new Set([8]));
    expect(held.isHolding(7)).toBe(false);
  });

  it('over the limit a frame is not kept: its employment is held and dirty (history is read again)', () => {
    const held = new HeldFrames(2);
    held.hold(1);
    held.offer(live(1, 'a'));
    held.offer(live(1, 'b'));
    expect(held.offer(live(2, 'c'))).toBe('pass');
    expect(held.offer(live(1, 'c'))).toBe('overflow');
    expect(held.isDirty(1)).toBe(true);
    expect(held.size).toBe(2);
    // A frame of another employment over the limit holds that employment too.
    expect(held.isHolding(3)).toBe(false);
    expect(held.offer({ ...live(1, 'x'), employmentId: 3 })).toBe('pass');
    held.hold(3);
    expect(held.offer(live(3, 'y'))).toBe('overflow');
    expect(held.isDirty(3)).toBe(true);
    held.clean(3);
    expect(held.isDirty(3)).toBe(false);
  });

  it('drop forgets one employment; forget (a new socket) forgets every frame but keeps which are held', () => {
    const held = new HeldFrames(10);
    held.hold(1);
    held.hold(2);
    held.offer(live(1, 'a'));
    held.offer(live(2, 'b'));
    held.offer(live(2, 'c'));
    held.markDirty(2);
    held.drop(2);
    expect(held.size).toBe(1);
    expect(held.has(2)).toBe(false);
    held.forget();
    expect(held.size).toBe(0);
    expect(held.isDirty(2)).toBe(false);
    expect(held.isHolding(1)).toBe(true);
    expect(held.offer(live(1, 'd'))).toBe('held');
    held.clear();
    expect(held.size).toBe(0);
    expect(held.isHolding(1)).toBe(false);
  });

  it('keeps ids written as strings in the employment they name (canonical number)', () => {
    const held = new HeldFrames(10);
    held.hold(12);
    expect(held.offer({ ...live(12, 'a'), employmentId: '12' })).toBe('held');
    expect(held.has(12)).toBe(true);
  });
});
