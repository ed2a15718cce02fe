/**
 * @module
 * The status feed a dev session hands its embedded platform for the playground page: the handler
 * files (loaded, or failed with the error) and the outcome of every event. Built from the session's
 * own events, so the platform learns about handlers without importing the runner.
 */
import { relative } from 'node:path';
import type { DevStatusFeed, HandlerStatus, OutcomeStatus } from '../platform/index.js';
import type { EventOutcome } from '../runner/pipeline.js';
import type { DevSession } from './session.js';
import { formatOutcome } from './outcome-format.js';

type Update = Parameters<Parameters<DevStatusFeed['subscribe']>[0]>[0];

/** The feed of one session; it follows config restarts (the session's `runner` is read each time). */
export function createStatusFeed(session: DevSession): DevStatusFeed {
  const listeners = new Set<(update: Update) => void>();
  const publish = (update: Update) => {
    for (const listener of listeners) listener(update);
  };
  // Files whose last load failed, by absolute path: the previous version (if any) keeps serving.
  const failures = new Map<string, string>();
  const fileOf = (error: { details?: Record<string, unknown> | undefined }) =>
    typeof error.details?.file === 'string' ? error.details.file : undefined;
  for (const problem of session.startupProblems) {
    const file = fileOf(problem);
    if (file) failures.set(file, problem.message);
  }

  session.on('reload', (event) => {
    if (event.kind === 'failed')
      failures.set(event.file || fileOf(event.error) || event.label, event.error.message);
    else failures.delete(event.file);
    publish({ type: 'handlers' });
  });
  session.on('restart', () => publish({ type: 'handlers' }));
  session.on('outcome', (outcome) => publish({ type: 'outcome', outcome: outcomeStatus(outcome) }));

  return {
    handlers() {
      const root = session.config.root;
      const label = (file: string) => relative(root, file) || file;
      const rows = new Map<string, HandlerStatus>();
      const registry = session.runner.registry;
      for (const name of registry.names()) {
        const entry = registry.get(name);
        if (entry) rows.set(entry.file, { file: entry.label, event: name, state: 'loaded' });
      }
      for (const [file, error] of failures) {
        const serving = rows.get(file);
        rows.set(file, {
          file: serving?.file ?? label(file),
          ...(serving?.event ? { event: serving.event } : {}),
          state: 'failed',
          error: serving ? `${error} (the previous version keeps serving)` : error,
        });
      }
      return [...rows.values()].sort((a, b) => a.file.localeCompare(b.file));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** An outcome as the page shows it: dev's line, and the ids that tie it to a raised event. */
export function outcomeStatus(outcome: EventOutcome): OutcomeStatus {
  const line = formatOutcome(outcome);
  const { routed } = outcome;
  const status: OutcomeStatus = { event: routed.name, ok: line.ok, text: line.text };
  if (routed.name === 'message') status.employmentId = Number(routed.event.employmentId);
  const data = (routed.event as { data?: Record<string, unknown> }).data;
  if (data) {
    const ids: Record<string, number> = {};
    for (const key of ['taskId', 'applicationId', 'invocationId', 'serviceId', 'employmentId']) {
      const value = Number(data[key]);
      if (Number.isInteger(value) && value > 0) ids[key] = value;
    }
    status.ids = ids;
  }
  return status;
}
