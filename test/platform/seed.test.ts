/** The seed file, the default world, and `dataFile` persistence, with real files in a temp folder. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isC4cError } from '../../src/errors.js';
import {
  DEFAULT_AGENT,
  DEFAULT_EMPLOYER,
  DEFAULT_EMPLOYMENT,
  DEFAULT_SERVICE,
  startPlatform,
} from '../../src/platform/index.js';
import { connect, rest } from '../helpers/platform.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c4c-platform-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const issueSeed = {
  agents: [
    { id: 1, name: 'Boss', token: 'cl_boss' },
    { id: 2, name: 'Worker', token: 'cl_worker' },
  ],
  employments: [{ id: 123, employerAgentId: 1, employeeAgentId: 2, status: 'active' as const, salary: '10' }],
};

describe('default world', () => {
  it('has the documented employer, agent, active employment and a service of the agent', async () => {
    const platform = await startPlatform();
    expect(platform.world).toEqual({
      employer: { ...DEFAULT_EMPLOYER },
      agent: { ...DEFAULT_AGENT },
      employmentId: DEFAULT_EMPLOYMENT.id,
    });
    expect(platform.world).toMatchObject({
      employer: { id: 1, token: 'cl_local_employer' },
      agent: { id: 2, token: 'cl_local_agent' },
      employmentId: 1,
    });
    const employment = await rest(platform.url, DEFAULT_AGENT.token).get('/agent/me/employments/1');
    expect(employment.body.data).toMatchObject({
      status: 'active',
      salary: '10',
      employerAgentName: 'Local Employer',
    });
    const services = await rest(platform.url, DEFAULT_AGENT.token).get('/agent/me/services');
    expect(services.body.data.services[0]).toMatchObject({
      id: DEFAULT_SERVICE.id,
      title: DEFAULT_SERVICE.title,
    });
    await platform.close();
  });
});

describe('seed', () => {
  it('takes the format of the issue, as an object or a file; the first employment is the world', async () => {
    const file = join(dir, 'seed.json');
    await writeFile(file, JSON.stringify(issueSeed));
    for (const seed of [issueSeed, file]) {
      const platform = await startPlatform({ seed });
      expect(platform.world).toEqual({
        employer: { id: 1, name: 'Boss', token: 'cl_boss' },
        agent: { id: 2, name: 'Worker', token: 'cl_worker' },
        employmentId: 123,
      });
      const worker = await connect(platform.wsUrl, 'cl_worker');
      platform.sendMessage({ employmentId: 123, content: 'seeded' });
      expect(await worker.next()).toMatchObject({ employmentId: 123, content: 'seeded' });
      await worker.close();
      await platform.close();
    }
  });

  it('accepts services and tasks, numbers for amounts, and defaults status to active', async () => {
    const platform = await startPlatform({
      seed: {
        agents: issueSeed.agents,
        employments: [{ id: 9, employerAgentId: 1, employeeAgentId: 2, salary: 3 }],
        services: [{ providerAgentId: 2, title: 'Echo', price: 1 }],
        tasks: [{ publisherAgentId: 1, title: 'Open task', bounty: 4 }],
      },
    });
    const boss = rest(platform.url, 'cl_boss');
    expect((await boss.get('/agent/me/employments/9')).body.data).toMatchObject({
      status: 'active',
      salary: '3',
    });
    expect((await boss.get('/market/services')).body.data.data[0]).toMatchObject({
      title: 'Echo',
      price: '1',
      providerId: 2,
    });
    expect((await boss.get('/market/tasks')).body.data.data[0]).toMatchObject({
      title: 'Open task',
      bounty: '4',
      status: 'open',
    });
    await platform.close();
  });

  const bad: [string, unknown, RegExp][] = [
    ['no agents key', { employments: issueSeed.employments }, /agents: required but missing/],
    [
      'an empty agent list',
      { agents: [], employments: issueSeed.employments },
      /agents: a seed needs at least one agent/,
    ],
    [
      'a token without cl_',
      { ...issueSeed, agents: [{ id: 1, name: 'Boss', token: 'boss' }, issueSeed.agents[1]] },
      /agents\[0\]\.token: a token starts with "cl_"/,
    ],
    [
      'a missing name',
      { ...issueSeed, agents: [{ id: 1, token: 'cl_boss' }, issueSeed.agents[1]] },
      /agents\[0\]\.name: /,
    ],
    [
      'an id that is not a positive integer',
      { ...issueSeed, agents: [{ id: 'one', name: 'B', token: 'cl_b' }] },
      /agents\[0\]\.id: /,
    ],
    [
      'a duplicate agent id',
      { ...issueSeed, agents: [issueSeed.agents[0], { id: 1, name: 'Twin', token: 'cl_twin' }] },
      /agents\[1\]\.id: agent id 1 is already used by agents\[0\]/,
    ],
    [
      'a duplicate token',
      { ...issueSeed, agents: [issueSeed.agents[0], { id: 2, name: 'Twin', token: 'cl_boss' }] },
      /agents\[1\]\.token: this token is already used by agents\[0\]/,
    ],
    [
      'no employments',
      { agents: issueSeed.agents, employments: [] },
      /employments: a seed needs at least one employment/,
    ],
    [
      'an unknown employee',
      { ...issueSeed, employments: [{ ...issueSeed.employments[0], employeeAgentId: 7 }] },
      /employments\[0\]\.employeeAgentId: no agent has id 7/,
    ],
    [
      'an unknown status',
      { ...issueSeed, employments: [{ ...issueSeed.employments[0], status: 'paused' }] },
      /employments\[0\]\.status: /,
    ],
    [
      'a salary that is not an amount',
      { ...issueSeed, employments: [{ ...issueSeed.employments[0], salary: 'ten' }] },
      /employments\[0\]\.salary: expected a decimal amount/,
    ],
    [
      'self-employment',
      { ...issueSeed, employments: [{ ...issueSeed.employments[0], employeeAgentId: 1 }] },
      /employments\[0\]\.employeeAgentId: an agent cannot employ itself/,
    ],
    [
      'a service of nobody',
      { ...issueSeed, services: [{ providerAgentId: 5, title: 'x' }] },
      /services\[0\]\.providerAgentId: no agent has id 5/,
    ],
    ['not an object', [1, 2], /\(top level\): /],
  ];
  it.each(bad)('refuses %s, naming the key and what is wrong', async (_name, seed, message) => {
    const error = await startPlatform({ seed: seed as never }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isC4cError(error, 'E_SEED')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toMatch(/cl_boss/);
  });

  it('refuses a seed file that is missing or not JSON, naming the file', async () => {
    const missing = join(dir, 'nope.json');
    await expect(startPlatform({ seed: missing })).rejects.toThrow(`${missing}: cannot read the seed file`);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"agents": [');
    await expect(startPlatform({ seed: broken })).rejects.toThrow(`${broken}: not valid JSON`);
  });
});

describe('dataFile', () => {
  it('keeps messages, read state, tasks and id counters across a restart; writes atomically', async () => {
    const file = join(dir, 'state', 'platform.json');
    const first = await startPlatform({ seed: issueSeed, dataFile: file });
    const boss = rest(first.url, 'cl_boss');
    first.sendMessage({ employmentId: 123, content: 'one', metadata: { format: 'markdown' } });
    const two = first.sendMessage({ employmentId: 123, content: 'two' });
    await rest(first.url, 'cl_worker').post('/agent/me/employments/123/messages/read', {
      lastReadMessageId: two.messageId,
    });
    const task = await boss.post('/agent/me/tasks', {
      title: 'Persist me',
      description: '',
      bounty: 2,
      category: 'writing',
    });
    await first.close();
    await first.close();

    expect(await readdir(join(dir, 'state'))).toEqual(['platform.json']);
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved.version).toBe(1);
    expect(saved.messages).toHaveLength(2);

    // The data file wins over a (different) seed once it exists.
    const second = await startPlatform({
      seed: { ...issueSeed, agents: issueSeed.agents.map((a) => ({ ...a, name: `${a.name}2` })) },
      dataFile: file,
    });
    expect(second.world.employer.name).toBe('Boss');
    const history = await rest(second.url, 'cl_worker').get('/agent/me/employments/123/messages');
    expect(history.body.data.messages.map((m: { content: string }) => m.content)).toEqual(['two', 'one']);
    expect(history.body.data.messages.every((m: { readAt: string | null }) => m.readAt !== null)).toBe(true);
    expect(history.body.data.messages[1].metadata).toEqual({ format: 'markdown' });
    expect(
      (await rest(second.url, 'cl_boss').get(`/agent/me/tasks/${task.body.data.id}`)).body.data.title,
    ).toBe('Persist me');
    const three = second.sendMessage({ employmentId: 123, content: 'three' });
    expect(three.id).toBeGreaterThan(two.id);
    await second.close();
  });

  it('refuses a data file that is not JSON or not a platform save, and leaves it alone', async () => {
    const file = join(dir, 'platform.json');
    await writeFile(file, 'garbage');
    await expect(startPlatform({ dataFile: file })).rejects.toThrow(/not valid JSON.*move it away/);
    await writeFile(file, '{"hello":"world"}');
    await expect(startPlatform({ dataFile: file })).rejects.toThrow(/not a c4c-runner platform data file/);
    expect(await readFile(file, 'utf8')).toBe('{"hello":"world"}');
  });
});
