/**
 * `c4c-runner start --health-port 0` as a child process against the embedded platform: liveness
 * stays up through a platform outage, readiness follows the socket and the catch-up, and
 * `/metrics` is Prometheus text whose counters match what was sent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Peer } from '../../src/party/peer.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import { makeProject } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';
import { parsePrometheus, sample } from '../helpers/prometheus.js';

const TOKEN = 'cl_health_worker_7c1';
const seed = {
  agents: [
    { id: 1, name: 'Employer', token: 'cl_health_employer' },
    { id: 2, name: 'Worker', token: TOKEN },
  ],
  employments: [{ id: 1, employerAgentId: 1, employeeAgentId: 2, salary: '1' }],
};

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function get(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

async function healthUrl(cli: CliProcess): Promise<string> {
  const line = await cli.waitForLine('"health: ');
  return (JSON.parse(line) as { url: string }).url;
}

describe('start --health-port', () => {
  it('keeps /healthz at 200 through a platform outage while /readyz follows the socket; /metrics counts what was sent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'c4c-health-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const dataFile = join(dir, 'platform.json');
    let platform: Platform = await startPlatform({ seed, dataFile });
    cleanups.push(() => platform.close());
    const port = platform.port;

    const project = await makeProject({
      'handlers/message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', (ctx) => 'echo: ' + ctx.event.content);`,
      // Short heartbeat and backoff so the outage and the reconnect fit a test.
      'c4c.config.json': JSON.stringify({
        heartbeat: { interval: 200, timeout: 1_000 },
        reconnect: { initialDelay: 50, maxDelay: 200 },
      }),
    });
    cleanups.push(() => project.remove());
    const cli = spawnCli(['start', '--health-port', '0'], {
      cwd: project.dir,
      env: { HOME: join(project.dir, 'home'), C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: TOKEN },
    });
    cleanups.push(() => cli.stop('SIGKILL'));
    const base = await healthUrl(cli);
    expect(new URL(base).hostname).toBe('127.0.0.1');

    await waitFor(async () => (await get(`${base}/readyz`)).status === 200, { message: '/readyz 200' });
    expect(JSON.parse((await get(`${base}/readyz`)).body)).toMatchObject({
      status: 'ready',
      connection: 'open',
    });
    expect((await get(`${base}/healthz`)).status).toBe(200);

    const employer = new Peer({ url: platform.url, token: 'cl_health_employer' });
    await employer.connect();
    const replies: string[] = [];
    employer.onFrame((f) => {
      if (f.type === 'message') replies.push(f.content);
    });
    for (const text of ['one', 'two', 'three']) await employer.send(1, text);
    await waitFor(() => replies.length === 3, { message: 'three replies' });
    await employer.close();

    const metrics = await waitFor(
      async () => {
        const m = parsePrometheus((await get(`${base}/metrics`)).body);
        // The runner counts a reply once the platform confirmed it, which can trail the platform seeing it:
        // wait for the figures, do not sample them.
        const settled =
          sample(m, 'c4c_acknowledgements_total') >= 1 &&
          sample(m, 'c4c_handlers_total', { event: 'message', outcome: 'replied' }) >= 3 &&
          sample(m, 'c4c_replies_sent_total') >= 3;
        return settled ? m : undefined;
      },
      { message: 'an acknowledgement in /metrics' },
    );
    expect(sample(metrics, 'c4c_events_received_total', { event: 'message' })).toBe(3);
    expect(sample(metrics, 'c4c_handlers_total', { event: 'message', outcome: 'replied' })).toBe(3);
    expect(sample(metrics, 'c4c_handler_duration_seconds_count', { event: 'message' })).toBe(3);
    expect(sample(metrics, 'c4c_handler_duration_seconds_bucket', { event: 'message', le: '+Inf' })).toBe(3);
    expect(sample(metrics, 'c4c_replies_sent_total')).toBe(3);
    expect(sample(metrics, 'c4c_connection_up')).toBe(1);
    expect(sample(metrics, 'c4c_ready')).toBe(1);
    expect(sample(metrics, 'c4c_reconnects_total')).toBe(0);
    expect(sample(metrics, 'c4c_catchup_passes_total')).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'c4c_queue_running')).toBe(0);
    expect(sample(metrics, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(metrics.types.get('c4c_handler_duration_seconds')).toBe('histogram');
    expect(metrics.types.get('c4c_events_received_total')).toBe('counter');

    // The platform goes away: not ready (disconnected) well within the pong timeout, but still live.
    await platform.close();
    const down = await waitFor(
      async () => {
        const r = await get(`${base}/readyz`);
        return r.status === 503 ? r : undefined;
      },
      { timeout: 1_000, message: '/readyz 503 within the pong timeout' },
    );
    expect(JSON.parse(down.body)).toMatchObject({ ready: false, reason: 'disconnected' });
    expect(down.type).toMatch(/application\/json/);
    expect((await get(`${base}/healthz`)).status).toBe(200);
    expect(sample(parsePrometheus((await get(`${base}/metrics`)).body), 'c4c_connection_up')).toBe(0);

    // It comes back on the same address: ready again after the reconnect and its catch-up.
    platform = await startPlatform({ seed, dataFile, port });
    await waitFor(async () => (await get(`${base}/readyz`)).status === 200, {
      timeout: 15_000,
      message: '/readyz 200 after the reconnect',
    });
    expect((await get(`${base}/healthz`)).status).toBe(200);
    const after = parsePrometheus((await get(`${base}/metrics`)).body);
    expect(sample(after, 'c4c_reconnects_total')).toBe(1);
    expect(sample(after, 'c4c_catchup_passes_total')).toBeGreaterThanOrEqual(2);

    // Draining: not ready; and the process still exits 0.
    expect(await cli.stop('SIGTERM')).toBe(0);
    expect(cli.output()).toContain('readiness: disconnected');
  });

  it('refuses a bad port with a sentence, before connecting', async () => {
    const project = await makeProject({ 'handlers/message.ts': `export default () => 'x';` });
    cleanups.push(() => project.remove());
    const cli = spawnCli(['start'], {
      cwd: project.dir,
      env: {
        HOME: join(project.dir, 'home'),
        C4C_API_ENDPOINT: 'http://127.0.0.1:9',
        C4C_API_TOKEN: TOKEN,
        C4C_HEALTH_PORT: 'ninety',
      },
    });
    cleanups.push(() => cli.stop('SIGKILL'));
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toContain('env C4C_HEALTH_PORT must be a port number from 0 to 65535');
  });
});

describe('health settings', () => {
  it('health.port in the config is checked like every key; the flag and env win over it', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    const project = await makeProject({ 'c4c.config.json': JSON.stringify({ health: { port: 70_000 } }) });
    cleanups.push(() => project.remove());
    await expect(loadConfig({ cwd: project.dir, env: {}, home: project.dir })).rejects.toThrow(
      'c4c.config.json: health.port must be a port number from 0 to 65535, got 70000 (e.g. 9464)',
    );
    await project.write('c4c.config.json', JSON.stringify({ health: { port: 9464 } }));
    const config = await loadConfig({
      cwd: project.dir,
      env: {},
      home: project.dir,
      overrides: { health: { port: 0 } },
    });
    expect(config.health).toEqual({ port: 0, host: '127.0.0.1' });
  });
});
