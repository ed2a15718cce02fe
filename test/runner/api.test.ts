/** The typed REST client (ctx.api) against the embedded platform, and against a bare HTTP server for failures. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { C4cError, PlatformError } from '../../src/errors.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { memoryLogger } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

let platform: Platform | undefined;
let server: Server | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

/** A bare HTTP server answering every request with `status` and `body`; records headers. */
async function bare(status: number, body: string): Promise<{ url: string; headers: IncomingHttpHeaders[] }> {
  const headers: IncomingHttpHeaders[] = [];
  server = createServer((req, res) => {
    headers.push(req.headers);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, headers };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );
}

describe('ApiClient', () => {
  it('calls the agent-side REST API and returns typed data', async () => {
    platform = await startPlatform();
    const { agent, employer, employmentId } = platform.world;
    const api = new ApiClient({ baseUrl: platform.url, token: agent.token });
    expect(await api.me()).toMatchObject({ id: agent.id, name: agent.name });
    expect((await api.employments({ role: 'employee' })).employments.map((e) => e.id)).toEqual([
      employmentId,
    ]);
    expect(await api.employment(employmentId)).toMatchObject({
      id: employmentId,
      status: 'active',
      employerAgentId: employer.id,
    });
    const sent = platform.sendMessage({ employmentId, content: 'hi' });
    const page = await api.messages(employmentId, { limit: 5 });
    expect(page.messages.map((m) => m.content)).toContain('hi');
    expect(await api.markRead(employmentId, sent.messageId)).toEqual({ unreadCount: 0 });
    expect((await api.invocations({ role: 'provider' })).invocations).toEqual([]);
  });

  it("a refusal is a PlatformError with the HTTP status and the platform's code", async () => {
    platform = await startPlatform();
    const api = new ApiClient({ baseUrl: platform.url, token: platform.world.agent.token });
    const error = await failure(api.employment(999));
    expect(error).toBeInstanceOf(PlatformError);
    expect(error).toMatchObject({ status: 404, platformCode: 'NOT_FOUND', code: 'E_PLATFORM' });
    expect(error.message).toMatch(/^GET \/openapi\/v1\/agent\/me\/employments\/999 was refused: NOT_FOUND: /);
  });

  it('a bad token is E_AUTH (401), and the token is in no error', async () => {
    platform = await startPlatform();
    const api = new ApiClient({ baseUrl: platform.url, token: 'cl_wrong_token_123' });
    const error = await failure(api.me());
    expect(error).toMatchObject({ status: 401, code: 'E_AUTH' });
    expect(error.message).toContain('(authentication failed: check the API token)');
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('cl_wrong_token_123');
  });

  it('sends the token as X-API-Key only, and logs calls without it', async () => {
    const { url, headers } = await bare(200, JSON.stringify({ success: true, data: { id: 1, name: 'A' } }));
    const { logger, text } = memoryLogger();
    const api = new ApiClient({ baseUrl: url, token: 'cl_header_token', logger });
    await api.me();
    expect(headers[0]!['x-api-key']).toBe('cl_header_token');
    expect(text()).toContain('"path":"/openapi/v1/agent/me"');
    expect(text()).not.toContain('cl_header_token');
  });

  it('says what is wrong with an answer that is no envelope, or data of the wrong shape', async () => {
    const html = await bare(502, '<html>bad gateway</html>');
    const error = await failure(new ApiClient({ baseUrl: html.url, token: 'cl_x' }).me());
    expect(error).toMatchObject({ status: 502, platformCode: 'HTTP_502' });
    expect(error.message).toBe('GET /openapi/v1/agent/me failed with HTTP 502: <html>bad gateway</html>');
    await new Promise((resolve) => server!.close(resolve));
    const odd = await bare(200, JSON.stringify({ success: true, data: { id: 'not a number' } }));
    const shape = await failure(new ApiClient({ baseUrl: odd.url, token: 'cl_x' }).me());
    expect(shape).toMatchObject({ platformCode: 'INVALID_RESPONSE' });
    expect(shape.message).toMatch(/^GET \/openapi\/v1\/agent\/me: unexpected response data/);
  });

  it('an unreachable platform is E_NETWORK; an aborted signal stops the call', async () => {
    const gone = await bare(200, '{}');
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const error = await failure(new ApiClient({ baseUrl: gone.url, token: 'cl_x' }).me());
    expect(error).toBeInstanceOf(C4cError);
    expect(error).toMatchObject({ code: 'E_NETWORK' });
    expect(error.message).toMatch(
      /^GET \/openapi\/v1\/agent\/me failed: ECONNREFUSED; check that http:\/\/127\.0\.0\.1:\d+ is reachable/,
    );
    platform = await startPlatform();
    const aborted = await failure(
      new ApiClient({ baseUrl: platform.url, token: platform.world.agent.token }).me({
        signal: AbortSignal.abort(),
      }),
    );
    expect(aborted.message).toMatch(/failed: aborted/);
  });

  it('a platform that never answers is E_NETWORK after the time limit; a signal aborted mid-call stops it', async () => {
    const waiting: (() => void)[] = [];
    const asked: string[] = [];
    server = createServer((req, res) => {
      asked.push(req.url ?? '');
      // Never answers; let go once the test is over so the server can close.
      waiting.push(() => res.destroy());
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const slow = await failure(new ApiClient({ baseUrl: url, token: 'cl_x', timeout: 50 }).me());
      expect(slow).toBeInstanceOf(C4cError);
      expect(slow).toMatchObject({ code: 'E_NETWORK' });
      expect(slow.message).toMatch(
        /^GET \/openapi\/v1\/agent\/me failed: no answer within 50 ms; check that/,
      );
      // The same through a caller's own fetch.
      const viaFetch = await failure(new ApiClient({ baseUrl: url, token: 'cl_x', timeout: 50, fetch }).me());
      expect(viaFetch).toMatchObject({ code: 'E_NETWORK' });
      expect(viaFetch.message).toMatch(/failed: no answer within 50 ms; check that/);
      // 30 calls in flight on one signal (as a catch-up pass's reads are): no warning about
      // listeners piling up on it, and aborting it stops all of them.
      const warnings: string[] = [];
      const onWarning = (warning: Error): void => void warnings.push(warning.name);
      process.on('warning', onWarning);
      try {
        const controller = new AbortController();
        const client = new ApiClient({ baseUrl: url, token: 'cl_x' });
        const calls = Array.from({ length: 30 }, () => failure(client.me({ signal: controller.signal })));
        await waitFor(() => asked.length === 32);
        controller.abort();
        for (const call of await Promise.all(calls)) expect(call.message).toMatch(/failed: aborted/);
        // Warnings are emitted on the next tick.
        await new Promise((resolve) => setImmediate(resolve));
        expect(warnings).toEqual([]);
      } finally {
        process.off('warning', onWarning);
      }
    } finally {
      for (const release of waiting) release();
    }
  });

  it('refuses a body beyond maxBodyBytes — declared or streamed — instead of reading it whole', async () => {
    const big = JSON.stringify({ success: true, data: { id: 1, name: 'x'.repeat(2 * 1024 * 1024) } });
    // Declared: Content-Length says it all.
    const declared = await bare(200, big);
    const client = new ApiClient({ baseUrl: declared.url, token: 'cl_x', maxBodyBytes: 1024 * 1024 });
    const error = await failure(client.me());
    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).platformCode).toBe('RESPONSE_TOO_LARGE');
    expect(error.message).toMatch(/larger than 1048576 bytes; not read/);
    await new Promise((resolve) => server!.close(resolve));
    // Streamed: chunked, no length; cut once the limit is passed.
    let written = 0;
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'x'.repeat(64 * 1024);
      const pump = (): void => {
        while (written < 64 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const streamed = new ApiClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: 'cl_x',
      maxBodyBytes: 1024 * 1024,
    });
    const cut = await failure(streamed.me());
    expect((cut as PlatformError).platformCode).toBe('RESPONSE_TOO_LARGE');
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('reuses one kept-alive connection for calls in a row; a connection the server closed is replaced', async () => {
    let connections = 0;
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: true, data: { id: 2, name: 'Agent' } }));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const client = new ApiClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: 'cl_x',
    });
    for (let i = 0; i < 5; i++) await client.me();
    expect(connections).toBe(1);
    // The server drops its idle connections (a restart, its keep-alive timeout): the next call opens a new one.
    server.closeIdleConnections();
    await client.me();
    expect(connections).toBe(2);
  });
});
