/**
 * Makes a platform raise a notification for an agent, the honest way: by making the REST calls that
 * cause it, acting as the other party (and as the agent itself where the flow needs its step, such as
 * applying to a task). Used by `c4c-runner emit` and the test kit; works against any platform that
 * implements docs/protocol.md, though it is meant for the local one.
 */
import type { NotificationEventName } from '../protocol/events.js';
import { paths } from '../protocol/rest.js';
import { PlatformError } from '../errors.js';
import { restCall, type PeerOptions } from './peer.js';

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
  taskId?: number;
  applicationId?: number;
  invocationId?: number;
  serviceId?: number;
  employmentId?: number;
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

type Id = { id: number };

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
async function taskReaches(
  by: PeerOptions,
  taskId: number,
  status: string,
  within: number,
): Promise<boolean> {
  const deadline = Date.now() + within;
  for (;;) {
    const task = await restCall<{ status: string }>(by, 'GET', paths.task(taskId));
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
  const as = (who: { token: string }): PeerOptions => ({ url: parties.url, token: who.token });
  const agent = as(parties.agent);
  const other = as(parties.other);
  const title = options.title ?? `Local ${event} ${Date.now().toString(36)}`;
  const description = options.description ?? 'Raised by c4c-runner emit.';

  const createTask = (by: PeerOptions) =>
    restCall<Id>(by, 'POST', paths.tasks(), { title, description, bounty: 10, category: 'programming' });
  const apply = (by: PeerOptions, taskId: number) =>
    restCall<{ applicationId: number }>(by, 'POST', paths.applications(), { taskId, message: 'I can do it' });
  const acceptApplication = (by: PeerOptions, taskId: number, applicationId: number) =>
    restCall(by, 'POST', paths.acceptApplication(taskId, applicationId), {});
  const submitTask = (by: PeerOptions, applicationId: number) =>
    restCall(by, 'POST', paths.submitTask(applicationId), { content: 'Done.' });
  const createService = (by: PeerOptions) =>
    restCall<Id>(by, 'POST', paths.services(), {
      title,
      description,
      category: 'programming',
      price: 1,
      avgResponseMs: 1000,
      inputSchema: { type: 'object' },
      outputSchema: { type: 'object' },
    });
  const invoke = (by: PeerOptions, serviceId: number) =>
    restCall<{ invocationId: number }>(by, 'POST', paths.invocations(), {
      serviceId,
      input: options.input ?? { text: 'hello' },
      maxPrice: 100,
      idempotencyKey: `emit-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    });
  const offer = (by: PeerOptions, employeeAgentId: number) =>
    restCall<Id>(by, 'POST', paths.employments(), { employeeAgentId, salary: 10, duration: 24 });

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
      await restCall(other, 'POST', paths.acceptTask(task.id), { rating: 5, review: 'Great work' });
      return { event, taskId: task.id, applicationId };
    }
    case 'task-cancelled': {
      const task = await createTask(other);
      const { applicationId } = await apply(agent, task.id);
      await restCall(other, 'POST', paths.cancelTask(task.id), {});
      return { event, taskId: task.id, applicationId };
    }
    case 'service-invoked': {
      // Reuse a service the agent already offers (the default world has one) rather than pile up new ones.
      const own = await restCall<{ services: Id[] }>(agent, 'GET', paths.services());
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
          ? { status: 'completed', output: { ok: true } }
          : { status: 'failed', error: 'Simulated failure' };
      await restCall(other, 'POST', paths.submitInvocation(invocationId), body);
      return { event, serviceId: service.id, invocationId };
    }
    case 'invocation-reviewed': {
      const service = await createService(agent);
      const { invocationId } = await invoke(other, service.id);
      await agentStep(() =>
        restCall(agent, 'POST', paths.submitInvocation(invocationId), {
          status: 'completed',
          output: { ok: true },
        }),
      );
      await restCall(other, 'POST', paths.reviewInvocation(invocationId), { rating: 5, review: 'Thanks' });
      return { event, serviceId: service.id, invocationId };
    }
    case 'invocation-timeout': {
      const own = await restCall<{ services: Id[] }>(agent, 'GET', paths.services());
      const service = own.services[0] ?? (await createService(agent));
      const { invocationId } = await invoke(other, service.id);
      await restCall(other, 'POST', `/dev/invocations/${invocationId}/timeout`, {});
      return { event, serviceId: service.id, invocationId };
    }
    case 'employment-completed': {
      const employment = await offer(other, parties.agent.id);
      await agentStep(() => restCall(agent, 'POST', paths.acceptEmployment(employment.id), {}));
      await restCall(other, 'POST', `/dev/employments/${employment.id}/complete`, {});
      return { event, employmentId: employment.id };
    }
    case 'employment-offered': {
      const employment = await offer(other, parties.agent.id);
      return { event, employmentId: employment.id };
    }
    case 'employment-accepted':
    case 'employment-rejected': {
      const employment = await offer(agent, parties.other.id);
      const action = event === 'employment-accepted' ? paths.acceptEmployment : paths.rejectEmployment;
      await restCall(other, 'POST', action(employment.id), {});
      return { event, employmentId: employment.id };
    }
    case 'employment-terminated': {
      const employment = await offer(other, parties.agent.id);
      await agentStep(() => restCall(agent, 'POST', paths.acceptEmployment(employment.id), {}));
      await restCall(other, 'POST', paths.terminateEmployment(employment.id), {
        reason: 'Raised by c4c-runner emit',
      });
      return { event, employmentId: employment.id };
    }
  }
}
