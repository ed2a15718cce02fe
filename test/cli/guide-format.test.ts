import { describe, expect, it } from 'vitest';
import {
  formatConnectionState,
  formatFrame,
  formatWebhookReport,
  notificationSentence,
  toText,
} from '../../src/cli/guide-format.js';
import { NOTIFICATIONS } from '../../src/protocol/events.js';
import type { ServerFrame } from '../../src/protocol/frames.js';

const message = (extra: Partial<Extract<ServerFrame, { type: 'message' }>> = {}): ServerFrame => ({
  type: 'message',
  employmentId: 123,
  messageId: 'msg_1',
  timestamp: '2026-04-12T10:00:00Z',
  content: 'hello there',
  ...extra,
});

describe('formatFrame: the guide listener lines', () => {
  it('prints a message as the public client does, byte for byte', () => {
    expect(toText(formatFrame(message()))).toBe('\n[Message] Employment #123\n  Content: hello there\n\n');
    expect(toText(formatFrame(message({ metadata: { format: 'markdown' } })))).toBe(
      '\n[Message] Employment #123\n  Content: hello there\n  Format: markdown\n\n',
    );
  });

  it('keeps the employment id where guide scripts grep it', () => {
    const text = toText(formatFrame(message({ employmentId: 4567 })));
    expect(/Employment #([0-9]+)/.exec(text)?.[1]).toBe('4567');
  });

  it('omits Format when metadata has none', () => {
    expect(formatFrame(message({ metadata: { language: 'zh' } }))).toEqual([
      '',
      '[Message] Employment #123',
      '  Content: hello there',
      '',
    ]);
  });

  it('prints notifications as [<domain>] <sentence>', () => {
    const frame: ServerFrame = {
      type: 'notification',
      domain: 'task',
      event: 'task_application',
      data: { taskTitle: 'Task A', applicantAgentName: 'agent-x', bounty: '10' },
    };
    expect(toText(formatFrame(frame))).toBe(
      "\n[task] Agent 'agent-x' applied for your task 'Task A' (Bounty: 10)\n",
    );
  });

  it('names the domain of a known event the platform sent without one', () => {
    const frame: ServerFrame = {
      type: 'notification',
      domain: '',
      event: 'invocation_timeout',
      data: { serviceTitle: 'svc-a' },
    };
    expect(formatFrame(frame)).toEqual(['', "[service_invocation] Service invocation 'svc-a' timed out"]);
  });

  it('prints read receipts, errors (with code and message) and nothing for heartbeats', () => {
    expect(formatFrame({ type: 'read', employmentId: 9, lastReadMessageId: 'msg_9' })).toEqual([
      '',
      '[Read Receipt] Employment #9 - Last read: msg_9',
    ]);
    expect(formatFrame({ type: 'error', code: 'RATE_LIMITED', message: 'slow down' })).toEqual([
      '',
      '[Error] RATE_LIMITED: slow down',
    ]);
    expect(formatFrame({ type: 'ping' })).toEqual([]);
    expect(formatFrame({ type: 'pong' })).toEqual([]);
  });
});

describe('notificationSentence: the public client wording', () => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    [
      'task',
      'task_application',
      { taskTitle: 'T', applicantAgentName: 'A', bounty: '10' },
      "Agent 'A' applied for your task 'T' (Bounty: 10)",
    ],
    [
      'task',
      'task_application_accepted',
      { taskTitle: 'T', publisherAgentName: 'P' },
      "Your application for task 'T' was accepted by 'P'",
    ],
    [
      'task',
      'task_application_rejected',
      { taskTitle: 'T', publisherAgentName: 'P' },
      "Your application for task 'T' was rejected by 'P'",
    ],
    [
      'task',
      'task_submitted',
      { taskTitle: 'T', submitterAgentName: 'W' },
      "Worker 'W' submitted deliverables for task 'T'",
    ],
    [
      'task',
      'task_completed',
      { taskTitle: 'T', bounty: '5.5' },
      "Task 'T' is completed and accepted. Bounty (5.5) has been released.",
    ],
    [
      'task',
      'task_cancelled',
      { taskTitle: 'T', reason: 'no time' },
      "Task 'T' was cancelled. Reason: no time",
    ],
    [
      'service_invocation',
      'service_invoked',
      { serviceTitle: 'S', callerAgentName: 'C', price: '3' },
      "Agent 'C' invoked your service 'S' (Price: 3)",
    ],
    [
      'service_invocation',
      'result_submitted',
      { serviceTitle: 'S', providerAgentName: 'V' },
      "Provider 'V' submitted result for service 'S'",
    ],
    [
      'service_invocation',
      'invocation_failed',
      { serviceTitle: 'S', error: 'boom' },
      "Service invocation 'S' failed. Error: boom",
    ],
    ['service_invocation', 'invocation_timeout', { serviceTitle: 'S' }, "Service invocation 'S' timed out"],
    [
      'service_invocation',
      'invocation_reviewed',
      { serviceTitle: 'S', callerAgentName: 'C', rating: 4 },
      "Agent 'C' reviewed your service 'S' with rating 4",
    ],
    [
      'employment',
      'employment_offered',
      { employerAgentName: 'E', salary: '10', duration: '1 month' },
      "Agent 'E' offered you an employment (Salary: 10, Duration: 1 month)",
    ],
    [
      'employment',
      'employment_accepted',
      { employeeAgentName: 'X' },
      "Agent 'X' accepted your employment offer",
    ],
    [
      'employment',
      'employment_rejected',
      { employeeAgentName: 'X' },
      "Agent 'X' rejected your employment offer",
    ],
    [
      'employment',
      'employment_terminated',
      { employerAgentName: 'E', reason: 'done' },
      "Your employment with 'E' was terminated. Reason: done",
    ],
    [
      'employment',
      'employment_completed',
      { employerAgentName: 'E' },
      "Your employment with 'E' has completed",
    ],
  ];

  it.each(cases)('%s/%s', (domain, event, data, sentence) => {
    expect(notificationSentence(domain, event, data)).toBe(sentence);
  });

  it('covers every notification the protocol knows', () => {
    const covered = new Set(cases.map(([domain, event]) => `${domain}/${event}`));
    for (const def of Object.values(NOTIFICATIONS))
      expect(covered.has(`${def.domain}/${def.event}`)).toBe(true);
  });

  it('prints numbers as text and missing values as empty, never the fallback', () => {
    expect(notificationSentence('task', 'task_application', { taskTitle: 'T', bounty: 12.5 })).toBe(
      "Agent '' applied for your task 'T' (Bounty: 12.5)",
    );
    expect(notificationSentence('service_invocation', 'invocation_reviewed', { serviceTitle: 'S' })).toBe(
      "Agent '' reviewed your service 'S' with rating 0",
    );
  });

  it('falls back per domain for unknown events, and to Event: for unknown domains', () => {
    expect(notificationSentence('task', 'task_reopened')).toBe('Task Event: task_reopened');
    expect(notificationSentence('service_invocation', 'x')).toBe('Service Event: x');
    expect(notificationSentence('employment', 'y')).toBe('Employment Event: y');
    expect(notificationSentence('wallet', 'deposit')).toBe('Event: deposit');
  });
});

describe('formatWebhookReport', () => {
  const url = 'http://localhost:8080/webhook';
  it('prints the public client lines for delivered and failed forwards', () => {
    expect(formatWebhookReport({ type: 'delivered', url, kind: 'message', status: 200, attempt: 1 })).toEqual(
      ['[Webhook] ✓ Forwarded to http://localhost:8080/webhook (status: 200)'],
    );
    expect(
      formatWebhookReport({ type: 'delivered', url, kind: 'notification', status: 202, attempt: 1 }),
    ).toEqual(['[Webhook] ✓ Forwarded notification to http://localhost:8080/webhook (status: 202)']);
    expect(formatWebhookReport({ type: 'rejected', url, kind: 'message', status: 400 })[0]).toMatch(
      /^\[Webhook Error\] Received status 400 from http:\/\/localhost:8080\/webhook/,
    );
  });

  it('says when and how often it retries, and when it gives up', () => {
    expect(
      formatWebhookReport({
        type: 'failed',
        url,
        kind: 'message',
        status: 500,
        attempt: 1,
        attempts: 5,
        retryIn: 1000,
        final: false,
      }),
    ).toEqual([
      '[Webhook Error] Received status 500 from http://localhost:8080/webhook; retrying in 1s (attempt 2 of 5)',
    ]);
    expect(
      formatWebhookReport({
        type: 'failed',
        url,
        kind: 'message',
        error: 'connect ECONNREFUSED 127.0.0.1:9',
        attempt: 5,
        attempts: 5,
        final: true,
      }),
    ).toEqual([
      '[Webhook Error] Failed to send: connect ECONNREFUSED 127.0.0.1:9; gave up after 5 attempts, will retry later',
    ]);
  });

  it('never prints a token that sits in the webhook URL', () => {
    const line = formatWebhookReport({
      type: 'delivered',
      url: 'http://h/hook?api_key=cl_secret123',
      kind: 'message',
      status: 200,
      attempt: 1,
    })[0]!;
    expect(line).not.toContain('cl_secret123');
  });
});

describe('formatConnectionState: the public client state lines', () => {
  it('prints connecting, established, lost and reconnecting; nothing for a close asked for', () => {
    expect(formatConnectionState('connecting', 'idle')).toEqual(['⟳ Connecting...']);
    expect(formatConnectionState('open', 'connecting')).toEqual(['✓ Connection established']);
    expect(formatConnectionState('reconnecting', 'open')).toEqual(['✗ Connection lost', '⟳ Reconnecting...']);
    expect(formatConnectionState('reconnecting', 'connecting')).toEqual(['⟳ Reconnecting...']);
    expect(formatConnectionState('closing', 'open')).toEqual([]);
    expect(formatConnectionState('closed', 'closing')).toEqual([]);
    expect(formatConnectionState('closed', 'reconnecting')).toEqual(['✗ Connection lost']);
  });
});
