/**
 * The socket holder's lease, the fence of its writes and the Redis state store, against a real
 * redis-server (no mock Redis). One process is cut off from Redis by a proxy that stops passing
 * bytes: the others still reach Redis, as in a network partition.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { HolderLease } from '../../src/scale/lease.js';
import { Keys, connectRedis, withScripts, type ScriptedRedis } from '../../src/scale/redis.js';
import { RedisStateStore } from '../../src/state/redis.js';
import { redisProxy, startRedis, type RedisServer } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

let redis: RedisServer;
const clients: ScriptedRedis[] = [];
const leases: HolderLease[] = [];

beforeEach(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const lease of leases.splice(0)) await lease.stop().catch(() => {});
  for (const client of clients.splice(0)) client.disconnect();
  await redis.stop();
});

async function client(url = redis.url, commandTimeout = 200): Promise<ScriptedRedis> {
  const c = withScripts(await connectRedis(url, 'commands', { commandTimeout }));
  clients.push(c);
  return c;
}

const keys = new Keys('cl_lease_test_token');

/** A lease whose acquisitions and losses go into `log`, in the order they happened. */
function lease(c: ScriptedRedis, owner: string, log: string[], ms = 900): HolderLease {
  const l = new HolderLease({
    client: c,
    key: keys.holder,
    epochKey: keys.epoch,
    owner,
    ms,
    logger: silentLogger(),
    onAcquired: (epoch) => log.push(`${owner} acquired ${epoch}`),
    onLost: (why) => log.push(`${owner} lost: ${why}`),
  });
  leases.push(l);
  return l;
}

describe('the holder lease', () => {
  it('one holder at a time; each new holder gets a new epoch; a released lease is taken at once', async () => {
    const log: string[] = [];
    const a = lease(await client(), 'a', log);
    const b = lease(await client(), 'b', log);
    await a.tick();
    await b.tick();
    expect(log).toEqual(['a acquired 1']);
    expect(a.epoch).toBe(1);
    expect(b.epoch).toBeUndefined();
    await a.tick(); // a renewal, not a new epoch
    expect(a.epoch).toBe(1);
    await a.stop();
    await b.tick();
    expect(log).toEqual(['a acquired 1', 'b acquired 2']);
    expect(await redis.client().get(keys.holder)).toBe('b:2');
  });

  it('a holder whose lease became another’s lets go at its next renewal', async () => {
    const log: string[] = [];
    const a = lease(await client(), 'a', log);
    await a.tick();
    await redis.client().set(keys.holder, 'z:9', 'PX', 10_000);
    await a.tick();
    expect(log).toEqual(['a acquired 1', 'a lost: another process holds the lease now']);
    expect(a.value).toBeUndefined();
  });

  it('a holder cut off from Redis lets go (fences itself) before another process can take the lease', async () => {
    const proxy = await redisProxy(redis);
    try {
      const log: string[] = [];
      const a = lease(await client(proxy.url), 'a', log);
      const b = lease(await client(), 'b', log);
      await a.start();
      await b.start();
      expect(log).toEqual(['a acquired 1']);
      proxy.cut();
      await waitFor(() => log.includes('b acquired 2'), { timeout: 10_000, message: 'b to take the lease' });
      // a's loss comes first: the fence fires `lease / 3` before the lease can expire in Redis.
      expect(log[1]).toMatch(/^a lost: the lease could not be renewed/);
      expect(log[2]).toBe('b acquired 2');
      proxy.restore();
      // Back in touch, a sees b's lease and stays out.
      await a.tick();
      expect(a.epoch).toBeUndefined();
      expect(log).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });

  it('a late holder’s writes are refused: the fenced append needs the current lease value (its epoch)', async () => {
    const log: string[] = [];
    const c = await client();
    const a = lease(c, 'a', log);
    await a.tick();
    const stream = keys.partition(0);
    expect(await c.fencedXadd(keys.holder, stream, 'a:1', 'f', '{}')).toMatch(/^\d+-\d+$/);
    await a.stop();
    const b = lease(c, 'b', log);
    await b.tick();
    expect(await c.fencedXadd(keys.holder, stream, 'a:1', 'f', '{"late":true}')).toBeNull();
    expect(await c.xlen(stream)).toBe(1);
  });
});

describe('RedisStateStore', () => {
  it('keeps JSON under the prefix and deletes it', async () => {
    const c = await client();
    const store = new RedisStateStore({ client: c, prefix: 'c4c:test:state:' });
    expect(await store.get('employment:1')).toBeUndefined();
    await store.set('employment:1', '{"n":1}');
    expect(await redis.client().get('c4c:test:state:employment:1')).toBe('{"n":1}');
    expect(await store.get('employment:1')).toBe('{"n":1}');
    await store.delete('employment:1');
    await store.delete('employment:1'); // a missing key is no error
    expect(await store.get('employment:1')).toBeUndefined();
  });

  it('says which key failed and that the handler may run again when Redis is unreachable', async () => {
    const proxy = await redisProxy(redis);
    try {
      const store = new RedisStateStore({ client: await client(proxy.url, 100), prefix: 'p:' });
      proxy.cut();
      await expect(store.set('employment:7', '{}')).rejects.toThrow(
        /could not write state "employment:7" in Redis: .*the handler may run again/,
      );
    } finally {
      proxy.restore();
      await proxy.close();
    }
  });
});
