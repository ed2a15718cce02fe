/**
 * A raw `ws` server on port 0 that the connection tests control completely: what each upgrade
 * answers (101 or an HTTP status), whether pings get pongs, what every socket received.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface Upgrade {
  url: string;
  headers: IncomingHttpHeaders;
}

export interface ServerSocket {
  ws: WebSocket;
  /** Every text frame this socket received, parsed. */
  frames: Array<Record<string, unknown>>;
}

export interface TestServer {
  /** `ws://127.0.0.1:PORT/ws` */
  url: string;
  /** Every upgrade request, accepted or refused. */
  upgrades: Upgrade[];
  /** Every accepted socket, in order. */
  sockets: ServerSocket[];
  /** HTTP status to refuse the next upgrades with; `undefined` accepts. */
  refuseWith: number | undefined;
  /** Resolves with the next accepted socket (or the n-th overall, 1-based). */
  connection(nth?: number): Promise<ServerSocket>;
  /** Every frame received by any socket, in arrival order. */
  received(): Array<Record<string, unknown>>;
  /** Called with each parsed frame as it arrives. */
  onFrame: ((frame: Record<string, unknown>, socket: ServerSocket) => void) | undefined;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1:0. `autoPong: false` makes a server that never answers control pings. */
export async function startTestServer(options: { autoPong?: boolean } = {}): Promise<TestServer> {
  const http = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({
    noServer: true,
    autoPong: options.autoPong ?? true,
    perMessageDeflate: false,
  });
  const waiters: Array<{ nth: number; resolve: (socket: ServerSocket) => void }> = [];
  const all: Array<Record<string, unknown>> = [];

  const server: TestServer = {
    url: '',
    upgrades: [],
    sockets: [],
    refuseWith: undefined,
    onFrame: undefined,
    connection(nth = server.sockets.length + 1) {
      const existing = server.sockets[nth - 1];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve) => waiters.push({ nth, resolve }));
    },
    received: () => all,
    async close() {
      for (const socket of server.sockets) socket.ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };

  http.on('upgrade', (req, socket, head) => {
    server.upgrades.push({ url: req.url ?? '', headers: req.headers });
    if (server.refuseWith !== undefined) {
      socket.end(`HTTP/1.1 ${server.refuseWith} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const entry: ServerSocket = { ws, frames: [] };
      server.sockets.push(entry);
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Record<string, unknown>;
        entry.frames.push(frame);
        all.push(frame);
        server.onFrame?.(frame, entry);
      });
      for (const waiter of [...waiters]) {
        if (waiter.nth === server.sockets.length) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(entry);
        }
      }
    });
  });

  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  server.url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`;
  return server;
}

/** A small seeded PRNG (mulberry32), so a jittered schedule is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Polls a condition on setImmediate (never faked by the timer tests) for at most `ms` of real time,
 * measured with performance.now (never faked either).
 */
export async function pollUntil(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Proves the client has processed everything this socket sent so far (control pongs included): a
 * JSON ping goes out behind them, and the client's JSON pong comes back only after it read them all.
 */
export async function roundTrip(socket: ServerSocket, ms = 5_000): Promise<void> {
  const before = socket.frames.filter((frame) => frame.type === 'pong').length;
  socket.ws.send(JSON.stringify({ type: 'ping' }));
  await pollUntil(
    () => socket.frames.filter((frame) => frame.type === 'pong').length > before,
    'a JSON pong round trip',
    ms,
  );
}
