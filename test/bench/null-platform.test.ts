/**
 * The bench's null platform (bench/lib/null-platform.js) against the runner of this checkout, over
 * real loopback sockets: it must answer every REST call the runner makes at start, during catch-up
 * and to acknowledge, or the bench would time the runner's error handling instead of its replies.
 * When the runner starts calling something new, the first test fails and names the call: add a
 * canned answer to the null platform.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config/load.js';
import { createRunner, type Runner } from '../../src/runner/runner.js';
import { startNullPlatform, type NullPlatform } from '../../bench/lib/null-platform.js';
import { makeProject, memoryLogger, type Project } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

const AGENT = { id: 2, name: 'Bench Agent', token: 'cl_bench_agent' };
const EMPLOYMENTS = 120;

let platform: NullPlatform;
let runner: Runner | undefined;
let project: Project | undefined;

beforeEach(async () => {
  platform = await startNullPlatform({ agent: AGENT, employments: EMPLOYMENTS });
});

afterEach(async () => {
  await runner?.close({ drainTimeout: 1_000 });
  await project?.remove();
  runner = undefined;
  project = undefined;
  await platform.close();
});

async function startRunner(): Promise<{ lines: Record<string, unknown>[] }> {
  project = await makeProject({
    'c4c.config.json': JSON.stringify({ concurrency: 16 }),
    'handlers/message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => ctx.event.content);
`,
  });
  const config = await loadConfig({
    cwd: project.dir,
    env: { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: AGENT.token },
    home: `${project.dir}/home`,
  });
  const { logger, lines } = memoryLogger();
  runner = createRunner(config, { logger });
  const connected = new Promise<void>((resolve) => platform.on('connection', () => resolve()));
  await runner.start();
  await connected;
  return { lines };
}

/** Opens a socket as the agent would (token in header and query). */
async function agentSocket(token = AGENT.token): Promise<WebSocket> {
  const url = new URL(platform.wsUrl);
  url.searchParams.set('api_key', token);
  const ws = new WebSocket(url, { headers: { 'X-API-Key': token } });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

describe('the null platform', () => {
  it("answers every REST call of the runner's start, catch-up and acknowledgements, and counts its replies", async () => {
    const { lines } = await startRunner();
    const load = platform.load();
    // The last employment is answered on demand, perhaps before catch-up has read every history.
    expect(await load.roundTrip(EMPLOYMENTS)).toBeGreaterThan(0);
    for (const employmentId of [1, 2, 3]) await load.roundTrip(employmentId);
    await waitFor(() => platform.counters.rest.history === EMPLOYMENTS, { message: 'every history read' });

    // A quiet employment is acknowledged at once; the delivery confirmation is a control ping.
    await waitFor(() => (platform.counters.rest.markRead ?? 0) >= 1, { message: 'an acknowledgement' });
    await waitFor(() => platform.counters.controlPings >= 1, { message: 'a delivery-confirmation ping' });
    expect(platform.counters.unexpected).toEqual([]);
    expect(platform.counters.rest).toMatchObject({ me: 1, history: EMPLOYMENTS });
    expect(platform.counters.rest.employments).toBeGreaterThanOrEqual(1);
    expect(platform.counters.otherFrames).toBe(0);
    // Nothing the runner logged says a call failed.
    expect(lines.filter((line) => Number(line.level) >= 40)).toEqual([]);
  });

  it('keeps messages in flight in a closed loop and loses none', async () => {
    await startRunner();
    const load = platform.load();
    await load.roundTrip(EMPLOYMENTS);
    const result = await load.closedLoop({
      inFlight: 16,
      employments: Array.from({ length: EMPLOYMENTS }, (_, i) => i + 1),
      warmupMs: 0,
      measureMs: 200,
    });
    expect(result.replies).toBeGreaterThan(0);
    expect(result.lost).toBe(0);
    expect(result.latenciesUs).toHaveLength(result.replies);
  });

  it('answers a JSON ping with a JSON pong carrying its timestamp', async () => {
    const ws = await agentSocket();
    const pong = new Promise<unknown>((resolve) =>
      ws.once('message', (data) => resolve(JSON.parse(String(data)))),
    );
    ws.send(JSON.stringify({ type: 'ping', timestamp: '2026-01-01T00:00:00.000Z' }));
    expect(await pong).toEqual({ type: 'pong', timestamp: '2026-01-01T00:00:00.000Z' });
    expect(platform.counters.jsonPings).toBe(1);
    ws.close();
  });

  it('refuses a wrong token with 401, on the upgrade and on REST', async () => {
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(`${platform.wsUrl}?api_key=cl_wrong`, {
        headers: { 'X-API-Key': 'cl_wrong' },
      });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.once('error', () => resolve(undefined));
    });
    expect(status).toBe(401);
    const res = await fetch(`${platform.url}/openapi/v1/agent/me`, { headers: { 'X-API-Key': 'cl_wrong' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ success: false, error: { code: 'UNAUTHORIZED' } });
  });

  it('answers a call it has no canned reply for with a 404 envelope and records it', async () => {
    const res = await fetch(`${platform.url}/openapi/v1/agent/me/tasks`, {
      headers: { 'X-API-Key': AGENT.token },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
    expect(platform.counters.unexpected).toEqual(['GET /openapi/v1/agent/me/tasks']);
  });

  it('pages the active employments as the platform does', async () => {
    const page = async (n: number) => {
      const res = await fetch(
        `${platform.url}/openapi/v1/agent/me/employments?status=active&page=${n}&limit=50`,
        {
          headers: { 'X-API-Key': AGENT.token },
        },
      );
      return ((await res.json()) as { data: { employments: { id: number }[]; total: number } }).data;
    };
    const [first, last] = [await page(1), await page(3)];
    expect(first.total).toBe(EMPLOYMENTS);
    expect(first.employments.map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(last.employments.map((e) => e.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 101));
  });
});
