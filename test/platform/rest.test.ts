/** REST under /openapi/v1, as an outside client: envelope, auth, validation, history pages. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { envelopeSchema, historyPageSchema } from '../../src/protocol/rest.js';
import { rest, threeAgents, type Json } from '../helpers/platform.js';
import { memoryLogger } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

let platform: Platform;
beforeEach(async () => {
  platform = await startPlatform({ seed: threeAgents });
});
afterEach(async () => platform.close());

const boss = () => rest(platform.url, 'cl_boss');
const worker = () => rest(platform.url, 'cl_worker');

/** Every call of PROTOCOL.md, with a body that would be valid. */
const CALLS: [string, string, unknown?][] = [
  ['GET', '/agent/me'],
  ['GET', '/agent/me/employments'],
  ['POST', '/agent/me/employments', { employeeAgentId: 3, salary: 5 }],
  ['GET', '/agent/me/employments/123'],
  ['POST', '/agent/me/employments/123/accept', {}],
  ['POST', '/agent/me/employments/123/reject', {}],
  ['POST', '/agent/me/employments/123/terminate', {}],
  ['GET', '/agent/me/employments/123/messages'],
  ['POST', '/agent/me/employments/123/messages/read', { lastReadMessageId: 'msg_x' }],
  ['GET', '/agent/me/task-applications/accepted'],
  ['POST', '/agent/me/task-applications/1/submit', { content: 'x' }],
  ['GET', '/agent/me/service-invocations'],
  ['GET', '/agent/me/service-invocations/1'],
  ['POST', '/agent/me/service-invocations/1/submit', { status: 'completed' }],
  ['POST', '/agent/me/service-invocations/1/review', {}],
  ['POST', '/agent/me/tasks', { title: 't', description: 'd', bounty: 1, category: 'writing' }],
  ['GET', '/agent/me/tasks'],
  ['GET', '/agent/me/tasks/1'],
  ['POST', '/agent/me/task-applications', { taskId: 1 }],
  ['GET', '/agent/me/task-applications'],
  ['GET', '/agent/me/tasks/1/applications'],
  ['POST', '/agent/me/tasks/1/applications/1/accept', {}],
  ['POST', '/agent/me/tasks/1/accept', { rating: 5 }],
  ['POST', '/agent/me/tasks/1/cancel', {}],
  ['POST', '/agent/me/services', { title: 's', description: 'd', category: 'writing', price: 1 }],
  ['GET', '/agent/me/services'],
  ['POST', '/agent/me/service-invocations', { serviceId: 1, input: {} }],
  ['GET', '/market/tasks'],
  ['GET', '/market/services'],
  ['GET', '/market/agents'],
];

describe('envelope and auth', () => {
  it('answers with { success, data, traceId }', async () => {
    const me = await worker().get('/agent/me');
    expect(me.status).toBe(200);
    expect(envelopeSchema.safeParse(me.body).success).toBe(true);
    expect(me.body).toMatchObject({
      success: true,
      data: { id: 2, name: 'Worker', status: 'offline' },
      traceId: expect.stringMatching(/^tr_/),
    });
    expect(JSON.stringify(me.body)).not.toContain('cl_worker');
  });

  it('refuses every call without a token, or with a bad one, with 401 and changes nothing', async () => {
    const before = JSON.stringify(platform.state.snapshot());
    for (const [method, path, body] of CALLS) {
      for (const token of [undefined, 'cl_nobody']) {
        const client = rest(platform.url, token);
        const reply = method === 'GET' ? await client.get(path) : await client.post(path, body);
        expect(reply.status, `${method} ${path}`).toBe(401);
        expect(reply.body).toMatchObject({
          success: false,
          error: { code: 'UNAUTHORIZED', message: expect.any(String) },
        });
      }
    }
    expect(JSON.stringify(platform.state.snapshot())).toBe(before);
  });

  it('takes the header in any case, and api_key in the query', async () => {
    const lower = await fetch(`${platform.url}/openapi/v1/agent/me`, { headers: { 'x-api-key': 'cl_boss' } });
    expect(((await lower.json()) as Json).data.id).toBe(1);
    const query = await fetch(`${platform.url}/openapi/v1/agent/me?api_key=cl_boss`);
    expect(((await query.json()) as Json).data.id).toBe(1);
  });

  it('echoes the trace id in X-Trace-Id, on answers and on refusals', async () => {
    for (const [path, token, status] of [
      ['/agent/me', 'cl_worker', 200],
      ['/agent/me/employments/999', 'cl_worker', 404],
      ['/agent/me', 'cl_nobody', 401],
      ['/agent/me/nothing-here', 'cl_worker', 404],
    ] as const) {
      const response = await fetch(`${platform.url}/openapi/v1${path}`, { headers: { 'X-API-Key': token } });
      const body = (await response.json()) as Json;
      expect(response.status, path).toBe(status);
      expect(body.traceId, path).toMatch(/^tr_/);
      expect(response.headers.get('x-trace-id'), path).toBe(body.traceId);
    }
  });

  it('logs each request with the status it was answered with; HEAD gets the headers and no body', async () => {
    const { logger, lines } = memoryLogger();
    const logged = await startPlatform({ seed: threeAgents, logger });
    try {
      const as = rest(logged.url, 'cl_worker');
      await as.get('/agent/me');
      await as.get('/agent/me/employments/124');
      await rest(logged.url, 'cl_nobody').get('/agent/me');
      await as.post('/agent/me/employments', { salary: 5 });
      const requests = () => lines.filter((l) => l.msg === 'request').map((l) => [l.path, l.status]);
      await waitFor(() => requests().length === 4);
      expect(requests()).toEqual([
        ['/openapi/v1/agent/me', 200],
        ['/openapi/v1/agent/me/employments/124', 404],
        ['/openapi/v1/agent/me', 401],
        ['/openapi/v1/agent/me/employments', 400],
      ]);
      const head = await fetch(`${logged.url}/openapi/v1/agent/me`, {
        method: 'HEAD',
        headers: { 'X-API-Key': 'cl_worker' },
      });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('application/json');
      expect(head.headers.get('x-trace-id')).toMatch(/^tr_/);
      expect(await head.text()).toBe('');
    } finally {
      await logged.close();
    }
  });

  it('answers unknown routes with a 404 envelope', async () => {
    const reply = await worker().get('/agent/me/nothing-here');
    expect(reply.status).toBe(404);
    expect(reply.body).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
  });
});

describe('validation: bad bodies and query strings get an envelope error naming the field, and change nothing', () => {
  const cases: [string, string, unknown, string][] = [
    ['POST', '/agent/me/employments', { salary: 5 }, 'employeeAgentId'],
    ['POST', '/agent/me/employments', { employeeAgentId: 3, salary: 'lots' }, 'salary'],
    ['POST', '/agent/me/employments', '{not json', 'JSON'],
    ['POST', '/agent/me/employments/123/messages/read', {}, 'lastReadMessageId'],
    [
      'POST',
      '/agent/me/tasks',
      { title: 't', description: 'd', bounty: 1, category: 'juggling' },
      'category',
    ],
    ['POST', '/agent/me/tasks', { title: '', description: 'd', bounty: 1, category: 'writing' }, 'title'],
    ['POST', '/agent/me/tasks', { title: 't', description: 'd', bounty: -1, category: 'writing' }, 'bounty'],
    ['POST', '/agent/me/task-applications', { taskId: 'first' }, 'taskId'],
    [
      'POST',
      '/agent/me/services',
      { title: 's', description: 'd', category: 'writing', price: 1, avgResponseMs: 'fast' },
      'avgResponseMs',
    ],
    ['POST', '/agent/me/service-invocations', { serviceId: 1, input: 'text' }, 'input'],
    ['POST', '/agent/me/service-invocations/1/submit', { status: 'done' }, 'status'],
    ['POST', '/agent/me/service-invocations/1/review', { rating: 9 }, 'rating'],
    ['POST', '/agent/me/tasks/1/accept', { rating: 0 }, 'rating'],
    ['GET', '/agent/me/employments?role=boss', undefined, 'role'],
    ['GET', '/agent/me/employments?status=sleeping', undefined, 'status'],
    ['GET', '/agent/me/employments?page=0', undefined, 'page'],
    ['GET', '/agent/me/employments/123/messages?limit=1000', undefined, 'limit'],
    ['GET', '/agent/me/employments/123/messages?limit=abc', undefined, 'limit'],
    ['GET', '/agent/me/employments/123/messages?before=yesterday', undefined, 'before'],
    ['GET', '/agent/me/service-invocations?role=owner', undefined, 'role'],
    ['GET', '/agent/me/tasks?role=watcher', undefined, 'role'],
    ['GET', '/market/tasks?limit=-1', undefined, 'limit'],
    ['GET', '/agent/me/employments/abc', undefined, 'id'],
    ['POST', '/agent/me/employments/0/accept', {}, 'id'],
  ];
  it.each(cases)('%s %s', async (method, path, body, field) => {
    const before = JSON.stringify(platform.state.snapshot());
    const reply = method === 'GET' ? await boss().get(path) : await boss().post(path, body);
    expect(reply.status).toBe(400);
    expect(reply.body.success).toBe(false);
    expect(reply.body.error.code).toBe('VALIDATION_ERROR');
    expect(reply.body.error.message).toContain(field);
    expect(JSON.stringify(platform.state.snapshot())).toBe(before);
  });
});

describe('employments', () => {
  it('lists, filters by role and status, and shows one employment to its parties only', async () => {
    const mine = await boss().get('/agent/me/employments');
    expect(mine.body.data).toMatchObject({ total: 2, page: 1, limit: 20 });
    expect(mine.body.data.employments[0]).toMatchObject({
      id: 123,
      role: 'employer',
      employerAgentName: 'Boss',
      employeeAgentName: 'Worker',
      salary: '10',
      status: 'active',
    });
    expect((await boss().get('/agent/me/employments?status=active')).body.data.total).toBe(1);
    expect((await boss().get('/agent/me/employments?role=employee')).body.data.total).toBe(0);
    expect((await worker().get('/agent/me/employments?role=employee')).body.data.employments[0].role).toBe(
      'employee',
    );
    expect((await boss().get('/agent/me/employments?limit=1&page=2')).body.data.employments[0].id).toBe(124);
    expect((await worker().get('/agent/me/employments/123')).body.data.id).toBe(123);
    const other = await worker().get('/agent/me/employments/124');
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('NOT_FOUND');
  });

  it('pages a long, mixed listing: every match once, in order, with the total of all matches', async () => {
    // 250 employments: the worker is employee in some, employer in others, a stranger's in between.
    const statuses = ['active', 'terminated', 'pending'] as const;
    const employments = Array.from({ length: 250 }, (_, i) => ({
      id: 1000 + i,
      employerAgentId: i % 5 === 0 ? 2 : 1,
      employeeAgentId: i % 7 === 0 ? 3 : i % 5 === 0 ? 3 : 2,
      status: statuses[i % 3]!,
      salary: '1',
    }));
    const big = await startPlatform({ seed: { agents: threeAgents.agents, employments } });
    try {
      const as = rest(big.url, 'cl_worker');
      const mine = (e: (typeof employments)[number], role: string) =>
        role === 'employer'
          ? e.employerAgentId === 2
          : role === 'employee'
            ? e.employeeAgentId === 2
            : e.employerAgentId === 2 || e.employeeAgentId === 2;
      for (const role of ['all', 'employer', 'employee']) {
        for (const status of ['all', 'active']) {
          const expected = employments
            .filter((e) => mine(e, role) && (status === 'all' || e.status === status))
            .map((e) => e.id);
          const seen: number[] = [];
          for (let page = 1; page <= 20; page++) {
            const reply = await as.get(
              `/agent/me/employments?role=${role}&status=${status}&page=${page}&limit=15`,
            );
            expect(reply.body.data).toMatchObject({ total: expected.length, page, limit: 15 });
            const ids = reply.body.data.employments.map((e: { id: number }) => e.id);
            if (ids.length === 0) break;
            seen.push(...ids);
          }
          expect(seen, `role=${role} status=${status}`).toEqual(expected);
        }
      }
      // A change between two pages shows in the next one: the listing is not kept past a change.
      const active = (await as.get('/agent/me/employments?role=employer&status=active&limit=100')).body.data;
      const ended = active.employments[0].id as number;
      expect((await as.post(`/agent/me/employments/${ended}/terminate`, {})).status).toBe(200);
      const after = (await as.get('/agent/me/employments?role=employer&status=active&limit=100')).body.data;
      expect(after.total).toBe(active.total - 1);
      expect(after.employments.map((e: { id: number }) => e.id)).not.toContain(ended);
      const past = await as.get('/agent/me/employments?page=99&limit=50');
      expect(past.body.data.employments).toEqual([]);
      expect(past.body.data.total).toBeGreaterThan(0);
    } finally {
      await big.close();
    }
  });

  it('refuses a transition from the wrong party or the wrong state', async () => {
    const asEmployer = await boss().post('/agent/me/employments/123/accept');
    expect(asEmployer.status).toBe(403);
    expect(asEmployer.body.error.code).toBe('FORBIDDEN');
    const notPending = await worker().post('/agent/me/employments/123/accept');
    expect(notPending.status).toBe(409);
    expect(notPending.body.error).toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringContaining('active'),
    });
    const byEmployee = await worker().post('/agent/me/employments/123/terminate');
    expect(byEmployee.status).toBe(403);
    const self = await boss().post('/agent/me/employments', { employeeAgentId: 1, salary: 1 });
    expect(self.status).toBe(400);
    const nobody = await boss().post('/agent/me/employments', { employeeAgentId: 77, salary: 1 });
    expect(nobody.status).toBe(404);
  });
});

describe('history', () => {
  it('pages newest first with before / nextCursor / hasMore, each message with its metadata', async () => {
    for (let i = 1; i <= 25; i++)
      platform.sendMessage({
        employmentId: 123,
        content: `m${i}`,
        from: i % 2 ? 1 : 2,
        metadata: { format: 'text', n: i },
      });
    const seen: string[] = [];
    let cursor: string | null | undefined;
    const pages: number[] = [];
    do {
      const reply = await worker().get(
        `/agent/me/employments/123/messages?limit=10${cursor ? `&before=${cursor}` : ''}`,
      );
      expect(reply.status).toBe(200);
      const page = historyPageSchema.parse(reply.body.data);
      pages.push(page.messages.length);
      seen.push(...page.messages.map((m) => m.content));
      for (const m of page.messages)
        expect(m.metadata).toMatchObject({ format: 'text', n: Number(m.content.slice(1)) });
      expect(page.hasMore).toBe(page.nextCursor !== null);
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages).toEqual([10, 10, 5]);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `m${25 - i}`));
  });

  it('answers an empty page for an employment without messages, and 404 for a stranger', async () => {
    const empty = await worker().get('/agent/me/employments/123/messages');
    expect(empty.body.data).toEqual({ messages: [], hasMore: false, nextCursor: null });
    const stranger = await rest(platform.url, 'cl_rival').get('/agent/me/employments/123/messages');
    expect(stranger.status).toBe(404);
  });
});

describe('market', () => {
  it('lists tasks, services and agents with paging and search', async () => {
    await boss().post('/agent/me/tasks', {
      title: 'Translate a poem',
      description: 'zh → en',
      bounty: 3,
      category: 'writing',
    });
    await boss().post('/agent/me/tasks', {
      title: 'Chart sales',
      description: 'csv',
      bounty: '7.5',
      category: 'data_analysis',
    });
    await worker().post('/agent/me/services', {
      title: 'Summarise',
      description: 'any text',
      category: 'writing',
      price: 2,
    });
    const tasks = await worker().get('/market/tasks?category=writing');
    expect(tasks.body.data).toMatchObject({
      total: 1,
      page: 1,
      totalPages: 1,
      data: [{ title: 'Translate a poem', bounty: '3', bountyValue: '3', postedBy: 'Boss', postedById: 1 }],
    });
    expect((await worker().get('/market/tasks?search=sales')).body.data.data[0].bounty).toBe('7.5');
    expect((await worker().get('/market/services')).body.data.data[0]).toMatchObject({
      title: 'Summarise',
      price: '2',
      providerId: 2,
    });
    const agents = await worker().get('/market/agents?limit=2');
    expect(agents.body.data).toMatchObject({ total: 3, limit: 2, totalPages: 2 });
    expect(JSON.stringify(agents.body)).not.toMatch(/cl_/);
  });
});
