/**
 * A real redis-server for a test: Debian's binary, listening on a unix socket in a temp folder
 * (`--port 0` turns TCP off, so no port is ever picked), without persistence, stopped by `stop()`.
 * No mock Redis. A machine without redis-server fails the test with what to install, never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './wait.js';

export interface RedisServer {
  /** `unix:///…/redis.sock`: the form `start --redis` takes. */
  url: string;
  /** The socket path. */
  path: string;
  process: ChildProcess;
  /** Kills redis-server (-9: its data is gone, as after a crash without persistence) and starts a new one on the same socket. */
  restart(): Promise<void>;
  /** Kills redis-server; `restart()` brings one back. */
  kill(): Promise<void>;
  /** A client of the test's own (closed by `stop()`). */
  client(): Redis;
  stop(): Promise<void>;
}

/** Whether redis-server is on this machine; the message says how to get it. */
export function requireRedisServer(): void {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0)
    throw new Error(
      'redis-server is not installed: these tests need a real Redis (apt-get install redis-server; .ci/run does it)',
    );
}

/** Starts a redis-server on a unix socket in a new temp folder. */
export async function startRedis(): Promise<RedisServer> {
  requireRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'c4c-redis-'));
  const path = join(dir, 'redis.sock');
  const launch = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
    const args = ['--port', '0', '--unixsocket', path, '--unixsocketperm', '700'];
    const child = spawn('redis-server', [...args, '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await waitFor(() => existsSync(path) && /ready to accept connections/i.test(output), {
      timeout: 10_000,
      message: `redis-server to be ready on ${path} (output: ${output.slice(-300)})`,
    });
    return { child, exited };
  };
  let current = await launch();
  const kill = async (): Promise<void> => {
    if (current.child.exitCode === null && current.child.signalCode === null) current.child.kill('SIGKILL');
    await current.exited;
    await rm(path, { force: true });
  };
  const clients: Redis[] = [];
  return {
    url: `unix://${path}`,
    path,
    get process() {
      return current.child;
    },
    kill,
    async restart() {
      await kill();
      current = await launch();
    },
    client() {
      const client = new Redis({ path, lazyConnect: false, maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.disconnect();
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A proxy in front of a Redis unix socket that can cut its clients off (and only them). */
export interface RedisProxy {
  /** `unix:///…/proxy.sock` */
  url: string;
  path: string;
  /** Stops passing bytes either way: the clients behind it hang as on a dead network. */
  cut(): void;
  /** Passes bytes again (what was held is delivered). */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A byte-for-byte proxy to `server`. `cut()` pauses every pair of sockets: the client's commands
 * get no answer (nothing is refused or closed), which is what a network partition looks like to one
 * process, while other processes reach Redis directly. CLIENT PAUSE would stop every client at once.
 */
export async function redisProxy(server: RedisServer): Promise<RedisProxy> {
  const { createServer, connect } = await import('node:net');
  const path = join(server.path, '..', `proxy-${Math.random().toString(36).slice(2, 8)}.sock`);
  const pairs: { client: import('node:net').Socket; upstream: import('node:net').Socket }[] = [];
  let isCut = false;
  const proxy = createServer((client) => {
    const upstream = connect(server.path);
    const pair = { client, upstream };
    pairs.push(pair);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    if (isCut) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve) => proxy.listen(path, resolve));
  return {
    url: `unix://${path}`,
    path,
    cut() {
      isCut = true;
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    restore() {
      isCut = false;
      for (const { client, upstream } of pairs) {
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        upstream.resume();
      }
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
