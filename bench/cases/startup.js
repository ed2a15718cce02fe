/**
 * Case 4, start-up and memory: spawn → socket open on the platform, then a few echoes (so the
 * handler path is loaded), a second of idleness, and the resident set size.
 */
import { clearTimeout, setTimeout } from 'node:timers';
import { Generator, sleep } from '../lib/generator.js';
import { rssMiB } from '../lib/proc.js';
import { EMPLOYER, EMPLOYMENT_IDS, startWorld } from '../lib/world.js';

/**
 * One run for one subject: { spawnMs, rssMiB }. The world has one employment unless told (like the
 * default world); with many, the runner's catch-up reads each one's history at start.
 */
export async function startupRun({ launch, idleMs = 1000, echoes = 20, employments = 1 }) {
  const platform = await startWorld('platform', { employments });
  let agent;
  let generator;
  try {
    generator = await Generator.connect({ wsUrl: platform.wsUrl, token: EMPLOYER.token });
    agent = await launch(platform);
    // Sequential echoes: the first one tells how long until the agent actually answers.
    for (let i = 0; i < echoes; i += 1) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no reply within 10 s; see ${agent.logFile}`)),
          10_000,
        );
        generator.onReply = () => {
          clearTimeout(timer);
          resolve();
        };
        generator.send(EMPLOYMENT_IDS[i % employments]);
      });
    }
    generator.onReply = null;
    await sleep(idleMs);
    return { spawnMs: agent.spawnMs, rssMiB: rssMiB(agent.pid) };
  } finally {
    await generator?.close();
    await agent?.stop();
    await platform.close();
  }
}
