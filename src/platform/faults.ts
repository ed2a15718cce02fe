/**
 * Fault switches, for tests of what a client does when the platform misbehaves. Refused unless the
 * platform was started with `faults: true` (`--faults`).
 */
import { C4cError } from '../errors.js';
import type { Hub } from './hub.js';

/** The typed in-process switches (`platform.faults`); `POST /dev/faults` maps onto them. */
export interface FaultSwitches {
  /** Destroys every agent socket at once, with no close frame (a network cut). Returns how many. */
  dropConnections(): number;
  /** For `ms`, answers neither control pings nor JSON pings (a hung platform). */
  stopPongs(ms: number): void;
  /**
   * On every agent socket open now, for the rest of its life, leaves unanswered the control pings
   * that carry data (a client's delivery probes) and still answers empty ones (its heartbeat): a
   * platform that answers only some pings, as RFC 6455 allows it to. Sockets opened later are not
   * affected. Returns how many sockets it applies to.
   */
  stopDataPongs(): number;
  /** Refuses an agent's messages beyond `perSecond` in any second with RATE_LIMITED; `null` lifts it. */
  rateLimit(perSecond: number | null): void;
  /** Sends `n` malformed frames of assorted kinds to every connected agent. Returns frames sent. */
  malformed(n: number): number;
  /**
   * For `ms`, answers every history read (`GET …/employments/:id/messages`) with 502 `BAD_GATEWAY`,
   * as a gateway in front of a struggling platform would; 0 lifts it.
   */
  refuseHistory(ms: number): void;
}

/**
 * The malformed frames `malformed(n)` cycles through, in this order. The last one is larger than
 * MAX_FRAME_BYTES; it is sent only when n > 5.
 */
export const MALFORMED_FRAMES: readonly { kind: string; frame: () => string }[] = [
  { kind: 'not-json', frame: () => '{"type":"message", this is not json' },
  { kind: 'not-object', frame: () => '["type","message"]' },
  { kind: 'unknown-type', frame: () => JSON.stringify({ type: 'mystery', messageId: 'msg_malformed' }) },
  { kind: 'invalid', frame: () => JSON.stringify({ type: 'message', employmentId: 'one', content: 42 }) },
  { kind: 'invalid', frame: () => JSON.stringify({ type: 'notification', data: 'not an object' }) },
  {
    kind: 'too-large',
    frame: () =>
      JSON.stringify({
        type: 'message',
        employmentId: 1,
        messageId: 'msg_big',
        timestamp: '',
        content: 'x'.repeat(1024 * 1024 + 16),
      }),
  },
];

/** What the rest of the platform asks the switches. */
export class FaultState {
  #pongsStoppedUntil = 0;
  #perSecond: number | null = null;
  readonly #sent = new Map<number, number[]>();

  #historyRefusedUntil = 0;

  historyRefused(): boolean {
    return Date.now() < this.#historyRefusedUntil;
  }

  refuseHistory(ms: number): void {
    this.#historyRefusedUntil = Date.now() + ms;
  }

  pongsStopped(): boolean {
    return Date.now() < this.#pongsStoppedUntil;
  }

  stopPongs(ms: number): void {
    this.#pongsStoppedUntil = Date.now() + ms;
  }

  rateLimit(perSecond: number | null): void {
    this.#perSecond = perSecond;
    this.#sent.clear();
  }

  /** Counts a message from an agent against the limit; false when it must be refused. */
  allowMessage(agentId: number): boolean {
    if (this.#perSecond === null) return true;
    const now = Date.now();
    const recent = (this.#sent.get(agentId) ?? []).filter((at) => now - at < 1000);
    if (recent.length >= this.#perSecond) {
      this.#sent.set(agentId, recent);
      return false;
    }
    recent.push(now);
    this.#sent.set(agentId, recent);
    return true;
  }

  get limit(): number | null {
    return this.#perSecond;
  }
}

/** The switches, or ones that throw a clear error when faults are off. */
export function createFaultSwitches(enabled: boolean, state: FaultState, hub: Hub): FaultSwitches {
  const guard = () => {
    if (!enabled) {
      throw new C4cError(
        'E_CONFIG',
        'fault switches are disabled; start the platform with faults: true (CLI: --faults)',
      );
    }
  };
  const count = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min) {
      throw new C4cError('E_CONFIG', `faults.${name}: expected an integer >= ${min}, got ${String(value)}`);
    }
  };
  return {
    dropConnections() {
      guard();
      const clients = hub.all();
      for (const client of clients) client.ws.terminate();
      return clients.length;
    },
    stopPongs(ms) {
      guard();
      count('stopPongs', ms, 0);
      state.stopPongs(ms);
    },
    stopDataPongs() {
      guard();
      const clients = hub.all();
      for (const client of clients) client.dataPongsStopped = true;
      return clients.length;
    },
    rateLimit(perSecond) {
      guard();
      if (perSecond !== null) count('rateLimit', perSecond, 0);
      state.rateLimit(perSecond);
    },
    refuseHistory(ms) {
      guard();
      count('refuseHistory', ms, 0);
      state.refuseHistory(ms);
    },
    malformed(n) {
      guard();
      count('malformed', n, 0);
      let sent = 0;
      for (const client of hub.all()) {
        for (let i = 0; i < n; i++) {
          const frame = MALFORMED_FRAMES[i % MALFORMED_FRAMES.length]!.frame();
          if (client.ws.readyState !== client.ws.OPEN) break;
          client.ws.send(frame);
          sent += 1;
        }
      }
      return sent;
    },
  };
}
