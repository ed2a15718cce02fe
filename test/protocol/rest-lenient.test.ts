/**
 * The runner is liberal in what it reads: in every response schema, a field the runner only shows or
 * passes on never fails a call because of its type (it reads as `undefined`); the fields it decides
 * by — ids, statuses, a message's content and cursor, pagination — stay checked. Each schema's list
 * of checked fields is written out here, so that a field that becomes strict (or loose) is a visible
 * change.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  acceptedTaskSchema,
  acceptedTasksSchema,
  agentSchema,
  employmentActionSchema,
  employmentListSchema,
  employmentSchema,
  historyMessageSchema,
  historyPageSchema,
  invocationListSchema,
  invocationSchema,
  invocationSubmitResultSchema,
  markReadResultSchema,
  taskSchema,
  taskSubmissionResultSchema,
} from '../../src/protocol/rest.js';

const message = {
  id: 1,
  employmentId: 2,
  senderAgentId: 3,
  receiverAgentId: 4,
  type: 'message',
  content: 'hi',
  messageId: 'msg_1',
  metadata: { a: 1 },
  readAt: null,
  createdAt: '2026-11-30T00:00:00Z',
};
const employment = {
  id: 7,
  role: 'employee',
  employerAgentId: 1,
  employerAgentName: 'E',
  employeeAgentId: 2,
  employeeAgentName: 'W',
  salary: '10',
  status: 'active',
  startTime: '2026-11-30T00:00:00Z',
  createdAt: '2026-11-30T00:00:00Z',
};
const acceptedTask = {
  id: '5',
  title: 'T',
  description: 'd',
  status: 'in_progress',
  bounty: '3',
  publisherAgentId: '1',
  publisherAgentName: 'P',
  applicationId: '9',
  startedAt: '2026-11-30T00:00:00Z',
};
const invocation = {
  id: 11,
  serviceId: 3,
  serviceTitle: 'S',
  role: 'provider',
  status: 'pending',
  input: { text: 'x' },
  output: null,
  error: null,
  price: '1',
  createdAt: '2026-11-30T00:00:00Z',
};

/** Each schema, a valid answer, and the fields that must stay checked. */
const CASES: [string, z.ZodObject, Record<string, unknown>, string[]][] = [
  [
    'agent',
    agentSchema,
    { id: 2, name: 'W', category: 'writing', status: 'online', description: 'd' },
    ['id'],
  ],
  ['employment', employmentSchema, employment, ['id', 'employerAgentId', 'employeeAgentId', 'status']],
  [
    'employment list',
    employmentListSchema,
    { employments: [employment], total: 1, page: 1, limit: 20 },
    ['employments', 'total'],
  ],
  [
    'employment action',
    employmentActionSchema,
    { id: 7, status: 'active', startTime: 'x', message: 'm' },
    [],
  ],
  [
    'history message',
    historyMessageSchema,
    message,
    ['id', 'employmentId', 'senderAgentId', 'receiverAgentId', 'content', 'messageId', 'readAt', 'createdAt'],
  ],
  [
    'history page',
    historyPageSchema,
    { messages: [message], hasMore: false, nextCursor: null },
    ['messages', 'hasMore', 'nextCursor'],
  ],
  ['mark read', markReadResultSchema, { unreadCount: 0 }, []],
  ['accepted task', acceptedTaskSchema, acceptedTask, ['id', 'status', 'applicationId']],
  ['accepted tasks', acceptedTasksSchema, { tasks: [acceptedTask], total: 1 }, ['tasks', 'total']],
  [
    'task submission',
    taskSubmissionResultSchema,
    { submissionId: 1, taskId: 5, status: 'pending_review', submittedAt: 'x' },
    [],
  ],
  ['invocation', invocationSchema, invocation, ['id', 'status']],
  [
    'invocation list',
    invocationListSchema,
    { invocations: [invocation], total: 1, page: 1, limit: 20 },
    ['invocations', 'total'],
  ],
  [
    'invocation submit',
    invocationSubmitResultSchema,
    { invocationId: 11, status: 'completed', completedAt: 'x' },
    [],
  ],
  [
    'task',
    taskSchema,
    {
      id: 5,
      title: 'T',
      description: 'd',
      category: 'writing',
      status: 'open',
      bounty: 3,
      deadline: null,
      publisherAgentId: 1,
      workerAgentId: null,
      createdAt: 'x',
      updatedAt: 'x',
    },
    ['id', 'status'],
  ],
];

/** A value no declared field accepts: not a string, number, boolean, record or null (nor a list of entries). */
const WRONG = [{ surprise: true }];

describe.each(CASES)('the %s schema', (_name, schema, valid, checked) => {
  it('reads a valid answer, and passes on fields it does not declare', () => {
    const parsed = schema.safeParse({ ...valid, extraField: [1, 'two'] });
    expect(parsed.success).toBe(true);
    expect((parsed.data as Record<string, unknown>).extraField).toEqual([1, 'two']);
  });

  it('reads a wrong-typed field it only shows as absent, and refuses one it decides by', () => {
    const strict: string[] = [];
    for (const key of Object.keys(schema.shape)) {
      const parsed = schema.safeParse({ ...valid, [key]: WRONG });
      if (parsed.success) expect((parsed.data as Record<string, unknown>)[key], key).toBeUndefined();
      else strict.push(key);
    }
    expect(strict.sort()).toEqual([...checked].sort());
  });

  it('a missing field it only shows is no error either', () => {
    const shown = Object.keys(schema.shape).filter((key) => !checked.includes(key));
    const bare = Object.fromEntries(Object.entries(valid).filter(([key]) => !shown.includes(key)));
    expect(schema.safeParse(bare).success).toBe(true);
  });
});
