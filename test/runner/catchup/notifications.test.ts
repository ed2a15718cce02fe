/**
 * Missed notifications alone, against a fake of the API client: which are synthesized (only for
 * events with a handler; pending, as provider), and the one dedupe id a live copy and a caught-up
 * copy share.
 */
import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../../src/protocol/frames.js';
import {
  missedNotifications,
  notificationKey,
  NotificationIds,
  type MissedNotification,
} from '../../../src/runner/catchup/notifications.js';
import { fakeApi } from '../../helpers/catchup-api.js';

const signal = new AbortController().signal;
const NOW = () => '2026-12-01T00:00:00Z';

async function all(
  api: ReturnType<typeof fakeApi>,
  handles: (name: MissedNotification['name']) => boolean,
): Promise<MissedNotification[]> {
  const out: MissedNotification[] = [];
  for await (const m of missedNotifications(api, handles, signal)) out.push(m);
  return out;
}

const liveInvoked = (messageId: string, invocationId: number | string) =>
  ({
    type: 'notification',
    domain: 'service_invocation',
    event: 'service_invoked',
    messageId,
    data: { invocationId },
  }) as Extract<ServerFrame, { type: 'notification' }>;

describe('missedNotifications', () => {
  it('pending invocations as provider and accepted tasks, each only when its event has a handler', async () => {
    const api = fakeApi();
    api.pending.push(
      { id: 5, serviceId: 1 },
      { id: 6, serviceId: 1, role: 'caller' },
      { id: 7, serviceId: 1, status: 'completed' },
    );
    api.tasks.push({ id: 9, applicationId: 11 });
    expect(await all(api, () => false)).toEqual([]);
    expect(api.calls).toEqual([]);
    const both = await all(api, () => true);
    expect(both.map((m) => [m.name, m.key])).toEqual([
      ['service-invoked', 'invocation:5'],
      ['task-accepted', 'application:11'],
    ]);
    expect(both[0]!.data).toMatchObject({ invocationId: 5, serviceId: 1, input: { text: 'hi' } });
    expect(both[1]!.data).toMatchObject({ taskId: 9, applicationId: 11, taskTitle: 'task 9' });
  });

  it('pages through long lists by the items read', async () => {
    const api = fakeApi();
    for (let i = 1; i <= 230; i++) api.pending.push({ id: i, serviceId: 1 });
    expect(await all(api, (name) => name === 'service-invoked')).toHaveLength(230);
    expect(api.calls).toEqual(['invocations:page=1', 'invocations:page=2', 'invocations:page=3']);
  });
});

describe('notificationKey', () => {
  it('keys by invocation or application, canonically; other notifications have none', () => {
    expect(notificationKey(liveInvoked('n1', '005'))).toBe('invocation:5');
    expect(
      notificationKey({ domain: 'task', event: 'task_application_accepted', data: { applicationId: 3 } }),
    ).toBe('application:3');
    expect(notificationKey({ domain: 'task', event: 'task_published', data: { taskId: 3 } })).toBeUndefined();
  });
});

describe('NotificationIds', () => {
  const missed: MissedNotification = {
    name: 'service-invoked',
    key: 'invocation:5',
    at: undefined,
    data: { invocationId: 5 },
  };

  it('a synthesized copy takes the id of a live copy that came first, so the ledger drops the second', () => {
    const ids = new NotificationIds(10);
    const claims = new Set<string>();
    const ledger = {
      claim: (k: string) => !claims.has(k) && Boolean(claims.add(k)),
      release: (k: string) => claims.delete(k),
    };
    expect(ids.dropLive(liveInvoked('n1', 5), ledger)).toBe(false);
    expect(ids.frameOf(missed, NOW)).toEqual({
      type: 'notification',
      domain: 'service_invocation',
      event: 'service_invoked',
      messageId: 'n1',
      timestamp: NOW(),
      data: { invocationId: 5 },
    });
  });

  it('a live copy after a synthesized one is dropped while that one is claimed, and taken once it is released', () => {
    const ids = new NotificationIds(10);
    const claims = new Set<string>();
    const ledger = {
      claim: (k: string) => !claims.has(k) && Boolean(claims.add(k)),
      release: (k: string) => claims.delete(k),
    };
    const frame = ids.frameOf(missed, NOW);
    expect((frame as { messageId: string }).messageId).toBe('invocation:5');
    claims.add('invocation:5'); // the pipeline took the synthesized copy
    expect(ids.dropLive(liveInvoked('n2', 5), ledger)).toBe(true);
    claims.delete('invocation:5'); // refused or unacknowledged: released
    expect(ids.dropLive(liveInvoked('n2', 5), ledger)).toBe(false);
    // From now on the live id is the shared one.
    expect((ids.frameOf(missed, NOW) as { messageId: string }).messageId).toBe('n2');
    // A redelivery of the same live copy is the ledger's business.
    expect(ids.dropLive(liveInvoked('n2', 5), ledger)).toBe(false);
  });

  it('is bounded: the oldest key is forgotten', () => {
    const ids = new NotificationIds(2);
    const ledger = { claim: () => false, release: () => {} };
    ids.dropLive(liveInvoked('n1', 1), ledger);
    ids.dropLive(liveInvoked('n2', 2), ledger);
    ids.dropLive(liveInvoked('n3', 3), ledger);
    // Invocation 1 was forgotten: its synthesized copy gets its own key again.
    expect((ids.frameOf({ ...missed, key: 'invocation:1' }, NOW) as { messageId: string }).messageId).toBe(
      'invocation:1',
    );
    expect((ids.frameOf({ ...missed, key: 'invocation:3' }, NOW) as { messageId: string }).messageId).toBe(
      'n3',
    );
  });
});
