/**
 * The Redis side of scaling out: connecting (with a clear error when Redis is not there), the keys
 * of one agent's namespace, and the Lua scripts of the leases. Everything else in src/scale/ talks to
 * Redis through what this file returns.
 *
 * Client: ioredis (6, Node ≥ 20; the client BullMQ is built on): Lua scripts as typed commands,
 * reconnect with a backoff of our choosing, an offline queue we can turn off, and one connection per
 * blocking read (XREADGROUP BLOCK would stall every other command on a shared one).
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { C4cError } from '../errors.js';
import { REDACTED } from '../redact.js';

/** The URL with its password (and user) replaced, for every log line and error message. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = REDACTED;
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, `//${REDACTED}@`);
  }
}

/** The password of a Redis URL (to add to the logger's secrets), or `undefined`. */
export function redisPassword(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a Redis URL's form; throws `E_CONFIG` that says what a good one looks like. */
export function checkRedisUrl(url: string, where: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !['redis:', 'rediss:', 'unix:'].includes(parsed.protocol)) {
    throw new C4cError(
      'E_CONFIG',
      `${where} must be a Redis URL such as redis://localhost:6379, rediss://:password@host:6380/0 or unix:///run/redis.sock, got ${JSON.stringify(redactRedisUrl(url))}`,
    );
  }
}

/** ioredis settings for a URL: `unix:///path` becomes a socket path (ioredis reads only redis: URLs). */
function clientOptions(url: string): { target: string | RedisOptions; options: RedisOptions } {
  const parsed = new URL(url);
  if (parsed.protocol === 'unix:') {
    const db = parsed.searchParams.get('db');
    return {
      target: {
        path: decodeURIComponent(parsed.pathname),
        ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
        ...(db ? { db: Number(db) } : {}),
      },
      options: {},
    };
  }
  return { target: url, options: {} };
}

/** What a client is for: commands (short timeout, fail fast when Redis is away) or one blocking read. */
export type ClientRole = 'commands' | 'blocking' | 'subscriber';

/**
 * A client for `url`, connected. Rejects with `E_REDIS` naming the (redacted) URL and what to do
 * when Redis cannot be reached within `connectTimeout` ms. Reconnects by itself afterwards
 * (100 ms doubling to 2 s).
 */
export async function connectRedis(
  url: string,
  role: ClientRole,
  settings: { connectTimeout?: number; commandTimeout?: number; name?: string } = {},
): Promise<Redis> {
  const { target, options } = clientOptions(url);
  const base: RedisOptions = {
    ...options,
    lazyConnect: true,
    connectTimeout: settings.connectTimeout ?? 5_000,
    // Commands fail while Redis is away instead of waiting in a queue: a lease renewal that waits is
    // worse than one that fails (the holder must fence itself on time).
    enableOfflineQueue: role === 'subscriber',
    maxRetriesPerRequest: role === 'commands' ? 1 : null,
    retryStrategy: (times) => Math.min(2_000, 100 * 2 ** Math.min(times, 5)),
    ...(role === 'commands' && settings.commandTimeout ? { commandTimeout: settings.commandTimeout } : {}),
    ...(settings.name ? { connectionName: settings.name } : {}),
  };
  const client = typeof target === 'string' ? new Redis(target, base) : new Redis({ ...base, ...target });
  // Errors are seen through failed commands and the 'close'/'ready' events; an unhandled 'error' would crash.
  let last: Error | undefined;
  client.on('error', (error: Error) => (last = error));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    // connect() rejects with "Connection is closed"; the socket's own error says why (ECONNREFUSED…).
    const why = (last ?? (error as Error)).message;
    throw new C4cError(
      'E_REDIS',
      `cannot reach Redis at ${redactRedisUrl(url)}: ${why}; start Redis (e.g. redis-server) or fix --redis / C4C_REDIS_URL / redis.url in the config`,
      { cause: error, details: { url: redactRedisUrl(url) } },
    );
  }
  return client;
}

/** The keys of one agent's namespace. The agent is known by a hash of its token, never the token. */
export class Keys {
  readonly prefix: string;

  constructor(token: string, prefix = 'c4c') {
    const agent = createHash('sha256').update(token).digest('hex').slice(0, 16);
    this.prefix = `${prefix}:${agent}`;
  }

  /** The socket holder's lease: `<process>:<epoch>`. */
  get holder(): string {
    return `${this.prefix}:holder`;
  }
  /** The epoch counter, incremented by each new holder. */
  get epoch(): string {
    return `${this.prefix}:epoch`;
  }
  /** The live processes: a sorted set, scored by when each one's presence expires. */
  get processes(): string {
    return `${this.prefix}:processes`;
  }
  /** Frames for the socket (replies), from every process to the holder. */
  get outbox(): string {
    return `${this.prefix}:out`;
  }
  /** Partition `p`'s stream of events. */
  partition(p: number): string {
    return `${this.prefix}:p:${p}`;
  }
  /** Partition `p`'s lease: the process consuming it. */
  partitionLease(p: number): string {
    return `${this.prefix}:lease:${p}`;
  }
  /** Where process `id` hears the holder's answer for the frames it asked it to send. */
  answers(id: string): string {
    return `${this.prefix}:answers:${id}`;
  }
  /** Marks the event with dedupe key `key` as answered (for an hour). */
  done(key: string): string {
    return `${this.prefix}:done:${key}`;
  }
  /** `ctx.state`'s key `key`. */
  state(key: string): string {
    return `${this.prefix}:state:${key}`;
  }
}

/** The consumer group of every partition stream and of the outbox. */
export const GROUP = 'c4c';

/**
 * Takes the holder lease when free and gives it a new epoch: KEYS lease, epoch; ARGV owner, ms.
 * Returns the epoch, or nil when another process holds it.
 */
export const ACQUIRE_HOLDER = `
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. epoch, 'PX', ARGV[2])
return epoch`;

/** Extends a lease only if its value is still ours: KEYS lease; ARGV value, ms. 1 or 0. */
export const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** Deletes a lease only if its value is still ours: KEYS lease; ARGV value. 1 or 0. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Appends an event to a partition only while the writer's lease (and so its epoch) is current:
 * KEYS lease, stream; ARGV value, then field/value pairs. The entry id, or nil for a late holder.
 */
export const FENCED_XADD = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return nil end
return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))`;

/** A client with the lease scripts as commands. */
export interface ScriptedRedis extends Redis {
  acquireHolder(lease: string, epoch: string, owner: string, ms: number): Promise<number | null>;
  renewLease(lease: string, value: string, ms: number): Promise<number>;
  releaseLease(lease: string, value: string): Promise<number>;
  fencedXadd(lease: string, stream: string, value: string, ...fields: string[]): Promise<string | null>;
}

/** Defines the scripts on a client (EVALSHA, loaded on first use). */
export function withScripts(client: Redis): ScriptedRedis {
  client.defineCommand('acquireHolder', { numberOfKeys: 2, lua: ACQUIRE_HOLDER });
  client.defineCommand('renewLease', { numberOfKeys: 1, lua: RENEW });
  client.defineCommand('releaseLease', { numberOfKeys: 1, lua: RELEASE });
  client.defineCommand('fencedXadd', { numberOfKeys: 2, lua: FENCED_XADD });
  return client as ScriptedRedis;
}
