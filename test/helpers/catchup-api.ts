/**
 * A small fake of the part of the API client catch-up reads with (`CatchUpApi`: me, employments,
 * messages, invocations, acceptedTasks) — a fake of our own interface, over an in-memory history:
 * messages per employment with a read cursor, paged newest first with `before` cursors as the
 * platform does, plus switches to refuse reads and a log of every call.
 */
import { PlatformError } from '../../src/errors.js';
import type { CatchUpApi } from '../../src/runner/catchup/history.js';

export const ME = 2;
const OTHER = 1;

export interface FakeMessage {
  seq: number;
  employmentId: number;
  messageId: string;
  /** To the agent (`true`) or from it. */
  toMe: boolean;
  readAt: string | null;
  metadata?: Record<string, unknown>;
}

export interface FakeApi extends CatchUpApi {
  /** Every call, as `method:args` (`messages:3:before=12`). */
  readonly calls: string[];
  /** Adds a message (to the agent unless said otherwise); returns it. */
  add(employmentId: number, messageId: string, options?: { toMe?: boolean; read?: boolean }): FakeMessage;
  /** Marks read every message of an employment up to and including `messageId` (the read cursor). */
  read(employmentId: number, messageId: string): void;
  employmentIds: number[];
  pending: { id: number; serviceId: number; role?: 'provider' | 'caller'; status?: string }[];
  tasks: { id: number; applicationId: number; title?: string }[];
  /** Reads of these employments (or `'list'` for the list of employments) fail with this error. */
  refuse: Map<number | 'list', Error>;
  /** Holds every read until released: to interleave live frames with a pass. */
  gate: Promise<void> | undefined;
}

export function fakeApi(options: { employments?: number[]; pageSize?: number } = {}): FakeApi {
  const store: FakeMessage[] = [];
  let seq = 0;
  const pageSize = options.pageSize;
  const api = {
    calls: [] as string[],
    employmentIds: options.employments ?? [1],
    pending: [] as FakeApi['pending'],
    tasks: [] as FakeApi['tasks'],
    refuse: new Map<number | 'list', Error>(),
    gate: undefined as Promise<void> | undefined,
    add(employmentId: number, messageId: string, o: { toMe?: boolean; read?: boolean } = {}) {
      const m: FakeMessage = {
        seq: ++seq,
        employmentId,
        messageId,
        toMe: o.toMe ?? true,
        readAt: o.read ? 'read' : null,
      };
      store.push(m);
      return m;
    },
    read(employmentId: number, messageId: string) {
      const upTo = store.find((m) => m.messageId === messageId)!.seq;
      for (const m of store) if (m.employmentId === employmentId && m.seq <= upTo) m.readAt ??= 'read';
    },
    async me() {
      api.calls.push('me');
      return { id: ME, name: 'Worker' };
    },
    async employments(q: { page?: number; limit?: number }) {
      api.calls.push(`employments:page=${q.page}`);
      await api.gate;
      const refused = api.refuse.get('list');
      if (refused) throw refused;
      const page = q.page ?? 1;
      const limit = q.limit ?? 20;
      const all = api.employmentIds.map((id) => ({ id, status: 'active' }));
      return { employments: all.slice((page - 1) * limit, page * limit), total: all.length, page, limit };
    },
    async messages(id: number, q: { before?: string; limit?: number }) {
      api.calls.push(`messages:${id}${q.before ? `:before=${q.before}` : ''}`);
      await api.gate;
      const refused = api.refuse.get(id);
      if (refused) throw refused;
      const before = q.before === undefined ? Number.POSITIVE_INFINITY : Number(q.before);
      const limit = pageSize ?? q.limit ?? 20;
      const all = store.filter((m) => m.employmentId === id && m.seq < before);
      const page = all.slice(-limit).reverse();
      const hasMore = all.length > page.length;
      return {
        messages: page.map((m) => ({
          id: m.seq,
          employmentId: m.employmentId,
          senderAgentId: m.toMe ? OTHER : ME,
          receiverAgentId: m.toMe ? ME : OTHER,
          type: 'text',
          content: `content of ${m.messageId}`,
          messageId: m.messageId,
          readAt: m.readAt,
          createdAt: new Date(1_700_000_000_000 + m.seq * 1000).toISOString(),
          ...(m.metadata ? { metadata: m.metadata } : {}),
        })),
        hasMore,
        nextCursor: hasMore ? String(page[page.length - 1]!.seq) : null,
      };
    },
    async invocations(q: { page?: number; limit?: number }) {
      api.calls.push(`invocations:page=${q.page}`);
      const page = q.page ?? 1;
      const limit = q.limit ?? 20;
      const all = api.pending.map((p) => ({
        id: p.id,
        serviceId: p.serviceId,
        serviceTitle: `service ${p.serviceId}`,
        role: p.role ?? 'provider',
        status: p.status ?? 'pending',
        input: { text: 'hi' },
        price: '1',
        createdAt: '2026-11-30T00:00:00Z',
      }));
      return { invocations: all.slice((page - 1) * limit, page * limit), total: all.length, page, limit };
    },
    async acceptedTasks(q: { page?: number; limit?: number }) {
      api.calls.push(`acceptedTasks:page=${q.page}`);
      const page = q.page ?? 1;
      const limit = q.limit ?? 20;
      const all = api.tasks.map((t) => ({
        id: t.id,
        applicationId: t.applicationId,
        title: t.title ?? `task ${t.id}`,
        status: 'in_progress',
        bounty: '10',
        startedAt: '2026-11-30T00:00:00Z',
      }));
      return { tasks: all.slice((page - 1) * limit, page * limit), total: all.length };
    },
  };
  return api as unknown as FakeApi;
}

/** A refusal as the API client throws it. */
export function refusal(status: number, code: string, message = `${code} from the fake`): PlatformError {
  return new PlatformError(status, code, message);
}
