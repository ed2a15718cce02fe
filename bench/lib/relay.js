/**
 * A bare relay: the least a platform can do — authenticate two sockets by token and forward
 * message frames between the parties of an employment. No storage, no validation, no REST.
 * It is not the platform; it measures the platform's own cost: the raw agent through this relay
 * vs the raw agent through the embedded platform shows what the platform adds per message.
 */
import { URL } from 'node:url';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

export async function startRelay({ agents, employments }) {
  const byToken = new Map(agents.map((a) => [a.token, a.id]));
  const other = new Map(); // `${agentId}:${employmentId}` → the other party's id
  for (const e of employments) {
    other.set(`${e.employerAgentId}:${e.id}`, e.employeeAgentId);
    other.set(`${e.employeeAgentId}:${e.id}`, e.employerAgentId);
  }
  const sockets = new Map(); // agentId → ws
  const events = new EventEmitter();
  const server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  let serial = 0;
  server.on('upgrade', (req, socket, head) => {
    const token = req.headers['x-api-key'] ?? new URL(req.url, 'http://x').searchParams.get('api_key');
    const agentId = byToken.get(token);
    if (!agentId) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connectionId = ++serial;
      sockets.set(agentId, ws);
      events.emit('connection', { agentId, connectionId });
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        if (frame.type !== 'message') return;
        const to = other.get(`${agentId}:${frame.employmentId}`);
        const target = to === undefined ? undefined : sockets.get(to);
        if (target) target.send(JSON.stringify(frame));
      });
      ws.on('close', (code) => {
        if (sockets.get(agentId) === ws) sockets.delete(agentId);
        events.emit('disconnect', { agentId, connectionId, code, reason: '' });
      });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  let closing;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    port,
    on: (name, fn) => events.on(name, fn),
    off: (name, fn) => events.off(name, fn),
    close() {
      closing ??= new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
