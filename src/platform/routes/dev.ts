/**
 * The dev API, outside `/openapi/v1` and without auth: acting as the other party without a
 * socket, the two transitions no public call causes, and the fault switches.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { messageMetadataSchema, rfc3339 } from '../../protocol/frames.js';
import type { Core } from '../core.js';
import { invalidState, notFound, refuse } from '../refuse.js';
import { messageView } from '../views.js';
import { body, fail, idParam, ok, type AppEnv } from './respond.js';

const devMessageBodySchema = z.looseObject({
  employmentId: z.number().int().positive(),
  content: z.string(),
  from: z.number().int().positive().optional(),
  metadata: messageMetadataSchema.optional(),
});

const faultsBodySchema = z
  .strictObject({
    dropConnections: z.boolean().optional(),
    stopPongs: z.number().int().nonnegative().optional(),
    stopDataPongs: z.boolean().optional(),
    rateLimit: z.looseObject({ perSecond: z.number().int().nonnegative() }).nullable().optional(),
    malformed: z.number().int().nonnegative().optional(),
    refuseHistory: z.number().int().nonnegative().optional(),
  })
  .refine(
    (v) => Object.keys(v).length > 0,
    'give at least one of dropConnections, stopPongs, stopDataPongs, rateLimit, malformed, refuseHistory',
  );

/** Sends a message as a party of an employment (the employer, unless `from` says otherwise). */
export function sendAs(
  core: Core,
  input: {
    employmentId: number;
    content: string;
    from?: number | undefined;
    metadata?: Record<string, unknown> | undefined;
  },
) {
  const employment = core.state.employments.get(input.employmentId);
  if (!employment) throw notFound(`employment ${input.employmentId}`, { employmentId: input.employmentId });
  const from = input.from ?? employment.employerAgentId;
  if (from !== employment.employerAgentId && from !== employment.employeeAgentId) {
    throw refuse(
      400,
      'VALIDATION_ERROR',
      `"from": agent ${from} is not a party of employment ${employment.id} (employer ${employment.employerAgentId}, employee ${employment.employeeAgentId})`,
      {
        field: 'from',
      },
    );
  }
  return core.chat.send({
    employmentId: employment.id,
    senderAgentId: from,
    content: input.content,
    metadata: input.metadata ?? null,
  }).message;
}

/** Ends an active employment as completed; the employee gets `employment_completed`. */
export function completeEmployment(core: Core, id: number) {
  const employment = core.state.employments.get(id);
  if (!employment) throw notFound(`employment ${id}`, { employmentId: id });
  if (employment.status !== 'active')
    throw invalidState(`employment ${id} is ${employment.status}; only an active one can be completed`);
  const now = rfc3339();
  employment.status = 'completed';
  employment.endTime = now;
  employment.updatedAt = now;
  core.state.changed();
  core.notify(employment.employeeAgentId, 'employment-completed', {
    employmentId: id,
    employerAgentName: core.state.agents.get(employment.employerAgentId)?.name ?? '',
  });
  return { id, status: employment.status, endTime: now };
}

/** Times out a pending invocation; provider and caller both get `invocation_timeout`. */
export function timeoutInvocation(core: Core, id: number) {
  const invocation = core.state.invocations.get(id);
  if (!invocation) throw notFound(`invocation ${id}`, { invocationId: id });
  if (invocation.status !== 'pending')
    throw invalidState(`invocation ${id} is ${invocation.status}; only a pending one can time out`);
  invocation.status = 'timeout';
  invocation.completedAt = rfc3339();
  core.state.changed();
  const data = {
    invocationId: id,
    serviceId: invocation.serviceId,
    serviceTitle: core.state.services.get(invocation.serviceId)?.title ?? '',
  };
  core.notify(invocation.providerAgentId, 'invocation-timeout', data);
  core.notify(invocation.callerAgentId, 'invocation-timeout', data);
  return { invocationId: id, status: invocation.status };
}

export function devRoutes(app: Hono<AppEnv>, core: Core): void {
  app.post('/dev/messages', async (c) => {
    const input = await body(c, devMessageBodySchema);
    return ok(c, messageView(sendAs(core, input)), 201);
  });

  app.post('/dev/employments/:id/complete', (c) => ok(c, completeEmployment(core, idParam(c, 'id'))));
  app.post('/dev/invocations/:id/timeout', (c) => ok(c, timeoutInvocation(core, idParam(c, 'id'))));

  // Counters a separate process (the dev e2e test, a benchmark) can read: sockets opened since start.
  app.get('/dev/stats', (c) =>
    ok(c, { connectionsOpened: core.hub.opened, connectedAgents: core.hub.connectedAgents() }),
  );

  app.post('/dev/faults', async (c) => {
    if (!core.faultsEnabled) {
      return fail(
        c,
        403,
        'FAULTS_DISABLED',
        'fault switches are disabled; start the platform with --faults (in-process: faults: true)',
      );
    }
    const input = await body(c, faultsBodySchema);
    const result: Record<string, unknown> = {};
    if (input.rateLimit !== undefined) {
      core.faults.rateLimit(input.rateLimit === null ? null : input.rateLimit.perSecond);
      result.rateLimit = input.rateLimit;
    }
    if (input.stopPongs !== undefined) {
      core.faults.stopPongs(input.stopPongs);
      result.stopPongs = input.stopPongs;
    }
    if (input.stopDataPongs) result.dataPongsStopped = core.faults.stopDataPongs();
    if (input.refuseHistory !== undefined) {
      core.faults.refuseHistory(input.refuseHistory);
      result.refuseHistory = input.refuseHistory;
    }
    if (input.malformed !== undefined) result.malformedSent = core.faults.malformed(input.malformed);
    if (input.dropConnections) result.dropped = core.faults.dropConnections();
    return ok(c, result);
  });
}
