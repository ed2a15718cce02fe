/**
 * Dead-connection detection for one socket: a control ping every `interval`, and a deadline that
 * every pong pushes back by `timeout`. A half-open TCP connection (the platform vanished without a
 * FIN) sends nothing and errors on nothing; only a missing pong reveals it.
 *
 * One instance per socket, started on open and stopped on every exit path, so timers never pile up
 * across reconnects and a pong from an earlier socket can never count for the current one.
 */
import { C4cError } from '../errors.js';
import { HEARTBEAT_DEFAULTS } from '../protocol/heartbeat.js';

/** Heartbeat settings. */
export interface HeartbeatOptions {
  /** Time between two control pings, in ms. @default 30_000 */
  interval?: number;
  /** A connection without a pong for this long is dead, in ms. @default 60_000 */
  timeout?: number;
}

/** The heartbeat of one socket. */
export class Heartbeat {
  readonly #ping: () => void;
  readonly #onDead: (silentFor: number) => void;
  #pingTimer: NodeJS.Timeout | undefined;
  #deadTimer: NodeJS.Timeout | undefined;
  /** The last pong (or the start), `Date.now()`. */
  #lastPong = 0;
  readonly #interval: number;
  readonly #timeout: number;

  constructor(options: Required<HeartbeatOptions>, ping: () => void, onDead: (silentFor: number) => void) {
    this.#ping = ping;
    this.#onDead = onDead;
    this.#interval = options.interval;
    this.#timeout = options.timeout;
  }

  /** Starts pinging; the deadline counts from now, not from any earlier socket's pong. */
  start(): void {
    this.stop();
    this.#pingTimer = setInterval(() => this.#ping(), this.#interval);
    this.#pingTimer.unref();
    this.#lastPong = Date.now();
    this.#armDeadline(this.#timeout);
  }

  /**
   * A pong arrived: the connection is alive for another `timeout`. Only noted: the deadline's timer,
   * when it fires, waits on for the rest. Every delivery ping's pong comes here, so under load a
   * timer cleared and set again per pong was a cost per reply (docs/benchmarks.md, section 0f).
   */
  pong(): void {
    if (this.#pingTimer === undefined) return;
    this.#lastPong = Date.now();
  }

  /** Releases both timers. Safe to call at any time, any number of times. */
  stop(): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    if (this.#deadTimer !== undefined) clearTimeout(this.#deadTimer);
    this.#pingTimer = undefined;
    this.#deadTimer = undefined;
  }

  #armDeadline(ms: number): void {
    this.#deadTimer = setTimeout(this.#checkDeadline, ms);
    this.#deadTimer.unref();
  }

  readonly #checkDeadline = (): void => {
    this.#deadTimer = undefined;
    const silentFor = Date.now() - this.#lastPong;
    if (silentFor < this.#timeout) {
      this.#armDeadline(this.#timeout - silentFor);
      return;
    }
    this.stop();
    this.#onDead(this.#timeout);
  };
}

/** Fills and checks heartbeat settings. */
export function resolveHeartbeat(options: HeartbeatOptions = {}): Required<HeartbeatOptions> {
  const interval = options.interval ?? HEARTBEAT_DEFAULTS.interval;
  const timeout = options.timeout ?? HEARTBEAT_DEFAULTS.timeout;
  if (!(Number.isFinite(interval) && interval > 0)) {
    throw new C4cError('E_CONFIG', `heartbeat.interval must be a number of ms > 0, got ${String(interval)}`);
  }
  if (!(Number.isFinite(timeout) && timeout > interval)) {
    throw new C4cError(
      'E_CONFIG',
      `heartbeat.timeout must be a number of ms greater than heartbeat.interval (${interval}), got ${String(timeout)}; a pong cannot come back before its ping is sent`,
    );
  }
  return { interval, timeout };
}
