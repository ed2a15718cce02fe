/** The line `emit` prints for the agent's answer, as the other party saw it. Pure, for tests. */
import type { Answer } from '../client/emit-answer.js';

const MAX = 200;

/**
 * @example
 * formatAnswer({ kind: 'offer', employmentId: 7, accepted: true }) // '↳ employment 7 accepted'
 */
export function formatAnswer(answer: Answer): string {
  switch (answer.kind) {
    case 'invocation':
      return answer.status === 'completed'
        ? `↳ invocation ${answer.invocationId} completed: ${short(JSON.stringify(answer.output) ?? 'null')}`
        : `✗ invocation ${answer.invocationId} failed: ${short(answer.error)}`;
    case 'deliverable':
      return `↳ deliverable submitted for task ${answer.taskId}${answer.content === undefined ? '' : `: ${short(JSON.stringify(answer.content))}`}`;
    case 'offer':
      return `↳ employment ${answer.employmentId} ${answer.accepted ? 'accepted' : 'rejected'}`;
  }
}

function short(text: string): string {
  return text.length > MAX ? `${text.slice(0, MAX - 1)}…` : text;
}
