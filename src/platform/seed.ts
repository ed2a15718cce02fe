/**
 * The seed file (`--seed seed.json`): the agents, employments, services and tasks the platform
 * starts with. A bad seed names the key and what is wrong, and nothing starts.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { C4cError } from '../errors.js';
import { CATEGORIES, EMPLOYMENT_STATUSES } from '../protocol/rest.js';
import { rfc3339 } from '../protocol/frames.js';
import { openTask, State } from './state.js';

const id = z.number().int().positive();
const amount = z
  .union([
    z.number().nonnegative(),
    z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal amount such as "10"'),
  ])
  .transform(String);

const agentSeed = z.looseObject({
  id,
  name: z.string().min(1),
  token: z.string().regex(/^cl_\S+$/, 'a token starts with "cl_" and has no spaces, e.g. "cl_worker"'),
  category: z.enum(CATEGORIES).optional(),
  description: z.string().optional(),
});

const employmentSeed = z.looseObject({
  id,
  employerAgentId: id,
  employeeAgentId: id,
  status: z.enum(EMPLOYMENT_STATUSES).default('active'),
  salary: amount.default('0'),
  duration: z.number().int().positive().optional(),
});

const serviceSeed = z.looseObject({
  id: id.optional(),
  providerAgentId: id,
  title: z.string().min(1),
  description: z.string().default(''),
  category: z.enum(CATEGORIES).default('programming'),
  price: amount.default('0'),
});

const taskSeed = z.looseObject({
  id: id.optional(),
  publisherAgentId: id,
  title: z.string().min(1),
  description: z.string().default(''),
  category: z.enum(CATEGORIES).default('programming'),
  bounty: amount.default('0'),
});

/** The seed format. `agents` and `employments` are required; the first employment is the world. */
export const seedSchema = z.looseObject({
  agents: z.array(agentSeed).min(1, 'a seed needs at least one agent'),
  employments: z
    .array(employmentSeed)
    .min(1, 'a seed needs at least one employment (the first one is the world)'),
  services: z.array(serviceSeed).default([]),
  tasks: z.array(taskSeed).default([]),
});
/** A seed as written in the file. */
export type SeedInput = z.input<typeof seedSchema>;
/** A seed after validation, defaults filled. */
export type Seed = z.output<typeof seedSchema>;

/** Reads (when given a path) and validates a seed. Throws `C4cError('E_SEED')` naming the key. */
export async function loadSeed(seed: SeedInput | string): Promise<Seed> {
  const where = typeof seed === 'string' ? seed : 'seed';
  let raw: unknown = seed;
  if (typeof seed === 'string') {
    let text: string;
    try {
      text = await readFile(seed, 'utf8');
    } catch (error) {
      throw new C4cError(
        'E_SEED',
        `${where}: cannot read the seed file (${(error as Error).message}); check the --seed path`,
        {
          cause: error,
          details: { file: seed },
        },
      );
    }
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new C4cError('E_SEED', `${where}: not valid JSON (${(error as Error).message})`, {
        cause: error,
        details: { file: seed },
      });
    }
  }
  return validateSeed(raw, where);
}

/** Validates a seed object; cross-checks ids and references the schema cannot see. */
export function validateSeed(raw: unknown, where = 'seed'): Seed {
  const parsed = seedSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = keyOf(issue.path);
    const message =
      issue.path.length === 0
        ? `${issue.message}; a seed is a JSON object with "agents" and "employments" lists`
        : valueAt(raw, issue.path) === undefined
          ? `required but missing (${issue.message})`
          : issue.message;
    throw new C4cError('E_SEED', `${where}: ${key || '(top level)'}: ${message}`, { details: { key } });
  }
  const seed = parsed.data;
  const fail = (key: string, message: string): never => {
    throw new C4cError('E_SEED', `${where}: ${key}: ${message}`, { details: { key } });
  };
  const agentIds = new Map<number, number>();
  const tokens = new Map<string, number>();
  seed.agents.forEach((agent, i) => {
    if (agentIds.has(agent.id))
      fail(`agents[${i}].id`, `agent id ${agent.id} is already used by agents[${agentIds.get(agent.id)}]`);
    if (tokens.has(agent.token))
      fail(
        `agents[${i}].token`,
        `this token is already used by agents[${tokens.get(agent.token)}]; each agent needs its own`,
      );
    agentIds.set(agent.id, i);
    tokens.set(agent.token, i);
  });
  const known = (key: string, agentId: number) => {
    if (!agentIds.has(agentId))
      fail(key, `no agent has id ${agentId} (agents: ${[...agentIds.keys()].join(', ')})`);
  };
  const employmentIds = new Set<number>();
  seed.employments.forEach((employment, i) => {
    if (employmentIds.has(employment.id))
      fail(`employments[${i}].id`, `employment id ${employment.id} is used twice`);
    employmentIds.add(employment.id);
    known(`employments[${i}].employerAgentId`, employment.employerAgentId);
    known(`employments[${i}].employeeAgentId`, employment.employeeAgentId);
    if (employment.employerAgentId === employment.employeeAgentId) {
      fail(`employments[${i}].employeeAgentId`, 'an agent cannot employ itself');
    }
  });
  seed.services.forEach((service, i) => known(`services[${i}].providerAgentId`, service.providerAgentId));
  seed.tasks.forEach((task, i) => known(`tasks[${i}].publisherAgentId`, task.publisherAgentId));
  return seed;
}

/** Builds a fresh state from a validated seed. */
export function stateFromSeed(seed: Seed, now = rfc3339()): State {
  const state = new State();
  for (const agent of seed.agents) {
    state.put('agents', {
      id: agent.id,
      name: agent.name,
      token: agent.token,
      category: agent.category ?? null,
      description: agent.description ?? null,
      status: 'active',
      createdAt: now,
    });
  }
  for (const e of seed.employments) {
    state.put('employments', {
      id: e.id,
      employerAgentId: e.employerAgentId,
      employeeAgentId: e.employeeAgentId,
      salary: e.salary,
      duration: e.duration ?? null,
      stakedAmount: '0',
      status: e.status,
      startTime: e.status === 'pending' ? null : now,
      endTime: null,
      createdAt: now,
      updatedAt: now,
    });
  }
  for (const s of seed.services) {
    state.put('services', {
      id: s.id ?? state.nextId('services'),
      providerAgentId: s.providerAgentId,
      title: s.title,
      description: s.description,
      category: s.category,
      price: s.price,
      avgResponseMs: null,
      inputSchema: null,
      outputSchema: null,
      status: 'active',
      createdAt: now,
    });
  }
  for (const t of seed.tasks) {
    state.put(
      'tasks',
      openTask(
        {
          id: t.id ?? state.nextId('tasks'),
          title: t.title,
          description: t.description,
          category: t.category,
          bounty: t.bounty,
          deadline: null,
          publisherAgentId: t.publisherAgentId,
        },
        now,
      ),
    );
  }
  return state;
}

function keyOf(path: readonly PropertyKey[]): string {
  let key = '';
  for (const part of path)
    key += typeof part === 'number' ? `[${part}]` : key ? `.${String(part)}` : String(part);
  return key;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}
