/**
 * `c4c-runner emit <event>`: make the local platform raise a notification for your agent, through
 * the platform's own REST calls (acting as the other party), so the handler runs as it will in
 * production — then wait for the agent's answer as the platform saw it and print it.
 */
import type { Command } from 'commander';
import { C4cError } from '../errors.js';

interface EmitFlags {
  input?: string;
  title?: string;
  url?: string;
  agent?: string;
  wait: boolean;
  timeout: string;
}

export function registerEmit(program: Command): void {
  program
    .command('emit')
    .description('Raise a notification for the agent of a running `dev` (e.g. `emit task-accepted`).')
    .argument(
      '<event>',
      'the event, as its handler file is named: task-accepted, service-invoked, employment-offered, …',
    )
    .option('--input <json>', 'service input for service-invoked, as JSON', '{"text":"hello"}')
    .option('--title <text>', 'title of the task or service the flow creates')
    .option(
      '--url <url>',
      'an embedded platform (`c4c-runner platform`) to act on (default: the running dev)',
    )
    .option('--agent <id>', 'with --url: the agent to raise it for (default: the one connected agent)')
    .option('--no-wait', "do not wait for the agent's answer")
    .option('--timeout <ms>', "how long to wait for the agent's answer", '10000')
    .action(async (event: string, flags: EmitFlags) => {
      const { EMITTABLE, emit, isEmittable } = await import('../party/emit.js');
      if (!isEmittable(event)) {
        const { closestEventName } = await import('../protocol/events.js');
        const hint =
          event === 'message'
            ? 'to send a message, use `c4c-runner chat <employmentId> -m <text>`'
            : `did you mean "${closestEventName(event)}"?`;
        throw new C4cError(
          'E_CONFIG',
          `emit: cannot raise "${event}"; ${hint}\nEvents: ${EMITTABLE.join(', ')}`,
        );
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(flags.input ?? '{}') as Record<string, unknown>;
      } catch (error) {
        throw new C4cError('E_CONFIG', `emit: --input is not valid JSON: ${(error as Error).message}`);
      }
      const timeout = Number(flags.timeout);
      if (!Number.isInteger(timeout) || timeout <= 0)
        throw new C4cError(
          'E_CONFIG',
          `emit: --timeout must be a positive number of ms, got "${flags.timeout}"`,
        );
      const agentId = flags.agent === undefined ? undefined : Number(flags.agent);
      if (agentId !== undefined && (!Number.isInteger(agentId) || agentId <= 0))
        throw new C4cError(
          'E_CONFIG',
          `emit: --agent must be an agent id (a positive integer), got "${flags.agent}"`,
        );

      const { isAnswered, learnParties, watchAnswer, watchOutcome } = await import('../party/emit-answer.js');
      let parties;
      if (flags.url) {
        parties = await learnParties(flags.url.replace(/\/+$/, ''), agentId);
      } else {
        if (agentId !== undefined)
          throw new C4cError('E_CONFIG', 'emit: --agent goes with --url (a running dev has one agent)');
        const { findDevState } = await import('./dev-state.js');
        const state = await findDevState(process.cwd());
        if (!state) {
          throw new C4cError(
            'E_CONFIG',
            'emit: no running `c4c-runner dev` found in this folder; start it first, or point --url at a `c4c-runner platform`',
          );
        }
        parties = {
          url: state.url,
          agent: state.agent,
          other: state.employer,
          ...(state.rival ? { rival: state.rival } : {}),
        };
      }

      // Listening starts before the raise, so a fast answer cannot slip by.
      const watcher = flags.wait && isAnswered(event) ? await watchAnswer(event, parties) : undefined;
      // Events that take no reply: in dev, the handler's outcome still says what it did.
      const outcomes = flags.wait && !watcher ? await watchOutcome(parties.url, event) : undefined;
      try {
        const result = await emit(event, parties, { input, ...(flags.title ? { title: flags.title } : {}) });
        const ids = Object.entries(result)
          .filter(([key]) => key !== 'event')
          .map(([key, value]) => `${key} ${String(value)}`)
          .join(', ');
        process.stdout.write(`✓ ${event} raised${ids ? ` (${ids})` : ''}\n`);
        if (!flags.wait) return;
        if (!watcher) {
          if (outcomes === 'no-handler')
            process.stdout.write(
              `  the agent has no handler for ${event} (handlers/${event}.ts): nothing ran\n`,
            );
          else if (!outcomes) process.stdout.write(`  ${event} takes no reply: nothing to wait for\n`);
          else {
            const outcome = await outcomes.answer(result, timeout);
            if (outcome) process.stdout.write(`  ${outcome.text}\n`);
            else {
              process.stderr.write(
                `✗ no outcome within ${timeout / 1000} s: is the handler still running? (the dev terminal says)\n`,
              );
              process.exitCode = 1;
            }
          }
          return;
        }
        const answer = await watcher.answer(result, timeout);
        if (!answer) {
          const seconds = `${timeout / 1000} s`;
          process.stderr.write(
            `✗ no answer within ${seconds}: does the agent have a handlers/${event}.ts, and did it return a reply? (the dev terminal says; --timeout to wait longer)\n`,
          );
          process.exitCode = 1;
          return;
        }
        const { formatAnswer } = await import('./answer-format.js');
        process.stdout.write(`  ${formatAnswer(answer)}\n`);
      } finally {
        await watcher?.close();
        if (typeof outcomes === 'object') outcomes.close();
      }
    });
}
