/**
 * The scale-out chaos test (issue 16): three `c4c-runner start --redis` processes serve one agent
 * against a real redis-server and the embedded platform. 5,000 messages over 100 employments while
 * the platform drops the agent's socket now and then and each process in turn is killed -9 and
 * restarted. Counted from the platform's own record: every message answered exactly once, in order
 * per employment, all read; at least two processes answered before the first kill; and almost no
 * message ran in more than one process (each run appends a line to a file the test reads).
 *
 * Needs redis-server (.ci/run installs it); without it the test fails saying so, never skips.
 * The figures go to `$C4C_CHAOS_REPORT` when set.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { EMPLOYER, scaleWorld, waitForReplies, type ScaleWorld } from '../helpers/scale.js';
import { waitFor } from '../helpers/wait.js';

const MESSAGES = 5_000;
const EMPLOYMENTS = 100;
const SEND_MS = 30_000;
const TICK_MS = 40;
const DROP_EVERY_MS = 4_000;

const HANDLER = `import { appendFileSync } from 'node:fs';
import { defineHandler } from 'c4c-runner';
export default defineHandler('message', (ctx) => {
  appendFileSync(process.env.C4C_RUNS_FILE, process.pid + ' ' + ctx.event.employmentId + '/' + ctx.event.content + '\\n');
  return process.pid + ':' + ctx.event.content;
});`;

let redis: RedisServer | undefined;
let world: ScaleWorld | undefined;
afterEach(async () => {
  await world?.close();
  await redis?.stop();
});

it(
  'three processes through Redis: 5,000 messages, 100 employments, drops, each process killed -9 in turn — each answered once, in order, all read',
  { timeout: 240_000 },
  async () => {
    redis = await startRedis();
    world = await scaleWorld({
      redisUrl: redis.url,
      employments: EMPLOYMENTS,
      handler: HANDLER,
      config: {
        concurrency: 16,
        reconnect: { initialDelay: 50, maxDelay: 500 },
        redis: { partitions: 16, lease: 1_500 },
      },
      platform: { faults: true },
    });
    const w = world;
    const runs = join(w.project.dir, 'runs.log');
    const env = { C4C_RUNS_FILE: runs };
    const first = [w.start(env), w.start(env), w.start(env)];
    for (const p of first) await p.waitForLine('c4c-runner started', 30_000);
    for (const p of first) await p.waitForLine(/consuming partitions: \d/, 30_000);

    const started = Date.now();
    const sent = new Map<number, number>();
    let total = 0;
    let nextKill = 0;
    let pidsBeforeFirstKill = 0;
    let drops = 0;
    let lastDrop = started;
    const perTick = Math.ceil(MESSAGES / (SEND_MS / TICK_MS));
    while (total < MESSAGES) {
      for (let i = 0; i < perTick && total < MESSAGES; i++) {
        const employmentId = (total % EMPLOYMENTS) + 1;
        const n = (sent.get(employmentId) ?? 0) + 1;
        sent.set(employmentId, n);
        w.platform.sendMessage({ employmentId, content: `m${n}`, from: EMPLOYER });
        total++;
      }
      // Each of the first three processes killed -9 in turn (at 1/4, 2/4, 3/4), a new one started.
      if (nextKill < 3 && total >= ((nextKill + 1) * MESSAGES) / 4) {
        if (nextKill === 0) pidsBeforeFirstKill = new Set(w.replies.map((r) => r.content.split(':')[0])).size;
        first[nextKill]!.child.kill('SIGKILL');
        await first[nextKill]!.exited;
        w.start(env);
        nextKill++;
      }
      if (Date.now() - lastDrop > DROP_EVERY_MS) {
        drops += w.platform.faults.dropConnections();
        lastDrop = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    await waitForReplies(w, MESSAGES, 150_000);

    // Exactly once, in order, per employment.
    for (const [employmentId, count] of sent) {
      const contents = w.replies
        .filter((r) => r.employmentId === employmentId)
        .map((r) => r.content.split(':')[1]);
      expect(contents, `employment ${employmentId}`).toEqual(
        Array.from({ length: count }, (_, i) => `m${i + 1}`),
      );
    }
    expect(w.replies).toHaveLength(MESSAGES);
    expect(pidsBeforeFirstKill).toBeGreaterThanOrEqual(2);
    expect(w.sockets.peak).toBe(1);
    await waitFor(
      () =>
        [...w.platform.state.messages.values()].every(
          (m) => m.senderAgentId !== EMPLOYER || m.readAt !== null,
        ),
      { timeout: 30_000, message: 'every message marked read' },
    );

    // Runs per message, from the handlers' own record.
    const byMessage = new Map<string, Set<string>>();
    for (const line of (await readFile(runs, 'utf8')).split('\n')) {
      const [pid, key] = line.split(' ');
      if (!pid || !key) continue;
      let pids = byMessage.get(key);
      if (!pids) byMessage.set(key, (pids = new Set()));
      pids.add(pid);
    }
    const inTwo = [...byMessage.values()].filter((pids) => pids.size > 1).length;
    const report = {
      messages: MESSAGES,
      employments: EMPLOYMENTS,
      processesBeforeFirstKill: pidsBeforeFirstKill,
      kills: 3,
      drops,
      socketsOpened: w.sockets.opened,
      ranInMoreThanOneProcess: inTwo,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    console.log(`chaos: ${JSON.stringify(report)}`);
    if (process.env.C4C_CHAOS_REPORT)
      await writeFile(process.env.C4C_CHAOS_REPORT, JSON.stringify(report, null, 2));
    expect(byMessage.size).toBe(MESSAGES);
    // A kill -9 re-runs what the killed process held unanswered; "almost none" is under 2%.
    expect(inTwo).toBeLessThan(MESSAGES * 0.02);
  },
);
