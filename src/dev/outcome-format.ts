/**
 * The line `dev` prints after an event's guide-format lines: what the agent did with it and how long
 * the handler took. Pure (no colour, no clock), so tests compare the text and `dev` adds the colour.
 *
 * Each line names its event (`Employment #3`, `service-invoked`), since with concurrent handlers the
 * outcome of one event may print after the next event's lines.
 */
import { isC4cError } from '../errors.js';
import type { EventOutcome } from '../runner/pipeline.js';

/** Longest reply text shown; a reply is news, not a transcript. */
const MAX_TEXT = 80;

/** One outcome line, e.g. `↳ Employment #1: replied in 3 ms: "echo: hi"`. `ok` is false for a failure. */
export interface OutcomeLine {
  ok: boolean;
  text: string;
}

/**
 * @example
 * formatOutcome({ kind: 'replied', action: 'invocation 4 completed', value: { upper: 'HI' }, durationMs: 2.4, … })
 * // { ok: true, text: '↳ service-invoked: invocation 4 completed in 2 ms: {"upper":"HI"}' }
 */
export function formatOutcome(outcome: EventOutcome): OutcomeLine {
  const who = subject(outcome);
  const ms = `${Math.round(outcome.durationMs)} ms`;
  switch (outcome.kind) {
    case 'replied':
      return { ok: true, text: `↳ ${who}: ${replied(outcome)} in ${ms}${shown(outcome)}` };
    case 'no-reply':
      return { ok: true, text: `↳ ${who}: returned nothing in ${ms} (no reply sent)` };
    case 'retrying':
      return {
        ok: false,
        text: `↻ ${who}: ${outcome.file} failed for a passing reason after ${ms} (attempt ${outcome.attempt ?? 1}): ${errorText(outcome.error)}; again in ${outcome.retryInMs ?? 0} ms`,
      };
    case 'failed':
      return isC4cError(outcome.error, 'E_REPLY')
        ? { ok: false, text: `✗ ${who}: bad reply after ${ms}: ${errorText(outcome.error)}` }
        : { ok: false, text: `✗ ${who}: ${outcome.file} threw after ${ms}: ${errorText(outcome.error)}` };
    case 'timed-out':
      return { ok: false, text: `✗ ${who}: ${outcome.file} timed out after ${ms}` };
    case 'aborted':
      return { ok: false, text: `✗ ${who}: ${outcome.file} was stopped by shutdown after ${ms}` };
    case 'unsent':
      return {
        ok: false,
        text: `✗ ${who}: the reply of ${outcome.file} could not be sent (${errorText(outcome.error)}); it will be retried`,
      };
  }
}

/** `Employment #3` for messages (as the guide's lines say), the event name otherwise. */
function subject(outcome: EventOutcome): string {
  const { routed } = outcome;
  return routed.name === 'message' ? `Employment #${routed.event.employmentId}` : routed.name;
}

/** The action in words, from the pipeline's `action` ("employment 7 accepted", "task application 5 submitted"). */
function replied(outcome: EventOutcome): string {
  const action = outcome.action ?? 'replied';
  if (outcome.routed.name === 'message') return 'replied';
  if (outcome.routed.name === 'task-accepted')
    return action.replace(/^task application (\d+) submitted$/, 'deliverable submitted for application $1');
  return action;
}

/** The reply itself, shortened; an offer's answer says it all already. */
function shown(outcome: EventOutcome): string {
  if (outcome.routed.name === 'employment-offered') return '';
  const value = outcome.value;
  const text =
    typeof value === 'string'
      ? JSON.stringify(shorten(value))
      : typeof value === 'object' && value !== null && 'content' in value && typeof value.content === 'string'
        ? JSON.stringify(shorten(value.content))
        : shorten(json(value));
  return `: ${text}`;
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** One line, at most MAX_TEXT characters. */
function shorten(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ⏎ ');
  return line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT - 1)}…` : line;
}

function errorText(error: unknown): string {
  // A TypeError says something; "Error" and our own class do not.
  if (error instanceof Error)
    return shorten(`${['Error', 'C4cError'].includes(error.name) ? '' : `${error.name}: `}${error.message}`);
  return shorten(String(error));
}
