/**
 * How records look in REST responses: one view per type the public client decodes on that route
 * (docs/protocol.md names the type of every route). The client declares some ids as JSON numbers
 * and others as strings, sometimes for one entity on two routes; each view sends the form its
 * route's type wants (`str(id)` where the client has a Go `string`). Tokens never leave through here.
 */
import type {
  AgentRecord,
  ApplicationRecord,
  EmploymentRecord,
  InvocationRecord,
  MessageRecord,
  ServiceRecord,
  State,
  SubmissionRecord,
  TaskRecord,
} from './state.js';

/** An id where the client's Go type is `string`. */
const str = (id: number): string => String(id);

const nameOf = (state: State, id: number | null): string =>
  id === null ? '' : (state.agents.get(id)?.name ?? `agent ${id}`);

const sum = (values: string[]): string => String(values.reduce((total, value) => total + Number(value), 0));

/** Employment stakes: frozen while the employment may still run, settled once it has ended. */
export function stakeStatus(status: EmploymentRecord['status']): 'frozen' | 'settled' {
  return status === 'pending' || status === 'active' ? 'frozen' : 'settled';
}

/** Agent status as the client knows it: what the agent set, else online while it has a socket. */
export function agentStatus(agent: AgentRecord, connected: boolean): string {
  if (agent.status === 'online' || agent.status === 'offline' || agent.status === 'busy') return agent.status;
  return connected ? 'online' : 'offline';
}

/** The agent's figures, computed from its records. */
function agentFigures(state: State, agent: AgentRecord) {
  const staked = [
    ...[...state.employments.values()]
      .filter((e) => e.employerAgentId === agent.id && stakeStatus(e.status) === 'frozen')
      .map((e) => e.stakedAmount),
    ...[...state.tasks.values()]
      .filter((t) => t.publisherAgentId === agent.id && (t.status === 'open' || t.status === 'in_progress'))
      .map((t) => t.stakedAmount),
  ];
  const completedTasks = [...state.tasks.values()].filter(
    (t) => t.workerAgentId === agent.id && t.status === 'completed',
  );
  const earned = [
    ...completedTasks.map((t) => t.bounty),
    ...[...state.invocations.values()]
      .filter((i) => i.providerAgentId === agent.id && i.status === 'completed')
      .map((i) => i.price),
  ];
  const ratings = [
    ...completedTasks.flatMap((t) => (t.rating === null ? [] : [t.rating])),
    ...[...state.invocations.values()].flatMap((i) =>
      i.providerAgentId === agent.id && i.rating !== null ? [i.rating] : [],
    ),
  ];
  const rating = ratings.length === 0 ? 0 : ratings.reduce((a, b) => a + b, 0) / ratings.length;
  return { staked: sum(staked), earned: sum(earned), rating, completedTasks: completedTasks.length };
}

/** `AgentInfo` (`GET /agent/me`, `POST /agent/register`). */
export function agentView(state: State, agent: AgentRecord, connected: boolean) {
  const figures = agentFigures(state, agent);
  return {
    id: agent.id,
    name: agent.name,
    category: agent.category ?? '',
    status: agentStatus(agent, connected),
    description: agent.description ?? '',
    capabilities: agent.capabilities ?? [],
    preferences: agent.preferences ?? {},
    staked: figures.staked,
    earned: figures.earned,
    rating: figures.rating,
    completedTasks: figures.completedTasks,
    createdAt: agent.createdAt,
    lastActiveAt: agent.lastActiveAt ?? agent.createdAt,
    marketVisibility: agent.marketVisibility ?? 'private',
    ...(agent.marketPublishedAt ? { marketPublishedAt: agent.marketPublishedAt } : {}),
  };
}

/** `MarketAgent` (`GET /market/agents[/:id]`): capabilities are an object here, a list in `AgentInfo`. */
export function marketAgentView(state: State, agent: AgentRecord, connected: boolean) {
  const figures = agentFigures(state, agent);
  const preferences = agent.preferences ?? {};
  const salary = preferences.expectedSalary;
  return {
    id: agent.id,
    name: agent.name,
    category: agent.category ?? '',
    price: typeof salary === 'number' || typeof salary === 'string' ? String(salary) : '0',
    rating: figures.rating,
    status: agentStatus(agent, connected),
    did: `did:c4c:local:${agent.id}`,
    description: agent.description ?? '',
    staked: figures.staked,
    capabilities: { skills: agent.capabilities ?? [], languages: [], certifications: [] },
    performance: {
      tasksCompleted: figures.completedTasks,
      successRate: '100%',
      avgResponseTime: '0s',
      history: [],
    },
  };
}

/** Shared by `EmploymentListItem` and `EmploymentDetail`. */
export function employmentView(state: State, e: EmploymentRecord, viewerId?: number) {
  const end = e.endTime ? Date.parse(e.endTime) : Date.now();
  return {
    id: e.id,
    role: viewerId === e.employerAgentId ? 'employer' : viewerId === e.employeeAgentId ? 'employee' : '',
    employerAgentId: e.employerAgentId,
    employerAgentName: nameOf(state, e.employerAgentId),
    employeeAgentId: e.employeeAgentId,
    employeeAgentName: nameOf(state, e.employeeAgentId),
    salary: e.salary,
    stakedAmount: e.stakedAmount,
    stakeStatus: stakeStatus(e.status),
    status: e.status,
    // The client declares a duration as text ("1 month"); older saves hold a number.
    ...(e.duration !== null ? { duration: String(e.duration) } : {}),
    totalDuration: e.startTime ? Math.max(0, Math.round((end - Date.parse(e.startTime)) / 1000)) : 0,
    ...(e.startTime ? { startTime: e.startTime } : {}),
    ...(e.endTime ? { endTime: e.endTime } : {}),
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

/** `EmploymentMessage` (history). */
export function messageView(m: MessageRecord) {
  return {
    id: m.id,
    employmentId: m.employmentId,
    senderAgentId: m.senderAgentId,
    receiverAgentId: m.receiverAgentId,
    // Saves from before the contract hold the format here ("text"); the client wants a frame type.
    type: 'message',
    content: m.content,
    messageId: m.messageId,
    metadata: m.metadata,
    readAt: m.readAt,
    createdAt: m.createdAt,
  };
}

/** `ConsoleTask` (`GET /agent/me/tasks`, the `task list` command): ids as strings. */
export function consoleTaskView(state: State, t: TaskRecord, viewerId: number) {
  const publisher = t.publisherAgentId === viewerId;
  const other = publisher ? t.workerAgentId : t.publisherAgentId;
  return {
    id: str(t.id),
    title: t.title,
    description: t.description,
    status: t.status,
    role: publisher ? 'publisher' : 'worker',
    bounty: t.bounty,
    stakedAmount: t.stakedAmount,
    stakeStatus: t.status === 'open' || t.status === 'in_progress' ? 'frozen' : 'settled',
    ...(other !== null ? { associatedAgentId: str(other), associatedAgentName: nameOf(state, other) } : {}),
    createdAt: t.createdAt,
    ...(t.deadline ? { deadline: t.deadline } : {}),
  };
}

/** `TaskSubmission`, inside the task review. */
function submissionView(s: SubmissionRecord, t: TaskRecord) {
  const reviewed = t.status === 'completed' && t.completedAt !== null;
  return {
    id: s.id,
    submitterId: s.agentId,
    content: s.content,
    attachments: s.attachments,
    notes: s.notes ?? '',
    status: reviewed ? 'accepted' : 'pending',
    submittedAt: s.submittedAt,
    ...(reviewed ? { reviewedAt: t.completedAt, reviewerId: t.publisherAgentId } : {}),
    ...(reviewed && t.review ? { reviewNotes: t.review } : {}),
  };
}

/** `TaskReview` ⊇ `TaskDetail` (`GET /agent/me/tasks/:id`, the `task review` command): ids as numbers. */
export function taskDetailView(state: State, t: TaskRecord) {
  return {
    id: t.id,
    title: t.title,
    description: t.description,
    category: t.category,
    status: t.status,
    bounty: t.bounty,
    ...(t.deadline ? { deadline: t.deadline } : {}),
    publisherAgentId: t.publisherAgentId,
    publisherAgentName: nameOf(state, t.publisherAgentId),
    ...(t.workerAgentId !== null
      ? { workerAgentId: t.workerAgentId, workerAgentName: nameOf(state, t.workerAgentId) }
      : {}),
    stakedAmount: t.stakedAmount,
    submissions: [...state.submissions.values()]
      .filter((s) => s.taskId === t.id)
      .map((s) => submissionView(s, t)),
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    ...(t.startedAt ? { startedAt: t.startedAt } : {}),
    ...(t.completedAt ? { completedAt: t.completedAt } : {}),
  };
}

/** `MarketTask` (`GET /market/tasks[/:id]`). */
export function marketTaskView(state: State, t: TaskRecord) {
  return {
    id: t.id,
    title: t.title,
    description: t.description,
    bounty: t.bounty,
    bountyValue: t.bounty,
    status: t.status,
    postedBy: nameOf(state, t.publisherAgentId),
    postedById: t.publisherAgentId,
    category: t.category,
    ...(t.deadline ? { deadline: t.deadline } : {}),
    createdAt: t.createdAt,
  };
}

/** `TaskApplication` (`GET /agent/me/tasks/:id/applications`): ids as strings. */
export function taskApplicationView(state: State, a: ApplicationRecord) {
  const agent = state.agents.get(a.agentId);
  return {
    id: str(a.id),
    taskId: str(a.taskId),
    agentId: str(a.agentId),
    agentName: nameOf(state, a.agentId),
    agentRating: agent ? agentFigures(state, agent).rating : 0,
    message: a.message ?? '',
    ...(a.estimatedDuration !== null ? { estimatedCompletionTime: String(a.estimatedDuration) } : {}),
    status: a.status,
    createdAt: a.createdAt,
  };
}

/** `MyTaskApplication` (`GET /agent/me/task-applications`): ids as strings. */
export function myApplicationView(state: State, a: ApplicationRecord) {
  const task = state.tasks.get(a.taskId);
  return {
    id: str(a.id),
    taskId: str(a.taskId),
    taskTitle: task?.title ?? '',
    taskBounty: task?.bounty ?? '0',
    taskStatus: task?.status ?? '',
    status: a.status,
    message: a.message ?? '',
    ...(a.estimatedDuration !== null ? { estimatedDuration: String(a.estimatedDuration) } : {}),
    createdAt: a.createdAt,
  };
}

/** `AcceptedTask` (`GET /agent/me/task-applications/accepted`): ids as strings. */
export function acceptedTaskView(state: State, a: ApplicationRecord, t: TaskRecord) {
  return {
    id: str(t.id),
    title: t.title,
    description: t.description,
    status: t.status,
    bounty: t.bounty,
    ...(t.deadline ? { deadline: t.deadline } : {}),
    publisherAgentId: str(t.publisherAgentId),
    publisherAgentName: nameOf(state, t.publisherAgentId),
    applicationId: str(a.id),
    startedAt: t.startedAt ?? a.updatedAt,
  };
}

/** A service's figures, computed from its invocations. */
function serviceFigures(state: State, s: ServiceRecord) {
  const calls = [...state.invocations.values()].filter((i) => i.serviceId === s.id);
  const completed = calls.filter((i) => i.status === 'completed');
  const failed = calls.filter((i) => i.status === 'failed' || i.status === 'timeout');
  const rated = calls.flatMap((i) => (i.rating === null ? [] : [i.rating]));
  return {
    calls,
    completed: completed.length,
    earnings: sum(completed.map((i) => i.price)),
    errorRate: calls.length === 0 ? '0%' : `${Math.round((failed.length / calls.length) * 100)}%`,
    rating: rated.length === 0 ? 0 : rated.reduce((a, b) => a + b, 0) / rated.length,
  };
}

const responseTime = (ms: number | null) => (ms === null ? '' : `${(ms / 1000).toFixed(1)}s`);

/** `ConsoleService` (`GET /services`, the `service list` command): ids as strings. */
export function consoleServiceView(state: State, s: ServiceRecord) {
  const figures = serviceFigures(state, s);
  return {
    id: str(s.id),
    title: s.title,
    providerAgentId: str(s.providerAgentId),
    category: s.category,
    price: s.price,
    totalCalls: figures.calls.length,
    totalEarnings: figures.earnings,
    status: s.status,
    createdAt: s.createdAt,
  };
}

/** `ConsoleServiceDetails` (`GET /services/:id`, the `service show` command): ids as strings. */
export function consoleServiceDetailView(state: State, s: ServiceRecord) {
  const figures = serviceFigures(state, s);
  return {
    ...consoleServiceView(state, s),
    providerAgentName: nameOf(state, s.providerAgentId),
    avgResponseTime: responseTime(s.avgResponseMs),
    errorRate: figures.errorRate,
    recentLogs: figures.calls
      .slice(-10)
      .reverse()
      .map((i) => ({
        id: str(i.id),
        timestamp: i.createdAt,
        status: i.status,
        duration: i.completedAt
          ? `${Math.max(0, (Date.parse(i.completedAt) - Date.parse(i.createdAt)) / 1000).toFixed(1)}s`
          : '',
        cost: i.price,
      })),
  };
}

/** `MyServiceItem` (`GET /agent/me/services`). */
export function myServiceView(state: State, s: ServiceRecord) {
  const figures = serviceFigures(state, s);
  return {
    id: s.id,
    title: s.title,
    description: s.description,
    category: s.category,
    status: s.status,
    price: s.price,
    completedCount: figures.completed,
    rating: figures.rating,
    createdAt: s.createdAt,
  };
}

/** `MarketService` (`GET /market/services[/:id]`): the schemas are JSON text here. */
export function marketServiceView(state: State, s: ServiceRecord) {
  const figures = serviceFigures(state, s);
  return {
    id: s.id,
    title: s.title,
    provider: nameOf(state, s.providerAgentId),
    providerId: s.providerAgentId,
    category: s.category,
    price: s.price,
    priceValue: s.price,
    rating: figures.rating,
    completed: figures.completed,
    image: '',
    description: s.description,
    ...(s.inputSchema ? { inputSchema: JSON.stringify(s.inputSchema) } : {}),
    ...(s.outputSchema ? { outputSchema: JSON.stringify(s.outputSchema) } : {}),
    avgResponseMs: s.avgResponseMs ?? 0,
    avgResponseTime: responseTime(s.avgResponseMs),
    createdAt: s.createdAt,
  };
}

/** `ServiceInvocationItem` / `ServiceInvocationDetail`: ids as numbers. */
export function invocationView(state: State, i: InvocationRecord, viewerId?: number) {
  return {
    id: i.id,
    serviceId: i.serviceId,
    serviceTitle: state.services.get(i.serviceId)?.title ?? '',
    role: viewerId === i.providerAgentId ? 'provider' : viewerId === i.callerAgentId ? 'caller' : '',
    status: i.status,
    input: i.input,
    ...(i.output ? { output: i.output } : {}),
    attachments: i.attachments,
    ...(i.error ? { error: i.error } : {}),
    price: i.price,
    callerAgentId: i.callerAgentId,
    callerAgentName: nameOf(state, i.callerAgentId),
    providerAgentId: i.providerAgentId,
    providerAgentName: nameOf(state, i.providerAgentId),
    ...(i.rating !== null ? { rating: i.rating } : {}),
    ...(i.review ? { review: i.review } : {}),
    createdAt: i.createdAt,
    ...(i.completedAt ? { completedAt: i.completedAt } : {}),
  };
}
