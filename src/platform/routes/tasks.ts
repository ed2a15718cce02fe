/**
 * Tasks and applications, both sides: publish, apply, choose an applicant, submit, accept the
 * work, cancel. Each step notifies the agents it concerns.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { rfc3339 } from '../../protocol/frames.js';
import {
  acceptApplicationBodySchema,
  acceptedTasksQuerySchema,
  applicationsQuerySchema,
  applyTaskBodySchema,
  createTaskBodySchema,
  reviewTaskBodySchema,
  submitTaskBodySchema,
  tasksQuerySchema,
} from '../../protocol/rest.js';
import type { Core } from '../core.js';
import { forbidden, invalidState, notFound, refuse } from '../refuse.js';
import { openTask, type ApplicationRecord, type TaskRecord } from '../state.js';
import {
  acceptedTaskView,
  consoleTaskView,
  myApplicationView,
  taskApplicationView,
  taskDetailView,
} from '../views.js';
import { amount, body, idParam, ok, paginate, query, type AppEnv } from './respond.js';

const cancelTaskBodySchema = z.looseObject({ reason: z.string().optional() });

export function taskRoutes(api: Hono<AppEnv>, core: Core): void {
  const { state, notify } = core;
  const task = (id: number): TaskRecord => {
    const found = state.tasks.get(id);
    if (!found) throw notFound(`task ${id}`, { taskId: id });
    return found;
  };
  const applicationsOf = (taskId: number) =>
    [...state.applications.values()].filter((a) => a.taskId === taskId);
  const data = (t: TaskRecord, a: ApplicationRecord | undefined) => ({
    taskId: t.id,
    ...(a ? { applicationId: a.id } : {}),
    taskTitle: t.title,
  });

  api.post('/agent/me/tasks', async (c) => {
    const me = c.get('agent');
    const input = await body(c, createTaskBodySchema);
    const now = rfc3339();
    const record = openTask(
      {
        id: state.nextId('tasks'),
        title: input.title,
        description: input.description,
        category: input.category,
        bounty: amount(input.bounty),
        deadline: input.deadline ?? null,
        publisherAgentId: me.id,
      },
      now,
    );
    state.put('tasks', record);
    state.changed();
    return ok(
      c,
      {
        id: record.id,
        title: record.title,
        status: record.status,
        bounty: record.bounty,
        stakedAmount: record.stakedAmount,
        stakeStatus: 'staked',
        createdAt: now,
      },
      201,
    );
  });

  api.get('/agent/me/tasks', (c) => {
    const me = c.get('agent').id;
    const q = query(c, tasksQuerySchema);
    const search = q.search?.toLowerCase();
    const list = [...state.tasks.values()].filter(
      (t) =>
        (q.role === 'publisher'
          ? t.publisherAgentId === me
          : q.role === 'worker'
            ? t.workerAgentId === me
            : t.publisherAgentId === me || t.workerAgentId === me) &&
        (!q.status || q.status === 'all' || t.status === q.status) &&
        (!search || `${t.title} ${t.description}`.toLowerCase().includes(search)),
    );
    if (q.sortBy === 'bounty') list.sort((a, b) => Number(b.bounty) - Number(a.bounty));
    else list.sort((a, b) => b.id - a.id);
    const page = paginate(list, q.page, q.limit);
    // `ConsoleTaskList`: the `task list` command reads `data`.
    return ok(c, {
      data: page.items.map((t) => consoleTaskView(state, t, me)),
      total: page.total,
      page: page.page,
      limit: page.limit,
    });
  });

  api.get('/agent/me/tasks/:id', (c) => ok(c, taskDetailView(state, task(idParam(c, 'id')))));

  api.post('/agent/me/task-applications', async (c) => {
    const me = c.get('agent');
    const input = await body(c, applyTaskBodySchema);
    const t = task(input.taskId);
    if (t.publisherAgentId === me.id) throw invalidState(`task ${t.id} is your own; you cannot apply to it`);
    if (t.status !== 'open')
      throw invalidState(`task ${t.id} is ${t.status}; only open tasks take applications`, {
        status: t.status,
      });
    if (applicationsOf(t.id).some((a) => a.agentId === me.id))
      throw refuse(409, 'CONFLICT', `you have already applied to task ${t.id}`);
    const now = rfc3339();
    const application: ApplicationRecord = {
      id: state.nextId('applications'),
      taskId: t.id,
      agentId: me.id,
      message: input.message ?? null,
      estimatedDuration: input.estimatedDuration ?? null,
      status: 'pending',
      createdAt: now,
      updatedAt: now,
    };
    state.put('applications', application);
    state.changed();
    notify(t.publisherAgentId, 'task-application', {
      ...data(t, application),
      applicantAgentName: me.name,
      bounty: t.bounty,
    });
    return ok(
      c,
      { applicationId: application.id, taskId: t.id, status: application.status, createdAt: now },
      201,
    );
  });

  api.get('/agent/me/task-applications', (c) => {
    const me = c.get('agent').id;
    const q = query(c, applicationsQuerySchema);
    const list = [...state.applications.values()].filter(
      (a) => a.agentId === me && (!q.status || q.status === 'all' || a.status === q.status),
    );
    const page = paginate(list, q.page, q.limit);
    return ok(c, {
      applications: page.items.map((a) => myApplicationView(state, a)),
      total: page.total,
      page: page.page,
      limit: page.limit,
    });
  });

  /**
   * The tasks you were chosen for, by the task's status (`all` when not given). `in_progress` are
   * the ones still to deliver: the runner's catch-up asks for those.
   */
  api.get('/agent/me/task-applications/accepted', (c) => {
    const me = c.get('agent').id;
    const q = query(c, acceptedTasksQuerySchema);
    const chosen = new Set(['accepted', 'submitted', 'completed']);
    const list = [...state.applications.values()]
      .filter((a) => a.agentId === me && chosen.has(a.status))
      .map((a) => ({ a, t: state.tasks.get(a.taskId) }))
      .filter((x): x is { a: ApplicationRecord; t: TaskRecord } => x.t !== undefined)
      .filter(({ t }) => !q.status || q.status === 'all' || t.status === q.status);
    const page = paginate(list, q.page, q.limit);
    return ok(c, {
      tasks: page.items.map(({ a, t }) => acceptedTaskView(state, a, t)),
      total: page.total,
      page: page.page,
      limit: page.limit,
    });
  });

  api.get('/agent/me/tasks/:id/applications', (c) => {
    const me = c.get('agent').id;
    const t = task(idParam(c, 'id'));
    const q = query(c, applicationsQuerySchema);
    if (t.publisherAgentId !== me)
      throw forbidden(`only the publisher of task ${t.id} can list its applications`);
    const list = applicationsOf(t.id).filter((a) => !q.status || q.status === 'all' || a.status === q.status);
    return ok(c, { data: list.map((a) => taskApplicationView(state, a)), total: list.length });
  });

  api.post('/agent/me/tasks/:id/applications/:applicationId/accept', async (c) => {
    const me = c.get('agent');
    const taskId = idParam(c, 'id');
    const applicationId = idParam(c, 'applicationId');
    await body(c, acceptApplicationBodySchema);
    const t = task(taskId);
    if (t.publisherAgentId !== me.id)
      throw forbidden(`only the publisher of task ${t.id} can choose an applicant`);
    const chosen = state.applications.get(applicationId);
    if (!chosen || chosen.taskId !== t.id)
      throw notFound(`application ${applicationId} of task ${t.id}`, { applicationId });
    if (t.status !== 'open' || chosen.status !== 'pending') {
      throw invalidState(
        `task ${t.id} is ${t.status} and application ${chosen.id} is ${chosen.status}; only a pending application to an open task can be accepted`,
      );
    }
    const now = rfc3339();
    t.status = 'in_progress';
    t.workerAgentId = chosen.agentId;
    t.startedAt = now;
    t.updatedAt = now;
    const others = applicationsOf(t.id).filter((a) => a.id !== chosen.id && a.status === 'pending');
    chosen.status = 'accepted';
    chosen.updatedAt = now;
    for (const other of others) {
      other.status = 'rejected';
      other.updatedAt = now;
    }
    state.changed();
    notify(chosen.agentId, 'task-accepted', { ...data(t, chosen), publisherAgentName: me.name });
    for (const other of others)
      notify(other.agentId, 'task-rejected', { ...data(t, other), publisherAgentName: me.name });
    return ok(c, {
      taskId: t.id,
      applicationId: chosen.id,
      // `AcceptApplicantResponse` declares the agent id as a string (and the task id as a number).
      selectedAgentId: String(chosen.agentId),
      status: t.status,
      startedAt: now,
    });
  });

  api.post('/agent/me/task-applications/:applicationId/submit', async (c) => {
    const me = c.get('agent');
    const applicationId = idParam(c, 'applicationId');
    const input = await body(c, submitTaskBodySchema);
    const application = state.applications.get(applicationId);
    if (!application || application.agentId !== me.id)
      throw notFound(`application ${applicationId} of yours`, { applicationId });
    const t = task(application.taskId);
    if (application.status !== 'accepted' || t.status !== 'in_progress') {
      throw invalidState(
        `application ${application.id} is ${application.status} and task ${t.id} is ${t.status}; work can be submitted only for an accepted application of a task in progress`,
      );
    }
    const now = rfc3339();
    const submissionId = state.nextId('submissions');
    state.put('submissions', {
      id: submissionId,
      taskId: t.id,
      applicationId: application.id,
      agentId: me.id,
      content: input.content,
      attachments: input.attachments ?? [],
      notes: input.notes ?? null,
      submittedAt: now,
    });
    application.status = 'submitted';
    application.updatedAt = now;
    t.status = 'pending_review';
    t.updatedAt = now;
    state.changed();
    notify(t.publisherAgentId, 'task-submitted', { ...data(t, application), submitterAgentName: me.name });
    return ok(c, { submissionId, taskId: t.id, status: t.status, submittedAt: now });
  });

  api.post('/agent/me/tasks/:id/accept', async (c) => {
    const me = c.get('agent');
    const taskId = idParam(c, 'id');
    const input = await body(c, reviewTaskBodySchema);
    const t = task(taskId);
    if (t.publisherAgentId !== me.id)
      throw forbidden(`only the publisher of task ${t.id} can accept its work`);
    if (t.status !== 'pending_review')
      throw invalidState(
        `task ${t.id} is ${t.status}; only submitted work (pending_review) can be accepted`,
        { status: t.status },
      );
    const now = rfc3339();
    t.status = 'completed';
    t.completedAt = now;
    t.updatedAt = now;
    t.rating = input.rating;
    t.review = input.review ?? null;
    const application = applicationsOf(t.id).find(
      (a) => a.agentId === t.workerAgentId && a.status === 'submitted',
    );
    if (application) {
      application.status = 'completed';
      application.updatedAt = now;
    }
    state.changed();
    if (t.workerAgentId !== null)
      notify(t.workerAgentId, 'task-completed', { ...data(t, application), bounty: t.bounty });
    return ok(c, { taskId: t.id, status: t.status, completedAt: now, totalPayment: t.bounty });
  });

  api.post('/agent/me/tasks/:id/cancel', async (c) => {
    const me = c.get('agent');
    const taskId = idParam(c, 'id');
    const input = await body(c, cancelTaskBodySchema);
    const t = task(taskId);
    if (t.publisherAgentId !== me.id) throw forbidden(`only the publisher of task ${t.id} can cancel it`);
    if (t.status !== 'open' && t.status !== 'in_progress') {
      throw invalidState(
        `task ${t.id} is ${t.status}; only an open task or one in progress can be cancelled`,
        { status: t.status },
      );
    }
    const now = rfc3339();
    t.status = 'cancelled';
    t.cancelledAt = now;
    t.updatedAt = now;
    const affected = applicationsOf(t.id).filter((a) => a.status === 'pending' || a.status === 'accepted');
    for (const a of affected) {
      a.status = 'cancelled';
      a.updatedAt = now;
    }
    state.changed();
    for (const a of affected)
      notify(a.agentId, 'task-cancelled', {
        ...data(t, a),
        ...(input.reason ? { reason: input.reason } : {}),
      });
    return ok(c, { taskId: t.id, status: t.status, cancelledAt: now });
  });
}
