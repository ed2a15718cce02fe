/**
 * The public client's contract: every command of `c4c` (test/fixtures/c4c/commands.json) sends its
 * request exactly as the client builds it, and the embedded platform's answer must decode into
 * the Go type that command reads (test/fixtures/c4c/types.json), with every field the client
 * shows present, and must cause the notifications the step names. Steps run in order; each is one
 * test, so a failure names the command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform, type SeedInput } from '../../src/platform/index.js';
import fixture from '../fixtures/c4c/commands.json' with { type: 'json' };
import { connect, type Json, type TestClient } from '../helpers/platform.js';
import { goDecode } from './go-decode.js';

interface Step {
  command: string;
  as: string;
  goMethod: string;
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: Json;
  decodes: string | null;
  save?: Record<string, string>;
  notifies?: Record<string, string>;
  expect?: { listKey: string; minItems: number };
}

const steps = fixture.steps as Step[];
/** Ids the steps refer to: the seed's agents, then whatever `save` records. */
const ids: Record<string, number | string> = { boss: 1, worker: 2, rival: 3 };

const fill = (text: string) =>
  text.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in ids)) throw new Error(`step refers to {${name}}, which no earlier step saved`);
    return String(ids[name]);
  });
/** "$name" in a body becomes the saved id, as a JSON number (the client's bodies use uint). */
const fillBody = (value: Json): Json => {
  if (typeof value === 'string' && value.startsWith('$')) return Number(ids[value.slice(1)]);
  if (Array.isArray(value)) return value.map(fillBody);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillBody(v)]));
  return value;
};

let platform: Platform;
const sockets = new Map<string, TestClient>();

beforeAll(async () => {
  platform = await startPlatform({ seed: fixture.seed as SeedInput });
  for (const agent of fixture.seed.agents)
    sockets.set(agent.token, await connect(platform.wsUrl, agent.token));
  // One message in the employment, so `chat --history` has something to decode.
  platform.sendMessage({ employmentId: 1, content: 'hello' });
});

afterAll(async () => {
  for (const socket of sockets.values()) await socket.close();
  await platform?.close();
});

describe('every command of the public client c4c against the embedded platform', () => {
  it('covers every command group of the client', () => {
    const groups = new Set(steps.map((s) => s.command.split(' ').slice(1, 3).join(' ')));
    for (const group of [
      'manage agent',
      'manage service',
      'manage service-invocation',
      'manage task',
      'market agent',
      'market service',
      'market task',
    ])
      expect(groups).toContain(group);
    expect(steps.some((s) => s.command.startsWith('c4c feedback'))).toBe(true);
    expect(steps.some((s) => s.command.startsWith('c4c chat'))).toBe(true);
  });

  for (const step of steps) {
    it(`${step.command} (${step.method} ${step.path} → ${step.decodes ?? 'envelope'})`, async () => {
      const url = new URL(platform.url + fill(step.path));
      for (const [key, value] of Object.entries(step.query ?? {})) url.searchParams.set(key, fill(value));
      const body = step.body === undefined ? undefined : JSON.stringify(fillBody(step.body));
      const response = await fetch(url, {
        method: step.method,
        headers: { 'X-API-Key': step.as, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        ...(body ? { body } : {}),
      });
      const envelope = (await response.json()) as Json;
      expect(envelope, `${step.command}: ${JSON.stringify(envelope.error)}`).toMatchObject({ success: true });
      expect(response.ok).toBe(true);

      if (step.decodes) {
        const { errors, missing } = goDecode(step.decodes, envelope.data);
        expect(errors, `Go would refuse the answer to ${step.command}`).toEqual([]);
        expect(missing, `${step.command} shows fields the platform does not send`).toEqual([]);
      }
      if (step.expect)
        expect(envelope.data[step.expect.listKey].length).toBeGreaterThanOrEqual(step.expect.minItems);
      for (const [name, key] of Object.entries(step.save ?? {})) {
        expect(envelope.data[key], `${step.command} answers ${key}`).toBeDefined();
        ids[name] = envelope.data[key] as number;
      }
      for (const [token, event] of Object.entries(step.notifies ?? {})) {
        const frame = await sockets.get(token)!.next((f) => f.type === 'notification' && f.event === event);
        expect(goDecode('WebSocketNotificationMessage', frame).errors).toEqual([]);
      }
    });
  }

  it('chat: a message frame decodes as the client reads it', async () => {
    platform.sendMessage({ employmentId: 1, content: 'are you there?' });
    const frame = await sockets
      .get('cl_worker')!
      .next((f) => f.type === 'message' && f.content === 'are you there?');
    expect(goDecode('WebSocketMessage', frame).errors).toEqual([]);
  });
});

describe('the contract check catches a mismatch', () => {
  it('an id sent as a number where the client wants a string fails, and the reverse', () => {
    const task = {
      id: '5',
      title: 't',
      description: 'd',
      status: 'in_progress',
      bounty: '1',
      publisherAgentId: '1',
      publisherAgentName: 'Boss',
      applicationId: '9',
      startedAt: '2026-04-12T10:00:00Z',
    };
    expect(goDecode('AcceptedTaskList', { tasks: [task], total: 1 }).errors).toEqual([]);
    expect(goDecode('AcceptedTaskList', { tasks: [{ ...task, applicationId: 9 }], total: 1 }).errors).toEqual(
      [{ path: '$.tasks[0].applicationId', problem: 'cannot unmarshal number into Go value of type string' }],
    );
    expect(goDecode('TaskDetail', { id: '5' }).errors).toMatchObject([{ path: '$.id' }]);
    expect(goDecode('EmploymentListItem', { stakeStatus: 'staked' }).errors).toMatchObject([
      { path: '$.stakeStatus', problem: expect.stringContaining('frozen, settled') },
    ]);
    expect(goDecode('MarketTask', { id: 1 }).missing.map((m) => m.path)).toContain('$.bountyValue');
    expect(goDecode('MarketService', { inputSchema: { type: 'object' } }).errors).toMatchObject([
      { path: '$.inputSchema' },
    ]);
  });

  it('the platform in the all-numbers dialect breaks `task accepted` for the client', async () => {
    const numbers = await startPlatform({ seed: fixture.seed as SeedInput, idDialect: 'number' });
    try {
      const call = (token: string, method: string, path: string, body?: unknown) =>
        fetch(`${numbers.url}/openapi/v1${path}`, {
          method,
          headers: { 'X-API-Key': token, 'Content-Type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }).then((r) => r.json() as Promise<Json>);
      const task = await call('cl_boss', 'POST', '/agent/me/tasks', {
        title: 'T',
        description: 'D',
        bounty: '5',
        category: 'writing',
      });
      const applied = await call('cl_worker', 'POST', '/agent/me/task-applications', {
        taskId: task.data.id,
      });
      await call(
        'cl_boss',
        'POST',
        `/agent/me/tasks/${task.data.id}/applications/${applied.data.applicationId}/accept`,
        {},
      );
      const accepted = await call('cl_worker', 'GET', '/agent/me/task-applications/accepted?status=all');
      expect(goDecode('AcceptedTaskList', accepted.data).errors.map((e) => e.path)).toEqual([
        '$.tasks[0].id',
        '$.tasks[0].publisherAgentId',
        '$.tasks[0].applicationId',
      ]);
    } finally {
      await numbers.close();
    }
  });
});
