/**
 * Case 2, slow handlers: every handler awaits 100 ms, concurrency 256, 1,000 employments each with
 * one message in flight — the ideal is 256 / 0.1 s = 2,560 replies/s.
 */
import { quantile } from '../lib/stats.js';
import { Generator } from '../lib/generator.js';
import { cpuProbe } from '../lib/proc.js';
import { EMPLOYER, EMPLOYMENT_IDS, startWorld } from '../lib/world.js';

export const SLOW_DELAY_MS = 100;
export const SLOW_IDEAL = (256 * 1000) / SLOW_DELAY_MS;

/** One run for one subject: { rate, p50, agentCpu, lost }. */
export async function slowRun({ launch, warmupMs, measureMs }) {
  const platform = await startWorld('platform');
  let agent;
  let generator;
  try {
    agent = await launch(platform);
    generator = await Generator.connect({ wsUrl: platform.wsUrl, token: EMPLOYER.token });
    // The runner's catch-up reads every employment's history at start and holds its live messages
    // until then; a reply on the last employment means it is done (the raw agent answers at once).
    const catchUpMs = await generator.roundTrip(EMPLOYMENT_IDS[EMPLOYMENT_IDS.length - 1]);
    const result = await generator.closedLoop({
      inFlight: EMPLOYMENT_IDS.length,
      employments: EMPLOYMENT_IDS,
      warmupMs,
      measureMs,
      probe: cpuProbe(agent.pid),
      drainMs: 15_000,
    });
    if (generator.errors.length)
      throw new Error(`the platform refused frames: ${generator.errors.slice(0, 3).join('; ')}`);
    return {
      catchUpMs,
      rate: result.rate,
      p50: quantile(result.latenciesUs, 0.5) / 1000,
      agentCpu: result.usage.agentCpu,
      benchCpu: result.usage.benchCpu,
      lost: result.lost,
    };
  } finally {
    await generator?.close();
    await agent?.stop();
    await platform.close();
  }
}
