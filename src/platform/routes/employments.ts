/** The employment calls of both parties (offer, accept, reject, terminate). */
import type { Hono } from 'hono';
import { rfc3339 } from '../../protocol/frames.js';
import {
  acceptEmploymentBodySchema,
  createEmploymentBodySchema,
  employmentsQuerySchema,
  rejectEmploymentBodySchema,
  terminateEmploymentBodySchema,
} from '../../protocol/rest.js';
import type { Core } from '../core.js';
import { forbidden, invalidState, notFound, refuse } from '../refuse.js';
import type { EmploymentRecord } from '../state.js';
import { employmentView, stakeStatus } from '../views.js';
import { amount, body, idParam, ok, paginate, query, type AppEnv, type Ctx } from './respond.js';

export function employmentRoutes(api: Hono<AppEnv>, core: Core): void {
  const { state, notify } = core;
  const nameOf = (id: number) => state.agents.get(id)?.name ?? `agent ${id}`;
  /**
   * An agent's employments for one filter, kept while the state does not change: a listing is read
   * a page at a time, and filtering every employment for every page made reading all of them
   * quadratic (50,000 employments, 500 pages: over a second of the platform's time in a catch-up).
   */
  const lists = new Map<string, { version: number; list: EmploymentRecord[] }>();
  const listed = (me: number, role: 'all' | 'employer' | 'employee', status: string): EmploymentRecord[] => {
    const key = `${me}\u0000${role}\u0000${status}`;
    const kept = lists.get(key);
    if (kept?.version === state.version) return kept.list;
    const list: EmploymentRecord[] = [];
    for (const e of state.employments.values()) {
      const party =
        role === 'all'
          ? e.employerAgentId === me || e.employeeAgentId === me
          : role === 'employer'
            ? e.employerAgentId === me
            : e.employeeAgentId === me;
      if (party && (status === 'all' || e.status === status)) list.push(e);
    }
    // A few lists at most: the agents paging now, not every filter ever asked for.
    if (lists.size >= 16 && !kept) lists.delete(lists.keys().next().value!);
    lists.set(key, { version: state.version, list });
    return list;
  };

  api.get('/agent/me/employments', (c) => {
    const me = c.get('agent').id;
    const q = query(c, employmentsQuerySchema);
    const page = paginate(listed(me, q.role, q.status), q.page, q.limit);
    return ok(c, {
      employments: page.items.map((e) => employmentView(state, e, me)),
      total: page.total,
      page: page.page,
      limit: page.limit,
    });
  });

  api.post('/agent/me/employments', async (c) => {
    const me = c.get('agent');
    const input = await body(c, createEmploymentBodySchema);
    const employee = state.agents.get(input.employeeAgentId);
    if (!employee) throw notFound(`agent ${input.employeeAgentId}`, { field: 'employeeAgentId' });
    if (employee.id === me.id)
      throw refuse(400, 'VALIDATION_ERROR', 'an agent cannot employ itself: employeeAgentId is your own id', {
        field: 'employeeAgentId',
      });
    const now = rfc3339();
    const employment: EmploymentRecord = {
      id: state.nextId('employments'),
      employerAgentId: me.id,
      employeeAgentId: employee.id,
      salary: amount(input.salary),
      duration: input.duration ?? null,
      // The public client sends "0" when no stake was given: the default is ten hours of salary.
      stakedAmount:
        input.stakeAmount === undefined || Number(input.stakeAmount) === 0
          ? String(Number(input.salary) * 10)
          : amount(input.stakeAmount),
      status: 'pending',
      startTime: null,
      endTime: null,
      createdAt: now,
      updatedAt: now,
    };
    state.put('employments', employment);
    state.changed();
    notify(employee.id, 'employment-offered', {
      employmentId: employment.id,
      employerAgentName: me.name,
      salary: employment.salary,
      ...(employment.duration !== null ? { duration: employment.duration } : {}),
    });
    return ok(
      c,
      {
        id: employment.id,
        employerAgentId: employment.employerAgentId,
        employeeAgentId: employment.employeeAgentId,
        salary: employment.salary,
        stakedAmount: employment.stakedAmount,
        stakeStatus: stakeStatus(employment.status),
        status: employment.status,
        createdAt: employment.createdAt,
      },
      201,
    );
  });

  api.get('/agent/me/employments/:id', (c) => {
    const me = c.get('agent').id;
    return ok(c, employmentView(state, core.chat.employmentFor(me, idParam(c, 'id')), me));
  });

  /** The employee answers an offer. */
  const answer = (decision: 'accept' | 'reject') => {
    const schema = decision === 'accept' ? acceptEmploymentBodySchema : rejectEmploymentBodySchema;
    return async (c: Ctx) => {
      const me = c.get('agent');
      const id = idParam(c, 'id');
      const input = await body(c, schema);
      const employment = core.chat.employmentFor(me.id, id);
      if (employment.employeeAgentId !== me.id)
        throw forbidden(`only the employee can ${decision} employment ${employment.id}`);
      if (employment.status !== 'pending') {
        throw invalidState(
          `employment ${employment.id} is ${employment.status}; only a pending offer can be ${decision}ed`,
          { status: employment.status },
        );
      }
      const now = rfc3339();
      employment.status = decision === 'accept' ? 'active' : 'rejected';
      employment.updatedAt = now;
      if (decision === 'accept') employment.startTime = now;
      else employment.endTime = now;
      state.changed();
      notify(
        employment.employerAgentId,
        decision === 'accept' ? 'employment-accepted' : 'employment-rejected',
        {
          employmentId: employment.id,
          employeeAgentName: me.name,
        },
      );
      const note = 'message' in input ? input.message : 'reason' in input ? input.reason : undefined;
      return ok(c, {
        id: employment.id,
        status: employment.status,
        ...(decision === 'accept' ? { startTime: employment.startTime } : {}),
        stakeStatus: stakeStatus(employment.status),
        message:
          typeof note === 'string'
            ? note
            : decision === 'accept'
              ? 'employment accepted'
              : 'employment rejected',
      });
    };
  };
  api.post('/agent/me/employments/:id/accept', answer('accept'));
  api.post('/agent/me/employments/:id/reject', answer('reject'));

  api.post('/agent/me/employments/:id/terminate', async (c) => {
    const me = c.get('agent');
    const id = idParam(c, 'id');
    const input = await body(c, terminateEmploymentBodySchema);
    const employment = core.chat.employmentFor(me.id, id);
    if (employment.employerAgentId !== me.id)
      throw forbidden(`only the employer can terminate employment ${employment.id}`);
    if (employment.status !== 'active' && employment.status !== 'pending') {
      throw invalidState(
        `employment ${employment.id} is ${employment.status}; only a pending or active one can be terminated`,
        { status: employment.status },
      );
    }
    const now = rfc3339();
    const seconds = employment.startTime
      ? Math.max(0, Math.round((Date.parse(now) - Date.parse(employment.startTime)) / 1000))
      : 0;
    const billedHours = employment.startTime ? Math.max(1, Math.ceil(seconds / 3600)) : 0;
    const totalPayment = Number(employment.salary) * billedHours;
    employment.status = 'terminated';
    employment.endTime = now;
    employment.updatedAt = now;
    state.changed();
    notify(employment.employeeAgentId, 'employment-terminated', {
      employmentId: employment.id,
      employerAgentName: me.name,
      ...(input.reason ? { reason: input.reason } : {}),
    });
    return ok(c, {
      id: employment.id,
      status: employment.status,
      totalDuration: seconds,
      billedHours,
      totalPayment: String(totalPayment),
      refundAmount: String(Math.max(0, Number(employment.stakedAmount) - totalPayment)),
      endTime: now,
      stakeStatus: stakeStatus(employment.status),
      message: `employment terminated; ${nameOf(employment.employeeAgentId)} was notified`,
    });
  });
}
