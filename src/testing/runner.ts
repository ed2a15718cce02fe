/** The runner under test: the same `createRunner` that `c4c-runner start` uses, nothing mocked. */
import type { ResolvedConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createRunner, type Runner } from '../runner/runner.js';
import type { StateStore } from '../state/store.js';

export interface TestRunner {
  readonly runner: Runner;
  close(): Promise<void>;
}

/**
 * A handler still running when the test closes gets this long before `ctx.signal` aborts it: short,
 * so that a stuck handler fails its test instead of holding up `afterAll` past vitest's hook timeout.
 */
const DRAIN_MS = 2_000;

/**
 * Creates and starts the runner; resolves once its socket is open. `state` is where `ctx.state` is
 * kept: the test's own store, never the project's `.c4c/state/`.
 */
export async function startTestRunner(
  config: ResolvedConfig,
  logger: Logger,
  state: StateStore,
): Promise<TestRunner> {
  const runner = createRunner(config, { logger, state });
  try {
    await runner.start();
  } catch (error) {
    await runner.close({ drainTimeout: 0 }).catch(() => undefined);
    throw error;
  }
  return { runner, close: () => runner.close({ drainTimeout: DRAIN_MS }) };
}
