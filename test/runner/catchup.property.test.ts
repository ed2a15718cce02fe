/**
 * Catch-up against its invariant, by property: random interleavings (a seeded generator) of live
 * messages, socket drops and reopens, history reads that fail for a while, handlers finishing, and
 * restarts (a new process: nothing held, nothing claimed), against a model of the platform — its
 * stored messages, its read cursor, pushes only to an open socket — and a model of the pipeline that
 * handles each employment in order and acknowledges after handling. Checked throughout and at the end:
 *
 * - an employment's read cursor only ever moves past messages that were handled;
 * - in the end every message is handled, and each employment's messages were first handled in the
 *   order the platform stored them.
 *
 * The default suite runs a fixed seed; C4C_PROPERTY_RUNS=500 runs more (each with its own seed).
 */
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { ServerFrame } from '../../src/protocol/frames.js';
import { CatchUp } from '../../src/runner/catchup/index.js';
import { memoryLogger } from '../helpers/runner.js';

const ME = 2;
const EMPLOYMENTS = [1, 2, 3];

interface Stored {
  seq: number;
  employmentId: number;
  messageId: string;
  createdAt: string;
  readAt: string | null;
}

/** mulberry32: small, fast, good enough to drive a property test, and the same run for a seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function run(
  seed: number,
  steps: number,
): Promise<{ violations: string[]; handled: number; sent: number }> {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const store: Stored[] = [];
  const violations: string[] = [];
  const handled = new Set<string>();
  const firstOrder = new Map<number, string[]>();
  let seq = 0;
  // The first socket opens as the runner starts.
  let open = true;
  let historyDown = false;

  // ── the platform's REST side, as catch-up reads it ──
  const api = {
    me: async () => ({ id: ME }),
    employments: async (q: { page?: number; limit?: number }) => {
      await turn();
      if (historyDown) throw new Error('502 from the gateway');
      const page = q.page ?? 1;
      const limit = q.limit ?? 20;
      const all = EMPLOYMENTS.map((id) => ({ id, status: 'active' }));
      return { employments: all.slice((page - 1) * limit, page * limit), total: all.length, page, limit };
    },
    messages: async (id: number, q: { before?: string; limit?: number }) => {
      await turn();
      if (historyDown) throw new Error('502 from the gateway');
      const before = q.before === undefined ? Number.POSITIVE_INFINITY : Number(q.before);
      const limit = q.limit ?? 20;
      const all = store.filter((m) => m.employmentId === id && m.seq < before);
      const page = all.slice(-limit).reverse();
      const hasMore = all.length > page.length;
      return {
        messages: page.map((m) => ({
          id: m.seq,
          employmentId: m.employmentId,
          senderAgentId: 1,
          receiverAgentId: ME,
          type: 'text',
          content: m.messageId,
          messageId: m.messageId,
          readAt: m.readAt,
          createdAt: m.createdAt,
        })),
        hasMore,
        nextCursor: hasMore ? String(page[page.length - 1]!.seq) : null,
      };
    },
  } as unknown as ApiClient;

  // ── the pipeline: claims, per-employment queues, handled in order, acknowledged after ──
  let claimed = new Set<string>();
  let queues = new Map<number, string[]>();
  const accept = (frame: ServerFrame): boolean => {
    if (frame.type !== 'message') return true;
    const employmentId = Number(frame.employmentId);
    const key = `${employmentId}/${frame.messageId}`;
    if (claimed.has(key)) return true;
    claimed.add(key);
    const queue = queues.get(employmentId) ?? [];
    queue.push(frame.messageId);
    queues.set(employmentId, queue);
    return true;
  };
  const handleOne = (employmentId: number): void => {
    const messageId = queues.get(employmentId)?.shift();
    if (messageId === undefined) return;
    if (!handled.has(messageId)) {
      handled.add(messageId);
      const order = firstOrder.get(employmentId) ?? [];
      order.push(messageId);
      firstOrder.set(employmentId, order);
    }
    // The acknowledgement: the read cursor moves to this message, covering every earlier one.
    const upTo = store.find((m) => m.messageId === messageId)!.seq;
    for (const m of store) {
      if (m.employmentId !== employmentId || m.seq > upTo || m.readAt) continue;
      if (!handled.has(m.messageId))
        violations.push(
          `seed ${seed}: cursor of employment ${employmentId} moved past unhandled ${m.messageId} (ack ${messageId})`,
        );
      m.readAt = 'read';
    }
  };

  const makeCatchUp = () =>
    new CatchUp({
      api,
      accept,
      claim: () => true,
      release: () => {},
      handles: (name) => name === 'message',
      waitForRoom: async () => {},
      logger: memoryLogger('silent').logger,
      retryDelay: 1,
    });
  let catchUp = makeCatchUp();
  const frameOf = (m: Stored): ServerFrame => ({
    type: 'message',
    employmentId: m.employmentId,
    messageId: m.messageId,
    timestamp: m.createdAt,
    content: m.messageId,
  });

  catchUp.run();
  let sent = 0;
  for (let step = 0; step < steps; step++) {
    const action = pick([
      'send',
      'send',
      'send',
      'handle',
      'handle',
      'handle',
      'tick',
      'tick',
      'drop',
      'open',
      'break',
      'fix',
      'restart',
    ] as const);
    switch (action) {
      case 'send': {
        const m: Stored = {
          seq: ++seq,
          employmentId: pick(EMPLOYMENTS),
          messageId: `msg_${seed}_${seq}`,
          createdAt: new Date(1_700_000_000_000 + seq).toISOString(),
          readAt: null,
        };
        store.push(m);
        sent++;
        // The platform pushes only to a socket open at the time.
        if (open) catchUp.deliver(frameOf(m));
        break;
      }
      case 'handle':
        handleOne(pick(EMPLOYMENTS));
        break;
      case 'tick':
        await turn();
        break;
      case 'drop':
        open = false;
        break;
      case 'open':
        if (!open) {
          open = true;
          catchUp.run();
        }
        break;
      case 'break':
        historyDown = true;
        break;
      case 'fix':
        historyDown = false;
        break;
      case 'restart':
        // A new process: what was claimed, queued or held is gone; the platform's state stays.
        await catchUp.close();
        claimed = new Set();
        queues = new Map();
        catchUp = makeCatchUp();
        open = true;
        catchUp.run();
        break;
    }
  }
  // Quiet down: history works, the socket is open, everything runs to the end.
  historyDown = false;
  if (!open) catchUp.run();
  for (let round = 0; round < 2_000 && handled.size < store.length; round++) {
    for (const id of EMPLOYMENTS) while ((queues.get(id)?.length ?? 0) > 0) handleOne(id);
    await new Promise<void>((resolve) => setTimeout(resolve, 2));
  }
  await catchUp.close();
  for (const m of store)
    if (!handled.has(m.messageId)) violations.push(`seed ${seed}: ${m.messageId} never handled`);
  for (const id of EMPLOYMENTS) {
    const expected = store.filter((m) => m.employmentId === id).map((m) => m.messageId);
    const got = firstOrder.get(id) ?? [];
    if (got.join() !== expected.join())
      violations.push(
        `seed ${seed}: employment ${id} handled out of order: ${got.join(' ')} (stored ${expected.join(' ')})`,
      );
  }
  return { violations, handled: handled.size, sent };
}

describe('catch-up, by property', () => {
  it('keeps the invariant over random interleavings of live messages, drops, failed reads and restarts', async () => {
    const runs = Number(process.env.C4C_PROPERTY_RUNS ?? 20);
    const first = Number(process.env.C4C_PROPERTY_SEED ?? 13);
    let sent = 0;
    for (let r = 0; r < runs; r++) {
      const result = await run(first + r, 150);
      expect(result.violations).toEqual([]);
      expect(result.handled).toBe(result.sent);
      sent += result.sent;
    }
    expect(sent).toBeGreaterThan(runs * 20);
  }, 120_000);
});
