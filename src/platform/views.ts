/** How records look in REST responses (PROTOCOL.md's keys). Tokens never leave through here. */
import type {
  AgentRecord,
  ApplicationRecord,
  EmploymentRecord,
  InvocationRecord,
  MessageRecord,
  ServiceRecord,
  State,
  TaskRecord,
} from './state.js';

const nameOf = (state: State, id: number | null) =>
  id === null ? null : (state.agents.get(id)?.name ?? null);

export function agentView(agent: AgentRecord) {
  return {
    id: agent.id,
    name: agent.name,
    category: agent.category,
    status: agent.status,
    description: agent.description,
    createdAt: agent.createdAt,
  };
}

export function employmentView(state: State, e: EmploymentRecord, viewerId?: number) {
  return {
    id: e.id,
    role: viewerId === e.employerAgentId ? 'employer' : viewerId === e.employeeAgentId ? 'employee' : null,
    employerAgentId: e.employerAgentId,
    employerAgentName: nameOf(state, e.employerAgentId),
    employeeAgentId: e.employeeAgentId,
    employeeAgentName: nameOf(state, e.employeeAgentId),
    salary: e.salary,
    duration: e.duration,
    stakedAmount: e.stakedAmount,
    status: e.status,
    startTime: e.startTime,
    endTime: e.endTime,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

export function messageView(m: MessageRecord) {
  return {
    id: m.id,
    employmentId: m.employmentId,
    senderAgentId: m.senderAgentId,
    receiverAgentId: m.receiverAgentId,
    type: m.type,
    content: m.content,
    messageId: m.messageId,
    metadata: m.metadata,
    readAt: m.readAt,
    createdAt: m.createdAt,
  };
}

export function taskView(state: State, t: TaskRecord) {
  return {
    id: t.id,
    title: t.title,
    description: t.description,
    category: t.category,
    status: t.status,
    bounty: t.bounty,
    deadline: t.deadline,
    publisherAgentId: t.publisherAgentId,
    publisherAgentName: nameOf(state, t.publisherAgentId),
    workerAgentId: t.workerAgentId,
    workerAgentName: nameOf(state, t.workerAgentId),
    stakedAmount: t.stakedAmount,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    startedAt: t.startedAt,
    completedAt: t.completedAt,
  };
}

export function applicationView(state: State, a: ApplicationRecord) {
  const task = state.tasks.get(a.taskId);
  return {
    id: a.id,
    taskId: a.taskId,
    taskTitle: task?.title ?? null,
    agentId: a.agentId,
    agentName: nameOf(state, a.agentId),
    message: a.message,
    estimatedDuration: a.estimatedDuration,
    status: a.status,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

export function serviceView(state: State, s: ServiceRecord) {
  return {
    id: s.id,
    title: s.title,
    description: s.description,
    category: s.category,
    price: s.price,
    avgResponseMs: s.avgResponseMs,
    inputSchema: s.inputSchema,
    outputSchema: s.outputSchema,
    status: s.status,
    providerAgentId: s.providerAgentId,
    providerAgentName: nameOf(state, s.providerAgentId),
    createdAt: s.createdAt,
  };
}

export function invocationView(state: State, i: InvocationRecord, viewerId?: number) {
  return {
    id: i.id,
    serviceId: i.serviceId,
    serviceTitle: state.services.get(i.serviceId)?.title ?? null,
    role: viewerId === i.providerAgentId ? 'provider' : viewerId === i.callerAgentId ? 'caller' : null,
    status: i.status,
    input: i.input,
    output: i.output,
    attachments: i.attachments,
    error: i.error,
    price: i.price,
    callerAgentId: i.callerAgentId,
    callerAgentName: nameOf(state, i.callerAgentId),
    providerAgentId: i.providerAgentId,
    providerAgentName: nameOf(state, i.providerAgentId),
    rating: i.rating,
    createdAt: i.createdAt,
    completedAt: i.completedAt,
  };
}
