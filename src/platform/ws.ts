/**
 * The WebSocket endpoint `/ws` on the HTTP server's `upgrade`: auth (HTTP 401 at the upgrade),
 * inbound frames (every refusal answered with an error frame, the socket kept open), control
 * ping/pong, and dead-client detection.
 */
import { idNumber } from '../protocol/ids.js';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { PlatformError } from '../errors.js';
import {
  decodeClientFrame,
  MAX_FRAME_BYTES,
  rfc3339,
  type ClientFrame,
  type ErrorFrame,
} from '../protocol/frames.js';
import type { Core } from './core.js';
import type { Client } from './hub.js';

export interface HeartbeatOptions {
  /** How often the server pings each client. @default 30_000 */
  interval: number;
  /** A client silent for longer than this is terminated. @default 60_000 */
  timeout: number;
}

/**
 * Frames up to this size reach the application, which answers oversized ones (> MAX_FRAME_BYTES)
 * with an error frame; only beyond it does `ws` close the socket (1009).
 */
const WS_MAX_PAYLOAD = MAX_FRAME_BYTES * 8;

export interface WsEndpoint {
  /** Terminates every socket and stops the heartbeat; resolves when every socket has closed. */
  close(): Promise<void>;
}

export function attachWebSocket(server: Server, core: Core, heartbeat: HeartbeatOptions): WsEndpoint {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: WS_MAX_PAYLOAD,
    autoPong: false,
    clientTracking: true,
  });
  const closing = new Set<Promise<void>>();
  let closed = false;

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (closed) return reject(socket, 503, 'UNAVAILABLE', 'the platform is shutting down');
    if (url.pathname.replace(/\/+$/, '') !== '/ws') {
      return reject(socket, 404, 'NOT_FOUND', `no WebSocket endpoint at ${url.pathname}; connect to /ws`);
    }
    const header = request.headers['x-api-key'];
    const headerToken = Array.isArray(header) ? header[0] : header;
    const queryToken = url.searchParams.get('api_key') ?? undefined;
    const agent =
      (headerToken ? core.state.agentByToken(headerToken) : undefined) ??
      (queryToken ? core.state.agentByToken(queryToken) : undefined);
    if (!agent) {
      core.events.emit('unauthorized', { via: headerToken ? 'header' : queryToken ? 'query' : 'none' });
      return reject(
        socket,
        401,
        'UNAUTHORIZED',
        'authentication failed: invalid API key (send it as X-API-Key or ?api_key=)',
      );
    }
    wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws, agent.id));
  };

  const onConnection = (ws: WebSocket, agentId: number) => {
    const client = core.hub.add(agentId, ws);
    let done!: () => void;
    const whenClosed = new Promise<void>((resolve) => (done = resolve));
    closing.add(whenClosed);
    core.logger.debug({ agentId, connectionId: client.id }, 'agent connected');
    ws.on('error', (error) => core.logger.debug({ err: error, agentId }, 'socket error'));
    ws.on('ping', (data) => {
      client.lastSeen = Date.now();
      if (core.faultState.pongsStopped() || (client.dataPongsStopped && data.length > 0)) return;
      ws.pong(data);
    });
    ws.on('pong', () => {
      client.lastSeen = Date.now();
    });
    ws.on('message', (data, isBinary) => {
      client.lastSeen = Date.now();
      onFrame(client, data, isBinary);
    });
    ws.on('close', (code, reason) => {
      core.hub.remove(client);
      core.events.emit('disconnect', { agentId, connectionId: client.id, code, reason: reason.toString() });
      core.logger.debug({ agentId, connectionId: client.id, code }, 'agent disconnected');
      closing.delete(whenClosed);
      done();
    });
    core.events.emit('connection', { agentId, connectionId: client.id });
  };

  const onFrame = (client: Client, data: RawData, isBinary: boolean) => {
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const decoded = decodeClientFrame(raw, isBinary);
    if (!decoded.ok) {
      return sendError(client, 'INVALID_FRAME', decoded.detail, {
        reason: decoded.reason,
        ...(decoded.messageId ? { messageId: decoded.messageId } : {}),
      });
    }
    const frame = decoded.frame;
    core.events.emit('frame', { agentId: client.agentId, frame });
    try {
      handle(client, frame);
    } catch (error) {
      if (error instanceof PlatformError) {
        const details = {
          ...(error.details ?? {}),
          ...('messageId' in frame && frame.messageId ? { messageId: frame.messageId } : {}),
        };
        return sendError(client, error.platformCode, error.message, details);
      }
      core.logger.error({ err: error, agentId: client.agentId }, 'frame handling failed');
      sendError(client, 'INTERNAL_ERROR', 'the platform failed to handle this frame', {});
    }
  };

  const handle = (client: Client, frame: ClientFrame) => {
    switch (frame.type) {
      case 'message': {
        // Check the employment first, so a refused message says the most useful thing.
        core.chat.employmentFor(client.agentId, idNumber(frame.employmentId));
        if (!core.faultState.allowMessage(client.agentId)) {
          throw new PlatformError(
            429,
            'RATE_LIMITED',
            `rate limit exceeded: at most ${core.faultState.limit} messages per second; slow down and resend`,
            {
              details: { employmentId: frame.employmentId, limit: core.faultState.limit },
            },
          );
        }
        core.chat.send({
          employmentId: idNumber(frame.employmentId),
          senderAgentId: client.agentId,
          content: frame.content,
          metadata: frame.metadata ?? null,
          messageId: frame.messageId,
          timestamp: frame.timestamp,
        });
        return;
      }
      case 'read': {
        const last = frame.lastReadMessageId ?? frame.messageId;
        if (!last) {
          throw new PlatformError(
            400,
            'INVALID_FRAME',
            'a read frame needs lastReadMessageId (or messageId): the last message you have read',
            {
              details: { employmentId: frame.employmentId },
            },
          );
        }
        core.chat.markRead(client.agentId, idNumber(frame.employmentId), last);
        return;
      }
      case 'ping':
        if (!core.faultState.pongsStopped())
          send(client, { type: 'pong', timestamp: frame.timestamp ?? rfc3339() });
        return;
      case 'pong':
        return;
    }
  };

  const send = (client: Client, frame: object) => {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(frame));
  };

  const sendError = (client: Client, code: string, message: string, details: Record<string, unknown>) => {
    const frame: ErrorFrame = { type: 'error', code, message, details };
    core.events.emit('rejected', { agentId: client.agentId, code, message });
    send(client, frame);
  };

  const timer = setInterval(() => {
    const now = Date.now();
    for (const client of core.hub.all()) {
      if (now - client.lastSeen > heartbeat.timeout) {
        core.logger.debug(
          { agentId: client.agentId },
          'agent silent past the heartbeat timeout; dropping it',
        );
        client.ws.terminate();
      } else if (client.ws.readyState === client.ws.OPEN) {
        client.ws.ping();
      }
    }
  }, heartbeat.interval);
  timer.unref();

  server.on('upgrade', onUpgrade);

  return {
    async close() {
      if (!closed) {
        closed = true;
        clearInterval(timer);
        server.off('upgrade', onUpgrade);
        for (const client of core.hub.all()) client.ws.terminate();
      }
      await Promise.all([...closing]);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function reject(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ success: false, error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Service Unavailable';
  socket.write(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
