/**
 * Case 1, echo: throughput and latency with 1, 16 and 256 messages in flight, for each agent
 * under test, against a fresh platform each (so both see the same stored state).
 */
import { quantile } from '../lib/stats.js';
import { Generator } from '../lib/generator.js';
import { cpuProbe } from '../lib/proc.js';
import { EMPLOYER, EMPLOYMENT_IDS, startWorld } from '../lib/world.js';

/**
 * One run of the echo case for one subject. `launch(platform)` starts the agent.
 * Returns { [inFlight]: { rate, p50, p99, agentCpu, benchCpu, lost } }.
 */
export async function echoRun({ world = 'platform', launch, levels, warmupMs, measureMs, primeMs = 1000 }) {
  const platform = await startWorld(world);
  let agent;
  let generator;
  try {
    agent = await launch(platform);
    // The null platform is its own load generator (it pushes frames down the agent's socket); the
    // others are driven by an employer over a second socket.
    generator = platform.load
      ? platform.load()
      : await Generator.connect({ wsUrl: platform.wsUrl, token: EMPLOYER.token });
    // The runner's catch-up reads every employment's history at start and holds its live messages
    // until then; a reply on the last employment means it is done (the raw agent answers at once).
    const catchUpMs = await generator.roundTrip(EMPLOYMENT_IDS[EMPLOYMENT_IDS.length - 1]);
    // Priming, not measured: the JIT warms up and lazily loaded parts (the HTTP client of the
    // first acknowledgement) load before any window opens.
    await generator.closedLoop({
      inFlight: 16,
      employments: EMPLOYMENT_IDS,
      warmupMs: 0,
      measureMs: primeMs,
    });
    const out = { catchUpMs };
    for (const inFlight of levels) {
      const cpu = cpuProbe(agent.pid);
      // On the null platform, also what the agent asked of it over the window (delivery-confirmation
      // pings, acknowledgements), per reply.
      const counters = platform.counters;
      const probe = (start) => {
        if (!start) return { cpu: cpu(), pings: counters?.controlPings, reads: counters?.rest.markRead ?? 0 };
        return {
          ...cpu(start.cpu),
          pings: counters ? counters.controlPings - start.pings : undefined,
          reads: counters ? (counters.rest.markRead ?? 0) - start.reads : undefined,
        };
      };
      const result = await generator.closedLoop({
        inFlight,
        employments: EMPLOYMENT_IDS,
        warmupMs,
        measureMs,
        probe,
      });
      if (generator.errors.length)
        throw new Error(`the platform refused frames: ${generator.errors.slice(0, 3).join('; ')}`);
      if (result.replies === 0) throw new Error(`no reply at ${inFlight} in flight; see ${agent.logFile}`);
      out[inFlight] = {
        rate: result.rate,
        p50: quantile(result.latenciesUs, 0.5),
        p99: quantile(result.latenciesUs, 0.99),
        agentCpu: result.usage.agentCpu,
        benchCpu: result.usage.benchCpu,
        // CPU time per reply: less sensitive to a busy machine than the rates themselves.
        agentUsPerMsg: (result.usage.agentCpu / result.rate) * 1e6,
        benchUsPerMsg: (result.usage.benchCpu / result.rate) * 1e6,
        lost: result.lost,
        ...(counters
          ? {
              pingsPerReply: result.usage.pings / result.replies,
              readsPerReply: result.usage.reads / result.replies,
            }
          : {}),
      };
    }
    if (platform.counters) {
      const { rest, unexpected, jsonPings, controlPings, otherFrames } = platform.counters;
      out.platform = { rest: { ...rest }, unexpected: [...unexpected], jsonPings, controlPings, otherFrames };
    }
    return out;
  } finally {
    await generator?.close();
    await agent?.stop();
    await platform.close();
  }
}
