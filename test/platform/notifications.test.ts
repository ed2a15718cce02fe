/**
 * Every notification of PROTOCOL.md's table, caused by its REST call and received on the socket of
 * the agent it concerns (and of no one else), with the ids the runner needs in `data`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOTIFICATIONS, toEvent, type NotificationEventName } from '../../src/protocol/events.js';
import { decodeServerFrame } from '../../src/protocol/frames.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { connect, rest, threeAgents, type Frame, type TestClient } from '../helpers/platform.js';

let platform: Platform;
let sockets: Record<'boss' | 'worker' | 'rival', TestClient>;
let sent: { agentId: number; event: string }[];
const ids = { boss: 1, worker: 2, rival: 3 } as const;

beforeEach(async () => {
  platform = await startPlatform({ seed: threeAgents });
  sent = [];
  platform.on('notification', ({ agentId, frame }) => sent.push({ agentId, event: frame.event }));
  sockets = {
    boss: await connect(platform.wsUrl, 'cl_boss'),
    worker: await connect(platform.wsUrl, 'cl_worker'),
    rival: await connect(platform.wsUrl, 'cl_rival'),
  };
});
afterEach(async () => {
  await Promise.all(Object.values(sockets).map((s) => s.close()));
  await platform.close();
});

const as = (who: keyof typeof ids) => rest(platform.url, `cl_${who}`);

/** Awaits the notification on `who`'s socket, checks it against the protocol, and that no one else got it. */
async function received(
  who: keyof typeof ids,
  name: NotificationEventName,
  data: Record<string, unknown>,
): Promise<Frame> {
  const { domain, event } = NOTIFICATIONS[name];
  const frame = await sockets[who].next((f) => f.type === 'notification' && f.event === event);
  expect(frame).toMatchObject({
    type: 'notification',
    domain,
    event,
    messageId: expect.stringMatching(/^msg_/),
    timestamp: expect.any(String),
  });
  expect(frame.data).toMatchObject(data);
  const decoded = decodeServerFrame(JSON.stringify(frame));
  expect(decoded.ok).toBe(true);
  if (decoded.ok) expect(toEvent(decoded.frame)?.name).toBe(name);
  expect(NOTIFICATIONS[name].data.safeParse(frame.data).success).toBe(true);
  expect(sent.filter((s) => s.event === event).map((s) => s.agentId)).toContain(ids[who]);
  return frame;
}
const othersGot = (event: string, who: keyof typeof ids) =>
  sent.filter((s) => s.event === event && s.agentId !== ids[who]);

describe('employment notifications', () => {
  it('offered → employee; accepted / rejected → employer; terminated → employee; completed → employee', async () => {
    const offer = await as('boss').post('/agent/me/employments', {
      employeeAgentId: 3,
      salary: 5,
      duration: 24,
      stakeAmount: 50,
    });
    expect(offer.status).toBe(201);
    expect(offer.body.data).toMatchObject({
      employerAgentId: 1,
      employeeAgentId: 3,
      salary: '5',
      stakedAmount: '50',
      status: 'pending',
    });
    const id = offer.body.data.id;
    await received('rival', 'employment-offered', {
      employmentId: id,
      employerAgentName: 'Boss',
      salary: '5',
      duration: 24,
    });

    const accepted = await as('rival').post(`/agent/me/employments/${id}/accept`, { message: 'glad to' });
    expect(accepted.body.data).toMatchObject({
      id,
      status: 'active',
      startTime: expect.any(String),
      message: 'glad to',
    });
    await received('boss', 'employment-accepted', { employmentId: id, employeeAgentName: 'Rival' });

    const second = (await as('boss').post('/agent/me/employments', { employeeAgentId: 3, salary: '2' })).body
      .data.id;
    await received('rival', 'employment-offered', { employmentId: second });
    const rejected = await as('rival').post(`/agent/me/employments/${second}/reject`, { reason: 'busy' });
    expect(rejected.body.data).toMatchObject({ id: second, status: 'rejected', message: 'busy' });
    await received('boss', 'employment-rejected', { employmentId: second, employeeAgentName: 'Rival' });

    const terminated = await as('boss').post(`/agent/me/employments/${id}/terminate`, {
      reason: 'project over',
    });
    expect(terminated.body.data).toMatchObject({
      id,
      status: 'terminated',
      billedHours: 1,
      totalPayment: '5',
      refundAmount: '45',
      endTime: expect.any(String),
    });
    await received('rival', 'employment-terminated', {
      employmentId: id,
      employerAgentName: 'Boss',
      reason: 'project over',
    });

    const completed = await rest(platform.url).post('/dev/employments/123/complete');
    expect(completed.body.data).toMatchObject({ id: 123, status: 'completed' });
    await received('worker', 'employment-completed', { employmentId: 123, employerAgentName: 'Boss' });

    for (const event of ['employment_offered', 'employment_terminated'])
      expect(othersGot(event, 'rival')).toEqual([]);
    for (const event of ['employment_accepted', 'employment_rejected'])
      expect(othersGot(event, 'boss')).toEqual([]);
    expect(othersGot('employment_completed', 'worker')).toEqual([]);
  });
});

describe('task notifications', () => {
  it('application → publisher; accepted → chosen; rejected → the others; submitted → publisher; completed → worker', async () => {
    const task = await as('boss').post('/agent/me/tasks', {
      title: 'Write a haiku',
      description: 'about sockets',
      bounty: 8,
      category: 'writing',
    });
    expect(task.status).toBe(201);
    expect(task.body.data).toMatchObject({
      title: 'Write a haiku',
      status: 'open',
      bounty: '8',
      stakedAmount: '8',
    });
    const taskId = task.body.data.id;

    const mine = await as('worker').post('/agent/me/task-applications', {
      taskId,
      message: 'me!',
      estimatedDuration: 30,
    });
    expect(mine.body.data).toMatchObject({ taskId, status: 'pending' });
    await received('boss', 'task-application', {
      taskId,
      applicationId: mine.body.data.applicationId,
      taskTitle: 'Write a haiku',
      applicantAgentName: 'Worker',
      bounty: '8',
    });
    const theirs = await as('rival').post('/agent/me/task-applications', { taskId });
    await received('boss', 'task-application', {
      applicationId: theirs.body.data.applicationId,
      applicantAgentName: 'Rival',
    });
    expect((await as('worker').post('/agent/me/task-applications', { taskId })).body.error.code).toBe(
      'CONFLICT',
    );

    const listed = await as('boss').get(`/agent/me/tasks/${taskId}/applications`);
    expect(listed.body.data.total).toBe(2);
    // `TaskApplication` declares its ids as strings.
    expect(listed.body.data.data[0]).toMatchObject({
      taskId: String(taskId),
      agentId: '2',
      agentName: 'Worker',
      message: 'me!',
      status: 'pending',
    });
    expect((await as('worker').get(`/agent/me/tasks/${taskId}/applications`)).status).toBe(403);

    const chosen = await as('boss').post(
      `/agent/me/tasks/${taskId}/applications/${mine.body.data.applicationId}/accept`,
      { message: 'go' },
    );
    expect(chosen.body.data).toMatchObject({
      taskId,
      selectedAgentId: '2',
      status: 'in_progress',
      startedAt: expect.any(String),
    });
    await received('worker', 'task-accepted', {
      taskId,
      applicationId: mine.body.data.applicationId,
      taskTitle: 'Write a haiku',
      publisherAgentName: 'Boss',
    });
    await received('rival', 'task-rejected', {
      taskId,
      applicationId: theirs.body.data.applicationId,
      publisherAgentName: 'Boss',
    });

    const accepted = await as('worker').get('/agent/me/task-applications/accepted');
    expect(accepted.body.data).toMatchObject({
      total: 1,
      tasks: [
        {
          // `AcceptedTask` declares its ids as strings.
          id: String(taskId),
          applicationId: String(mine.body.data.applicationId),
          status: 'in_progress',
          publisherAgentName: 'Boss',
          bounty: '8',
        },
      ],
    });
    expect(
      (
        await as('rival').post(`/agent/me/task-applications/${theirs.body.data.applicationId}/submit`, {
          content: 'x',
        })
      ).status,
    ).toBe(409);

    const submitted = await as('worker').post(
      `/agent/me/task-applications/${mine.body.data.applicationId}/submit`,
      { content: 'Frames fly at night', attachments: ['https://x/h.txt'], notes: 'n' },
    );
    expect(submitted.body.data).toMatchObject({
      submissionId: expect.any(Number),
      taskId,
      status: 'pending_review',
      submittedAt: expect.any(String),
    });
    await received('boss', 'task-submitted', {
      taskId,
      applicationId: mine.body.data.applicationId,
      submitterAgentName: 'Worker',
    });
    // Delivered: no longer in progress (what catch-up asks for), still listed under every status.
    expect(
      (await as('worker').get('/agent/me/task-applications/accepted?status=in_progress')).body.data.total,
    ).toBe(0);
    expect((await as('worker').get('/agent/me/task-applications/accepted')).body.data.tasks).toMatchObject([
      { id: String(taskId), status: 'pending_review' },
    ]);

    const done = await as('boss').post(`/agent/me/tasks/${taskId}/accept`, { rating: 5, review: 'lovely' });
    expect(done.body.data).toMatchObject({
      taskId,
      status: 'completed',
      totalPayment: '8',
      completedAt: expect.any(String),
    });
    await received('worker', 'task-completed', {
      taskId,
      applicationId: mine.body.data.applicationId,
      taskTitle: 'Write a haiku',
      bounty: '8',
    });
    expect((await as('rival').get(`/agent/me/tasks/${taskId}`)).body.data).toMatchObject({
      status: 'completed',
      workerAgentId: 2,
    });
    expect((await as('worker').get('/agent/me/tasks?role=worker')).body.data.data[0].id).toBe(String(taskId));
    expect((await as('worker').get('/agent/me/task-applications?status=completed')).body.data.total).toBe(1);

    expect(othersGot('task_application', 'boss')).toEqual([]);
    expect(othersGot('task_application_accepted', 'worker')).toEqual([]);
    expect(othersGot('task_application_rejected', 'rival')).toEqual([]);
    expect(othersGot('task_submitted', 'boss')).toEqual([]);
    expect(othersGot('task_completed', 'worker')).toEqual([]);
  });

  it('cancelled → every applicant still waiting, with the reason', async () => {
    const taskId = (
      await as('boss').post('/agent/me/tasks', {
        title: 'Maybe',
        description: '',
        bounty: 1,
        category: 'research',
      })
    ).body.data.id;
    const application = (await as('rival').post('/agent/me/task-applications', { taskId })).body.data
      .applicationId;
    const cancelled = await as('boss').post(`/agent/me/tasks/${taskId}/cancel`, {
      reason: 'changed my mind',
    });
    expect(cancelled.body.data).toMatchObject({
      taskId,
      status: 'cancelled',
      cancelledAt: expect.any(String),
    });
    await received('rival', 'task-cancelled', {
      taskId,
      applicationId: application,
      taskTitle: 'Maybe',
      reason: 'changed my mind',
    });
    expect(othersGot('task_cancelled', 'rival')).toEqual([]);
    expect((await as('boss').post(`/agent/me/tasks/${taskId}/cancel`)).status).toBe(409);
  });
});

describe('service notifications', () => {
  it('invoked → provider (with input); result / failure → caller; review → provider; timeout → both', async () => {
    const service = await as('worker').post('/agent/me/services', {
      title: 'Upper',
      description: 'upper-cases text',
      category: 'programming',
      price: 2,
      avgResponseMs: 10,
      inputSchema: { type: 'object' },
      outputSchema: { type: 'object' },
    });
    expect(service.body.data).toMatchObject({ title: 'Upper', status: 'active' });
    const serviceId = service.body.data.id;
    expect((await as('worker').get('/agent/me/services')).body.data).toMatchObject({
      total: 1,
      services: [{ id: serviceId, price: '2' }],
    });

    const call = await as('boss').post('/agent/me/service-invocations', {
      serviceId,
      input: { text: 'hi' },
      maxPrice: 3,
      idempotencyKey: 'k1',
    });
    expect(call.status).toBe(201);
    expect(call.body.data).toMatchObject({ serviceId, status: 'pending', price: '2' });
    const invocationId = call.body.data.invocationId;
    await received('worker', 'service-invoked', {
      invocationId,
      serviceId,
      serviceTitle: 'Upper',
      callerAgentName: 'Boss',
      price: '2',
      input: { text: 'hi' },
    });

    const again = await as('boss').post('/agent/me/service-invocations', {
      serviceId,
      input: { text: 'hi' },
      maxPrice: 3,
      idempotencyKey: 'k1',
    });
    expect(again.body.data.invocationId).toBe(invocationId);
    expect(sent.filter((s) => s.event === 'service_invoked')).toHaveLength(1);
    expect(
      (await as('boss').post('/agent/me/service-invocations', { serviceId, input: {}, maxPrice: 1 })).body
        .error,
    ).toMatchObject({ code: 'VALIDATION_ERROR' });

    const detail = await as('worker').get(`/agent/me/service-invocations/${invocationId}`);
    expect(detail.body.data).toMatchObject({
      id: invocationId,
      serviceId,
      serviceTitle: 'Upper',
      role: 'provider',
      status: 'pending',
      input: { text: 'hi' },
      price: '2',
    });
    expect((await as('rival').get(`/agent/me/service-invocations/${invocationId}`)).status).toBe(404);
    expect(
      (await as('worker').get('/agent/me/service-invocations?role=provider&status=pending')).body.data.total,
    ).toBe(1);
    expect(
      (await as('boss').post(`/agent/me/service-invocations/${invocationId}/submit`, { status: 'completed' }))
        .status,
    ).toBe(403);

    const result = await as('worker').post(`/agent/me/service-invocations/${invocationId}/submit`, {
      status: 'completed',
      output: { text: 'HI' },
    });
    expect(result.body.data).toMatchObject({
      invocationId,
      status: 'completed',
      completedAt: expect.any(String),
    });
    await received('boss', 'result-submitted', {
      invocationId,
      serviceId,
      serviceTitle: 'Upper',
      providerAgentName: 'Worker',
    });
    expect((await as('boss').get(`/agent/me/service-invocations/${invocationId}`)).body.data).toMatchObject({
      role: 'caller',
      output: { text: 'HI' },
    });

    const review = await as('boss').post(`/agent/me/service-invocations/${invocationId}/review`, {
      rating: 4,
      review: 'quick',
    });
    expect(review.body.data).toMatchObject({ invocationId });
    await received('worker', 'invocation-reviewed', {
      invocationId,
      serviceId,
      serviceTitle: 'Upper',
      callerAgentName: 'Boss',
      rating: 4,
    });

    const failing = (
      await as('rival').post('/agent/me/service-invocations', { serviceId, input: { text: 42 } })
    ).body.data.invocationId;
    await received('worker', 'service-invoked', { invocationId: failing, input: { text: 42 } });
    await as('worker').post(`/agent/me/service-invocations/${failing}/submit`, {
      status: 'failed',
      error: 'text must be a string',
    });
    await received('rival', 'invocation-failed', {
      invocationId: failing,
      serviceTitle: 'Upper',
      error: 'text must be a string',
    });

    const slow = (await as('boss').post('/agent/me/service-invocations', { serviceId, input: {} })).body.data
      .invocationId;
    await received('worker', 'service-invoked', { invocationId: slow });
    expect((await rest(platform.url).post(`/dev/invocations/${slow}/timeout`)).body.data).toMatchObject({
      status: 'timeout',
    });
    await received('worker', 'invocation-timeout', { invocationId: slow, serviceId, serviceTitle: 'Upper' });
    await received('boss', 'invocation-timeout', { invocationId: slow });

    expect(othersGot('service_invoked', 'worker')).toEqual([]);
    expect(othersGot('result_submitted', 'boss')).toEqual([]);
    expect(othersGot('invocation_reviewed', 'worker')).toEqual([]);
    expect(othersGot('invocation_failed', 'rival')).toEqual([]);
  });
});

it('covers every notification of the protocol', () => {
  const tested = [
    'employment_offered',
    'employment_accepted',
    'employment_rejected',
    'employment_terminated',
    'employment_completed',
    'task_application',
    'task_application_accepted',
    'task_application_rejected',
    'task_submitted',
    'task_completed',
    'task_cancelled',
    'service_invoked',
    'result_submitted',
    'invocation_failed',
    'invocation_timeout',
    'invocation_reviewed',
  ];
  expect(
    Object.values(NOTIFICATIONS)
      .map((n) => n.event)
      .sort(),
  ).toEqual([...tested].sort());
});

it('an offline agent misses the notification; what it must act on is in REST', async () => {
  await sockets.worker.close();
  const offer = await as('boss').post('/agent/me/employments', { employeeAgentId: 2, salary: 1 });
  await waitForSent('employment_offered');
  const pending = await as('worker').get('/agent/me/employments?status=pending');
  expect(pending.body.data.employments.map((e: { id: number }) => e.id)).toEqual([offer.body.data.id]);
  const again = await connect(platform.wsUrl, 'cl_worker');
  again.send({ type: 'ping', timestamp: 'marker' });
  await again.next((f) => f.type === 'pong');
  expect(again.frames.filter((f) => f.type === 'notification')).toEqual([]);
  await again.close();
});

async function waitForSent(event: string) {
  const { waitFor } = await import('../helpers/wait.js');
  await waitFor(() => sent.some((s) => s.event === event));
}
