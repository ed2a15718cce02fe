/**
 * Both dialects: the runner works whether the platform sends every id as a string or every id as
 * a number (docs/protocol.md, "Ids"), since the real platform's choice is not public. Live replies
 * of every kind, acknowledgements, catch-up of accepted tasks and invocations, and a notification
 * without the ids its reply needs. The runner in-process, the embedded platform over loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { startPlatform, type IdDialect, type Platform } from '../../src/platform/index.js';
import { toEvent } from '../../src/protocol/events.js';
import { decodeServerFrame } from '../../src/protocol/frames.js';
import { paths } from '../../src/protocol/rest.js';
import { deliver } from '../../src/runner/replies.js';
import { as, runAgent, type RunningAgent } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

const EMPLOYER = { id: 1, name: 'Employer', token: 'cl_dia_employer' };
const WORKER = { id: 2, name: 'Worker', token: 'cl_dia_worker' };
const seed = {
  agents: [EMPLOYER, WORKER],
  employments: [{ id: 7, employerAgentId: 1, employeeAgentId: 2, salary: '1' }],
  services: [{ id: 3, providerAgentId: 2, title: 'Upper', price: '1' }],
};

let platform: Platform;
const agents: RunningAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
  await platform?.close();
});

const HANDLERS = {
  'message.ts': `export default (ctx) => 'echo: ' + ctx.event.content;\n`,
  'service-invoked.ts': `export default (ctx) => ({ upper: String(ctx.event.data.input?.text).toUpperCase() });\n`,
  'task-accepted.ts': `export default (ctx) => 'done: ' + ctx.event.data.taskTitle;\n`,
  'employment-offered.ts': `export default () => true;\n`,
};

async function worker(): Promise<RunningAgent> {
  const running = await runAgent(platform, HANDLERS, {}, { token: WORKER.token });
  agents.push(running);
  return running;
}

const submissionOf = (applicationId: number | string) =>
  [...platform.state.submissions.values()].find((s) => s.applicationId === Number(applicationId));

describe.each<IdDialect>(['string', 'number'])('with every id as a %s', (dialect) => {
  it('answers messages, acknowledges them, and replies to every kind of notification live', async () => {
    platform = await startPlatform({ seed, idDialect: dialect });
    await worker();
    const employer = as(platform, EMPLOYER.token);

    const sent = platform.sendMessage({ employmentId: 7, content: 'hi' });
    await waitFor(() => platform.state.messagesOf(7).some((m) => m.content === 'echo: hi'), {
      message: 'the reply',
    });
    await waitFor(() => platform.state.messages.get(sent.id)?.readAt, { message: 'the acknowledgement' });

    const invocationId = await employer.invoke(3, { text: 'live' });
    await waitFor(async () => (await employer.invocation(invocationId)).status === 'completed', {
      message: 'the invocation completed',
    });
    expect((await employer.invocation(invocationId)).output).toEqual({ upper: 'LIVE' });

    const { applicationId } = await employer.taskAcceptedFor(WORKER.token, 'Live task');
    await waitFor(() => submissionOf(applicationId), { message: 'the task submitted' });
    expect(submissionOf(applicationId)!.content).toBe('done: Live task');

    const offer = await employer.call<{ id: number | string }>('POST', paths.employments(), {
      employeeAgentId: WORKER.id,
      salary: '2',
    });
    await waitFor(() => platform.state.employments.get(Number(offer.id))?.status === 'active', {
      message: 'the offer accepted',
    });
  });

  it('catches up the accepted tasks and invocations that arrived while it was away', async () => {
    platform = await startPlatform({ seed, idDialect: dialect });
    const employer = as(platform, EMPLOYER.token);
    const invocationId = await employer.invoke(3, { text: 'late' });
    const { applicationId } = await employer.taskAcceptedFor(WORKER.token, 'While away');
    await worker();
    await waitFor(async () => (await employer.invocation(invocationId)).status === 'completed', {
      message: 'the invocation completed',
    });
    expect((await employer.invocation(invocationId)).output).toEqual({ upper: 'LATE' });
    await waitFor(() => submissionOf(applicationId), { message: 'the task submitted' });
    expect(submissionOf(applicationId)!.content).toBe('done: While away');
  });

  it('a handler sees the id the platform left out: found over REST before it runs', async () => {
    platform = await startPlatform({ seed, idDialect: dialect });
    const employer = as(platform, EMPLOYER.token);
    const { applicationId } = await employer.taskAcceptedFor(WORKER.token, 'Quiet task');
    const outcomes: { name: string; kind: string; error?: unknown }[] = [];
    const running = await runAgent(
      platform,
      {
        // No `!`, no lookup of its own: the type says the id is there, and it is.
        // (The first, announced with its ids, is left unanswered so the task stays in progress.)
        'task-accepted.ts': `export default (ctx) => ctx.event.data.taskId ? undefined : 'application ' + ctx.event.data.applicationId;\n`,
      },
      {},
      {
        token: WORKER.token,
        runner: { onOutcome: (o) => outcomes.push({ name: o.routed.name, kind: o.kind, error: o.error }) },
      },
    );
    agents.push(running);
    // The platform already announced the real one (with its id); this one carries the title alone.
    await waitFor(() => outcomes.length === 1);
    platform.notify(WORKER.id, 'task-accepted', { taskTitle: 'Quiet task' });
    await waitFor(() => outcomes.length === 2);
    // Now no task is in progress: nothing to find.
    platform.notify(WORKER.id, 'task-accepted', { taskTitle: 'No such task' });
    await waitFor(() => outcomes.length === 3);
    expect(outcomes.map((o) => o.kind)).toEqual(['no-reply', 'replied', 'failed']);
    expect(submissionOf(applicationId)!.content).toBe(`application ${String(applicationId)}`);
    // Not found: the handler did not run with a hole where its id should be; the log says why.
    expect(String(outcomes[2]!.error)).toMatch(
      /task-accepted\.ts: .*data\.applicationId.*none was found over REST/,
    );
  });

  it('a notification without the ids its reply needs: the reply finds them over REST', async () => {
    platform = await startPlatform({ seed, idDialect: dialect });
    const employer = as(platform, EMPLOYER.token);
    const invocationId = await employer.invoke(3, { text: 'bare' });
    const { applicationId } = await employer.taskAcceptedFor(WORKER.token, 'Bare task');
    const offer = await employer.call<{ id: number | string }>('POST', paths.employments(), {
      employeeAgentId: WORKER.id,
      salary: '2',
    });
    const api = new ApiClient({ baseUrl: platform.url, token: WORKER.token });
    const target = { api, send: () => Promise.resolve() };
    const routed = (domain: string, event: string, data: Record<string, unknown>) => {
      const decoded = decodeServerFrame(JSON.stringify({ type: 'notification', domain, event, data }));
      if (!decoded.ok) throw new Error(decoded.detail);
      return toEvent(decoded.frame)!;
    };

    await deliver(
      routed('service_invocation', 'service_invoked', { serviceTitle: 'Upper' }),
      { upper: 'BARE' },
      'service-invoked.ts',
      target,
    );
    expect((await employer.invocation(invocationId)).status).toBe('completed');

    await deliver(
      routed('task', 'task_application_accepted', { taskTitle: 'Bare task' }),
      'found it',
      'task-accepted.ts',
      target,
    );
    expect(submissionOf(applicationId)!.content).toBe('found it');

    await deliver(
      routed('employment', 'employment_offered', { employerAgentName: 'Employer' }),
      true,
      'employment-offered.ts',
      target,
    );
    expect(platform.state.employments.get(Number(offer.id))?.status).toBe('active');

    // Nothing to find: the error names the file and the missing id.
    await expect(
      deliver(
        routed('task', 'task_application_accepted', { taskTitle: 'Nope' }),
        'x',
        'task-accepted.ts',
        target,
      ),
    ).rejects.toThrow(/task-accepted\.ts: .*data\.applicationId.*none was found over REST/);
  });
});
