/**
 * The other party's REST calls, typed: the employer who hires and chats, the publisher who takes
 * an application and accepts the work, the caller who invokes a service. `c4c-runner chat`, `emit`
 * and the test kit share it. It is an {@link ApiClient} (every answer checked by the schemas of
 * src/protocol/rest.ts, ids in either form), plus the calls an agent's own runner never makes.
 * Bodies are sent as the public client sends them (docs/protocol.md).
 */
import { z } from 'zod';
import { ApiClient, type CallOptions } from '../api/client.js';
import type { Id } from '../protocol/ids.js';
import {
  applyTaskResultSchema,
  createdSchema,
  invokeResultSchema,
  myServicesSchema,
  paths,
  taskReviewSchema,
  type CreateEmploymentBody,
  type CreateServiceBody,
  type CreateTaskBody,
  type InvokeServiceBody,
  type ReviewInvocationBody,
  type ReviewTaskBody,
  type SubmitInvocationBody,
  type SubmitTaskBody,
} from '../protocol/rest.js';

/** Where a party calls, and as whom. */
export interface PartyOptions {
  /** API base URL, e.g. `http://127.0.0.1:7420`. */
  url: string;
  /** This party's token (`cl_…`). */
  token: string;
}

/** Answers the other party does not read beyond the envelope. */
const done = z.unknown();

/** The other party's side of the platform's REST API. */
export class PartyClient extends ApiClient {
  constructor(options: PartyOptions) {
    super({ baseUrl: options.url, token: options.token });
  }

  /** `POST /agent/me/employments`: offer an employment (the employee gets `employment_offered`). */
  hire(body: CreateEmploymentBody, options?: CallOptions) {
    return this.call('POST', paths.employments(), createdSchema, { ...options, body });
  }

  /** `POST /agent/me/employments/:id/terminate` (the employee gets `employment_terminated`). */
  terminateEmployment(id: Id, body: { reason?: string } = {}, options?: CallOptions) {
    return this.call('POST', paths.terminateEmployment(id), done, { ...options, body });
  }

  /** `POST /agent/me/tasks`: publish a task. */
  publishTask(body: CreateTaskBody, options?: CallOptions) {
    return this.call('POST', paths.tasks(), createdSchema, { ...options, body });
  }

  /** `GET /agent/me/tasks/:id`: the task and its submissions (the client's `task review`). */
  task(id: Id, options?: CallOptions) {
    return this.call('GET', paths.task(id), taskReviewSchema, { ...options });
  }

  /** `POST /agent/me/task-applications`: apply to a task (the publisher gets `task_application`). */
  applyTask(taskId: Id, body: { message?: string; estimatedDuration?: string } = {}, options?: CallOptions) {
    return this.call('POST', paths.applications(), applyTaskResultSchema, {
      ...options,
      body: { taskId, ...body },
    });
  }

  /** `POST /agent/me/tasks/:id/applications/:applicationId/accept`: choose an applicant. */
  acceptApplication(taskId: Id, applicationId: Id, body: { message?: string } = {}, options?: CallOptions) {
    return this.call('POST', paths.acceptApplication(taskId, applicationId), done, { ...options, body });
  }

  /** `POST /agent/me/task-applications/:applicationId/submit`, as the worker. */
  submitWork(applicationId: Id, body: SubmitTaskBody, options?: CallOptions) {
    return this.submitTask(applicationId, body, options);
  }

  /** `POST /agent/me/tasks/:id/accept`: accept the work (the worker gets `task_completed`). */
  acceptTask(taskId: Id, body: ReviewTaskBody, options?: CallOptions) {
    return this.call('POST', paths.acceptTask(taskId), done, { ...options, body });
  }

  /** `POST /agent/me/tasks/:id/cancel` (applicants and worker get `task_cancelled`). */
  cancelTask(taskId: Id, options?: CallOptions) {
    return this.call('POST', paths.cancelTask(taskId), done, { ...options });
  }

  /** `POST /agent/me/services`: offer a service. */
  publishService(body: CreateServiceBody, options?: CallOptions) {
    return this.call('POST', paths.services(), createdSchema, { ...options, body });
  }

  /** `GET /agent/me/services`: this party's services. */
  myServices(options?: CallOptions) {
    return this.call('GET', paths.services(), myServicesSchema, { ...options });
  }

  /** `POST /agent/me/service-invocations`: invoke a service (the provider gets `service_invoked`). */
  invoke(body: InvokeServiceBody, options?: CallOptions) {
    return this.call('POST', paths.invocations(), invokeResultSchema, { ...options, body });
  }

  /** `POST /agent/me/service-invocations/:id/submit`, as the provider. */
  submitResult(id: Id, body: SubmitInvocationBody, options?: CallOptions) {
    return this.submitInvocation(id, body, options);
  }

  /** `POST /agent/me/service-invocations/:id/review` (the provider gets `invocation_reviewed`). */
  reviewInvocation(id: Id, body: ReviewInvocationBody, options?: CallOptions) {
    return this.call('POST', paths.reviewInvocation(id), done, { ...options, body });
  }

  /** A call to the embedded platform's dev API (`/dev/…`), its answer checked by `schema`. */
  dev<S extends z.ZodType>(method: 'GET' | 'POST', path: `/dev/${string}`, schema: S, body?: unknown) {
    return this.call(method, path, schema, body === undefined ? {} : { body });
  }
}
