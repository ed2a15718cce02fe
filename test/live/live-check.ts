/**
 * `npm run test:live`: read-only calls to the real platform, each answer checked two ways — the
 * runner's own schemas must read it (either id form passes them), and the public client's Go type
 * for that route (docs/protocol.md) must decode it, with every field the client shows present.
 * Every field whose type or name differs is printed. Needs `C4C_LIVE_TOKEN` (and optionally
 * `C4C_LIVE_ENDPOINT`); without a token it says so in one line and exits 0. Not part of CI.
 * The token goes only into the `X-API-Key` header; it is never printed.
 */
import process from 'node:process';
import type { z } from 'zod';
import { ApiClient } from '../../src/api/client.js';
import {
  acceptedTasksSchema,
  agentSchema,
  DEFAULT_API_ENDPOINT,
  employmentListSchema,
  historyPageSchema,
  invocationListSchema,
  paths,
  REST_BASE,
} from '../../src/protocol/rest.js';
import { goDecode } from '../platform/go-decode.js';

interface Check {
  name: string;
  path: string;
  query?: Record<string, string>;
  goType: string;
  runnerSchema?: z.ZodType;
}

const token = process.env.C4C_LIVE_TOKEN;
if (!token) {
  console.log(
    'test:live skipped: set C4C_LIVE_TOKEN (and optionally C4C_LIVE_ENDPOINT) to check the real platform',
  );
  process.exit(0);
}
const endpoint = process.env.C4C_LIVE_ENDPOINT ?? DEFAULT_API_ENDPOINT;
const api = new ApiClient({ baseUrl: endpoint, token, timeout: 20_000 });

const checks: Check[] = [
  { name: 'the agent', path: paths.me(), goType: 'AgentInfo', runnerSchema: agentSchema },
  {
    name: 'employments',
    path: paths.employments(),
    query: { role: 'all', status: 'all', page: '1', limit: '10' },
    goType: 'MyEmploymentsListResponse',
    runnerSchema: employmentListSchema,
  },
  {
    name: 'accepted tasks',
    path: paths.acceptedTasks(),
    query: { status: 'all' },
    goType: 'AcceptedTaskList',
    runnerSchema: acceptedTasksSchema,
  },
  {
    name: 'invocations',
    path: paths.invocations(),
    query: { page: '1', limit: '10' },
    goType: 'ServiceInvocationListResponse',
    runnerSchema: invocationListSchema,
  },
  { name: 'my tasks', path: paths.tasks(), query: { role: 'all', status: 'all' }, goType: 'ConsoleTaskList' },
  {
    name: 'market tasks',
    path: paths.market('tasks'),
    query: { page: '1', limit: '9' },
    goType: 'MarketTaskList',
  },
  {
    name: 'market services',
    path: paths.market('services'),
    query: { page: '1', limit: '9' },
    goType: 'MarketServiceList',
  },
  { name: 'market agents', path: paths.market('agents'), goType: 'MarketAgentList' },
];

let differences = 0;
const report = (name: string, lines: string[]) => {
  differences += lines.length;
  console.log(`${lines.length === 0 ? 'ok  ' : 'DIFF'} ${name}`);
  for (const line of lines) console.log(`     ${line}`);
};

async function run(check: Check): Promise<unknown> {
  const query = check.query ? `?${new URLSearchParams(check.query).toString()}` : '';
  let data: unknown;
  try {
    data = await api.request('GET', `${check.path}${query}`);
  } catch (error) {
    report(`${check.name} (GET ${check.path.slice(REST_BASE.length)})`, [
      `the call failed: ${(error as Error).message}`,
    ]);
    return undefined;
  }
  const lines: string[] = [];
  const { errors, missing } = goDecode(check.goType, data);
  for (const e of errors) lines.push(`${e.path}: ${e.problem} (docs/protocol.md: ${check.goType})`);
  for (const m of missing) lines.push(`${m.path}: not sent (${m.problem})`);
  if (check.runnerSchema) {
    const parsed = check.runnerSchema.safeParse(data);
    if (!parsed.success)
      for (const issue of parsed.error.issues)
        lines.push(`$.${issue.path.join('.')}: the runner cannot read it: ${issue.message}`);
  }
  report(`${check.name} (GET ${check.path.slice(REST_BASE.length)} → ${check.goType})`, lines);
  return data;
}

console.log(`test:live against ${endpoint}`);
const results = new Map<string, unknown>();
for (const check of checks) results.set(check.name, await run(check));

// One history page of the first employment, when there is one.
const first = (results.get('employments') as { employments?: { id?: unknown }[] } | undefined)
  ?.employments?.[0];
if (first && (typeof first.id === 'number' || typeof first.id === 'string')) {
  await run({
    name: 'one history page',
    path: paths.messages(first.id),
    query: { limit: '20' },
    goType: 'EmploymentMessagesResponse',
    runnerSchema: historyPageSchema,
  });
} else {
  console.log('skip one history page (no employment)');
}

console.log(differences === 0 ? 'no differences' : `${differences} difference(s) from docs/protocol.md`);
process.exitCode = differences === 0 ? 0 : 1;
