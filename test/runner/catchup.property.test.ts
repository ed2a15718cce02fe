/**
 * Catch-up against its invariant, by property: random interleavings (a seeded generator) of live
 * messages, service invocations (a notification pushed live, and pending until handled), socket
 * drops and reopens, history reads that fail for a while, a backlog that fills and refuses events
 * (live ones and caught-up ones) and frees again, handlers finishing, on-demand requests (the
 * `catchUpNow` seam, and live notifications naming an employment, which make it go before the rest
 * of a pass; every held live message does too), and restarts (a new process:
 * nothing held, nothing claimed), against a model of the platform — its stored messages, its read
 * cursor, its pending invocations, pushes only to an open socket — and a model of the pipeline that
 * claims each event once, handles each employment in order and acknowledges after handling. Checked
 * throughout and at the end:
 *
 * - an employment's read cursor only ever moves past messages that were handled;
 * - in the end every message is handled, and each employment's messages were first handled in the
 *   order the platform stored them;
 * - every invocation is handled exactly once (a live copy and a caught-up copy share one claim),
 *   after the next reconnect at the latest (a live notification refused by a full backlog waits for it).
 *
 * On-demand requests come from a second generator (seeded from the same seed) on `tick` steps, so
 * the main sequence of actions — and what the regression seeds below walk through — is unchanged.
 *
 * The default suite runs 20 fixed seeds (13…32) and the regression seeds below; C4C_PROPERTY_RUNS=500
 * runs more (each with its own seed), C4C_PROPERTY_SEED picks the first, C4C_PROPERTY_STEPS the length.
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
): Promise<{ violations: string[]; handled: number; sent: number; invocations: number }> {
  const random = seeded(seed);
  // On-demand requests draw from their own generator: the main sequence stays what it was.
  const demand = seeded(seed ^ 0x5bd1e995);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const store: Stored[] = [];
  const violations: string[] = [];
  const handled = new Set<string>();
  const firstOrder = new Map<number, string[]>();
  let seq = 0;
  const invocations: { id: number; status: 'pending' | 'completed'; handled: number }[] = [];
  // A full backlog: events are refused (not claimed) and catch-up waits for room.
  let full = false;
  const roomWaiters: (() => void)[] = [];
  const setFull = (value: boolean): void => {
    full = value;
    if (!full) for (const wake of roomWaiters.splice(0)) wake();
  };
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
    invocations: async (q: { page?: number; limit?: number }) => {
      await turn();
      if (historyDown) throw new Error('502 from the gateway');
      const page = q.page ?? 1;
      const limit = q.limit ?? 20;
      const all = invocations
        .filter((i) => i.status === 'pending')
        .map((i) => ({
          id: i.id,
          serviceId: 1,
          role: 'provider',
          status: 'pending',
          price: '1',
          createdAt: null,
        }));
      return { invocations: all.slice((page - 1) * limit, page * limit), total: all.length, page, limit };
    },
    acceptedTasks: async () => ({ tasks: [], total: 0 }),
  } as unknown as ApiClient;

  // ── the pipeline: claims, per-employment queues, handled in order, acknowledged after ──
  let claimed = new Set<string>();
  let queues = new Map<number, string[]>();
  let notes: number[] = [];
  const accept = (frame: ServerFrame): boolean => {
    if (full) return false;
    if (frame.type === 'notification') {
      // A notification that only names an employment has no handler here: taken, nothing to do.
      if (frame.data.invocationId === undefined) return true;
      const key = frame.messageId!;
      if (claimed.has(key)) return true;
      claimed.add(key);
      notes.push(Number(frame.data.invocationId));
      return true;
    }
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
  const handleNote = (): void => {
    const id = notes.shift();
    if (id === undefined) return;
    const invocation = invocations.find((i) => i.id === id)!;
    invocation.handled++;
    if (invocation.handled > 1) violations.push(`seed ${seed}: invocation ${id} handled twice`);
    invocation.status = 'completed';
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
      claim: (key) => !claimed.has(key) && Boolean(claimed.add(key)),
      release: (key) => claimed.delete(key),
      handles: (name) => name === 'message' || name === 'service-invoked',
      waitForRoom: (signal) =>
        full && !signal.aborted
          ? new Promise<void>((resolve) => {
              roomWaiters.push(resolve);
              signal.addEventListener('abort', () => resolve(), { once: true });
            })
          : Promise.resolve(),
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
  let inFlight: ServerFrame[] = [];
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
      'tick',
      'tick',
      'tick',
      'arrive',
      'arrive',
      'arrive',
      'arrive',
      'drop',
      'open',
      'break',
      'fix',
      'invoke',
      'fill',
      'free',
      'free',
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
        // The platform pushes only to a socket open at the time; the frame is on its way a while.
        if (open) inFlight.push(frameOf(m));
        break;
      }
      case 'handle':
        if (random() < 0.2) handleNote();
        else handleOne(pick(EMPLOYMENTS));
        break;
      case 'invoke': {
        const id = invocations.length + 1;
        invocations.push({ id, status: 'pending', handled: 0 });
        if (open)
          inFlight.push({
            type: 'notification',
            domain: 'service_invocation',
            event: 'service_invoked',
            messageId: `note_${seed}_${id}`,
            data: { invocationId: id },
          });
        break;
      }
      case 'fill':
        setFull(true);
        break;
      case 'free':
        setFull(false);
        break;
      case 'tick': {
        const r = demand();
        const employmentId = EMPLOYMENTS[Math.floor(demand() * EMPLOYMENTS.length)]!;
        // Asked for through the seam (as the refused-message repair does), at any moment of a pass.
        if (r < 0.15) catchUp.catchUpNow(employmentId, 'the property test');
        // A live notification naming an employment (in order with the socket's other frames).
        else if (r < 0.3 && open)
          inFlight.push({
            type: 'notification',
            domain: 'employment',
            event: 'employment_updated',
            messageId: `emp_${seed}_${step}`,
            data: { employmentId },
          });
        await turn();
        break;
      }
      case 'arrive': {
        // Frames reach the runner in the order the platform pushed them (one socket).
        const frame = inFlight.shift();
        if (frame) catchUp.deliver(frame);
        break;
      }
      case 'drop':
        // What was on its way is lost with the socket (stored on the platform all the same).
        open = false;
        inFlight = [];
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
        inFlight = [];
        claimed = new Set();
        queues = new Map();
        notes = [];
        setFull(false);
        catchUp = makeCatchUp();
        open = true;
        catchUp.run();
        break;
    }
  }
  // Quiet down: history works, the backlog has room, the socket is open, everything runs to the end.
  historyDown = false;
  setFull(false);
  if (!open) catchUp.run();
  for (const frame of inFlight.splice(0)) catchUp.deliver(frame);
  const settle = async (done: () => boolean): Promise<void> => {
    for (let round = 0; round < 2_000 && !done(); round++) {
      for (const id of EMPLOYMENTS) while ((queues.get(id)?.length ?? 0) > 0) handleOne(id);
      while (notes.length > 0) handleNote();
      await new Promise<void>((resolve) => setTimeout(resolve, 2));
    }
  };
  await settle(() => handled.size === store.length);
  // The next reconnect (or start) catches up the notifications a full backlog refused live.
  catchUp.run();
  await settle(() => !catchUp.pending && invocations.every((i) => i.status === 'completed'));
  await catchUp.close();
  for (const i of invocations)
    if (i.handled !== 1) violations.push(`seed ${seed}: invocation ${i.id} handled ${i.handled} times`);
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
  return { violations, handled: handled.size, sent, invocations: invocations.length };
}

/**
 * Seeds that each found a planted bug in one guard among 500 (with 300 steps), kept so that the
 * default run goes through those paths: 56 — a live notification after its caught-up copy was not
 * dropped (handled twice); 194 — a message refused during catch-up was not read again; 221 — a live
 * message refused by a full backlog did not make its employment be read again (the read cursor
 * passed it). Seed 13, the first of the default run, finds a held list kept across sockets (edge 1).
 * 57 — an employment caught up on demand before the list of employments was known, whose read
 * failed, was not held by name: the list let its live messages through ahead of its unread ones.
 */
const REGRESSION_SEEDS = [56, 57, 194, 221];

describe('catch-up, by property', () => {
  it('keeps the invariant over random interleavings of live messages, invocations, drops, failed reads, a full backlog and restarts', async () => {
    const runs = Number(process.env.C4C_PROPERTY_RUNS ?? 20);
    const first = Number(process.env.C4C_PROPERTY_SEED ?? 13);
    const steps = Number(process.env.C4C_PROPERTY_STEPS ?? 300);
    const seeds = [...Array.from({ length: runs }, (_, r) => first + r), ...REGRESSION_SEEDS];
    let sent = 0;
    let invoked = 0;
    for (const seed of new Set(seeds)) {
      const result = await run(seed, steps);
      expect(result.violations).toEqual([]);
      expect(result.handled).toBe(result.sent);
      sent += result.sent;
      invoked += result.invocations;
    }
    expect(sent).toBeGreaterThan(runs * 20);
    expect(invoked).toBeGreaterThan(runs * 3);
  }, 120_000);
});
