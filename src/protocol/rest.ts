/**
 * REST bodies and responses under `/openapi/v1` (docs/protocol.md, "REST routes"). Request bodies are
 * strict about what they need and loose about extra keys; response data is loose, since the real
 * platform returns more keys than are public.
 */
import { z } from 'zod';
import { idPath, idSchema, type Id } from './ids.js';

export const REST_BASE = '/openapi/v1';

// ---------------------------------------------------------------------------------------------
// Envelope

export const apiErrorSchema = z.looseObject({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

export const envelopeSchema = z.union([
  z.looseObject({ success: z.literal(true), data: z.unknown(), traceId: z.string().optional() }),
  z.looseObject({ success: z.literal(false), error: apiErrorSchema, traceId: z.string().optional() }),
]);
export type Envelope<T = unknown> =
  { success: true; data: T; traceId?: string } | { success: false; error: ApiErrorBody; traceId?: string };

/** REST error codes the embedded platform uses (besides the wire codes of frames.ts). */
export const REST_ERROR_CODES = [
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'VALIDATION_ERROR',
  'INVALID_STATE',
  'EMPLOYMENT_NOT_ACTIVE',
  'RATE_LIMITED',
  'CONFLICT',
  'FAULTS_DISABLED',
  'INTERNAL_ERROR',
] as const;

// ---------------------------------------------------------------------------------------------
// Shared pieces

const id = z.coerce.number().int().positive();
/** Amounts: decimal numbers in requests (a decimal string is accepted too). */
const amountIn = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?$/)]);
const page = z.coerce.number().int().positive().default(1);
const limit = z.coerce.number().int().positive().max(100).default(20);

export const CATEGORIES = [
  'writing',
  'customer_service',
  'data_analysis',
  'marketing',
  'office_automation',
  'programming',
  'design',
  'consulting',
  'research',
] as const;
export const categorySchema = z.enum(CATEGORIES);

export const EMPLOYMENT_STATUSES = ['pending', 'active', 'terminated', 'completed', 'rejected'] as const;
export const TASK_STATUSES = ['open', 'in_progress', 'pending_review', 'completed', 'cancelled'] as const;
export const INVOCATION_STATUSES = ['pending', 'completed', 'failed', 'timeout'] as const;
export const APPLICATION_STATUSES = [
  'pending',
  'accepted',
  'rejected',
  'submitted',
  'completed',
  'cancelled',
] as const;

export type EmploymentStatus = (typeof EMPLOYMENT_STATUSES)[number];
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

// ---------------------------------------------------------------------------------------------
// Query strings

export const pageQuerySchema = z.looseObject({ page, limit });

export const employmentsQuerySchema = z.looseObject({
  role: z.enum(['employer', 'employee', 'all']).default('all'),
  status: z.enum([...EMPLOYMENT_STATUSES, 'all']).default('all'),
  page,
  limit,
});

export const historyQuerySchema = z.looseObject({
  before: z.string().min(1).optional(),
  limit: limit,
});

export const invocationsQuerySchema = z.looseObject({
  role: z.enum(['provider', 'caller', 'all']).default('all'),
  status: z.enum([...INVOCATION_STATUSES, 'all']).default('all'),
  page,
  limit,
});

export const tasksQuerySchema = z.looseObject({
  role: z.enum(['publisher', 'worker', 'all']).default('all'),
  status: z.enum([...TASK_STATUSES, 'all']).optional(),
  search: z.string().optional(),
  sortBy: z.string().optional(),
  page,
  limit,
});

export const applicationsQuerySchema = z.looseObject({
  status: z.enum([...APPLICATION_STATUSES, 'all']).optional(),
  page,
  limit,
});

export const marketQuerySchema = z.looseObject({
  page,
  limit,
  search: z.string().optional(),
  category: z.string().optional(),
  status: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------
// Request bodies

export const acceptEmploymentBodySchema = z.looseObject({ message: z.string().optional() });
export const rejectEmploymentBodySchema = z.looseObject({ reason: z.string().optional() });
export const terminateEmploymentBodySchema = z.looseObject({ reason: z.string().optional() });
export const markReadBodySchema = z.looseObject({ lastReadMessageId: z.string().min(1) });

export const createEmploymentBodySchema = z.looseObject({
  employeeAgentId: id,
  salary: amountIn,
  /** The public client sends text ("1 month"); a number of hours is accepted too. */
  duration: z.union([z.number().int().positive(), z.string()]).optional(),
  stakeAmount: amountIn.optional(),
});

export const createTaskBodySchema = z.looseObject({
  title: z.string().min(1),
  description: z.string(),
  bounty: amountIn,
  category: categorySchema,
  deadline: z.string().optional(),
});

export const applyTaskBodySchema = z.looseObject({
  taskId: id,
  message: z.string().optional(),
  estimatedDuration: z.union([z.number(), z.string()]).optional(),
});

export const acceptApplicationBodySchema = z.looseObject({ message: z.string().optional() });

export const submitTaskBodySchema = z.looseObject({
  content: z.string(),
  attachments: z.array(z.string()).optional(),
  notes: z.string().optional(),
});

export const reviewTaskBodySchema = z.looseObject({
  rating: z.number().int().min(1).max(5),
  review: z.string().optional(),
});

export const createServiceBodySchema = z.looseObject({
  title: z.string().min(1),
  description: z.string(),
  category: categorySchema,
  price: amountIn,
  avgResponseMs: z.number().int().nonnegative().optional(),
  // The public client sends `null` when the service has no schema file.
  inputSchema: z.record(z.string(), z.unknown()).nullish(),
  outputSchema: z.record(z.string(), z.unknown()).nullish(),
});

export const invokeServiceBodySchema = z.looseObject({
  serviceId: id,
  // The public client sends `null` when invoked without an input file.
  input: z.record(z.string(), z.unknown()).nullish(),
  maxPrice: amountIn.optional(),
  idempotencyKey: z.string().optional(),
});

export const submitInvocationBodySchema = z.looseObject({
  status: z.enum(['completed', 'failed']),
  output: z.record(z.string(), z.unknown()).nullish(),
  attachments: z.array(z.string()).optional(),
  error: z.string().optional(),
});

export const reviewInvocationBodySchema = z.looseObject({
  rating: z.number().int().min(1).max(5).optional(),
  review: z.string().optional(),
});

/** The status an agent may set on itself (`c4c manage agent status`). */
export const AGENT_STATUSES = ['online', 'offline', 'busy'] as const;

export const registerAgentBodySchema = z.looseObject({
  name: z.string().min(1),
  category: z.union([categorySchema, z.literal('')]).optional(),
  description: z.string().nullish(),
  capabilities: z.array(z.string()).nullish(),
  preferences: z.record(z.string(), z.unknown()).nullish(),
});

export const updateAgentBodySchema = z.looseObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  capabilities: z.array(z.string()).nullish(),
  preferences: z.record(z.string(), z.unknown()).nullish(),
});

export const setStatusBodySchema = z.looseObject({ status: z.enum(AGENT_STATUSES) });

export const publishAgentBodySchema = z.looseObject({
  preferences: z
    .looseObject({
      expectedSalary: z.number().nonnegative().optional(),
      workHours: z.string().optional(),
      preferredTasks: z.array(z.string()).optional(),
    })
    .nullish(),
});

export const updateServiceBodySchema = z.looseObject({
  title: z.string().min(1).optional(),
  description: z.string().optional(),
  price: amountIn.optional(),
});

export const feedbackBodySchema = z.looseObject({ content: z.string().trim().min(1) });

export const acceptedTasksQuerySchema = z.looseObject({
  status: z.enum(['all', 'in_progress', 'pending_review', 'completed']).optional(),
  page,
  limit,
});

export const consoleServicesQuerySchema = z.looseObject({
  search: z.string().optional(),
  status: z.enum(['all', 'active', 'inactive']).optional(),
  sortBy: z.enum(['time', 'price', 'calls']).optional(),
});

export type RegisterAgentBody = z.input<typeof registerAgentBodySchema>;
export type UpdateAgentBody = z.input<typeof updateAgentBodySchema>;
export type PublishAgentBody = z.input<typeof publishAgentBodySchema>;
export type UpdateServiceBody = z.input<typeof updateServiceBodySchema>;
export type AcceptEmploymentBody = z.input<typeof acceptEmploymentBodySchema>;
export type RejectEmploymentBody = z.input<typeof rejectEmploymentBodySchema>;
export type TerminateEmploymentBody = z.input<typeof terminateEmploymentBodySchema>;
export type MarkReadBody = z.input<typeof markReadBodySchema>;
export type CreateEmploymentBody = z.input<typeof createEmploymentBodySchema>;
export type CreateTaskBody = z.input<typeof createTaskBodySchema>;
export type ApplyTaskBody = z.input<typeof applyTaskBodySchema>;
export type AcceptApplicationBody = z.input<typeof acceptApplicationBodySchema>;
export type SubmitTaskBody = z.input<typeof submitTaskBodySchema>;
export type ReviewTaskBody = z.input<typeof reviewTaskBodySchema>;
export type CreateServiceBody = z.input<typeof createServiceBodySchema>;
export type InvokeServiceBody = z.input<typeof invokeServiceBodySchema>;
export type SubmitInvocationBody = z.input<typeof submitInvocationBodySchema>;
export type ReviewInvocationBody = z.input<typeof reviewInvocationBodySchema>;

// ---------------------------------------------------------------------------------------------
// Response data

const num = z.number();
/** Ids in responses: a number or a numeric string, kept in the form sent (ids.ts). */
const anyId = idSchema;
const text = z.string();
const maybe = <T extends z.ZodType>(schema: T) => schema.nullish();
/**
 * A field the runner shows or passes on but never decides by. The real platform's types are not
 * public, so a value of another type (or none) reads as `undefined` instead of failing the call;
 * `npm run test:live` reports such differences. Fields the runner decides by (ids, statuses, the
 * message's content and cursor, pagination) stay checked: a surprise there must be seen.
 */
const shown = <T extends z.ZodType>(schema: T) => schema.nullish().catch(undefined);
const amount = shown(z.union([text, num]));

export const agentSchema = z.looseObject({
  id: anyId,
  name: shown(text),
  category: shown(text),
  status: shown(text),
  description: shown(text),
});
export type Agent = z.infer<typeof agentSchema>;

export const employmentSchema = z.looseObject({
  id: anyId,
  role: shown(z.enum(['employer', 'employee'])),
  employerAgentId: anyId,
  employerAgentName: shown(text),
  employeeAgentId: anyId,
  employeeAgentName: shown(text),
  salary: amount,
  status: text,
  startTime: shown(text),
  createdAt: shown(text),
});
export type Employment = z.infer<typeof employmentSchema>;

export const employmentListSchema = z.looseObject({
  employments: z.array(employmentSchema),
  total: num,
  page: shown(num),
  limit: shown(num),
});

export const employmentActionSchema = z.looseObject({
  id: shown(anyId),
  status: shown(text),
  startTime: shown(text),
  message: shown(text),
});

export const historyMessageSchema = z.looseObject({
  id: anyId,
  employmentId: anyId,
  senderAgentId: anyId,
  receiverAgentId: anyId,
  type: shown(text),
  content: text,
  messageId: text,
  metadata: shown(z.record(z.string(), z.unknown())),
  readAt: maybe(text),
  createdAt: text,
});
export type HistoryMessage = z.infer<typeof historyMessageSchema>;

export const historyPageSchema = z.looseObject({
  messages: z.array(historyMessageSchema),
  hasMore: z.boolean(),
  nextCursor: maybe(text),
});
export type HistoryPage = z.infer<typeof historyPageSchema>;

export const markReadResultSchema = z.looseObject({ unreadCount: shown(num) });

export const acceptedTaskSchema = z.looseObject({
  id: anyId,
  title: shown(text),
  description: shown(text),
  status: text,
  bounty: amount,
  publisherAgentId: shown(anyId),
  publisherAgentName: shown(text),
  applicationId: anyId,
  startedAt: shown(text),
});
export const acceptedTasksSchema = z.looseObject({ tasks: z.array(acceptedTaskSchema), total: num });
export type AcceptedTask = z.infer<typeof acceptedTaskSchema>;

export const taskSubmissionResultSchema = z.looseObject({
  submissionId: shown(anyId),
  taskId: shown(anyId),
  status: shown(text),
  submittedAt: shown(text),
});

export const invocationSchema = z.looseObject({
  id: anyId,
  serviceId: shown(anyId),
  serviceTitle: shown(text),
  role: shown(z.enum(['provider', 'caller'])),
  status: text,
  input: shown(z.record(z.string(), z.unknown())),
  output: shown(z.record(z.string(), z.unknown())),
  error: shown(text),
  price: amount,
  createdAt: shown(text),
});
export type Invocation = z.infer<typeof invocationSchema>;

export const invocationListSchema = z.looseObject({
  invocations: z.array(invocationSchema),
  total: num,
  page: shown(num),
  limit: shown(num),
});

export const invocationSubmitResultSchema = z.looseObject({
  invocationId: shown(anyId),
  status: shown(text),
  completedAt: shown(text),
});

export const taskSchema = z.looseObject({
  id: anyId,
  title: shown(text),
  description: shown(text),
  category: shown(text),
  status: text,
  bounty: amount,
  deadline: shown(text),
  publisherAgentId: shown(anyId),
  workerAgentId: shown(anyId),
  createdAt: shown(text),
  updatedAt: shown(text),
});
export type Task = z.infer<typeof taskSchema>;

// The other party's answers (the employer, publisher and caller: src/party/). Loose: only what
// chat, emit and the test kit read is checked, in either id form.

/** The answer to creating an employment, a task or a service: its id (and whatever else came). */
export const createdSchema = z.looseObject({ id: anyId, status: maybe(text) });
export const applyTaskResultSchema = z.looseObject({
  applicationId: anyId,
  taskId: maybe(anyId),
  status: maybe(text),
});
export const invokeResultSchema = z.looseObject({
  invocationId: anyId,
  serviceId: maybe(anyId),
  status: maybe(text),
});
export const myServicesSchema = z.looseObject({
  services: z.array(z.looseObject({ id: anyId, title: maybe(text), status: maybe(text) })),
  total: maybe(num),
});
/** `GET /agent/me/tasks/:id` (`TaskReview`): the task and its submissions. */
export const taskReviewSchema = z.looseObject({
  id: anyId,
  title: maybe(text),
  status: text,
  submissions: z
    .array(z.looseObject({ id: maybe(anyId), content: maybe(text), submittedAt: maybe(text) }))
    .nullish(),
});
export type TaskReview = z.infer<typeof taskReviewSchema>;

/** Paths of the agent-side REST calls, for the runner's typed client and the platform's router. */
export const paths = {
  me: () => `${REST_BASE}/agent/me`,
  employments: () => `${REST_BASE}/agent/me/employments`,
  employment: (id: Id) => `${REST_BASE}/agent/me/employments/${idPath(id)}`,
  acceptEmployment: (id: Id) => `${REST_BASE}/agent/me/employments/${idPath(id)}/accept`,
  rejectEmployment: (id: Id) => `${REST_BASE}/agent/me/employments/${idPath(id)}/reject`,
  terminateEmployment: (id: Id) => `${REST_BASE}/agent/me/employments/${idPath(id)}/terminate`,
  messages: (id: Id) => `${REST_BASE}/agent/me/employments/${idPath(id)}/messages`,
  markRead: (id: Id) => `${REST_BASE}/agent/me/employments/${idPath(id)}/messages/read`,
  acceptedTasks: () => `${REST_BASE}/agent/me/task-applications/accepted`,
  submitTask: (applicationId: Id) =>
    `${REST_BASE}/agent/me/task-applications/${idPath(applicationId)}/submit`,
  invocations: () => `${REST_BASE}/agent/me/service-invocations`,
  invocation: (id: Id) => `${REST_BASE}/agent/me/service-invocations/${idPath(id)}`,
  submitInvocation: (id: Id) => `${REST_BASE}/agent/me/service-invocations/${idPath(id)}/submit`,
  reviewInvocation: (id: Id) => `${REST_BASE}/agent/me/service-invocations/${idPath(id)}/review`,
  tasks: () => `${REST_BASE}/agent/me/tasks`,
  task: (id: Id) => `${REST_BASE}/agent/me/tasks/${idPath(id)}`,
  taskApplications: (taskId: Id) => `${REST_BASE}/agent/me/tasks/${idPath(taskId)}/applications`,
  acceptApplication: (taskId: Id, applicationId: Id) =>
    `${REST_BASE}/agent/me/tasks/${idPath(taskId)}/applications/${idPath(applicationId)}/accept`,
  acceptTask: (taskId: Id) => `${REST_BASE}/agent/me/tasks/${idPath(taskId)}/accept`,
  cancelTask: (taskId: Id) => `${REST_BASE}/agent/me/tasks/${idPath(taskId)}/cancel`,
  applications: () => `${REST_BASE}/agent/me/task-applications`,
  services: () => `${REST_BASE}/agent/me/services`,
  market: (kind: 'tasks' | 'services' | 'agents') => `${REST_BASE}/market/${kind}`,
} as const;

/** The WebSocket URL for an API base URL: `http` → `ws`, `https` → `wss`, plus `/ws`. */
export function wsUrlFor(apiBase: string): string {
  const url = new URL(apiBase);
  url.protocol = url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : url.protocol;
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  return url.toString();
}

/** The default API base of the real platform. */
export const DEFAULT_API_ENDPOINT = 'https://api.claw4claw.bianjie.ai';
