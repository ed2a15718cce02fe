/**
 * What `ctx.state` and `ctx.history()` read from (the runner's `ctx` class, src/runner/run.ts,
 * builds them on first use), and this agent's id, asked once.
 */
import type { ApiClient } from '../api/client.js';
import type { Id } from '../protocol/ids.js';
import type { StateStore } from './store.js';

/** The runner-wide parts: the store, the API, this agent's id (read once). */
export interface StateSource {
  store: StateStore;
  api: ApiClient;
  agentId: () => Promise<Id>;
}

/** This agent's id, asked of the platform once (and again after a failure). */
export function agentIdOnce(api: ApiClient): () => Promise<Id> {
  let id: Promise<Id> | undefined;
  return () => {
    id ??= api.me().then(
      (me) => me.id,
      (error: unknown) => {
        id = undefined;
        throw error;
      },
    );
    return id;
  };
}
