/**
 * @module
 * Catch-up wired to a runner: its registry says which events have somewhere to go, its pipeline
 * takes frames, its scheduler says when there is room (catch-up fills at most half the backlog,
 * leaving room for live events), its ledger holds the dedupe claims.
 */
import type { Logger } from '../../log.js';
import type { EventName } from '../../protocol/events.js';
import type { ServerFrame } from '../../protocol/frames.js';
import type { CatchUpApi } from './history.js';
import { CatchUp } from './index.js';

/** The runner's parts catch-up needs, for {@link createCatchUp}. */
export interface CatchUpParts {
  api: CatchUpApi;
  registry: { get(name: EventName): unknown };
  /** The fallback handler, if any: it takes caught-up messages (not synthesized notifications). */
  fallback: unknown;
  pipeline: { accept(frame: ServerFrame): 'accepted' | 'duplicate' | 'unhandled' | 'refused' };
  scheduler: { waitForRoom(below: number, signal?: AbortSignal): Promise<void> };
  ledger: { claim(id: string): boolean; release(id: string): void };
  /** The scheduler's backlog limit: catch-up fills at most half of it, leaving room for live events. */
  backlog: number;
  logger: Logger;
}

/** Wires catch-up to a runner's registry, pipeline, scheduler and ledger. */
export function createCatchUp(parts: CatchUpParts): CatchUp {
  const { registry } = parts;
  const limit = Math.max(1, Math.floor(parts.backlog / 2));
  return new CatchUp({
    api: parts.api,
    accept: (frame) => parts.pipeline.accept(frame) !== 'refused',
    claim: (key) => parts.ledger.claim(key),
    release: (key) => parts.ledger.release(key),
    handles: (name) =>
      name === 'message'
        ? Boolean(registry.get('message') ?? parts.fallback)
        : Boolean(registry.get(name) ?? registry.get('notification')),
    waitForRoom: (signal) => parts.scheduler.waitForRoom(limit, signal),
    logger: parts.logger,
    holdLimit: parts.backlog,
  });
}
