/**
 * Forwards events to a webhook over HTTP: the public client's POST (same body, `Content-Type:
 * application/json`), plus what it lacks — an optional signature, and retries with capped
 * exponential backoff (honouring `Retry-After`) when the webhook is down, slow, overloaded (429)
 * or failing (5xx). A webhook that keeps failing makes `forward` throw, so the runner leaves the
 * event unacknowledged and it comes back later: nothing is lost.
 *
 * One client serves every employment; each `forward` waits only for its own retries, so a
 * failing forward in one employment never holds up another (the runner's queue orders them).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { C4cError } from '../errors.js';
import { MAX_FRAME_BYTES } from '../protocol/frames.js';
import { redactUrl } from '../redact.js';
import { encodeWebhookBody, type ForwardableFrame } from './body.js';
import type { ForwardKind, WebhookReporter } from './report.js';
import type { WebhookResponse } from './reply.js';
import { signatureHeaders } from './sign.js';

export interface RetryOptions {
  /** Attempts in all, the first included; `Infinity` retries until it succeeds or is aborted. @default 5 */
  attempts?: number;
  /** Wait after the first failed attempt, in ms; doubles after each further one. @default 1_000 */
  initialDelay?: number;
  /** Longest wait between attempts, in ms (also caps `Retry-After`). @default 30_000 */
  maxDelay?: number;
}

export interface WebhookClientOptions {
  /** Where to POST (http or https). */
  url: string;
  /** Signs each request (`X-C4C-Timestamp`, `X-C4C-Signature`) when set. @default unsigned */
  secret?: string;
  /** Time limit of one attempt, in ms (the public client's). @default 10_000 */
  timeout?: number;
  retry?: RetryOptions;
  /** Sent as `User-Agent`. @default 'c4c-runner' */
  userAgent?: string;
  /** The clock used for signatures, in ms (tests). @default Date.now */
  now?: () => number;
}

export interface ForwardOptions {
  /** Aborts the attempt in flight and any wait (handler timeout, shutdown). */
  signal?: AbortSignal;
  /**
   * No further attempts once aborted: a wait between attempts ends at once (with `WebhookError`),
   * while an attempt in flight still finishes. `connect` aborts it on Ctrl-C so a webhook that is
   * down does not hold up the exit; the event stays unacknowledged.
   */
  stopRetrying?: AbortSignal;
  /** Told about each attempt. */
  report?: WebhookReporter;
}

/** How a forward ended, when it did not throw. */
export type ForwardResult =
  /** The webhook answered 2xx. */
  | { ok: true; response: WebhookResponse; attempts: number }
  /** The webhook refused the event for good (3xx, or 4xx other than 408/429). */
  | { ok: false; response: WebhookResponse; attempts: number };

/** A forward that failed on every attempt, or was aborted: a passing error for the runner's `retry` policy. */
export class WebhookError extends C4cError {
  override name = 'WebhookError';
  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super('E_WEBHOOK', message, options);
  }
}

export class WebhookClient {
  /** The webhook URL as messages and reports show it: user info and query values redacted. */
  readonly url: string;
  readonly #secret: string | undefined;
  readonly #timeout: number;
  readonly #attempts: number;
  readonly #initialDelay: number;
  readonly #maxDelay: number;
  readonly #userAgent: string;
  readonly #now: () => number;
  readonly #target: URL;

  constructor(options: WebhookClientOptions) {
    this.#target = parseWebhookUrl(options.url);
    // A webhook URL often carries its secret (`?token=…`, `user:pass@`): only the redacted form is kept for display.
    this.url = redactUrl(options.url);
    this.#secret = options.secret || undefined;
    this.#timeout = positive('timeout', options.timeout ?? 10_000);
    const attempts = options.retry?.attempts ?? 5;
    this.#attempts = attempts === Number.POSITIVE_INFINITY ? attempts : positive('retry.attempts', attempts);
    this.#initialDelay = positive('retry.initialDelay', options.retry?.initialDelay ?? 1_000);
    this.#maxDelay = positive('retry.maxDelay', options.retry?.maxDelay ?? 30_000);
    if (this.#maxDelay < this.#initialDelay) {
      throw new C4cError(
        'E_CONFIG',
        `webhook retry.maxDelay (${this.#maxDelay}) must be at least retry.initialDelay (${this.#initialDelay})`,
      );
    }
    this.#userAgent = options.userAgent ?? 'c4c-runner';
    this.#now = options.now ?? Date.now;
  }

  /** Attempts in all for one forward. */
  get attempts(): number {
    return this.#attempts;
  }

  /**
   * The longest one forward may take: every attempt timing out and every wait at its cap
   * (`Retry-After` may stretch a wait to `maxDelay`). A handler's time limit at least this long
   * lets the retries finish.
   */
  get budget(): number {
    return this.#attempts * this.#timeout + (this.#attempts - 1) * this.#maxDelay;
  }

  /** The wait after failed attempt `attempt` (1-based), before `Retry-After` is considered. */
  delayAfter(attempt: number): number {
    return Math.min(this.#maxDelay, this.#initialDelay * 2 ** (attempt - 1));
  }

  /**
   * POSTs the frame's body, retrying as needed. Resolves with the webhook's answer (2xx, or a
   * refusal not worth retrying); throws `WebhookError` when every attempt failed or `signal` aborted.
   */
  async forward(frame: ForwardableFrame, options: ForwardOptions = {}): Promise<ForwardResult> {
    const { signal, report } = options;
    const waits = options.stopRetrying
      ? signal
        ? AbortSignal.any([signal, options.stopRetrying])
        : options.stopRetrying
      : signal;
    const kind: ForwardKind = frame.type === 'message' ? 'message' : 'notification';
    const body = encodeWebhookBody(frame);
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      throwIfAborted(attempt === 1 ? signal : waits, attempt - 1, this.url);
      let response: WebhookResponse & { retryAfter?: number };
      try {
        response = await this.#post(body, signal);
      } catch (error) {
        if (signal?.aborted) throw abortError(signal, attempt, this.url);
        lastProblem = (error as Error).message;
        const retryIn = attempt < this.#attempts ? this.delayAfter(attempt) : undefined;
        report?.({
          type: 'failed',
          url: this.url,
          kind,
          error: lastProblem,
          attempt,
          attempts: this.#attempts,
          final: retryIn === undefined,
          ...(retryIn !== undefined ? { retryIn } : {}),
        });
        if (retryIn !== undefined) await sleep(retryIn, waits, attempt, this.url);
        continue;
      }
      if (response.status >= 200 && response.status < 300) {
        report?.({ type: 'delivered', url: this.url, kind, status: response.status, attempt });
        return { ok: true, response, attempts: attempt };
      }
      if (!isRetryable(response.status)) {
        report?.({ type: 'rejected', url: this.url, kind, status: response.status });
        return { ok: false, response, attempts: attempt };
      }
      lastProblem = `status ${response.status}`;
      let retryIn: number | undefined;
      if (attempt < this.#attempts) {
        retryIn = this.delayAfter(attempt);
        if (response.retryAfter !== undefined)
          retryIn = Math.min(this.#maxDelay, Math.max(retryIn, response.retryAfter));
      }
      report?.({
        type: 'failed',
        url: this.url,
        kind,
        status: response.status,
        attempt,
        attempts: this.#attempts,
        final: retryIn === undefined,
        ...(retryIn !== undefined ? { retryIn } : {}),
      });
      if (retryIn !== undefined) await sleep(retryIn, waits, attempt, this.url);
    }
    throw new WebhookError(
      `webhook ${this.url} failed ${this.#attempts} time${this.#attempts === 1 ? '' : 's'} (last: ${lastProblem}); check that it is running and answers 2xx. The runner tries the event again (the config's retry) and, if it keeps failing, keeps it in .c4c/dead-letters.jsonl for c4c-runner replay`,
      this.#attempts,
      { details: { url: this.url } },
    );
  }

  #post(body: string, signal: AbortSignal | undefined): Promise<WebhookResponse & { retryAfter?: number }> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      'User-Agent': this.#userAgent,
      ...(this.#secret ? signatureHeaders(this.#secret, body, this.#now()) : {}),
    };
    const send = this.#target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, value?: WebhookResponse & { retryAfter?: number }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(value!);
      };
      const req = send(this.#target, { method: 'POST', headers });
      const timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${this.#timeout} ms`));
      }, this.#timeout);
      timer.unref?.();
      const onAbort = () => req.destroy(new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error) => finish(error));
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          // An answer larger than a frame can never become a reply; stop reading it.
          if (size > MAX_FRAME_BYTES) {
            res.destroy();
            finish(undefined, {
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'],
              body: '',
              tooLarge: true,
            });
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (error) => finish(error));
        res.on('end', () => {
          const retryAfter = parseRetryAfter(res.headers['retry-after'], this.#now());
          finish(undefined, {
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            body: Buffer.concat(chunks).toString('utf8'),
            ...(retryAfter !== undefined ? { retryAfter } : {}),
          });
        });
      });
      req.end(body);
    });
  }
}

/** Network trouble aside, these statuses mean "try again later". */
function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** `Retry-After` in ms: delta-seconds or an HTTP date. */
function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Checks a webhook URL early, with a sentence that says how to fix it. */
export function parseWebhookUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new C4cError(
      'E_CONFIG',
      `webhook URL ${JSON.stringify(value)} is not a URL; use e.g. http://localhost:8080/webhook`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new C4cError(
      'E_CONFIG',
      `webhook URL ${JSON.stringify(value)} must start with http:// or https://`,
    );
  }
  return url;
}

function positive(name: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new C4cError('E_CONFIG', `webhook ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function throwIfAborted(signal: AbortSignal | undefined, attempts: number, url: string): void {
  if (signal?.aborted) throw abortError(signal, attempts, url);
}

function abortError(signal: AbortSignal, attempts: number, url: string): WebhookError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  return new WebhookError(
    `forward to webhook ${url} stopped (${reason}); the event is not acknowledged, so the platform keeps it unread and the next start or connect handles it`,
    attempts,
    {
      cause: signal.reason,
      details: { url },
    },
  );
}

function sleep(ms: number, signal: AbortSignal | undefined, attempts: number, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref?.();
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!, attempts, url));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
