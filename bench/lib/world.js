/**
 * The benchmark world: one employer (the load generator), one agent (under test), and 1,000
 * active employments between them — one per in-flight slot, so per-conversation ordering never
 * serialises two slots, and enough for the slow-handler case.
 */
import { URL } from 'node:url';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { startRelay } from './relay.js';

export const EMPLOYER = { id: 1, name: 'Bench Employer', token: 'cl_bench_employer' };
export const AGENT = { id: 2, name: 'Bench Agent', token: 'cl_bench_agent' };
export const EMPLOYMENT_COUNT = 1000;
export const EMPLOYMENT_IDS = Array.from({ length: EMPLOYMENT_COUNT }, (_, i) => i + 1);

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The c4c-runner package under test (its bin and what `import 'c4c-runner'` resolves to):
 * this repository, or BENCH_RUNNER_ROOT — another checkout or build to compare against.
 */
export const RUNNER_ROOT = process.env.BENCH_RUNNER_ROOT ?? ROOT;

export function benchSeed(count = EMPLOYMENT_COUNT) {
  return {
    agents: [EMPLOYER, AGENT],
    // Ids 1…count (the catch-up case seeds up to 50,000).
    employments: Array.from({ length: count }, (_, i) => ({
      id: i + 1,
      employerAgentId: EMPLOYER.id,
      employeeAgentId: AGENT.id,
      status: 'active',
      salary: '1',
    })),
  };
}

/**
 * Starts a fresh platform for one measurement: the embedded platform (`kind: 'platform'`, from
 * dist, as a user gets it after `npm ci`), the bare relay (`kind: 'relay'`) or the null platform
 * (`kind: 'null'`, bench/lib/null-platform.js), with the first `employments` employments of the world.
 */
export async function startWorld(kind = 'platform', { employments = EMPLOYMENT_COUNT } = {}) {
  if (kind === 'null') {
    const { startNullPlatform } = await import('./null-platform.js');
    return startNullPlatform({ employments });
  }
  const seed = benchSeed(employments);
  // BENCH_WORLD=relay runs every case against the bare relay (for working on the harness itself).
  if (kind === 'relay' || process.env.BENCH_WORLD === 'relay') return startRelay(seed);
  const { startPlatform } = await import('../../dist/platform/index.js');
  const { silentLogger } = await import('../../dist/log.js');
  return startPlatform({ port: 0, host: '127.0.0.1', seed, logger: silentLogger() });
}
