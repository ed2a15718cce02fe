/**
 * A null platform: the least a platform must do for an agent to run against it, so that the agent
 * under test is always the bottleneck. Through the embedded platform both agents share the
 * platform's ceiling (~40 µs of the bench's CPU per reply, more than the raw agent spends), so the
 * ratio there is mostly the platform's; here the bench spends a few µs per reply and what is
 * measured is the agent's own cost.
 *
 * One HTTP server on 127.0.0.1, port 0:
 * - `GET /ws` upgrades to a WebSocket for the agent's token (header `X-API-Key` or `?api_key=`, as
 *   PROTOCOL.md says; 401 otherwise). Control pings are answered by `ws` itself (the runner's
 *   delivery confirmations and heartbeat); JSON pings get a JSON pong. Nothing is stored.
 * - REST under `/openapi/v1`: canned, valid answers to what an agent calls at start, during
 *   catch-up and to acknowledge — `agent/me`, the active employments, an empty history page,
 *   `messages/read`, the pending invocations and accepted tasks (both empty). Anything else is
 *   answered 404 with the platform's envelope and recorded in `counters.unexpected`, so a runner
 *   that starts calling something new shows up in the results instead of being silently timed.
 *
 * The load generator lives here too (`platform.load()`): instead of an employer's second socket,
 * the platform pushes message frames straight down the agent's socket and counts the replies that
 * come back, with the closed loop of {@link Generator}.
 */
import process from 'node:process';
import { Buffer } from 'node:buffer';
import { URL } from 'node:url';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import { Generator } from './generator.js';
import { AGENT, EMPLOYER, EMPLOYMENT_COUNT } from './world.js';

const REST = '/openapi/v1';
const CONTENT = Buffer.from('"content":"');
const MESSAGE_TYPE = Buffer.from('"type":"message"');
const CREATED_AT = '2026-01-01T00:00:00.000Z';

/** `{ success: true, data }`, the platform's envelope, serialised once per answer. */
function ok(res, data) {
  const body = JSON.stringify({ success: true, data, traceId: 'null-platform' });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function fail(res, status, code, message) {
  const body = JSON.stringify({ success: false, error: { code, message }, traceId: 'null-platform' });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function employment(id) {
  return {
    id,
    role: 'employee',
    employerAgentId: EMPLOYER.id,
    employerAgentName: EMPLOYER.name,
    employeeAgentId: AGENT.id,
    employeeAgentName: AGENT.name,
    salary: '1',
    status: 'active',
    startTime: CREATED_AT,
    createdAt: CREATED_AT,
  };
}

/** Positive integer from a query parameter, or `fallback`. */
function int(value, fallback) {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * Starts a null platform for one agent (`agent.token`) with `employments` active employments
 * (ids 1…n, the agent as employee). Resolves once it listens.
 */
export async function startNullPlatform({ agent = AGENT, employments = EMPLOYMENT_COUNT } = {}) {
  const events = new EventEmitter();
  const counters = {
    connections: 0,
    /** REST calls answered, by route. */
    rest: {},
    /** REST calls no canned answer exists for ("METHOD path"), at most 20 kept. */
    unexpected: [],
    jsonPings: 0,
    controlPings: 0,
    /** Frames from the agent that were neither a message, a ping nor a pong. */
    otherFrames: 0,
  };
  const count = (route) => (counters.rest[route] = (counters.rest[route] ?? 0) + 1);

  const routes = [
    [
      'GET',
      /^\/agent\/me$/,
      'me',
      (_m, _q, res) => ok(res, { id: agent.id, name: agent.name, status: 'online' }),
    ],
    [
      'GET',
      /^\/agent\/me\/employments$/,
      'employments',
      (_m, query, res) => {
        const page = int(query.get('page'), 1);
        const limit = Math.min(int(query.get('limit'), 20), 100);
        const status = query.get('status') ?? 'all';
        const ids = status === 'active' || status === 'all' ? employments : 0;
        const first = (page - 1) * limit + 1;
        const list = [];
        for (let id = first; id <= ids && id < first + limit; id += 1) list.push(employment(id));
        ok(res, { employments: list, total: ids, page, limit });
      },
    ],
    [
      'GET',
      /^\/agent\/me\/employments\/(\d+)\/messages$/,
      'history',
      (m, _q, res) =>
        Number(m[1]) <= employments
          ? ok(res, { messages: [], hasMore: false, nextCursor: null })
          : fail(res, 404, 'NOT_FOUND', `employment ${m[1]} not found`),
    ],
    [
      'POST',
      /^\/agent\/me\/employments\/(\d+)\/messages\/read$/,
      'markRead',
      (_m, _q, res) => ok(res, { unreadCount: 0 }),
    ],
    [
      'GET',
      /^\/agent\/me\/employments\/(\d+)$/,
      'employment',
      (m, _q, res) =>
        Number(m[1]) <= employments
          ? ok(res, employment(Number(m[1])))
          : fail(res, 404, 'NOT_FOUND', `employment ${m[1]} not found`),
    ],
    [
      'GET',
      /^\/agent\/me\/service-invocations$/,
      'invocations',
      (_m, query, res) =>
        ok(res, {
          invocations: [],
          total: 0,
          page: int(query.get('page'), 1),
          limit: int(query.get('limit'), 20),
        }),
    ],
    [
      'GET',
      /^\/agent\/me\/task-applications\/accepted$/,
      'acceptedTasks',
      (_m, _q, res) => ok(res, { tasks: [], total: 0 }),
    ],
  ];

  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://null');
    if (req.headers['x-api-key'] !== agent.token) {
      fail(res, 401, 'UNAUTHORIZED', 'invalid API key');
      return;
    }
    // The body (a markRead's cursor) is not needed; drain it so the socket can be reused.
    req.resume();
    req.once('end', () => {
      if (url.pathname.startsWith(REST)) {
        const path = url.pathname.slice(REST.length);
        for (const [method, pattern, name, answer] of routes) {
          if (method !== req.method) continue;
          const match = pattern.exec(path);
          if (!match) continue;
          count(name);
          answer(match, url.searchParams, res);
          return;
        }
      }
      if (counters.unexpected.length < 20) counters.unexpected.push(`${req.method} ${url.pathname}`);
      fail(res, 404, 'NOT_FOUND', `the null platform has no answer for ${req.method} ${url.pathname}`);
    });
  });

  // No per-message deflate (the real platform's is unknown, the embedded one has none) and no UTF-8
  // check of what the agent sends: the stand-in must cost next to nothing per frame.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, skipUTF8Validation: true });
  let socket;
  let load;
  server.on('upgrade', (req, sock, head) => {
    const url = new URL(req.url, 'http://null');
    const token = req.headers['x-api-key'] ?? url.searchParams.get('api_key');
    if (url.pathname !== '/ws' || token !== agent.token) {
      sock.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, sock, head, (ws) => {
      counters.connections += 1;
      const connectionId = counters.connections;
      socket = ws;
      load = new PushLoad(ws, sock, counters);
      ws.on('ping', () => (counters.controlPings += 1));
      ws.on('close', (code) => {
        if (socket === ws) socket = undefined;
        events.emit('disconnect', { agentId: agent.id, connectionId, code, reason: '' });
      });
      events.emit('connection', { agentId: agent.id, connectionId });
    });
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  let closing;
  return {
    kind: 'null',
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    port,
    counters,
    on: (name, fn) => events.on(name, fn),
    off: (name, fn) => events.off(name, fn),
    /** The load generator on the agent's current socket; throws when no agent is connected. */
    load() {
      if (!socket || !load) throw new Error('no agent is connected to the null platform');
      return load;
    },
    close() {
      closing ??= new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/**
 * The closed loop of {@link Generator}, but the platform's side of it: message frames are pushed
 * down the agent's socket (as the platform delivers an employer's message) and the agent's reply
 * frames are matched to them. Frames are built from a template with a UUID-shaped counter as
 * `messageId` (each is new, as the runner's dedupe requires; same length as `msg_<uuid>`) and a
 * timestamp refreshed once per millisecond, so the stand-in stays far cheaper than any agent.
 */
class PushLoad extends Generator {
  #socket;
  #counters;
  #corked = false;
  #prefix = `msg_${randomBytes(4).toString('hex')}-0000-4000-8000-`;
  #stampMs = 0;
  #stamp = '';

  /** `socket` is the TCP socket under `ws`, corked while a batch of frames is written. */
  constructor(ws, socket, counters) {
    super(ws);
    this.#socket = socket;
    this.#counters = counters;
  }

  receive(data) {
    // Fast path for the common frame, a message reply whose content is a bare request number: found
    // in the bytes, without decoding or parsing the frame (the stand-in's per-reply cost is what
    // keeps the agent the bottleneck). Anything else goes through JSON.parse below.
    const at = data.indexOf(CONTENT);
    if (at >= 0 && data.indexOf(MESSAGE_TYPE) >= 0) {
      let seq = 0;
      let i = at + CONTENT.length;
      for (; i < data.length && data[i] >= 0x30 && data[i] <= 0x39; i += 1) seq = seq * 10 + data[i] - 0x30;
      if (i > at + CONTENT.length && data[i] === 0x22) {
        this.receiveSeq(seq, performance.now());
        return;
      }
    }
    const frame = JSON.parse(data.toString());
    switch (frame.type) {
      case 'message':
        super.receiveFrame(frame, performance.now());
        return;
      case 'ping':
        this.#counters.jsonPings += 1;
        this.ws.send(
          JSON.stringify({ type: 'pong', timestamp: frame.timestamp ?? new Date().toISOString() }),
        );
        return;
      case 'pong':
        return;
      default:
        this.#counters.otherFrames += 1;
    }
  }

  send(employmentId, slot = 0) {
    const seq = ++this.seq;
    const now = Date.now();
    if (now !== this.#stampMs) {
      this.#stampMs = now;
      this.#stamp = new Date(now).toISOString();
    }
    // The replies of one socket read arrive as one burst of 'message' events; the frames sent in
    // answer go out in one write at the end of the tick instead of one syscall each.
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(this.#uncork);
    }
    this.pending.set(seq, { t0: performance.now(), employmentId, slot });
    this.ws.send(
      `{"type":"message","employmentId":${employmentId},"messageId":"${this.#prefix}${String(seq).padStart(12, '0')}","timestamp":"${this.#stamp}","content":"${seq}"}`,
    );
    return seq;
  }

  #uncork = () => {
    this.#corked = false;
    this.#socket.uncork();
  };

  /** The socket is the agent's; the platform closes it. */
  async close() {}
}
