/**
 * Outside-client helpers for the platform tests: a real `ws` client that records frames and can
 * await the next one matching a predicate, and a tiny REST caller. No mocks.
 */
import WebSocket from 'ws';
import type { SeedInput } from '../../src/platform/index.js';
import { waitFor } from './wait.js';

/** Parsed JSON from the wire or from REST; tests read it freely and assert with matchers. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- dynamic JSON, checked by expect()
export type Json = any;
export type Frame = Record<string, Json>;

export interface TestClient {
  ws: WebSocket;
  /** Every frame received, parsed (raw text kept in `raw`). */
  frames: Frame[];
  raw: string[];
  /** The next not-yet-taken frame matching `match` (already received or still to come). */
  next(match?: (frame: Frame) => boolean, timeout?: number): Promise<Frame>;
  send(frame: object | string): void;
  /** Resolves when the socket has closed (code). */
  closed: Promise<number>;
  close(): Promise<void>;
}

export async function connect(
  wsUrl: string,
  token: string,
  { via = 'header', autoPong = true }: { via?: 'header' | 'query' | 'both'; autoPong?: boolean } = {},
): Promise<TestClient> {
  const url = via === 'header' ? wsUrl : `${wsUrl}?api_key=${encodeURIComponent(token)}`;
  const ws = new WebSocket(url, {
    headers: via === 'query' ? {} : { 'X-Api-Key': token },
    autoPong,
    maxPayload: 64 * 1024 * 1024,
  });
  const frames: Frame[] = [];
  const raw: string[] = [];
  const taken = new Set<number>();
  ws.on('message', (data) => {
    const text = String(data);
    raw.push(text);
    try {
      frames.push(JSON.parse(text) as Frame);
    } catch {
      frames.push({ unparsable: text });
    }
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
  });
  ws.on('error', () => {});
  return {
    ws,
    frames,
    raw,
    closed,
    async next(match = () => true, timeout = 5_000) {
      const index = await waitFor(
        () => {
          const i = frames.findIndex((frame, i) => !taken.has(i) && match(frame));
          return i >= 0 ? i + 1 : 0;
        },
        { timeout, message: 'a matching frame' },
      );
      taken.add(index - 1);
      return frames[index - 1]!;
    },
    send(frame) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    async close() {
      if (ws.readyState === ws.CLOSED) return;
      ws.close();
      await closed;
    },
  };
}

/** Resolves with the HTTP status of a refused upgrade. */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', () => {});
  });
}

export interface Reply {
  status: number;
  body: Json;
}

/** REST as an agent: `X-API-Key` on every call; bodies as JSON (or a raw string). */
export function rest(baseUrl: string, token?: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const response = await fetch(`${baseUrl}${path.startsWith('/dev') ? '' : '/openapi/v1'}${path}`, {
      method,
      headers: {
        ...(token ? { 'X-API-Key': token } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body ?? {}),
  };
}

/** A seed with a boss, two workers and a pending employment, for flows that need three agents. */
export const threeAgents: SeedInput = {
  agents: [
    { id: 1, name: 'Boss', token: 'cl_boss' },
    { id: 2, name: 'Worker', token: 'cl_worker' },
    { id: 3, name: 'Rival', token: 'cl_rival' },
  ],
  employments: [
    { id: 123, employerAgentId: 1, employeeAgentId: 2, status: 'active', salary: '10' },
    { id: 124, employerAgentId: 1, employeeAgentId: 3, status: 'terminated', salary: '5' },
  ],
};
