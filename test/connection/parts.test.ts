/** The connection's pure parts: outbox order and bounds, backoff schedule, option checks. */
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/connection/backoff.js';
import { Connection } from '../../src/connection/connection.js';
import { resolveHeartbeat } from '../../src/connection/heartbeat.js';
import { Outbox, type OutboxEntry } from '../../src/connection/outbox.js';

const entry = (seq: number): OutboxEntry => ({
  seq,
  frame: { type: 'message', employmentId: 1, messageId: `msg_${seq}`, content: String(seq) },
  data: '',
  retries: 0,
  until: 'written',
  written: 0,
  announced: false,
});
const drain = (outbox: Outbox): number[] => {
  const out: number[] = [];
  for (let e = outbox.shift(); e; e = outbox.shift()) out.push(e.seq);
  return out;
};

describe('Outbox', () => {
  it('puts re-queued frames back in their original places among the waiting ones', () => {
    const outbox = new Outbox(100);
    for (const seq of [3, 6, 7, 10]) outbox.push(entry(seq));
    outbox.requeue([entry(5), entry(1), entry(8)]);
    outbox.requeue([entry(2)]);
    expect(drain(outbox)).toEqual([1, 2, 3, 5, 6, 7, 8, 10]);
  });

  it('refuses new frames beyond its limit with E_BACKLOG but always takes re-queued ones', () => {
    const outbox = new Outbox(2);
    outbox.push(entry(2));
    outbox.push(entry(3));
    expect(() => outbox.push(entry(4))).toThrow(expect.objectContaining({ code: 'E_BACKLOG' }));
    outbox.requeue([entry(1)]);
    expect(outbox.size).toBe(3);
    expect(drain(outbox)).toEqual([1, 2, 3]);
  });

  it('stays ordered through many shifts, pushes and re-queues', () => {
    const outbox = new Outbox(10_000);
    let seq = 0;
    const taken: OutboxEntry[] = [];
    const seen: number[] = [];
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 150; i++) outbox.push(entry(++seq));
      for (let i = 0; i < 120; i++) taken.push(outbox.shift()!);
      // A drop: the last 40 taken come back.
      outbox.requeue(taken.splice(-40));
      for (const e of taken.splice(0)) seen.push(e.seq);
    }
    seen.push(...drain(outbox));
    expect(seen).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
  });
});

describe('Backoff', () => {
  it('follows min(maxDelay, initialDelay × 2^(n−1)) × random, and resets', () => {
    const backoff = new Backoff({ initialDelay: 100, maxDelay: 1_000, random: () => 0.999 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next().delay)).toEqual([99, 199, 399, 799, 999, 999]);
    backoff.reset();
    expect(backoff.next()).toEqual({ attempt: 1, delay: 99 });
  });

  it('rejects nonsense settings with the key in the message', () => {
    expect(() => new Backoff({ initialDelay: -1 })).toThrow(/reconnect\.initialDelay/);
    expect(() => new Backoff({ maxAttempts: 0 })).toThrow(/reconnect\.maxAttempts/);
    expect(() => resolveHeartbeat({ interval: 30_000, timeout: 10_000 })).toThrow(
      /heartbeat\.timeout must be .* greater than heartbeat\.interval/,
    );
    expect(() => new Outbox(0)).toThrow(/outbox\.limit/);
  });
});

describe('Connection options', () => {
  it('says what is wrong with the URL or the token before connecting', () => {
    expect(() => new Connection({ url: 'http://127.0.0.1:7420', token: 'cl_x' })).toThrow(
      /ws:\/\/ or wss:\/\/.*wsUrlFor/,
    );
    expect(() => new Connection({ url: 'not a url', token: 'cl_x' })).toThrow(/is not a URL/);
    expect(() => new Connection({ url: 'ws://127.0.0.1:1/ws', token: '' })).toThrow(
      /C4C_API_TOKEN or platform\.token/,
    );
  });
});
