/**
 * REST over `node:http` with one keep-alive agent per client: a call reuses a warm connection
 * instead of opening one, and `c4c-runner start` does not load undici (Node's `fetch`) at all —
 * ~20 ms of start-up CPU and several MiB of resident memory for a few small JSON calls
 * (docs/benchmarks.md, "Start-up").
 */
import http from 'node:http';
import type https from 'node:https';

/** An answer: its status and its body as text (bounded). */
export interface HttpAnswer {
  status: number;
  text: string;
}

/** One request. */
export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** The caller's signal: aborting it stops the request. */
  signal: AbortSignal | undefined;
  /** Time limit for the whole exchange, ms: past it the request is stopped with {@link TimedOut}. */
  timeout: number;
}

/** No whole answer within the time limit. */
export class TimedOut extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** A body larger than the limit, declared or streamed: not read. */
export class TooLarge extends Error {
  constructor(readonly status: number) {
    super(`answer with status ${status} is larger than the limit`);
  }
}

let httpsModule: Promise<typeof https> | undefined;

/** Keep-alive agents, made on first use, one per protocol. */
export class HttpTransport {
  #http: http.Agent | undefined;
  #https: https.Agent | undefined;

  /**
   * Sends a request and reads the answer, at most `limit` bytes of it (else rejects with
   * {@link TooLarge}). Rejects with the socket's error when no answer came.
   */
  async request(url: URL, request: HttpRequest, limit: number): Promise<HttpAnswer> {
    const secure = url.protocol === 'https:';
    const agent = secure ? await this.#httpsAgent() : (this.#http ??= new http.Agent({ keepAlive: true }));
    const send = secure ? (await (httpsModule ??= import('node:https'))).request : http.request;
    try {
      return await once(send, url, request, limit, agent);
    } catch (error) {
      // A kept-alive socket the server closed just as it was reused: the request never reached
      // it. Sent again once on a fresh socket, for reads only (Node's documented pattern).
      if (request.method === 'GET' && (error as { reused?: boolean }).reused === true)
        return once(send, url, request, limit, agent);
      throw error;
    }
  }

  async #httpsAgent(): Promise<https.Agent> {
    const { Agent } = await (httpsModule ??= import('node:https'));
    return (this.#https ??= new Agent({ keepAlive: true }));
  }
}

function once(
  send: typeof http.request,
  url: URL,
  request: HttpRequest,
  limit: number,
  agent: http.Agent,
): Promise<HttpAnswer> {
  const { signal } = request;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<HttpAnswer>((resolvePromise, rejectPromise) => {
    // The time limit and the caller's signal act on the request itself: no AbortController, timer
    // signal or AbortSignal.any per call (with them, ~10% of the runner's CPU when a catch-up reads
    // 50,000 histories; docs/benchmarks.md, "Catch-up at scale").
    const settle = (): void => {
      clearTimeout(timer);
      forget?.();
    };
    const resolve = (answer: HttpAnswer): void => {
      settle();
      resolvePromise(answer);
    };
    const reject = (error: unknown): void => {
      settle();
      rejectPromise(error);
    };
    // Rejected first, so the answer's own end (cut short by the destroy) cannot settle it as empty.
    const stop = (error: Error): void => {
      reject(error);
      req.destroy(error);
    };
    const onAbort = (): void => stop(abortError(signal!));
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    const req = send(url, { method: request.method, headers, agent }, (res) => {
      const status = res.statusCode ?? 0;
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) {
        res.destroy();
        reject(new TooLarge(status));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > limit) {
          res.destroy();
          reject(new TooLarge(status));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString('utf8') }));
      // A body cut short reads as empty: the envelope check then says what is wrong.
      res.on('error', () => resolve({ status, text: '' }));
      res.on('close', () => {
        if (!res.complete) resolve({ status, text: '' });
      });
    });
    const timer = setTimeout(() => stop(new TimedOut(request.timeout)), request.timeout);
    // A call in flight keeps the process up by its socket, not by its timer.
    timer.unref();
    const forget = signal && whenAborted(signal, onAbort);
    req.on('error', (error) => {
      if (req.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET')
        Object.assign(error, { reused: true });
      reject(error);
    });
    req.end(request.body);
  });
}

/** Calls waiting on each caller's signal: one listener per signal, however many calls share it. */
const waiting = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs `stop` when `signal` aborts; returns what forgets it. Calls share signals (every read of a
 * catch-up pass, every call of one handler): a listener each would pass Node's limit of listeners per
 * signal and warn (MaxListenersExceededWarning) with more than 10 calls in flight, so each signal gets
 * one listener, added once, that stops the calls waiting at the time.
 */
export function whenAborted(signal: AbortSignal, stop: () => void): () => void {
  let calls = waiting.get(signal);
  if (!calls) {
    const fresh = new Set<() => void>();
    calls = fresh;
    waiting.set(signal, fresh);
    signal.addEventListener(
      'abort',
      () => {
        waiting.delete(signal);
        for (const call of fresh) call();
      },
      { once: true },
    );
  }
  const mine = calls;
  mine.add(stop);
  return () => mine.delete(stop);
}

/** What a request stopped by its caller's signal rejects with (as `fetch` would). */
function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}
