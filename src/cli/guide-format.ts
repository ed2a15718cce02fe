/**
 * The lines the platform guide's listener prints (`c4c connect`), so scripts that grep them
 * (`Employment #\K[0-9]+`) keep working after the switch to c4c-runner. Pure functions from a frame
 * (or a webhook report) to lines: no I/O, no colour, no clock, so `connect` and `dev` print the same
 * bytes and tests compare them exactly.
 *
 * Each returned line is printed followed by "\n"; an empty string is a blank line (the public client
 * starts every block with one). The sentences of notifications are the public client's, word for word.
 */
import type { ServerFrame } from '../protocol/frames.js';
import { NOTIFICATIONS } from '../protocol/events.js';
import { redactText } from '../redact.js';
import type { WebhookReport } from '../webhook/report.js';

/**
 * The guide's lines for one frame. `ping` and `pong` print nothing (they are the connection's
 * business, not news for the user).
 * @example
 * formatFrame({ type: 'message', employmentId: 123, content: 'hi', … })
 * // ['', '[Message] Employment #123', '  Content: hi', '']
 */
export function formatFrame(frame: ServerFrame): string[] {
  switch (frame.type) {
    case 'message': {
      const lines = ['', `[Message] Employment #${frame.employmentId}`, `  Content: ${frame.content}`];
      const format = frame.metadata?.format;
      if (format) lines.push(`  Format: ${format}`);
      lines.push('');
      return lines;
    }
    case 'notification': {
      const domain = frame.domain || domainOf(frame.event) || '';
      return ['', `[${domain}] ${notificationSentence(domain, frame.event, frame.data)}`];
    }
    case 'read':
      return [
        '',
        `[Read Receipt] Employment #${frame.employmentId} - Last read: ${frame.lastReadMessageId ?? frame.messageId ?? ''}`,
      ];
    case 'error':
      // The public client printed an empty line here (it read `content`, which error frames lack);
      // the code and the message are what a user needs.
      return ['', `[Error] ${frame.code}: ${frame.message}`];
    case 'ping':
    case 'pong':
      return [];
    default: {
      const type = (frame as { type?: unknown }).type;
      return ['', `[Unknown Message Type: ${String(type)}]`];
    }
  }
}

/**
 * The public client's lines for a connection state change (`⟳ Connecting...`, `✓ Connection
 * established`, `✗ Connection lost`, `⟳ Reconnecting...`). A close asked for prints nothing: the
 * command says `Disconnecting...` itself.
 */
export function formatConnectionState(state: string, previous: string): string[] {
  switch (state) {
    case 'connecting':
      return ['⟳ Connecting...'];
    case 'open':
      return ['✓ Connection established'];
    case 'reconnecting':
      return previous === 'open' ? ['✗ Connection lost', '⟳ Reconnecting...'] : ['⟳ Reconnecting...'];
    case 'closed':
      return previous === 'closing' ? [] : ['✗ Connection lost'];
    default:
      return [];
  }
}

/** Joins lines the way they are printed: each one followed by a newline. */
export function toText(lines: readonly string[]): string {
  return lines.map((line) => `${line}\n`).join('');
}

/**
 * The one-line description of a notification, as the public client words it. Unknown events fall
 * back to `Task Event: <event>` (per domain) or `Event: <event>`; a missing value prints as an empty
 * string, a number as its decimal text (where the public client gave up and printed the fallback).
 */
export function notificationSentence(
  domain: string,
  event: string,
  data: Record<string, unknown> = {},
): string {
  const s = (key: string) => text(data[key]);
  switch (domain) {
    case 'task':
      switch (event) {
        case 'task_application':
          return `Agent '${s('applicantAgentName')}' applied for your task '${s('taskTitle')}' (Bounty: ${s('bounty')})`;
        case 'task_application_accepted':
          return `Your application for task '${s('taskTitle')}' was accepted by '${s('publisherAgentName')}'`;
        case 'task_application_rejected':
          return `Your application for task '${s('taskTitle')}' was rejected by '${s('publisherAgentName')}'`;
        case 'task_submitted':
          return `Worker '${s('submitterAgentName')}' submitted deliverables for task '${s('taskTitle')}'`;
        case 'task_completed':
          return `Task '${s('taskTitle')}' is completed and accepted. Bounty (${s('bounty')}) has been released.`;
        case 'task_cancelled':
          return `Task '${s('taskTitle')}' was cancelled. Reason: ${s('reason')}`;
      }
      return `Task Event: ${event}`;
    case 'service_invocation':
      switch (event) {
        case 'service_invoked':
          return `Agent '${s('callerAgentName')}' invoked your service '${s('serviceTitle')}' (Price: ${s('price')})`;
        case 'result_submitted':
          return `Provider '${s('providerAgentName')}' submitted result for service '${s('serviceTitle')}'`;
        case 'invocation_failed':
          return `Service invocation '${s('serviceTitle')}' failed. Error: ${s('error')}`;
        case 'invocation_timeout':
          return `Service invocation '${s('serviceTitle')}' timed out`;
        case 'invocation_reviewed':
          return `Agent '${s('callerAgentName')}' reviewed your service '${s('serviceTitle')}' with rating ${integer(data.rating)}`;
      }
      return `Service Event: ${event}`;
    case 'employment':
      switch (event) {
        case 'employment_offered':
          return `Agent '${s('employerAgentName')}' offered you an employment (Salary: ${s('salary')}, Duration: ${s('duration')})`;
        case 'employment_accepted':
          return `Agent '${s('employeeAgentName')}' accepted your employment offer`;
        case 'employment_rejected':
          return `Agent '${s('employeeAgentName')}' rejected your employment offer`;
        case 'employment_terminated':
          return `Your employment with '${s('employerAgentName')}' was terminated. Reason: ${s('reason')}`;
        case 'employment_completed':
          return `Your employment with '${s('employerAgentName')}' has completed`;
      }
      return `Employment Event: ${event}`;
    default:
      return `Event: ${event}`;
  }
}

/**
 * The line for one webhook report. Delivered and failed lines are the public client's
 * (`[Webhook] ✓ Forwarded to <url> (status: 200)`, `[Webhook Error] …`); retries, replies and
 * ignored answers are c4c-runner's own, in the same style. URLs are redacted of tokens.
 */
export function formatWebhookReport(report: WebhookReport): string[] {
  const url = redactText(report.url);
  switch (report.type) {
    case 'delivered':
      return [
        report.kind === 'notification'
          ? `[Webhook] ✓ Forwarded notification to ${url} (status: ${report.status})`
          : `[Webhook] ✓ Forwarded to ${url} (status: ${report.status})`,
      ];
    case 'failed': {
      const what =
        report.status !== undefined
          ? `[Webhook Error] Received status ${report.status} from ${url}`
          : `[Webhook Error] Failed to send: ${redactText(report.error ?? 'unknown error')}`;
      if (report.retryIn !== undefined) {
        return [
          `${what}; retrying in ${seconds(report.retryIn)} (attempt ${report.attempt + 1}${Number.isFinite(report.attempts) ? ` of ${report.attempts}` : ''})`,
        ];
      }
      if (report.final)
        return [
          `${what}; gave up after ${report.attempt} attempt${report.attempt === 1 ? '' : 's'}, will retry later`,
        ];
      return [what];
    }
    case 'rejected':
      return [
        `[Webhook Error] Received status ${report.status} from ${url}; not retried (the webhook refused it)`,
      ];
    case 'reply':
      return [`[Webhook] ↩ Replying to ${report.event} with the answer from ${url}`];
    case 'ignored':
      return [`[Webhook] Response from ${url} not sent: ${report.reason}`];
  }
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

function integer(value: unknown): string {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? String(Math.trunc(n)) : '0';
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** The real platform may leave `domain` empty; a known event names its own. */
function domainOf(event: string): string | undefined {
  for (const def of Object.values(NOTIFICATIONS)) if (def.event === event) return def.domain;
  return undefined;
}
