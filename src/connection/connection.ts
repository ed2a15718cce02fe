/**
 * The runner's one WebSocket to the platform, as a small state machine:
 *
 * ```
 * idle ─connect()─► connecting ─open─► open ─drop─► reconnecting ─delay─► connecting …
 *                        │ 401                                   (any state) ─close()─► closing ─► closed
 *                        └──────────────────────────────────────────────────────────────────────► closed
 * ```
 * It talks to the rest of the runner only through plain data (frames in, frames out, state), so it
 * can later move into a worker_thread without the rest changing.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import type WebSocketModule from 'ws';
import { C4cError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { redactText, splitCredentials } from '../redact.js';
import {
  MAX_FRAME_BYTES,
  decodeServerFrame,
  newMessageId,
  rfc3339,
  type ClientFrame,
  type DecodeResult,
  type ErrorFrame,
  type ServerFrame,
} from '../protocol/frames.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { Heartbeat, resolveHeartbeat, type HeartbeatOptions } from './heartbeat.js';
import { Delivery, type SendUntil } from './delivery.js';
import { OUTBOX_DEFAULTS, type Settle } from './outbox.js';
import { authError, describeClose, givenUpError, socketUrl, validateUrl } from './url.js';

// ws is CommonJS: required, not imported. Its ES wrapper makes Node lex each of its files to find
// their named exports, ~25 ms of `c4c-runner start`'s start-up (docs/benchmarks.md, section 0b).
const WebSocket = createRequire(import.meta.url)('ws') as typeof WebSocketModule;
type WebSocket = WebSocketModule;

/** Where the connection is in its lifecycle. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

/** Why a frame from the platform was dropped (see `decodeServerFrame`). */
export type RejectReason = Extract<DecodeResult, { ok: false }>['reason'];

/** Reconnect settings: the backoff schedule, plus when a connection counts as having succeeded. */
export interface ReconnectOptions extends BackoffOptions {
  /**
   * A connection that stayed open this long resets the backoff schedule, in ms. One that drops sooner
   * keeps the delays growing, so a platform that accepts and drops at once is not hammered.
   * @default 5_000
   */
  stableAfter?: number;
}

/** Settings of a {@link Connection}. */
export interface ConnectionOptions {
  /** WebSocket URL, e.g. `ws://127.0.0.1:7420/ws` (`wsUrlFor(apiBase)` builds it). */
  url: string;
  /** The agent's API token (`cl_…`); sent as header `X-API-Key` and as query `api_key`. */
  token: string;
  heartbeat?: HeartbeatOptions;
  reconnect?: ReconnectOptions;
  outbox?: {
    /** Frames allowed to wait while the socket is down. @default 10_000 */
    limit?: number;
    /** `RATE_LIMITED` refusals of one frame retried before it is reported undeliverable. @default 10 */
    maxRetries?: number;
  };
  /** Opening handshake timeout, in ms. @default 10_000 */
  connectTimeout?: number;
  /** How long `close()` waits for the platform's close frame before cutting the socket, in ms. @default 2_000 */
  closeTimeout?: number;
  /** @default a silent logger */
  logger?: Logger;
  /**
   * Where the URL came from (`env C4C_API_ENDPOINT`), for the failures before the first open:
   * "cannot reach ws://… (from env C4C_API_ENDPOINT)". @default not said
   */
  urlSource?: string;
}

/** Events of a {@link Connection}, each with plain-data arguments. */
export type ConnectionEvents = {
  /** Every state change. */
  state: [state: ConnectionState, previous: ConnectionState];
  /** Every (re)open; the outbox has already been written to the new socket. */
  open: [info: { reconnected: boolean }];
  /** A validated frame (JSON ping/pong are answered inside and not emitted). */
  frame: [frame: ServerFrame];
  /** A frame from the platform that was malformed; `count` is how many of this reason so far. */
  rejected: [info: { reason: RejectReason; detail: string; count: number }];
  /** An error frame from the platform (also emitted as `frame`). */
  'platform-error': [frame: ErrorFrame];
  /** A sent frame the platform refused for good (`EMPLOYMENT_NOT_ACTIVE`, or too many `RATE_LIMITED`). */
  undeliverable: [info: { frame: ClientFrame; code: string; message: string }];
  /** A reconnect is scheduled. */
  retry: [info: { attempt: number; delay: number; reason: string }];
  /** A socket closed; `reconnect` says whether another one will be tried. */
  close: [info: { code: number; reason: string; reconnect: boolean }];
  /**
   * The connection gave up for good after it had opened (`E_AUTH` on a reconnect, `E_NETWORK` after
   * `maxAttempts`); before the first open, `connect()` rejects instead. Emitted only if listened to.
   */
  error: [error: C4cError];
};

const MAX_PAYLOAD = 4 * MAX_FRAME_BYTES; // larger frames are rejected by decodeServerFrame, not by killing the socket
const MAX_DETAIL = 500;

/** Options of {@link Connection.send}. */
export interface SendOptions {
  /** Resolve once a socket took the frame (`written`, the default) or once the platform proved it handled it. */
  until?: SendUntil;
  /**
   * Called once, when a socket first took the frame: a confirmed send's caller can go on with other
   * work (the runner frees the handler's slot) while the proof is still on its way.
   */
  onWritten?: (() => void) | undefined;
}

/** One authenticated WebSocket to the platform, kept alive, with an outbox that survives reconnects. */
export class Connection extends EventEmitter<ConnectionEvents> {
  #state: ConnectionState = 'idle';
  readonly #url: string;
  readonly #token: string;
  readonly #log: Logger;
  readonly #heartbeatOptions: Required<HeartbeatOptions>;
  readonly #backoff: Backoff;
  readonly #stableAfter: number;
  readonly #connectTimeout: number;
  readonly #closeTimeout: number;
  readonly #delivery: Delivery;
  readonly #tcp = new WeakMap<WebSocket, Socket>();
  readonly #rejectedCounts = new Map<RejectReason, number>();
  #socket: WebSocket | undefined;
  #heartbeat: Heartbeat | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #socketGone: (() => void) | undefined;
  #opener: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;
  #closing: Promise<void> | undefined;
  #everOpened = false;
  readonly #urlSource: string | undefined;
  #openedAt = 0;
  readonly #counters = { opened: 0, framesIn: 0 };

  constructor(options: ConnectionOptions) {
    super();
    this.#url = validateUrl(options.url);
    if (typeof options.token !== 'string' || options.token.trim() === '') {
      throw new C4cError(
        'E_CONFIG',
        'no API token for the platform connection: set C4C_API_TOKEN or platform.token',
      );
    }
    this.#token = options.token;
    this.#urlSource = options.urlSource;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'connection' });
    this.#heartbeatOptions = resolveHeartbeat(options.heartbeat);
    this.#backoff = new Backoff(options.reconnect);
    const random = options.reconnect?.random ?? Math.random;
    this.#stableAfter = options.reconnect?.stableAfter ?? 5_000;
    this.#connectTimeout = options.connectTimeout ?? 10_000;
    this.#closeTimeout = options.closeTimeout ?? 2_000;
    this.#delivery = new Delivery({
      limit: options.outbox?.limit ?? OUTBOX_DEFAULTS.limit,
      maxRetries: options.outbox?.maxRetries ?? 10,
      // Equal jitter (half fixed, half random), not full jitter: a rate-limited frame must never come back at once.
      retryDelay: (retries) => {
        const ceiling = this.#backoff.ceiling(retries);
        return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
      },
      log: this.#log,
      // A reply's proof is owed within the same time as a heartbeat's pong; past it the socket is replaced.
      confirmTimeout: this.#heartbeatOptions.timeout,
      onStalled: () => this.#socket?.terminate(),
      onUndeliverable: (info) => {
        this.#log.debug(
          { code: info.code, type: info.frame.type },
          `the platform refused a frame for good (${info.code}): ${info.message}`,
        );
        this.#notify('undeliverable', info);
      },
    });
  }

  /** Where the connection is in its lifecycle. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Counters for health checks and tests. */
  get stats(): {
    /** Sockets opened. */
    opened: number;
    /** Valid frames received (JSON ping/pong included). */
    framesIn: number;
    /** Frames a socket took (a frame sent again counts again). */
    framesOut: number;
    /** Frames the platform proved it handled (a pong to a later ping came back). */
    confirmed: number;
    /** Frames put back in the outbox: dropped with a socket before they were confirmed, or rate limited. */
    requeued: number;
    /** Frames waiting for a socket. */
    queued: number;
    /** Frames handed to the socket, write not yet called back. */
    inflight: number;
    /** Frames written, not yet confirmed. */
    unconfirmed: number;
    rejected: Partial<Record<RejectReason, number>>;
  } {
    return {
      ...this.#counters,
      ...this.#delivery.counters,
      ...this.#delivery.stats,
      rejected: Object.fromEntries(this.#rejectedCounts),
    };
  }

  /**
   * Opens the connection. Resolves on the first open; network failures are retried on the backoff
   * schedule meanwhile. Rejects with `E_AUTH` on HTTP 401/403 (never retried), `E_NETWORK` once
   * `maxAttempts` are spent, `E_CLOSED` if `close()` comes first.
   */
  connect(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(
        new C4cError('E_CLOSED', 'this connection was closed; create a new Connection to connect again'),
      );
    }
    if (!this.#opener) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#opener = { promise, resolve, reject };
    }
    if (this.#state === 'idle') this.#openSocket();
    return this.#opener.promise;
  }

  /**
   * Sends a frame: at once when open, else after the frames already waiting. A message frame gets its
   * `messageId` and `timestamp` filled if missing (a frame sent again after a drop keeps them, so the
   * platform can drop the repeat). Resolves with the frame as sent once a socket took it — or, with
   * `{ until: 'confirmed' }`, once the platform proved it handled it (acknowledge work only then).
   * Rejects with `E_BACKLOG` when the outbox is full, `E_CLOSED` (or the fatal error) on close, and a
   * `PlatformError` when a confirmed send is refused for good.
   */
  send(frame: ClientFrame, options: SendOptions = {}): Promise<ClientFrame> {
    return new Promise<ClientFrame>((resolve, reject) => {
      const onWritten = options.onWritten;
      this.deliver(
        frame,
        options.until ?? 'written',
        onWritten ? { resolve, reject, written: onWritten } : { resolve, reject },
      );
    });
  }

  /**
   * {@link send} for a caller that brings its own {@link Settle} instead of taking a promise: it is
   * told once how the send ended (perhaps before this returns), and when the frame was first written.
   */
  deliver(frame: ClientFrame, until: SendUntil, settle: Settle): void {
    if (this.#state === 'closing' || this.#state === 'closed') {
      settle.reject(
        new C4cError(
          'E_CLOSED',
          `cannot send a ${frame.type} frame: the connection to the platform is closed`,
        ),
      );
      return;
    }
    // A reply the pipeline built already has its id and time: sent as it is, not copied.
    const prepared: ClientFrame =
      frame.type === 'message' && (frame.messageId === undefined || frame.timestamp === undefined)
        ? { ...frame, messageId: frame.messageId ?? newMessageId(), timestamp: frame.timestamp ?? rfc3339() }
        : frame;
    const data = JSON.stringify(prepared);
    // A string of n UTF-16 units is at most 3n bytes of UTF-8: most frames need no count at all.
    const bytes = data.length * 3 <= MAX_FRAME_BYTES ? 0 : Buffer.byteLength(data);
    if (bytes > MAX_FRAME_BYTES) {
      settle.reject(
        new C4cError(
          'E_REPLY',
          `a ${frame.type} frame of ${bytes} bytes exceeds the platform's ${MAX_FRAME_BYTES}-byte limit; send less content or split it`,
        ),
      );
      return;
    }
    this.#delivery.enqueue(prepared, data, until, settle);
  }

  /**
   * Waits until every frame sent so far is confirmed by the platform (for a draining runner: call it
   * before `close()`). Resolves `true` when done, `false` if `timeoutMs` passed first or the
   * connection ended.
   */
  flush(timeoutMs: number): Promise<boolean> {
    return this.#delivery.flush(timeoutMs);
  }

  /**
   * Closes the socket and releases every timer and socket listener. Frames still waiting reject with
   * `E_CLOSED` (call `flush()` first to send them). Safe to call any number of times.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown(undefined);
    return this.#closing;
  }

  // ── socket lifecycle ──────────────────────────────────────────────────────────────────────────

  #openSocket(): void {
    this.#setState('connecting');
    // Credentials in the URL (a proxy in front of the platform) go as Basic auth, as curl sends them.
    const { url, authorization } = splitCredentials(socketUrl(this.#url, this.#token));
    this.#log.debug({ url: this.#redacted(url) }, 'connecting to the platform');
    const ws = new WebSocket(url, {
      headers: { 'X-API-Key': this.#token, ...(authorization ? { authorization } : {}) },
      perMessageDeflate: false,
      maxPayload: MAX_PAYLOAD,
      handshakeTimeout: this.#connectTimeout,
      followRedirects: false,
    });
    this.#socket = ws;
    // The TCP socket under the WebSocket (the upgrade response's), so that Delivery can cork it.
    ws.on('upgrade', (response) => {
      this.#tcp.set(ws, response.socket);
    });
    let refusedStatus: number | undefined;
    let lastError: Error | undefined;
    ws.on('unexpected-response', (_request, response) => {
      refusedStatus = response.statusCode;
      response.resume();
      ws.terminate();
    });
    ws.on('open', () => this.#onOpen(ws));
    ws.on('message', (data) => this.#onMessage(ws, data));
    ws.on('pong', (data) => {
      if (ws !== this.#socket) return;
      this.#heartbeat?.pong();
      this.#delivery.onPong(data);
    });
    ws.on('error', (error) => {
      lastError = error;
    });
    ws.on('close', (code, reason) =>
      this.#onSocketClose(ws, code, reason.toString(), refusedStatus, lastError),
    );
  }

  #onOpen(ws: WebSocket): void {
    if (ws !== this.#socket) return;
    this.#openedAt = Date.now();
    this.#counters.opened += 1;
    const reconnected = this.#everOpened;
    this.#everOpened = true;
    this.#heartbeat = new Heartbeat(
      this.#heartbeatOptions,
      () => ws.ping(),
      (silentFor) => {
        this.#log.warn(`no pong from the platform for ${silentFor} ms: the connection is dead; replacing it`);
        ws.terminate();
      },
    );
    this.#heartbeat.start();
    this.#setState('open');
    this.#log.info(
      { reconnected },
      reconnected ? 'reconnected to the platform' : 'connected to the platform',
    );
    // Frames that waited go out before anything the runner sends from its 'open' listener.
    this.#delivery.attach(ws, this.#tcp.get(ws));
    this.#notify('open', { reconnected });
    this.#opener?.resolve();
    this.#opener = undefined;
  }

  #onSocketClose(
    ws: WebSocket,
    code: number,
    reason: string,
    refusedStatus: number | undefined,
    error: Error | undefined,
  ): void {
    if (ws !== this.#socket) return;
    this.#socket = undefined;
    this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    ws.removeAllListeners();
    ws.on('error', () => {}); // nothing more is expected, but an error with no listener would crash the process
    // Frames the platform had not confirmed go back, in order, ahead of anything newer.
    this.#delivery.detach();
    const wasStable = this.#openedAt > 0 && Date.now() - this.#openedAt >= this.#stableAfter;
    this.#openedAt = 0;

    if (this.#state === 'closing') {
      this.#notify('close', { code, reason, reconnect: false });
      this.#socketGone?.();
      return;
    }
    if (refusedStatus === 401 || refusedStatus === 403) {
      this.#notify('close', { code, reason, reconnect: false });
      this.#fail(authError(refusedStatus, this.#redacted(this.#url)));
      return;
    }
    if (wasStable) this.#backoff.reset();
    const cause = describeClose(code, reason, refusedStatus, error);
    if (!this.#backoff.canRetry) {
      this.#notify('close', { code, reason, reconnect: false });
      this.#fail(givenUpError(this.#backoff.attempt, this.#redacted(this.#url), cause, error));
      return;
    }
    this.#notify('close', { code, reason, reconnect: true });
    this.#scheduleReconnect(cause);
  }

  #scheduleReconnect(cause: string): void {
    const { attempt, delay } = this.#backoff.next();
    this.#setState('reconnecting');
    // Never connected yet: nothing was lost; the URL (and where it came from) is what to check.
    const url = this.#redacted(this.#url);
    this.#log.warn(
      { attempt, delay, url },
      this.#everOpened
        ? `connection to the platform lost (${cause}); reconnecting in ${delay} ms (attempt ${attempt})`
        : `cannot reach ${url}${this.#urlSource ? ` (from ${this.#urlSource})` : ''}: ${cause}; retrying in ${delay} ms (attempt ${attempt})`,
    );
    this.#notify('retry', { attempt, delay, reason: cause });
    // Not unref()ed on purpose: while reconnecting this timer is the only thing that should keep a
    // runner process alive; close() clears it.
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#openSocket();
    }, delay);
  }

  /**
   * Gives up for good and closes. The error goes to exactly one place: the pending `connect()`, else
   * the 'error' listeners, else the log (so it is reported once, and never crashes the process).
   */
  #fail(error: C4cError): void {
    if (this.#opener) {
      // shutdown() rejects the pending connect() with it.
    } else if (this.listenerCount('error') > 0) {
      this.emit('error', error);
    } else {
      this.#log.error({ err: error }, error.message);
    }
    this.#closing ??= this.#shutdown(error);
  }

  async #shutdown(error: C4cError | undefined): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closing');
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const ws = this.#socket;
    if (ws) await this.#closeSocket(ws);
    this.#delivery.end(
      error ??
        new C4cError('E_CLOSED', 'the connection to the platform was closed before this frame could be sent'),
    );
    this.#opener?.reject(error ?? new C4cError('E_CLOSED', 'the connection was closed before it could open'));
    this.#opener?.promise.catch(() => {}); // the caller of connect() got it; no unhandled rejection if nobody awaits
    this.#opener = undefined;
    this.#setState('closed');
  }

  #closeSocket(ws: WebSocket): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => ws.terminate(), this.#closeTimeout);
      timer.unref();
      this.#socketGone = () => {
        clearTimeout(timer);
        this.#socketGone = undefined;
        resolve();
      };
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'client closing');
      else ws.terminate();
    });
  }

  // ── frames in ─────────────────────────────────────────────────────────────────────────────────

  #onMessage(ws: WebSocket, data: WebSocketModule.RawData): void {
    if (ws !== this.#socket) return;
    const raw = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const result = decodeServerFrame(raw);
    if (!result.ok) {
      this.#reject(result.reason, result.detail);
      return;
    }
    this.#counters.framesIn += 1;
    const frame = result.frame;
    if (frame.type === 'ping') {
      // Answered at once, ahead of the outbox: a platform that pings wants to know we are alive now.
      // Its timestamp is echoed (as the embedded platform does), so it can measure the round trip.
      if (ws.readyState === WebSocket.OPEN)
        ws.send(JSON.stringify({ type: 'pong', timestamp: frame.timestamp ?? rfc3339() }));
      return;
    }
    if (frame.type === 'pong') return;
    if (frame.type === 'error') {
      this.#log.warn(
        { code: frame.code, details: frame.details },
        `the platform sent an error: ${frame.code}: ${frame.message}`,
      );
      this.#delivery.onError(frame);
      this.#notify('platform-error', frame);
    }
    this.#notify('frame', frame);
  }

  /**
   * Emits to the runner's listeners. One that throws must not take the socket (or the state machine
   * half-way through a transition) down with it: the error is logged and the connection goes on.
   */
  #notify<K extends Exclude<keyof ConnectionEvents, 'error'>>(event: K, ...args: ConnectionEvents[K]): void {
    try {
      (this.emit as (name: K, ...rest: ConnectionEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#log.error(
        { err: error },
        `a '${event}' listener of the connection threw; the connection goes on`,
      );
    }
  }

  #reject(reason: RejectReason, detail: string): void {
    const count = (this.#rejectedCounts.get(reason) ?? 0) + 1;
    this.#rejectedCounts.set(reason, count);
    const short = detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL)}…` : detail;
    if (count === 1) {
      this.#log.warn(
        { reason, detail: short },
        `dropped a malformed frame from the platform (${reason}); further ones of this kind are counted, not logged`,
      );
    }
    this.#notify('rejected', { reason, detail: short, count });
  }

  #setState(next: ConnectionState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.#notify('state', next, previous);
  }

  #redacted(text: string): string {
    return redactText(text, [this.#token]);
  }
}
