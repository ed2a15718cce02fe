/**
 * `createScaledRunner`: one agent served by N identical processes through Redis (`start --redis`).
 *
 * The design, in five parts:
 *
 * 1. **One socket holder.** A lease in Redis (lease.ts: SET NX PX, renewed by a script that compares
 *    the owner, an epoch from INCR per new holder). Only the holder opens the platform socket. It fences
 *    itself: without a renewal for `lease - lease/3` ms it closes the socket, before Redis can hand the
 *    lease to another process. A holder killed -9 loses the lease after `lease` ms; the next process
 *    takes it, connects and runs catch-up (history is the truth for what was missed).
 * 2. **Partitions.** The holder writes every event (live or caught up) into one of P streams, chosen
 *    by a hash of the event's ordering key (the employment for messages), with a script that appends
 *    only while its lease value — and so its epoch — is current: a late holder's writes are refused.
 * 3. **One consumer per partition.** A consumer group would spread one stream over its consumers and
 *    break per-employment order, so each partition has a lease of its own, held by one process at a
 *    time. Every process (the holder too) takes its share, ceil(P / live processes), and gives back
 *    extras once it has nothing of them in flight. A new owner first claims what the last owner left
 *    pending (XAUTOCLAIM), in order, then reads new entries: the lease time is the claim timeout.
 * 4. **Replies.** Each process runs the ordinary pipeline (dedupe, route, schedule, handler, reply).
 *    REST actions and read receipts go straight to REST; frames for the socket go to the holder
 *    through a stream (`out`); the holder sends them, waits for the platform's confirmation and
 *    publishes the answer to the asking process. An entry is XACKed (and deleted) only once its
 *    reply is confirmed (or the event failed for good), together with a `done` mark that every
 *    process checks before handling an entry: a copy a catch-up writes again (the read receipt,
 *    paced by the ledger, trails the reply) is skipped and only acknowledged. Nothing is XACKed
 *    unanswered; reply ids derive from the event's id, so a message handled twice is answered once.
 * 5. **Redis lost.** Commands fail fast (no offline queue); the holder cannot renew and fences itself;
 *    consumers stop reading new entries when their partition leases cannot be renewed, finish what
 *    they hold, and the clients reconnect with backoff.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ApiClient } from '../api/client.js';
import type { ResolvedConfig } from '../config/schema.js';
import { Connection } from '../connection/connection.js';
import { C4cError, PlatformError, isC4cError } from '../errors.js';
import { silentLogger } from '../log.js';
import { toEvent } from '../protocol/events.js';
import type { ClientFrame, ServerFrame } from '../protocol/frames.js';
import type { Id } from '../protocol/ids.js';
import { CatchUp } from '../runner/catchup/index.js';
import { dedupeKey, orderingKey } from '../runner/keys.js';
import { MemoryLedger, type Ledger } from '../runner/ledger.js';
import { MetricsRecorder } from '../runner/metrics.js';
import { Pipeline, emptyPipelineStats, type EventOutcome, type FallbackHandler } from '../runner/pipeline.js';
import { HandlerRegistry } from '../runner/registry.js';
import type { Runner, RunnerOptions, RunnerState, RunnerStats } from '../runner/runner.js';
import { Scheduler } from '../runner/scheduler.js';
import { DeadLetters, deadLetterPath } from '../runner/dead-letters.js';
import { describeSettingSource } from '../config/sources.js';
import { RedisStateStore } from '../state/redis.js';
import { stateStoreFor } from '../state/from-config.js';
import type { StateStore } from '../state/store.js';
import { HolderLease } from './lease.js';
import { GROUP, Keys, connectRedis, redactRedisUrl, withScripts, type ScriptedRedis } from './redis.js';

/** How a scaled runner reaches Redis and splits the work. */
export interface ScaleSettings {
  /** The Redis URL (its password never reaches a log). */
  url: string;
  /** Partition streams; every process must use the same number. @default 16 */
  partitions: number;
  /** Lease time of the socket holder and of each partition, ms. @default 5000 */
  lease: number;
  /** Key prefix, for several agents or deployments on one Redis. @default 'c4c' */
  prefix: string;
  /** How long a process waits for the holder to confirm a reply before handling the event again, ms. @default 30000 */
  replyTimeout: number;
}

/** Defaults of {@link ScaleSettings}: the config's (`redis` key). */
export { REDIS_DEFAULTS as SCALE_DEFAULTS } from '../config/schema.js';

/** Figures of the Redis side, beside the runner's own. */
export interface ScaleStats {
  /** This process's id in Redis. */
  process: string;
  /** Whether this process holds the socket, and its epoch. */
  holder: boolean;
  epoch: number | undefined;
  /** Partitions this process consumes now. */
  partitions: number[];
  /** Events this process wrote into partitions (as holder). */
  written: number;
  /** Stream entries this process handled and acknowledged. */
  acknowledged: number;
  /** Frames this process sent for others (as holder). */
  relayed: number;
}

/** A runner of a scaled-out agent: the {@link Runner} interface plus the Redis side's figures. */
export interface ScaledRunner extends Runner {
  readonly scale: ScaleStats;
}

/** A stream entry being handled here. */
interface Tracked {
  partition: number;
  entry: string;
  frame: ServerFrame;
  tries: number;
}

/**
 * Creates a runner that serves its agent together with every other process started with the same
 * token and Redis. The config, handlers and options are those of `createRunner`.
 */
export function createScaledRunner(
  config: ResolvedConfig,
  scale: ScaleSettings,
  options: Omit<RunnerOptions, 'live' | 'ledger'> = {},
): ScaledRunner {
  const base = options.logger ?? silentLogger();
  const logger = base.child({ component: 'scale' });
  const registry = new HandlerRegistry({ dir: config.handlers, root: config.root });
  const scheduler = new Scheduler({ concurrency: config.concurrency, backlog: config.backlog });
  const recorder = new MetricsRecorder();
  const me = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const P = scale.partitions;
  const stats: ScaleStats = {
    process: me,
    holder: false,
    epoch: undefined,
    partitions: [],
    written: 0,
    acknowledged: 0,
    relayed: 0,
  };
  let state: RunnerState = 'idle';
  let stopped = false;
  let closing: Promise<void> | undefined;
  let handlersLoaded = false;
  let keys!: Keys;
  let cmd: ScriptedRedis | undefined;
  let reader: Redis | undefined;
  let relay: Redis | undefined;
  let sub: Redis | undefined;
  let lease: HolderLease | undefined;
  let pipeline: Pipeline | undefined;
  let fallback: FallbackHandler | undefined;
  let stateStore: StateStore | undefined;
  let ownsState = false;
  let rebalanceTimer: NodeJS.Timeout | undefined;
  let readerLoop: Promise<void> | undefined;

  // ── the holder's side ────────────────────────────────────────────────────────────────────────
  let connection: Connection | undefined;
  let catchUp: CatchUp | undefined;
  /** Bumped on every acquire and every loss: loops of an earlier tenure stop. */
  let tenure = 0;
  let relayLoop: Promise<void> | undefined;
  let pendingWrites = 0;

  // ── the consumer's side ──────────────────────────────────────────────────────────────────────
  /** Partitions whose lease this process holds, with when the last renewal that succeeded was sent. */
  const owned = new Map<number, number>();
  /** Owned partitions read for new entries (a newly owned one joins once its pending entries are claimed). */
  const reading = new Set<number>();
  /** Owned partitions to claim the pending entries of, in order. */
  const toClaim: number[] = [];
  /** Owned partitions being given back (no new reads; released once nothing of them is in flight). */
  const draining = new Set<number>();
  const tracked = new Map<string, Tracked>();
  /** Per employment: handled messages whose entries wait for the read receipt before XACK. */
  /** Frames this process asked the holder to send, by request number. */
  const asked = new Map<
    number,
    { resolve: (f: ClientFrame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  let askSeq = 0;

  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  done.catch(() => {});

  const api = config.platform.token
    ? new ApiClient({
        baseUrl: config.platform.url,
        token: config.platform.token,
        logger: base.child({ component: 'api' }),
      })
    : undefined;

  /** XACKs (and deletes) an entry; with `done`, first marks its event handled for every process. */
  const ack = (partition: number, entry: string, done?: string): void => {
    stats.acknowledged++;
    const stream = keys.partition(partition);
    const batch = cmd?.multi();
    if (done !== undefined) batch?.set(keys.done(done), '1', 'PX', DONE_MS);
    void batch
      ?.xack(stream, GROUP, entry)
      .xdel(stream, entry)
      .exec()
      .catch((error: unknown) =>
        // Left pending: the next owner of the partition handles it again (answered once by its reply id).
        logger.warn(
          { err: error, partition, entry },
          `could not acknowledge a stream entry: ${(error as Error).message}`,
        ),
      );
  };

  const inner = new MemoryLedger({
    size: config.dedupe,
    logger,
    ...(config.ack && api
      ? {
          markRead: async (employmentId: Id, messageId: string) => {
            const result = await api.markRead(employmentId, messageId);
            recorder.acknowledged();
            return result;
          },
        }
      : {}),
  });
  const ledger: Ledger = inner;

  const deadLetters =
    options.deadLetters === false ? undefined : new DeadLetters(deadLetterPath(config.root));

  // ── sink: frames for the socket ─────────────────────────────────────────────────────────────
  const sendFrame = async (frame: ClientFrame, until: 'written' | 'confirmed'): Promise<unknown> => {
    if (connection && lease?.value !== undefined) return connection.send(frame, { until });
    if (!cmd) throw new C4cError('E_CLOSED', 'the runner is not started');
    const req = ++askSeq;
    const answer = new Promise<ClientFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        asked.delete(req);
        reject(
          new C4cError(
            'E_NETWORK',
            `the socket holder did not confirm a ${frame.type} frame within ${scale.replyTimeout} ms; the event will be handled again`,
          ),
        );
      }, scale.replyTimeout);
      timer.unref();
      asked.set(req, { resolve, reject, timer });
    });
    try {
      await cmd.xadd(
        keys.outbox,
        '*',
        'f',
        JSON.stringify(frame),
        'from',
        me,
        'req',
        String(req),
        'until',
        until,
        'at',
        String(Date.now()),
      );
    } catch (error) {
      const waiting = asked.get(req);
      asked.delete(req);
      if (waiting) clearTimeout(waiting.timer);
      throw new C4cError(
        'E_REDIS',
        `could not pass a reply to the socket holder: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return answer;
  };

  const onAnswer = (_channel: string, text: string): void => {
    let answer: { req: number; ok: boolean; frame?: ClientFrame; code?: string; message?: string };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      return;
    }
    const waiting = asked.get(answer.req);
    if (!waiting) return;
    asked.delete(answer.req);
    clearTimeout(waiting.timer);
    if (answer.ok && answer.frame) waiting.resolve(answer.frame);
    else
      waiting.reject(
        new C4cError(
          answer.code === 'E_REPLY' ? 'E_REPLY' : 'E_PLATFORM',
          answer.message ?? 'the socket holder could not send the frame',
        ),
      );
  };

  // ── source: events from the partitions ──────────────────────────────────────────────────────
  const deliver = (partition: number, entry: string, frame: ServerFrame, tries = 0): void => {
    const routed = toEvent(frame);
    const key = routed ? dedupeKey(routed) : undefined;
    // This very entry, claimed again after a failed read while it runs here: its run acknowledges it.
    if (key !== undefined && tracked.get(key)?.entry === entry) return;
    const result = pipeline!.accept(frame);
    if (result === 'accepted' && key !== undefined) tracked.set(key, { partition, entry, frame, tries });
    else if (result === 'refused') later(partition, entry, frame, tries + 1);
    // Copies of events handled here already (or in flight under another entry), unhandled events,
    // and events without an id.
    else ack(partition, entry);
  };

  const later = (partition: number, entry: string, frame: ServerFrame, tries: number): void => {
    const timer = setTimeout(
      () => {
        if (!stopped && owned.has(partition)) deliver(partition, entry, frame, tries);
      },
      Math.min(10_000, 250 * 2 ** Math.min(tries, 6)),
    );
    timer.unref();
  };

  const onOutcome = (outcome: EventOutcome): void => {
    recorder.outcome(outcome);
    options.onOutcome?.(outcome);
    const key = dedupeKey(outcome.routed);
    const t = key === undefined ? undefined : tracked.get(key);
    if (!t || outcome.kind === 'retrying') return;
    tracked.delete(key!);
    if (outcome.kind === 'aborted' || outcome.kind === 'unsent') {
      // Not answered: not acknowledged. Handled again here, or by the partition's next owner.
      if (!stopped) later(t.partition, t.entry, t.frame, t.tries + 1);
      return;
    }
    // Answered (the reply confirmed) or failed for good: done for every process, whatever the read
    // receipt (paced by the ledger) has reached yet. A copy written again by a catch-up is skipped.
    ack(t.partition, t.entry, key);
  };

  const entries = (raw: unknown): [string, string[]][] =>
    Array.isArray(raw) ? (raw as [string, string[]][]) : [];

  /**
   * Hands a batch of entries to the pipeline in order, skipping events some process already answered
   * (a catch-up writes whatever is still unread, and the read receipt trails the reply): one EXISTS
   * per entry, in one round trip. A skipped message is acknowledged again, so its read receipt is sure.
   */
  const handleEntries = async (partition: number, list: [string, string[]][]): Promise<void> => {
    const parsed = list.map(([id, fields]) => {
      let frame: ServerFrame | undefined;
      try {
        const text = fieldOf(fields ?? [], 'f');
        frame = text === undefined ? undefined : (JSON.parse(text) as ServerFrame);
      } catch {
        frame = undefined;
      }
      const routed = frame ? toEvent(frame) : undefined;
      return { id, frame, routed, key: routed ? dedupeKey(routed) : undefined };
    });
    const check = cmd!.pipeline();
    for (const { key } of parsed) if (key !== undefined) check.exists(keys.done(key));
    const answers = parsed.some((p) => p.key !== undefined) ? ((await check.exec()) ?? []) : [];
    let at = 0;
    for (const { id, frame, routed, key } of parsed) {
      const done = key !== undefined && answers[at++]?.[1] === 1;
      if (!frame) {
        logger.warn({ partition, entry: id }, 'a stream entry without a readable event was dropped');
        ack(partition, id);
      } else if (done) {
        if (routed?.name === 'message' && config.ack)
          ledger.acknowledge(routed.event.employmentId, routed.event.messageId);
        ack(partition, id);
      } else deliver(partition, id, frame);
    }
  };

  const claimPending = async (partition: number): Promise<void> => {
    let cursor = '0-0';
    do {
      const [next, list] = (await cmd!.xautoclaim(
        keys.partition(partition),
        GROUP,
        me,
        0,
        cursor,
        'COUNT',
        100,
      )) as [string, unknown];
      await handleEntries(partition, entries(list));
      cursor = next;
    } while (cursor !== '0-0' && !stopped);
  };

  const runReader = async (): Promise<void> => {
    const room = Math.max(1, Math.floor(config.backlog / 2));
    const idle = new AbortController();
    while (!stopped) {
      try {
        while (toClaim.length > 0 && !stopped) {
          const p = toClaim.shift()!;
          if (!owned.has(p)) continue;
          await claimPending(p);
          if (owned.has(p) && !draining.has(p)) reading.add(p);
        }
        const list = [...reading];
        if (list.length === 0) {
          await pause(100);
          continue;
        }
        await scheduler.waitForRoom(room, idle.signal);
        const result = (await reader!.xreadgroup(
          'GROUP',
          GROUP,
          me,
          'COUNT',
          100,
          'BLOCK',
          200,
          'STREAMS',
          ...list.map((p) => keys.partition(p)),
          ...list.map(() => '>'),
        )) as [string, unknown][] | null;
        recovered('reading the partitions');
        for (const [stream, list2] of result ?? []) {
          const p = Number(stream.slice(stream.lastIndexOf(':') + 1));
          await handleEntries(p, entries(list2));
        }
      } catch (error) {
        if (stopped) break;
        // Entries read but not handed over are pending to this process: claim them again, in order,
        // before reading new ones (those already running here are recognised and left alone).
        for (const p of reading) toClaim.push(p);
        reading.clear();
        await trouble('reading the partitions', error);
      }
    }
  };

  /** Creates the consumer groups (again after Redis lost its data: a restart without persistence). */
  const ensureGroups = async (): Promise<void> => {
    for (const stream of [...Array.from({ length: P }, (_, p) => keys.partition(p)), keys.outbox]) {
      await cmd!.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
        if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
      });
    }
  };

  /** One warning per outage (not one per retry), and a line when it is over. */
  const troubles = new Set<string>();
  const trouble = async (what: string, error: unknown): Promise<void> => {
    const message = (error as Error).message;
    if (!troubles.has(what)) {
      troubles.add(what);
      logger.warn({ err: error }, `${what} failed: ${message}; trying again with backoff`);
    }
    if (message.includes('NOGROUP')) await ensureGroups().catch(() => {});
    await pause(500);
  };
  const recovered = (what: string): void => {
    if (troubles.delete(what)) logger.info(`${what} works again`);
  };

  // ── membership and partition leases ─────────────────────────────────────────────────────────
  let rebalancing = false;
  const rebalance = async (): Promise<void> => {
    if (rebalancing || stopped || !cmd) return;
    rebalancing = true;
    const started = performance.now();
    try {
      const [seconds, micros] = await cmd.time();
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      const [, , , count] = (await cmd
        .multi()
        .zadd(keys.processes, now + scale.lease, me)
        .zremrangebyscore(keys.processes, '-inf', now)
        .zrank(keys.processes, me)
        .zcard(keys.processes)
        .exec())!.map(([, v]) => v) as [unknown, unknown, unknown, number];
      const share = Math.ceil(P / Math.max(1, count));
      for (const p of [...owned.keys()]) {
        const renewed = await cmd.renewLease(keys.partitionLease(p), me, scale.lease);
        if (renewed === 1) owned.set(p, started);
        else dropPartition(p, 'its lease went to another process');
      }
      // Free partitions, looked for from a place of our own so that processes do not all race for partition 0.
      const offset = hashOf(me) % P;
      for (let i = 0; i < P && owned.size < share; i++) {
        const p = (offset + i) % P;
        if (owned.has(p)) continue;
        const took = await cmd.set(keys.partitionLease(p), me, 'PX', scale.lease, 'NX');
        if (took === 'OK') {
          owned.set(p, started);
          toClaim.push(p);
          logger.debug({ partition: p }, `consuming partition ${p}`);
        }
      }
      // More than a fair share: give one back once nothing of it is in flight here.
      if (owned.size - draining.size > share) {
        const extra = [...owned.keys()].reverse().find((p) => !draining.has(p));
        if (extra !== undefined) {
          draining.add(extra);
          reading.delete(extra);
        }
      }
      for (const p of [...draining]) {
        if ([...tracked.values()].some((t) => t.partition === p)) continue;
        await cmd.releaseLease(keys.partitionLease(p), me);
        owned.delete(p);
        draining.delete(p);
        logger.debug({ partition: p }, `gave partition ${p} back`);
      }
    } catch (error) {
      logger.debug({ err: error }, `rebalance: ${(error as Error).message}`);
    } finally {
      rebalancing = false;
      // A partition whose lease could not be renewed in time may already be another's: stop reading it.
      const limit = scale.lease - Math.floor(scale.lease / 3);
      for (const [p, at] of owned)
        if (performance.now() - at > limit)
          dropPartition(p, 'its lease could not be renewed (Redis unreachable?)');
      const now = [...owned.keys()].sort((a, b) => a - b);
      if (now.join() !== stats.partitions.join())
        logger.info({ partitions: now }, `consuming partitions: ${now.length > 0 ? now.join(', ') : 'none'}`);
      stats.partitions = now;
    }
  };

  const dropPartition = (p: number, why: string): void => {
    owned.delete(p);
    reading.delete(p);
    draining.delete(p);
    logger.warn({ partition: p }, `stopped consuming partition ${p}: ${why}`);
  };

  // ── the holder ─────────────────────────────────────────────────────────────────────────────
  const writeEvent = (frame: ServerFrame): boolean => {
    const value = lease?.value;
    if (value === undefined || !cmd) return false;
    const routed = toEvent(frame);
    if (!routed) return true;
    const partition = hashOf(orderingKey(routed) ?? '') % P;
    pendingWrites++;
    // One connection, commands in order: one employment's events reach their stream in arrival order.
    cmd
      .fencedXadd(keys.holder, keys.partition(partition), value, 'f', JSON.stringify(frame))
      .then(
        (id) => {
          if (id === null) lease?.drop('a write was refused: another process holds the lease (epoch) now');
          else stats.written++;
        },
        (error: unknown) =>
          // Still unread on the platform: the next catch-up (this holder's next pass or the next holder's) finds it.
          logger.warn({ err: error }, `could not write an event to Redis: ${(error as Error).message}`),
      )
      .finally(() => pendingWrites--);
    return true;
  };

  const becomeHolder = (epoch: number): void => {
    const mine = ++tenure;
    stats.holder = true;
    stats.epoch = epoch;
    logger.info({ epoch, process: me }, `holding the platform socket (epoch ${epoch})`);
    const conn = new Connection({
      url: config.platform.wsUrl,
      token: config.platform.token!,
      heartbeat: { ...config.heartbeat },
      reconnect: { ...config.reconnect },
      outbox: { maxRetries: Number.POSITIVE_INFINITY, ...config.outbox },
      logger: base,
      urlSource: describeSettingSource('url', config.platform.sources.url, config.configFile),
    });
    connection = conn;
    const cu = new CatchUp({
      api: api!,
      accept: writeEvent,
      // Dedupe is the consumers' (their ledgers); the holder writes whatever is unread.
      claim: () => true,
      release: () => {},
      handles: (name) =>
        name === 'message'
          ? Boolean(registry.get('message') ?? fallback)
          : Boolean(registry.get(name) ?? registry.get('notification')),
      waitForRoom: async (signal) => {
        while (pendingWrites > 1_000 && !signal.aborted) await pause(10);
      },
      logger,
      holdLimit: config.backlog,
    });
    catchUp = cu;
    conn.on('frame', (frame) => {
      recorder.frame(frame);
      options.onFrame?.(frame);
      cu.deliver(frame);
    });
    if (options.onConnectionState) conn.on('state', options.onConnectionState);
    conn.on('open', ({ reconnected }) => {
      if (reconnected) recorder.reconnected();
      cu.run();
    });
    conn.on('undeliverable', ({ frame, code, message }) => {
      recorder.refused();
      const id = (frame as { messageId?: string }).messageId;
      const text = `the platform refused message ${id} for good (${code}): ${message}`;
      logger.warn({ code, frame: { type: frame.type, messageId: id } }, text);
      // One this process's handlers sent with ctx.reply/ctx.send fails its event, as with one process.
      // (One relayed for another process is only logged here: its sender saw it written.)
      if (id !== undefined)
        pipeline?.undeliverable(
          id,
          new PlatformError(0, code, text, { details: { messageId: id, undeliverable: true } }),
        );
    });
    conn.on('error', (error) => {
      if (isC4cError(error, 'E_AUTH') && state === 'running') void close({}, error);
      else lease?.drop(`the connection gave up: ${error.message}`);
    });
    conn.connect().catch((error: unknown) => {
      if (isC4cError(error, 'E_AUTH')) void close({}, error);
    });
    relayLoop = runRelay(mine, conn);
  };

  const loseHolder = (why: string): void => {
    tenure++;
    stats.holder = false;
    stats.epoch = undefined;
    const conn = connection;
    connection = undefined;
    void catchUp?.close();
    catchUp = undefined;
    if (conn) {
      logger.warn(`closing the platform socket: ${why}`);
      void conn.close();
    }
  };

  /** The holder's relay: frames other processes want sent, in the order they asked. */
  const runRelay = async (mine: number, conn: Connection): Promise<void> => {
    const handle = (id: string, fields: string[]): void => {
      const from = fieldOf(fields, 'from') ?? '';
      const req = Number(fieldOf(fields, 'req'));
      const at = Number(fieldOf(fields, 'at'));
      const until = fieldOf(fields, 'until') === 'confirmed' ? 'confirmed' : 'written';
      const done = (): void =>
        void cmd
          ?.multi()
          .xack(keys.outbox, GROUP, id)
          .xdel(keys.outbox, id)
          .exec()
          .catch(() => {});
      // The asker gave up on it (and handles its event again): sending it now would only be late.
      if (Date.now() - at > scale.replyTimeout) return done();
      let frame: ClientFrame;
      try {
        frame = JSON.parse(fieldOf(fields, 'f') ?? '') as ClientFrame;
      } catch {
        return done();
      }
      const answer = (body: Record<string, unknown>): void =>
        void cmd?.publish(keys.answers(from), JSON.stringify({ req, ...body })).catch(() => {});
      conn.send(frame, { until }).then(
        (sent) => {
          stats.relayed++;
          answer({ ok: true, frame: sent });
          done();
        },
        (error: unknown) => {
          // Refused for good (answered as such) or the socket closed (the asker handles it again).
          answer({ ok: false, code: (error as C4cError).code, message: (error as Error).message });
          if (!isC4cError(error, 'E_CLOSED')) done();
        },
      );
    };
    try {
      let cursor = '0-0';
      do {
        const [next, list] = (await cmd!.xautoclaim(keys.outbox, GROUP, me, 0, cursor, 'COUNT', 100)) as [
          string,
          unknown,
        ];
        if (mine !== tenure) return;
        for (const [id, fields] of entries(list)) if (fields) handle(id, fields);
        cursor = next;
      } while (cursor !== '0-0');
    } catch (error) {
      logger.warn(
        { err: error },
        `could not claim the replies a former holder left: ${(error as Error).message}`,
      );
    }
    while (mine === tenure && !stopped) {
      try {
        const result = (await relay!.xreadgroup(
          'GROUP',
          GROUP,
          me,
          'COUNT',
          100,
          'BLOCK',
          200,
          'STREAMS',
          keys.outbox,
          '>',
        )) as [string, unknown][] | null;
        if (mine !== tenure) {
          // Read after the lease was lost: left pending for the next holder.
          break;
        }
        recovered('reading the reply stream');
        for (const [, list] of result ?? []) for (const [id, fields] of entries(list)) handle(id, fields);
      } catch (error) {
        if (stopped || mine !== tenure) break;
        await trouble('reading the reply stream', error);
      }
    }
  };

  // ── lifecycle ──────────────────────────────────────────────────────────────────────────────
  const close = (closeOptions: { drainTimeout?: number } = {}, failure?: C4cError): Promise<void> => {
    closing ??= (async () => {
      const drainTimeout = closeOptions.drainTimeout ?? config.drainTimeout;
      const started = Date.now();
      state = 'closing';
      pipeline?.stopIntake();
      const { drained, dropped } = await scheduler.close(drainTimeout);
      if (!drained) logger.warn(`handlers still running after ${drainTimeout} ms were aborted`);
      if (dropped > 0)
        logger.warn(`${dropped} event(s) waiting for a slot were not started; they stay pending in Redis`);
      stopped = true;
      clearInterval(rebalanceTimer);
      await ledger.flush();
      const left = Math.max(100, drainTimeout - (Date.now() - started));
      if (connection && connection.state !== 'closed' && !(await connection.flush(left)))
        logger.warn('some replies were still waiting to be sent when the runner closed');
      await Promise.allSettled([readerLoop, relayLoop]);
      await lease?.stop();
      if (connection) loseHolder('the runner is closing');
      if (cmd) {
        await Promise.allSettled([
          ...[...owned.keys()].map((p) => cmd!.releaseLease(keys.partitionLease(p), me)),
          cmd.zrem(keys.processes, me),
        ]);
      }
      for (const [, waiting] of asked) {
        clearTimeout(waiting.timer);
        waiting.reject(new C4cError('E_CLOSED', 'the runner closed before the holder confirmed the reply'));
      }
      asked.clear();
      await deadLetters?.flush();
      if (stateStore) {
        try {
          await (ownsState && stateStore.close ? stateStore.close() : stateStore.flush?.());
        } catch (error) {
          logger.error({ err: error }, `conversation state was not saved: ${(error as Error).message}`);
        }
      }
      for (const client of [reader, relay, sub]) client?.disconnect();
      await cmd?.quit().catch(() => cmd?.disconnect());
      state = 'closed';
      logger.info({ stats: { ...stats } }, 'runner closed');
      if (failure) settle.reject(failure);
      else settle.resolve();
    })();
    return closing;
  };

  const runnerStats = (): RunnerStats => {
    const s = scheduler.stats;
    return {
      ...(pipeline?.stats ?? emptyPipelineStats()),
      running: s.running,
      waiting: s.waiting,
      peakRunning: s.peak,
      // A process that does not hold the socket works through the holder: it is as connected as Redis is.
      connection: connection ? connection.state : cmd?.status === 'ready' ? 'open' : 'reconnecting',
      ...(catchUp ? { catchUp: { ...catchUp.stats } } : {}),
    };
  };

  const runner: ScaledRunner = {
    registry,
    done,
    get scale() {
      return { ...stats, partitions: [...stats.partitions] };
    },
    get state() {
      return state;
    },
    get stats() {
      return runnerStats();
    },
    metrics: () => ({
      ...recorder.snapshot(),
      state,
      handlersLoaded,
      catchingUp: catchUp?.pending ?? false,
      stats: runnerStats(),
      scale: {
        holder: stats.holder,
        partitions: stats.partitions.length,
        written: stats.written,
        relayed: stats.relayed,
      },
    }),
    close: (closeOptions) => close(closeOptions),
    dispatch(frame) {
      if (state !== 'running' || !pipeline)
        throw new C4cError(
          'E_CLOSED',
          `the runner is ${state}; dispatch() needs a running runner (await start() first)`,
        );
      return pipeline.accept(frame);
    },
    async start() {
      if (state !== 'idle')
        throw new C4cError('E_CLOSED', `a runner starts once (this one is ${state}); create a new runner`);
      state = 'starting';
      try {
        const token = config.platform.token;
        if (!token || !api)
          throw new C4cError(
            'E_CONFIG',
            'no API token: set C4C_API_TOKEN, or platform.token in c4c.config.ts, or api_token in ~/.c4c/config.json',
          );
        keys = new Keys(token, scale.prefix);
        const entriesLoaded =
          options.handlerFiles === false
            ? []
            : await registry.loadAll(options.onHandlerProblem ? { onProblem: options.onHandlerProblem } : {});
        handlersLoaded = true;
        if (entriesLoaded.length > 0)
          logger.info(`loaded ${entriesLoaded.length} handler(s): ${registry.names().join(', ')}`);
        // As with one process: events without a handler file go to the config's webhook, if any.
        fallback =
          options.fallback ??
          (config.webhook
            ? (await import('../webhook/fallback.js')).configWebhookFallback(config.webhook, base)
            : undefined);
        if (fallback) logger.info(`events without a handler file go to ${fallback.label}`);
        const clientName = `c4c-${me}`;
        cmd = withScripts(
          await connectRedis(scale.url, 'commands', {
            commandTimeout: Math.floor(scale.lease / 3),
            name: clientName,
          }),
        );
        [reader, relay, sub] = await Promise.all([
          connectRedis(scale.url, 'blocking', { name: clientName }),
          connectRedis(scale.url, 'blocking', { name: clientName }),
          connectRedis(scale.url, 'subscriber', { name: clientName }),
        ]);
        await ensureGroups();
        sub.on('message', onAnswer);
        await sub.subscribe(keys.answers(me));
        stateStore = options.state ?? (config.state ? stateStoreFor(config, 'file', logger) : undefined);
        ownsState = options.state === undefined;
        stateStore ??= new RedisStateStore({ client: cmd, prefix: `${keys.prefix}:state:` });
        pipeline = new Pipeline({
          registry,
          scheduler,
          ledger,
          api,
          send: (frame) => sendFrame(frame, 'written'),
          sendConfirmed: (frame) => sendFrame(frame, 'confirmed'),
          logger: base.child({ component: 'runner' }),
          timeout: config.timeout,
          fallback,
          onOutcome,
          retry: config.retry,
          onFailure: async (failure) => {
            if (config.onError) await Promise.resolve(config.onError(failure)).catch(() => {});
            await deadLetters?.add(failure);
          },
          state: stateStore,
        });
        lease = new HolderLease({
          client: cmd,
          key: keys.holder,
          epochKey: keys.epoch,
          owner: me,
          ms: scale.lease,
          logger,
          onAcquired: becomeHolder,
          onLost: loseHolder,
        });
        await rebalance();
        rebalanceTimer = setInterval(() => void rebalance(), Math.max(20, Math.floor(scale.lease / 5)));
        rebalanceTimer.unref();
        readerLoop = runReader();
        await lease.start();
        if (connection) await connection.connect();
        state = 'running';
        logger.info(
          { process: me, partitions: P, lease: scale.lease, redis: redactRedisUrl(scale.url) },
          `serving through Redis at ${redactRedisUrl(scale.url)}: ${P} partitions, lease ${scale.lease} ms${stats.holder ? `; holding the socket (epoch ${stats.epoch})` : ''}`,
        );
      } catch (error) {
        await close(
          { drainTimeout: 0 },
          error instanceof C4cError ? error : new C4cError('E_REDIS', String(error), { cause: error }),
        );
        throw error;
      }
    },
  };
  return runner;
}

/** How long a handled event is remembered as done, for copies a catch-up writes again. */
const DONE_MS = 60 * 60_000;

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** FNV-1a: a stable spread of ordering keys over partitions (the same in every process). */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
