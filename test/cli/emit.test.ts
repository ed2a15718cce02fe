/**
 * `emit`: every notification a handler can receive is raised on the embedded platform by the flow
 * that causes it, and reaches the agent's socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EMITTABLE, emit } from '../../src/client/emit.js';
import { Peer, restCall } from '../../src/client/peer.js';
import { NOTIFICATIONS, notificationEventName } from '../../src/protocol/events.js';
import type { NotificationFrame } from '../../src/protocol/frames.js';
import { DEFAULT_RIVAL, startPlatform, type Platform } from '../../src/platform/index.js';
import { spawnCli } from '../helpers/cli.js';

let platform: Platform | undefined;
let agent: Peer | undefined;
let rival: Peer | undefined;
afterEach(async () => {
  await agent?.close();
  await rival?.close();
  await platform?.close();
  agent = rival = platform = undefined;
});

describe('emit', () => {
  it('covers every notification event', () => {
    expect([...EMITTABLE].sort()).toEqual(Object.keys(NOTIFICATIONS).sort());
  });

  it.each(EMITTABLE)('raises %s for the agent through the platform', async (event) => {
    platform = await startPlatform();
    agent = new Peer({ url: platform.url, token: platform.world.agent.token });
    await agent.connect();
    const arrived = agent.waitFor<NotificationFrame>(
      (f) => f.type === 'notification' && notificationEventName(f.domain, f.event) === event,
      { timeout: 10_000, what: `the ${event} notification` },
    );
    const { world } = platform;
    const result = await emit(event, {
      url: platform.url,
      agent: world.agent,
      other: world.employer,
      rival: DEFAULT_RIVAL,
    });
    const frame = await arrived;
    expect(result.event).toBe(event);
    // The ids the handler needs to act are in data.
    const id = result.invocationId ?? result.taskId ?? result.employmentId;
    expect(Object.values(frame.data)).toContain(id);
  });

  it('says what to do with an event it cannot raise', async () => {
    const cli = spawnCli(['emit', 'task-acepted']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('did you mean "task-accepted"?');
    const message = spawnCli(['emit', 'message']);
    expect(await message.exited).toBe(1);
    expect(message.stderr()).toContain('c4c-runner chat');
  });
});

describe('emit --url against a lone platform', () => {
  it('says which agents there are when none is connected, and prints no ✓', async () => {
    platform = await startPlatform();
    const cli = spawnCli(['emit', 'service-invoked', '--url', platform.url]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('no agent is connected');
    expect(cli.stderr()).toContain('--agent <id>');
    expect(cli.stderr()).toContain('#2 Local Agent');
    expect(cli.stdout()).not.toContain('✓');
  });

  it('learns the world from the dev API, acts on the one connected agent and prints its answer', async () => {
    platform = await startPlatform();
    const { world } = platform;
    const me = { url: platform.url, token: world.agent.token };
    agent = new Peer(me);
    await agent.connect();
    // The agent answers offers as a handler returning `false` would: it rejects them.
    agent.onFrame((frame) => {
      if (frame.type === 'notification' && frame.event === 'employment_offered')
        void restCall(
          me,
          'POST',
          `/openapi/v1/agent/me/employments/${String(frame.data.employmentId)}/reject`,
          {},
        );
    });
    const cli = spawnCli(['emit', 'employment-offered', '--url', `${platform.url}/`]);
    expect(await cli.exited).toBe(0);
    const employmentId = /✓ employment-offered raised \(employmentId (\d+)\)/.exec(cli.stdout())?.[1];
    expect(employmentId).toBeDefined();
    expect(cli.stdout()).toContain(`↳ employment ${employmentId} rejected`);
    // The offer came from the agent's employer in the world, to the agent.
    const employment = platform.state.employments.get(Number(employmentId))!;
    expect([employment.employerAgentId, employment.employeeAgentId]).toEqual([
      world.employer.id,
      world.agent.id,
    ]);
  });

  it('needs --agent when several agents are connected, and refuses an unknown one', async () => {
    platform = await startPlatform();
    agent = new Peer({ url: platform.url, token: platform.world.agent.token });
    rival = new Peer({ url: platform.url, token: DEFAULT_RIVAL.token });
    await Promise.all([agent.connect(), rival.connect()]);

    const ambiguous = spawnCli(['emit', 'employment-offered', '--url', platform.url]);
    expect(await ambiguous.exited).toBe(1);
    expect(ambiguous.stderr()).toContain('2 agents are connected');

    const unknown = spawnCli(['emit', 'employment-offered', '--url', platform.url, '--agent', '99']);
    expect(await unknown.exited).toBe(1);
    expect(unknown.stderr()).toMatch(
      /no agent #99; its agents: #1 Local Employer, #2 Local Agent \(connected\)/,
    );

    const arrived = rival.waitFor<NotificationFrame>(
      (f) => f.type === 'notification' && f.event === 'employment_offered',
      { timeout: 10_000, what: 'the offer to the rival' },
    );
    const chosen = spawnCli([
      'emit',
      'employment-offered',
      '--url',
      platform.url,
      '--agent',
      '3',
      '--no-wait',
    ]);
    expect(await chosen.exited).toBe(0);
    expect((await arrived).data.employmentId).toBe(Number(/employmentId (\d+)/.exec(chosen.stdout())![1]));
    expect(chosen.stdout()).not.toContain('↳');
  });
});
