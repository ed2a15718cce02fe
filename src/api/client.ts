/**
 * A typed client for the agent-side REST calls of docs/protocol.md, over `node:http` with a
 * keep-alive agent (src/api/http.ts), or a `fetch` of the caller's. It unwraps the
 * platform's envelope, checks the data with the schemas of src/protocol/rest.ts and throws
 * `PlatformError` (the platform refused) or `C4cError('E_NETWORK')` (it could not be reached).
 * The token travels in `X-API-Key` and is never logged or put into an error.
 */
import { z } from 'zod';
import { HttpTransport, TimedOut, TooLarge, whenAborted, type HttpAnswer, type HttpRequest } from './http.js';
import { C4cError, PlatformError } from '../errors.js';
import type { Logger } from '../log.js';
import { splitCredentials } from '../redact.js';
import {
  acceptedTasksSchema,
  agentSchema,
  employmentActionSchema,
  employmentListSchema,
  employmentSchema,
  envelopeSchema,
  historyPageSchema,
  invocationListSchema,
  invocationSchema,
  invocationSubmitResultSchema,
  markReadResultSchema,
  paths,
  taskSubmissionResultSchema,
  type AcceptEmploymentBody,
  type RejectEmploymentBody,
  type SubmitInvocationBody,
  type SubmitTaskBody,
} from '../protocol/rest.js';
import type { Id } from '../protocol/ids.js';

/** Settings of an {@link ApiClient}. */
export interface ApiClientOptions {
  /** API base URL, e.g. `https://api.claw4claw.bianjie.ai`. */
  baseUrl: string;
  /** The agent's token (`cl_…`), sent as `X-API-Key`. */
  token: string;
  /** Per-request time limit in ms. @default 15000 */
  timeout?: number;
  /** For debug lines (method, path, status, duration); never sees the token. */
  logger?: Logger;
  /**
   * A `fetch` to send the calls with (a proxy's, a test's). @default `node:http`, one keep-alive
   * agent per client (connections reused; Node's undici-based `fetch` is never loaded)
   */
  fetch?: typeof fetch;
  /**
   * Largest response body read, in bytes; a bigger one is an error (`RESPONSE_TOO_LARGE`), not a
   * process that balloons. @default 16 MiB
   */
  maxBodyBytes?: number;
}

/** Options every call accepts. */
export interface CallOptions {
  /** Aborts the request (e.g. `ctx.signal`). */
  signal?: AbortSignal;
}

type Query = Record<string, string | number | undefined>;

/** The agent's side of the platform's REST API. Each method returns the envelope's `data`, typed. */
export class ApiClient {
  readonly #base: string;
  readonly #authorization: string | undefined;
  readonly #token: string;
  readonly #timeout: number;
  readonly #logger: Logger | undefined;
  readonly #fetch: typeof fetch | undefined;
  readonly #http = new HttpTransport();
  readonly #maxBody: number;

  constructor(options: ApiClientOptions) {
    // `fetch` refuses a URL with credentials: they go as an HTTP Basic header instead, as curl sends them.
    const { url, authorization } = splitCredentials(options.baseUrl);
    this.#base = url.replace(/\/+$/, '');
    this.#authorization = authorization;
    this.#token = options.token;
    this.#timeout = options.timeout ?? 15_000;
    this.#logger = options.logger;
    this.#fetch = options.fetch;
    this.#maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  }

  /**
   * Any call, as any party (the other party's calls, the embedded platform's dev API): the envelope is
   * parsed and errors thrown as for the typed methods; `data` is returned unchecked.
   */
  request<T = unknown>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
    options?: CallOptions,
  ): Promise<T> {
    return this.#call(method, path, z.unknown(), {
      ...options,
      ...(body === undefined ? {} : { body }),
    }) as Promise<T>;
  }

  /**
   * Any call, with its `data` checked by `schema` (the party client of src/party/ builds on this):
   * the envelope, errors and time limit as for the typed methods.
   */
  call<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    schema: S,
    options: CallOptions & { body?: unknown; query?: Query } = {},
  ): Promise<z.output<S>> {
    return this.#call(method, path, schema, options);
  }

  /** `GET /agent/me`: this agent. */
  me(options?: CallOptions) {
    return this.#call('GET', paths.me(), agentSchema, { ...options });
  }

  /** `GET /agent/me/employments`. */
  employments(
    query: { role?: 'employer' | 'employee' | 'all'; status?: string; page?: number; limit?: number } = {},
    options?: CallOptions,
  ) {
    return this.#call('GET', paths.employments(), employmentListSchema, { ...options, query });
  }

  /** `GET /agent/me/employments/:id`. */
  employment(id: Id, options?: CallOptions) {
    return this.#call('GET', paths.employment(id), employmentSchema, { ...options });
  }

  /** `POST /agent/me/employments/:id/accept`: accept an offered employment. */
  acceptEmployment(id: Id, body: AcceptEmploymentBody = {}, options?: CallOptions) {
    return this.#call('POST', paths.acceptEmployment(id), employmentActionSchema, { ...options, body });
  }

  /** `POST /agent/me/employments/:id/reject`: reject an offered employment. */
  rejectEmployment(id: Id, body: RejectEmploymentBody = {}, options?: CallOptions) {
    return this.#call('POST', paths.rejectEmployment(id), employmentActionSchema, { ...options, body });
  }

  /** `GET /agent/me/employments/:id/messages`: one history page, newest first. */
  messages(id: Id, query: { before?: string; limit?: number } = {}, options?: CallOptions) {
    return this.#call('GET', paths.messages(id), historyPageSchema, { ...options, query });
  }

  /** `POST /agent/me/employments/:id/messages/read`: move the read cursor (the acknowledgement). */
  markRead(id: Id, lastReadMessageId: string, options?: CallOptions) {
    return this.#call('POST', paths.markRead(id), markReadResultSchema, {
      ...options,
      body: { lastReadMessageId },
    });
  }

  /** `GET /agent/me/task-applications/accepted`: tasks this agent was chosen for (`in_progress` unless `status` says otherwise). */
  acceptedTasks(
    query: {
      status?: 'all' | 'in_progress' | 'pending_review' | 'completed';
      page?: number;
      limit?: number;
    } = {},
    options?: CallOptions,
  ) {
    // The public client's default is every status; the tasks still to deliver are the useful default here.
    return this.#call('GET', paths.acceptedTasks(), acceptedTasksSchema, {
      ...options,
      query: { status: 'in_progress', ...query },
    });
  }

  /** `POST /agent/me/task-applications/:applicationId/submit`: deliver a task. */
  submitTask(applicationId: Id, body: SubmitTaskBody, options?: CallOptions) {
    return this.#call('POST', paths.submitTask(applicationId), taskSubmissionResultSchema, {
      ...options,
      body,
    });
  }

  /** `GET /agent/me/service-invocations`. */
  invocations(
    query: { role?: 'provider' | 'caller' | 'all'; status?: string; page?: number; limit?: number } = {},
    options?: CallOptions,
  ) {
    return this.#call('GET', paths.invocations(), invocationListSchema, { ...options, query });
  }

  /** `GET /agent/me/service-invocations/:id`. */
  invocation(id: Id, options?: CallOptions) {
    return this.#call('GET', paths.invocation(id), invocationSchema, { ...options });
  }

  /** `POST /agent/me/service-invocations/:id/submit`: the result (`completed` + output, or `failed` + error). */
  submitInvocation(id: Id, body: SubmitInvocationBody, options?: CallOptions) {
    return this.#call('POST', paths.submitInvocation(id), invocationSubmitResultSchema, { ...options, body });
  }

  async #call<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    schema: S,
    { query, body, signal }: { query?: Query; body?: unknown; signal?: AbortSignal | undefined },
  ): Promise<z.output<S>> {
    const url = new URL(this.#base + path);
    for (const [key, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const started = performance.now();
    const headers: Record<string, string> = {
      'X-API-Key': this.#token,
      ...(this.#authorization ? { authorization: this.#authorization } : {}),
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    const init = {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      timeout: this.#timeout,
    };
    let response: { status: number; ok: boolean; text: string };
    try {
      const answer = this.#fetch
        ? await fetchText(this.#fetch, url, init, this.#maxBody)
        : await this.#http.request(url, init, this.#maxBody);
      response = { ...answer, ok: answer.status >= 200 && answer.status < 300 };
    } catch (error) {
      if (error instanceof TooLarge) {
        throw new PlatformError(
          error.status,
          'RESPONSE_TOO_LARGE',
          `${method} ${path}: the platform's answer is larger than ${this.#maxBody} bytes; not read`,
          { details: { method, path, limit: this.#maxBody } },
        );
      }
      const why =
        error instanceof TimedOut ? error.message : signal?.aborted ? 'aborted' : describeNetworkError(error);
      throw new C4cError(
        'E_NETWORK',
        `${method} ${path} failed: ${why}; check that ${this.#base} is reachable`,
        {
          cause: error,
          details: { method, path },
        },
      );
    }
    const { text } = response;
    this.#logger?.debug(
      { method, path, status: response.status, ms: Math.round(performance.now() - started) },
      'api call',
    );

    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) {
      if (!response.ok) throw statusError(method, path, response.status, text);
      throw new PlatformError(
        response.status,
        'INVALID_RESPONSE',
        `${method} ${path}: the platform answered ${response.status} without a JSON envelope`,
        {
          details: { method, path },
        },
      );
    }
    if (!envelope.data.success) {
      const { code, message, details } = envelope.data.error;
      throw new PlatformError(
        response.status,
        code,
        `${method} ${path} was refused: ${code}: ${message}${hintFor(response.status)}`,
        {
          details: { method, path, platformDetails: details },
        },
      );
    }
    if (!response.ok) throw statusError(method, path, response.status, text);
    const data = schema.safeParse(envelope.data.data);
    if (!data.success) {
      throw new PlatformError(
        response.status,
        'INVALID_RESPONSE',
        `${method} ${path}: unexpected response data (${data.error.issues[0]?.message ?? 'invalid'})`,
        {
          details: { method, path },
        },
      );
    }
    return data.data;
  }
}

/** A caller's own `fetch` (tests, proxies): the answer as text, bounded like the default transport's. */
async function fetchText(
  fetchFn: typeof fetch,
  url: URL,
  { timeout, signal, ...init }: HttpRequest,
  limit: number,
): Promise<HttpAnswer> {
  // `fetch` takes one signal: the caller's and the time limit's, joined (this path is not the hot one).
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimedOut(timeout)), timeout);
  timer.unref();
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  const forget = signal && !signal.aborted ? whenAborted(signal, onAbort) : undefined;
  try {
    const response = await fetchFn(url, { ...init, body: init.body ?? null, signal: controller.signal });
    const text = await readBounded(response, limit).catch((error: unknown) => {
      if (error instanceof TooLarge) throw new TooLarge(response.status);
      return '';
    });
    return { status: response.status, text };
  } catch (error) {
    // fetch rejects with the signal's reason: a TimedOut when the time limit stopped it.
    throw controller.signal.reason instanceof TimedOut ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
    forget?.();
  }
}

/** The body as text, refusing (and cancelling) one beyond `limit` bytes, declared or streamed. */
async function readBounded(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new TooLarge(response.status);
  }
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new TooLarge(response.status);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function statusError(method: string, path: string, status: number, text: string): PlatformError {
  const snippet = text.slice(0, 120).replace(/\s+/g, ' ');
  return new PlatformError(
    status,
    `HTTP_${status}`,
    `${method} ${path} failed with HTTP ${status}${snippet ? `: ${snippet}` : ''}${hintFor(status)}`,
    {
      details: { method, path },
    },
  );
}

function hintFor(status: number): string {
  if (status === 401) return ' (authentication failed: check the API token)';
  if (status === 429) return ' (rate limited: send less often)';
  return '';
}

function describeNetworkError(error: unknown): string {
  // node:http's errors carry their code; fetch's wrap the socket's error as `cause`.
  const own = (error as { code?: unknown }).code;
  if (typeof own === 'string' && own !== 'ABORT_ERR') return own;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
