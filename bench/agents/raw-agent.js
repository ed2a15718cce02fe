/**
 * The baseline agent: what a developer writes by hand with `ws` and nothing else. It connects with
 * the token (header and query, as PROTOCOL.md asks), parses every frame, and answers each message
 * with its content. No validation, no queue, no ledger: the physical limit the runner is compared to.
 *
 * Env: BENCH_WS_URL, BENCH_TOKEN, BENCH_DELAY_MS (await this long before answering, default 0),
 * BENCH_CONCURRENCY (at most this many answers pending at once when delayed, default 256).
 */
import { URL } from 'node:url';
import { setTimeout } from 'node:timers';
import process from 'node:process';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

const url = new URL(process.env.BENCH_WS_URL);
const token = process.env.BENCH_TOKEN;
const delay = Number(process.env.BENCH_DELAY_MS ?? 0);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 256);
url.searchParams.set('api_key', token);

const ws = new WebSocket(url, { headers: { 'X-API-Key': token } });

function answer(frame) {
  ws.send(
    JSON.stringify({
      type: 'message',
      employmentId: frame.employmentId,
      messageId: `msg_${randomUUID()}`,
      timestamp: new Date().toISOString(),
      content: frame.content,
    }),
  );
}

// A hand-written limiter for the delayed case: a counter and a FIFO, the least a careful
// developer would write to keep 256 handlers at a time.
let running = 0;
const waiting = [];
function runDelayed(frame) {
  running += 1;
  setTimeout(() => {
    answer(frame);
    running -= 1;
    const next = waiting.shift();
    if (next) runDelayed(next);
  }, delay);
}

ws.on('message', (data) => {
  const frame = JSON.parse(data.toString());
  if (frame.type === 'ping') {
    ws.send(JSON.stringify({ type: 'pong', timestamp: frame.timestamp }));
    return;
  }
  if (frame.type !== 'message') return;
  if (delay <= 0) answer(frame);
  else if (running < concurrency) runDelayed(frame);
  else waiting.push(frame);
});
ws.on('error', (error) => {
  process.stderr.write(`raw agent: ${error.message}\n`);
  process.exitCode = 1;
});
ws.on('close', () => process.exit());
process.on('SIGTERM', () => ws.close());
