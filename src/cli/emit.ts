/**
 * `c4c-runner emit <event>`: make the local platform raise a notification for your agent, through
 * the platform's own REST calls (acting as the other party), so the handler runs as it will in
 * production.
 */
import type { Command } from 'commander';
import { C4cError } from '../errors.js';

interface EmitFlags {
  input?: string;
  title?: string;
  url?: string;
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
    .option('--url <url>', 'platform API base URL (default: the running dev)')
    .action(async (event: string, flags: EmitFlags) => {
      const { EMITTABLE, emit, isEmittable } = await import('../client/emit.js');
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
      const { findDevState } = await import('./dev-state.js');
      const state = await findDevState(process.cwd());
      if (!state) {
        throw new C4cError(
          'E_CONFIG',
          'emit: no running `c4c-runner dev` found in this folder; start it first (emit acts on its local platform)',
        );
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(flags.input ?? '{}') as Record<string, unknown>;
      } catch (error) {
        throw new C4cError('E_CONFIG', `emit: --input is not valid JSON: ${(error as Error).message}`);
      }
      const result = await emit(
        event,
        {
          url: flags.url ?? state.url,
          agent: state.agent,
          other: state.employer,
          ...(state.rival ? { rival: state.rival } : {}),
        },
        { input, ...(flags.title ? { title: flags.title } : {}) },
      );
      const ids = Object.entries(result)
        .filter(([key]) => key !== 'event')
        .map(([key, value]) => `${key} ${String(value)}`)
        .join(', ');
      process.stdout.write(`✓ ${event} raised${ids ? ` (${ids})` : ''}\n`);
    });
}
