/**
 * The config schema: the one place where every key, its check and its default live.
 * `UserConfig` (what `c4c.config.ts` may say, all optional) and `ResolvedConfig` (all filled) both
 * derive from it, so a default is never written twice.
 */
import { z } from 'zod';
import type { RoutedEvent } from '../protocol/events.js';
import { MAX_TIMER, MAX_WORKERS, LOOPBACK_HOST } from '../limits.js';
import { RECONNECT_DEFAULTS } from '../connection/backoff.js';
import { OUTBOX_DEFAULTS } from '../connection/outbox.js';
import { HEARTBEAT_DEFAULTS } from '../protocol/heartbeat.js';

/** A check with the sentence a user reads when it fails ("must be …"). */
const positiveInt = (hint: string) =>
  z
    .number({ error: `must be a positive integer (${hint})` })
    .int({ error: `must be a positive integer (${hint})` })
    .positive({ error: `must be a positive integer (${hint})` });

/** Defaults of the `redis` key (docs/scaling.md), written once. */
export const REDIS_DEFAULTS = { partitions: 16, lease: 5_000, prefix: 'c4c', replyTimeout: 30_000 } as const;

/** The log levels, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const platformSchema = z.strictObject(
  {
    /**
     * The platform's API base URL; the WebSocket URL is derived from it (`https` → `wss`, plus `/ws`).
     * @default env C4C_API_ENDPOINT, else `api_endpoint` in ~/.c4c/config.json, else https://api.claw4claw.bianjie.ai
     */
    url: z
      .string({ error: 'must be an http(s) URL such as "https://api.claw4claw.bianjie.ai"' })
      .refine(isHttpUrl, { error: 'must be an http(s) URL such as "https://api.claw4claw.bianjie.ai"' })
      .optional(),
    /**
     * The agent's API token (`cl_…`). Prefer env C4C_API_TOKEN to writing it in a committed file.
     * @default env C4C_API_TOKEN, else `api_token` in ~/.c4c/config.json
     */
    token: z
      .string({ error: 'must be a string (your agent token, cl_…)' })
      .min(1, { error: 'must not be empty (your agent token, cl_…)' })
      .optional(),
  },
  { error: 'must be an object such as { url: "https://…", token: process.env.C4C_API_TOKEN }' },
);

const reconnectSchema = z
  .strictObject(
    {
      /** First delay before reconnecting, in ms; doubles on each failed try (full jitter). @default 1000 */
      initialDelay: positiveInt('milliseconds, e.g. 1000').default(RECONNECT_DEFAULTS.initialDelay),
      /** Longest delay between tries, in ms. @default 30000 */
      maxDelay: positiveInt('milliseconds, e.g. 30000').default(RECONNECT_DEFAULTS.maxDelay),
      /** Tries before giving up; `Infinity` never gives up. @default Infinity */
      maxAttempts: z
        .union([positiveInt('a number of tries, or Infinity'), z.literal(Number.POSITIVE_INFINITY)], {
          error: 'must be a positive integer or Infinity',
        })
        .default(RECONNECT_DEFAULTS.maxAttempts),
    },
    { error: 'must be an object such as { initialDelay: 1000, maxDelay: 30000 }' },
  )
  .refine((r) => r.maxDelay >= r.initialDelay, {
    error: 'must be at least reconnect.initialDelay',
    path: ['maxDelay'],
  });

/** Decides whether a handler's error is passing (worth another attempt): the `retry.retryOn` key. */
export type RetryPredicate = (error: unknown) => boolean;

/** What the config's `onError` hook is told about an event that failed for good. */
export interface HandlerFailure {
  /** The event as routed (its name and the validated frame). */
  readonly routed: RoutedEvent;
  /** The handler file (relative label) that failed. */
  readonly file: string;
  /** The last error (a throw, or the time limit's `E_HANDLER_TIMEOUT`). */
  readonly error: unknown;
  /** Attempts made. */
  readonly attempts: number;
}

const retrySchema = z
  .strictObject(
    {
      /** Attempts per event in all, the first included; 1 turns retries off. @default 5 */
      attempts: positiveInt('attempts in all, e.g. 5').default(5),
      /** Wait before the second attempt, in ms; doubles each time (equal jitter). @default 1000 */
      initialDelay: positiveInt('milliseconds, e.g. 1000').default(1_000),
      /** Longest wait between two attempts, in ms. @default 60000 */
      maxDelay: positiveInt('milliseconds, e.g. 60000')
        .max(MAX_TIMER, { error: `must be at most ${MAX_TIMER} ms` })
        .default(60_000),
      /**
       * Which errors are passing (worth another attempt). @default RetryLaterError, and from ctx.api:
       * the platform unreachable (E_NETWORK) or answering 429/5xx; a webhook that kept failing (E_WEBHOOK)
       */
      retryOn: z
        .custom<RetryPredicate>((v) => typeof v === 'function', {
          error: 'must be a function (error) => boolean',
        })
        .optional(),
    },
    { error: 'must be an object such as { attempts: 5, initialDelay: 1000, maxDelay: 60000 }' },
  )
  .refine((r) => r.maxDelay >= r.initialDelay, {
    error: 'must be at least retry.initialDelay',
    path: ['maxDelay'],
  });

const heartbeatSchema = z
  .strictObject(
    {
      /** Control ping every this many ms. @default 30000 */
      interval: positiveInt('milliseconds, e.g. 30000').default(HEARTBEAT_DEFAULTS.interval),
      /** The connection is dead after this many ms without a pong. @default 60000 */
      timeout: positiveInt('milliseconds, e.g. 60000').default(HEARTBEAT_DEFAULTS.timeout),
    },
    { error: 'must be an object such as { interval: 30000, timeout: 60000 }' },
  )
  .refine((h) => h.timeout > h.interval, {
    error: 'must be longer than heartbeat.interval (a pong needs time to arrive)',
    path: ['timeout'],
  });

/**
 * The `webhook` key: where events without a handler file are forwarded; the webhook's answer is their reply.
 * @example
 * export default defineConfig({ webhook: { url: 'http://localhost:8080/webhook', secret: process.env.WEBHOOK_SECRET } });
 */
export const webhookConfigSchema = z.strictObject({
  /** The webhook URL (http or https). @default env C4C_WEBHOOK_URL */
  url: z
    .string({ error: 'must be an http(s) URL such as "http://localhost:8080/webhook"' })
    .refine(isHttpUrl, { error: 'must be an http(s) URL such as "http://localhost:8080/webhook"' })
    .optional(),
  /** Signs each request with HMAC-SHA256 (`X-C4C-Signature`). @default env C4C_WEBHOOK_SECRET, else unsigned */
  secret: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
  /** Time limit of one POST, in ms. @default 10000 (the webhook client's) */
  timeout: positiveInt('milliseconds, e.g. 10000').optional(),
  /** Retries of a failed forward (network error, timeout, 408, 429, 5xx). */
  retry: z
    .strictObject({
      /** Attempts in all; `Infinity` retries until it succeeds or the runner stops. @default Infinity */
      attempts: z
        .union([positiveInt('a number of attempts, or Infinity'), z.literal(Number.POSITIVE_INFINITY)])
        .optional(),
      /** First wait, in ms; doubles after each failure. @default 1000 */
      initialDelay: positiveInt('milliseconds, e.g. 1000').optional(),
      /** Longest wait, in ms. @default 30000 */
      maxDelay: positiveInt('milliseconds, e.g. 30000').optional(),
    })
    .optional(),
});

/** What c4c.config.ts may say under `webhook`. */
export type WebhookConfig = z.input<typeof webhookConfigSchema>;

/**
 * A conversation-state store as the config accepts it: the shape of `StateStore` (src/state/store.ts),
 * written here because config/ may not import state/; test/types.test.ts keeps the two in step.
 */
export interface StateStoreLike {
  get(key: string): Promise<string | undefined>;
  set(key: string, json: string): Promise<void>;
  delete(key: string): Promise<void>;
  flush?(): Promise<void>;
  close?(): Promise<void>;
}

const STATE_HINT =
  'must be "memory", "file", { dir: "./data/state" } or a store object with get, set and delete (see docs/handlers.md#state)';
const stateSchema = z.union(
  [
    z.enum(['memory', 'file'], { error: STATE_HINT }),
    z.strictObject(
      {
        dir: z
          .string({ error: 'must be a folder path such as "./data/state"' })
          .min(1, { error: STATE_HINT }),
      },
      { error: STATE_HINT },
    ),
    z.custom<StateStoreLike>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        ['get', 'set', 'delete'].every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
      { error: STATE_HINT },
    ),
  ],
  { error: STATE_HINT },
);

/** The schema of `c4c.config.ts` (and of every other place a config may come from). */
export const configSchema = z.strictObject({
  /** The handlers folder, relative to the config file. @default './handlers' */
  handlers: z
    .string({ error: 'must be a folder path such as "./handlers"' })
    .min(1, { error: 'must be a folder path such as "./handlers"' })
    .default('./handlers'),
  /** Where the platform is and who the agent is. */
  platform: platformSchema.prefault({}),
  /** How many handlers may run at once, across all events. @default 16 */
  concurrency: positiveInt('how many handlers may run at once, e.g. 16').default(16),
  /**
   * Run handlers in this many worker threads (0: on the main thread, beside the socket). Flag
   * `--workers` and env `C4C_WORKERS` win over it. See docs/scaling.md. @default 0
   */
  workers: z
    .number({
      error: `must be a whole number of worker threads from 0 to ${MAX_WORKERS} (e.g. 2; 0 runs handlers on the main thread)`,
    })
    .int({
      error: `must be a whole number of worker threads from 0 to ${MAX_WORKERS} (e.g. 2; 0 runs handlers on the main thread)`,
    })
    .min(0, {
      error: `must be a whole number of worker threads from 0 to ${MAX_WORKERS} (e.g. 2; 0 runs handlers on the main thread)`,
    })
    .max(MAX_WORKERS, {
      error: `must be at most ${MAX_WORKERS} worker threads (one or two per core is plenty)`,
    })
    .default(0),
  /** Per-handler time limit in ms; `defineHandler(…, { timeout })` overrides it. @default 30000 */
  timeout: positiveInt('milliseconds per handler, e.g. 30000')
    .max(MAX_TIMER, {
      error: `must be at most ${MAX_TIMER} ms (about 24 days; the longest timer Node can hold)`,
    })
    .default(30_000),
  /** On shutdown, how long running handlers may finish before they are aborted, in ms. @default 10000 */
  drainTimeout: z
    .number({ error: 'must be a number of milliseconds >= 0 (e.g. 10000)' })
    .int({ error: 'must be a whole number of milliseconds >= 0 (e.g. 10000)' })
    .nonnegative({ error: 'must be a number of milliseconds >= 0 (e.g. 10000)' })
    .max(MAX_TIMER, {
      error: `must be at most ${MAX_TIMER} ms (about 24 days; the longest timer Node can hold)`,
    })
    .default(10_000),
  /** Events waiting for a free slot beyond this are refused (logged, not acknowledged). @default 10000 */
  backlog: positiveInt('how many events may wait, e.g. 10000').default(10_000),
  /** How many recent message ids are remembered to drop duplicates. @default 10000 */
  dedupe: positiveInt('how many message ids to remember, e.g. 10000').default(10_000),
  /** Mark each handled message read on the platform (the acknowledgement). @default true */
  ack: z.boolean({ error: 'must be true or false' }).default(true),
  /** pino log level. @default 'info' */
  logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** Reconnect schedule: capped exponential backoff with full jitter. */
  reconnect: reconnectSchema.prefault({}),
  /** WebSocket heartbeat. */
  heartbeat: heartbeatSchema.prefault({}),
  /** Where events without a handler file are forwarded (`{ url, secret }`); the answer is their reply. @default none */
  webhook: webhookConfigSchema.optional(),
  /** Handlers that fail for a passing reason (`RetryLaterError`, the platform unreachable): run again later. */
  retry: retrySchema.prefault({}),
  /**
   * Sees every event that failed for good (after its last attempt, or at once for an error that is
   * not passing), before it is written to `.c4c/dead-letters.jsonl`. Errors it throws are logged. @default none
   */
  onError: z
    .custom<(failure: HandlerFailure) => void | Promise<void>>((v) => typeof v === 'function', {
      error: 'must be a function (failure) => void',
    })
    .optional(),
  /** `start`'s health and metrics port (`/healthz`, `/readyz`, `/metrics`); see docs/operations.md. */
  health: z
    .strictObject(
      {
        /** Port to serve on; 0 picks a free one. `--health-port` and env C4C_HEALTH_PORT win. @default off */
        port: z
          .number({ error: 'must be a port number from 0 to 65535 (e.g. 9464)' })
          .int({ error: 'must be a port number from 0 to 65535 (e.g. 9464)' })
          .min(0, { error: 'must be a port number from 0 to 65535 (e.g. 9464)' })
          .max(65_535, { error: 'must be a port number from 0 to 65535 (e.g. 9464)' })
          .optional(),
        /** Interface to bind; `0.0.0.0` exposes it to the network (a container's probe needs that). @default '127.0.0.1' */
        host: z
          .string({ error: 'must be a host or IP such as "127.0.0.1" or "0.0.0.0"' })
          .min(1, { error: 'must be a host or IP such as "127.0.0.1" or "0.0.0.0"' })
          .default(LOOPBACK_HOST),
      },
      { error: 'must be an object such as { port: 9464 }' },
    )
    .prefault({}),
  /**
   * Where `ctx.state` is kept: `'memory'`, `'file'` (one JSON file per employment in `.c4c/state/` of
   * the project), `{ dir }` (files in that folder, relative to the config file), or a store object of
   * your own (`StateStore`: get, set, delete). @default 'file' in `start`, 'memory' in `dev`
   */
  state: stateSchema.optional(),
  /**
   * Many processes serving this agent through Redis (`start --redis`); see docs/scaling.md. The URL
   * may also come from `--redis` or env C4C_REDIS_URL (they win). Every process of one agent must use
   * the same `partitions` and `prefix`.
   */
  redis: z
    .strictObject(
      {
        /** `redis://[:password@]host:port[/db]`, `rediss://…` (TLS) or `unix:///path/redis.sock`. */
        url: z
          .string({ error: 'must be a Redis URL such as "redis://localhost:6379"' })
          .min(1, { error: 'must be a Redis URL such as "redis://localhost:6379"' })
          .optional(),
        /** Streams the events are spread over, by employment: the most processes that share the work. @default 16 */
        partitions: positiveInt('how many partition streams, e.g. 16')
          .max(1024, { error: 'must be at most 1024 (16 is plenty for a few processes)' })
          .default(REDIS_DEFAULTS.partitions),
        /** Lease time of the socket holder and of each partition, ms: a killed holder is replaced within it. @default 5000 */
        lease: positiveInt('lease time in ms, e.g. 5000')
          .min(300, { error: 'must be at least 300 ms (renewals go every lease/5)' })
          .default(REDIS_DEFAULTS.lease),
        /** Key prefix, to keep several deployments apart on one Redis. @default 'c4c' */
        prefix: z
          .string({ error: 'must be a key prefix such as "c4c"' })
          .regex(/^[\w.:-]+$/, { error: 'must be letters, digits, or . : _ - (e.g. "c4c-staging")' })
          .default(REDIS_DEFAULTS.prefix),
        /** How long a process waits for the socket holder to confirm a reply before handling its event again, ms. @default 30000 */
        replyTimeout: positiveInt('ms, e.g. 30000').default(REDIS_DEFAULTS.replyTimeout),
      },
      { error: 'must be an object such as { url: "redis://localhost:6379", partitions: 16 }' },
    )
    .optional(),
  /** Outgoing frames kept while the socket is down. */
  outbox: z
    .strictObject(
      {
        /** Most frames held while disconnected; beyond it a send fails. @default 10000 */
        limit: positiveInt('how many frames to hold, e.g. 10000').default(OUTBOX_DEFAULTS.limit),
      },
      { error: 'must be an object such as { limit: 10000 }' },
    )
    .prefault({}),
});

/**
 * What `c4c.config.ts` may contain: every key optional.
 * @example
 * export default defineConfig({ handlers: './handlers', concurrency: 8 });
 */
export type UserConfig = z.input<typeof configSchema>;

/** Where a setting came from, for logs that explain themselves ("token from env C4C_API_TOKEN"). */
export type SettingSource = 'flag' | 'config' | 'env' | 'home' | 'default' | 'none';

/** The webhook to forward to, once every source has been read (see `resolveWebhookSettings`). */
export interface WebhookSettings {
  url: string;
  secret: string | undefined;
  /** One POST's time limit, ms; `undefined` = the webhook client's default. */
  timeout: number | undefined;
  retry: { attempts?: number; initialDelay?: number; maxDelay?: number };
  sources: { url: SettingSource; secret: SettingSource | undefined };
}

type Parsed = z.output<typeof configSchema>;
type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** The config the runner uses: every default filled, paths absolute, sources known. Read-only. */
export type ResolvedConfig = DeepReadonly<
  Omit<Parsed, 'platform' | 'handlers'> & {
    /** The folder the config was found in (or the working folder when there is no file). */
    root: string;
    /** The config file, absolute, or `undefined` when none was found. */
    configFile: string | undefined;
    /** The handlers folder, absolute. */
    handlers: string;
    platform: {
      /** API base URL. */
      url: string;
      /** WebSocket URL derived from `url`. */
      wsUrl: string;
      /** The API token, or `undefined` (then `start` refuses to run). */
      token: string | undefined;
      /** Where `url` and `token` came from. */
      sources: { url: SettingSource; token: SettingSource };
    };
  }
>;

/**
 * Types a config file. Returns its argument unchanged.
 * @example
 * import { defineConfig } from 'c4c-runner';
 * export default defineConfig({ handlers: './handlers', concurrency: 8 });
 */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}

/** Every key the schema knows, by dotted parent path ('' for the top level), for "did you mean". */
export function knownKeys(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = configSchema;
  for (const key of path) {
    const shape = objectShape(schema);
    const next = shape?.[String(key)];
    if (!next) return [];
    schema = next;
  }
  return Object.keys(objectShape(schema) ?? {});
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let current: unknown = schema;
  // Unwrap default/prefault/optional/refine wrappers down to the object.
  for (let i = 0; i < 8 && current; i++) {
    const def = (
      current as {
        def?: { type?: string; innerType?: unknown; shape?: Record<string, z.ZodType>; in?: unknown };
      }
    ).def;
    if (!def) return undefined;
    if (def.type === 'object') return def.shape;
    current = def.innerType ?? def.in;
  }
  return undefined;
}

/** Whether a string is an absolute http: or https: URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
