/**
 * The store `ctx.state` uses, from the config's `state` key: memory, files (`.c4c/state/` of the
 * project, or a folder of the user's), or the user's own store.
 */
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { FileStateStore } from './file.js';
import { MemoryStateStore } from './memory.js';
import type { StateStore } from './store.js';

/** The folder of the file store when the config names none, relative to the project. */
export const DEFAULT_STATE_DIR = join('.c4c', 'state');

/**
 * The store for a config. `fallback` is used when the config has no `state` key (`start`: 'file').
 * A user's store object is returned as it is; `logger` hears about failed background writes.
 */
export function stateStoreFor(
  config: Pick<ResolvedConfig, 'state' | 'root'>,
  fallback: 'memory' | 'file',
  logger?: Logger,
): StateStore {
  const setting = config.state ?? fallback;
  if (setting === 'memory') return new MemoryStateStore();
  if (setting === 'file')
    return new FileStateStore({ dir: join(config.root, DEFAULT_STATE_DIR), ...(logger ? { logger } : {}) });
  if ('get' in setting) return setting;
  return new FileStateStore({ dir: setting.dir, ...(logger ? { logger } : {}) });
}
