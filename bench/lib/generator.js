/**
 * The load generator: the employer side, one WebSocket to the platform, the same for every agent
 * under test. It keeps a fixed number of messages in flight (closed loop, one slot per employment,
 * so the runner's per-conversation ordering never serialises two slots), and times each round trip
 * from the send call to the reply frame's arrival.
 */
import { URL } from 'node:url';
import { setTimeout, clearTimeout } from 'node:timers';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export class Generator {
  /** Connects as the employer; resolves once the socket is open. */
  static async connect({ wsUrl, token }) {
    const url = new URL(wsUrl);
    url.searchParams.set('api_key', token);
    const ws = new WebSocket(url, { headers: { 'X-API-Key': token } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new Generator(ws);
  }

  constructor(ws) {
    this.ws = ws;
    this.seq = 0;
    /** seq → { t0, employmentId, slot } */
    this.pending = new Map();
    /** Called with (reply, prefix, entry, now) for every reply; set by the running phase. */
    this.onReply = null;
    this.errors = [];
    ws.on('message', (data) => this.receive(data));
  }

  receive(data) {
    const frame = JSON.parse(data.toString());
    if (frame.type === 'error') {
      this.errors.push(`${frame.code}: ${frame.message}`);
      return;
    }
    if (frame.type !== 'message') return;
    this.receiveFrame(frame, performance.now());
  }

  /** A reply (a message frame) that arrived at `now`: matched to its request by the seq in its content. */
  receiveFrame(frame, now) {
    // Replies are "<prefix>:<seq>" or "<seq>": the number after the last colon names the request.
    const content = String(frame.content);
    const colon = content.lastIndexOf(':');
    const seq = Number(colon < 0 ? content : content.slice(colon + 1));
    const prefix = colon < 0 ? '' : content.slice(0, colon);
    this.receiveSeq(seq, now, frame, prefix);
  }

  /** The reply to request `seq` arrived at `now` (`frame` and `prefix` when the caller parsed them). */
  receiveSeq(seq, now, frame = undefined, prefix = '') {
    const entry = this.pending.get(seq);
    if (!entry) return; // a reply to something already counted, e.g. a catch-up after a restart
    this.pending.delete(seq);
    this.onReply?.(frame, prefix, entry, now);
  }

  /** Sends one message as the employer; returns its sequence number. */
  send(employmentId, slot = 0) {
    const seq = ++this.seq;
    this.pending.set(seq, { t0: performance.now(), employmentId, slot });
    this.ws.send(
      JSON.stringify({
        type: 'message',
        employmentId,
        messageId: `msg_${randomUUID()}`,
        timestamp: new Date().toISOString(),
        content: String(seq),
      }),
    );
    return seq;
  }

  /** Sends one message and resolves with ms until its reply; rejects after `timeoutMs`. */
  roundTrip(employmentId, timeoutMs = 60_000) {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const timer = setTimeout(() => {
        this.onReply = null;
        reject(new Error(`no reply on employment ${employmentId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.onReply = (_frame, _prefix, _entry, now) => {
        clearTimeout(timer);
        this.onReply = null;
        resolve(now - t0);
      };
      this.send(employmentId);
    });
  }

  /**
   * Keeps `inFlight` messages outstanding for `warmupMs + measureMs`, each slot on its own
   * employment; counts and times the replies that arrive in the measured window.
   * Resolves with { replies, seconds, rate, latenciesUs } once every outstanding reply is in
   * (or after `drainMs`, which is reported as `lost`). `probe()` is called at the start of the
   * window and `probe(start)` at its end; what the second call returns comes back as `usage`.
   */
  async closedLoop({ inFlight, employments, warmupMs, measureMs, drainMs = 10_000, probe }) {
    if (employments.length < inFlight)
      throw new Error(`need ${inFlight} employments, have ${employments.length}`);
    const latencies = [];
    let replies = 0;
    let sending = true;
    let windowStart = Number.POSITIVE_INFINITY;
    let windowEnd = Number.POSITIVE_INFINITY;
    let outstanding = 0;
    let drained;
    const allIn = new Promise((resolve) => (drained = resolve));
    this.onReply = (_frame, _prefix, entry, now) => {
      outstanding -= 1;
      if (now >= windowStart && now < windowEnd) {
        replies += 1;
        latencies.push((now - entry.t0) * 1000);
      }
      if (sending) {
        outstanding += 1;
        this.send(entry.employmentId, entry.slot);
      } else if (outstanding === 0) drained();
    };
    const t0 = performance.now();
    for (let slot = 0; slot < inFlight; slot += 1) {
      outstanding += 1;
      this.send(employments[slot], slot);
    }
    windowStart = t0 + warmupMs;
    windowEnd = windowStart + measureMs;
    await sleep(warmupMs);
    const before = probe?.();
    await sleep(measureMs);
    const usage = probe?.(before);
    sending = false;
    const lostBefore = outstanding;
    const timeout = sleep(drainMs).then(() => 'timeout');
    const result = await Promise.race([allIn, timeout]);
    this.onReply = null;
    const lost = result === 'timeout' ? outstanding : 0;
    this.pending.clear();
    return {
      replies,
      seconds: measureMs / 1000,
      rate: replies / (measureMs / 1000),
      latenciesUs: latencies,
      lost,
      outstandingAtStop: lostBefore,
      usage,
    };
  }

  async close() {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise((resolve) => {
      this.ws.once('close', resolve);
      this.ws.close();
    });
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
