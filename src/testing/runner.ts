/** The runner under test: the same `createRunner` that `c4c-runner start` uses, nothing mocked. */
import type { ResolvedConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createRunner, type Runner } from '../runner/runner.js';

export type TestRunner = Pick<Runner, 'close' | 'stats' | 'state'>;

/** Creates and starts the runner; resolves once its socket is open. */
export async function startTestRunner(config: ResolvedConfig, logger: Logger): Promise<TestRunner> {
  const runner = createRunner(config, { logger });
  try {
    await runner.start();
  } catch (error) {
    await runner.close().catch(() => undefined);
    throw error;
  }
  return runner;
}
