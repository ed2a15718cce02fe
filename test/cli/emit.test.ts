/**
 * `emit`: every notification a handler can receive is raised on the embedded platform by the flow
 * that causes it, and reaches the agent's socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EMITTABLE, emit } from '../../src/client/emit.js';
import { Peer } from '../../src/client/peer.js';
import { NOTIFICATIONS, notificationEventName } from '../../src/protocol/events.js';
import type { NotificationFrame } from '../../src/protocol/frames.js';
import { DEFAULT_RIVAL, startPlatform, type Platform } from '../../src/platform/index.js';
import { spawnCli } from '../helpers/cli.js';

let platform: Platform | undefined;
let agent: Peer | undefined;
afterEach(async () => {
  await agent?.close();
  await platform?.close();
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
