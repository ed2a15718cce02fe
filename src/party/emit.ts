/**
 * Makes a platform raise a notification for an agent, the honest way: by making the REST calls that
 * cause it, acting as the other party (and as the agent itself where the flow needs its step, such as
 * applying to a task). Used by `c4c-runner emit` and the test kit; works against any platform that
 * implements docs/protocol.md, though it is meant for the local one.
 */
import type { NotificationEventName } from '../protocol/events.js';
import { PlatformError } from '../errors.js';
import { z } from 'zod';
import type { Id } from '../protocol/ids.js';
import { PartyClient } from './client.js';

export interface EmitParties {
  /** API base URL. */
  url: string;
  /** The agent under development (who receives the notification). */
  agent: { id: number; token: string };
  /** The other party: employer, task publisher, service caller. */
  other: { id: number; token: string };
  /** A third agent, needed only for `task-rejected` (the applicant who wins). */
  rival?: { id: number; token: string };
}

export interface EmitOptions {
  /** Service input for `service-invoked`. @default { text: 'hello' } */
  input?: Record<string, unknown>;
  /** Task title, service title, reasons: free text used in the flow. */
  title?: string;
  description?: string;
}

/** What the flow created, so a caller can follow up (read the submission, the invocation, …). */
export interface EmitResult {
  event: NotificationEventName;
  taskId?: Id;
  applicationId?: Id;
  invocationId?: Id;
  serviceId?: Id;
  employmentId?: Id;
}

/**
 * Events the flows below can raise: every notification. `invocation-timeout` and
 * `employment-completed` have no public REST cause; they use the embedded platform's dev API.
 */
export const EMITTABLE = [
  'task-application',
  'task-accepted',
  'task-rejected',
  'task-submitted',
  'task-completed',
  'task-cancelled',
  'service-invoked',
  'result-submitted',
  'invocation-failed',
  'invocation-reviewed',
  'invocation-timeout',
  'employment-offered',
  'employment-accepted',
  'employment-rejected',
  'employment-terminated',
  'employment-completed',
] as const satisfies readonly NotificationEventName[];
export type EmittableEvent = (typeof EMITTABLE)[number];

export function isEmittable(name: string): name is EmittableEvent {
  return (EMITTABLE as readonly string[]).includes(name);
}

/**
 * A step the agent's own handlers may already have taken (its `task-accepted` handler submits, its
 * `employment-offered` handler accepts): if the platform says it is done, the flow goes on.
 */
async function agentStep(step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (error instanceof PlatformError && error.status >= 400 && error.status < 500 && error.status !== 401)
      return;
    throw error;
  }
}

/** Polls a task until it has `status`, up to `within` ms. */
async function taskReaches(by: PartyClient, taskId: Id, status: string, within: number): Promise<boolean> {
  const deadline = Date.now() + within;
  for (;;) {
    const task = await by.task(taskId);
    if (task.status === status) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function emit(
  event: EmittableEvent,
  parties: EmitParties,
  options: EmitOptions = {},
): Promise<EmitResult> {
  const as = (who: { token: string }) => new PartyClient({ url: parties.url, token: who.token });
  const agent = as(parties.agent);
  const other = as(parties.other);
  const title = options.title ?? `Local ${event} ${Date.now().toString(36)}`;
  const description = options.description ?? 'Raised by c4c-runner emit.';

  const createTask = (by: PartyClient) =>
    by.publishTask({ title, description, bounty: '10', category: 'programming' });
  const apply = (by: PartyClient, taskId: Id) => by.applyTask(taskId, { message: 'I can do it' });
  const acceptApplication = (by: PartyClient, taskId: Id, applicationId: Id) =>
    by.acceptApplication(taskId, applicationId);
  const submitTask = (by: PartyClient, applicationId: Id) =>
    by.submitWork(applicationId, { content: 'Done.' });
  const createService = (by: PartyClient) =>
    by.publishService({
      title,
      description,
      category: 'programming',
      price: '1',
      avgResponseMs: 1000,
      inputSchema: { type: 'object' },
      outputSchema: { type: 'object' },
    });
  const invoke = (by: PartyClient, serviceId: Id) =>
    by.invoke({
      serviceId,
      input: options.input ?? { text: 'hello' },
      maxPrice: '100',
      idempotencyKey: `emit-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    });
  const offer = (by: PartyClient, employeeAgentId: number) =>
    by.hire({ employeeAgentId, salary: '10', duration: '24 hours' });

  switch (event) {
    case 'task-application': {
      const task = await createTask(agent);
      const { applicationId } = await apply(other, task.id);
      return { event, taskId: task.id, applicationId };
    }
    case 'task-accepted': {
      const task = await createTask(other);
      const { applicationId } = await apply(agent, task.id);
      await acceptApplication(other, task.id, applicationId);
      return { event, taskId: task.id, applicationId };
    }
    case 'task-rejected': {
      if (!parties.rival)
        throw new Error('task-rejected needs a third agent (a rival applicant) in the world');
      const task = await createTask(other);
      const mine = await apply(agent, task.id);
      const theirs = await apply(as(parties.rival), task.id);
      await acceptApplication(other, task.id, theirs.applicationId);
      return { event, taskId: task.id, applicationId: mine.applicationId };
    }
    case 'task-submitted': {
      const task = await createTask(agent);
      const { applicationId } = await apply(other, task.id);
      await agentStep(() => acceptApplication(agent, task.id, applicationId));
      await submitTask(other, applicationId);
      return { event, taskId: task.id, applicationId };
    }
    case 'task-completed': {
      const task = await createTask(other);
      const { applicationId } = await apply(agent, task.id);
      await acceptApplication(other, task.id, applicationId);
      // The agent's own task-accepted handler, if it has one, submits now; give it a moment first.
      if (!(await taskReaches(other, task.id, 'pending_review', 3_000)))
        await agentStep(() => submitTask(agent, applicationId));
      await other.acceptTask(task.id, { rating: 5, review: 'Great work' });
      return { event, taskId: task.id, applicationId };
    }
    case 'task-cancelled': {
      const task = await createTask(other);
      const { applicationId } = await apply(agent, task.id);
      await other.cancelTask(task.id);
      return { event, taskId: task.id, applicationId };
    }
    case 'service-invoked': {
      // Reuse a service the agent already offers (the default world has one) rather than pile up new ones.
      const own = await agent.myServices();
      const service = own.services[0] ?? (await createService(agent));
      const { invocationId } = await invoke(other, service.id);
      return { event, serviceId: service.id, invocationId };
    }
    case 'result-submitted':
    case 'invocation-failed': {
      const service = await createService(other);
      const { invocationId } = await invoke(agent, service.id);
      const body =
        event === 'result-submitted'
          ? ({ status: 'completed', output: { ok: true } } as const)
          : ({ status: 'failed', error: 'Simulated failure' } as const);
      await other.submitResult(invocationId, body);
      return { event, serviceId: service.id, invocationId };
    }
    case 'invocation-reviewed': {
      const service = await createService(agent);
      const { invocationId } = await invoke(other, service.id);
      await agentStep(() => agent.submitResult(invocationId, { status: 'completed', output: { ok: true } }));
      await other.reviewInvocation(invocationId, { rating: 5, review: 'Thanks' });
      return { event, serviceId: service.id, invocationId };
    }
    case 'invocation-timeout': {
      const own = await agent.myServices();
      const service = own.services[0] ?? (await createService(agent));
      const { invocationId } = await invoke(other, service.id);
      await other.dev('POST', `/dev/invocations/${invocationId}/timeout`, z.unknown(), {});
      return { event, serviceId: service.id, invocationId };
    }
    case 'employment-completed': {
      const employment = await offer(other, parties.agent.id);
      await agentStep(() => agent.acceptEmployment(employment.id));
      await other.dev('POST', `/dev/employments/${employment.id}/complete`, z.unknown(), {});
      return { event, employmentId: employment.id };
    }
    case 'employment-offered': {
      const employment = await offer(other, parties.agent.id);
      return { event, employmentId: employment.id };
    }
    case 'employment-accepted':
    case 'employment-rejected': {
      const employment = await offer(agent, parties.other.id);
      if (event === 'employment-accepted') await other.acceptEmployment(employment.id);
      else await other.rejectEmployment(employment.id);
      return { event, employmentId: employment.id };
    }
    case 'employment-terminated': {
      const employment = await offer(other, parties.agent.id);
      await agentStep(() => agent.acceptEmployment(employment.id));
      await other.terminateEmployment(employment.id, {
        reason: 'Raised by c4c-runner emit',
      });
      return { event, employmentId: employment.id };
    }
  }
}
