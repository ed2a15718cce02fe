/**
 * The soak: `c4c-runner start` as a child process against the embedded platform, 5,000 messages over
 * 200 employments (the agent employee in most, employer in some), 20 dropped connections during the
 * run, a stretch of rate limiting, and one `kill -9` of the runner followed by a restart. Every message must be answered exactly
 * once, and the replies of each employment must come in the order of its messages. The figures
 * (duration, messages/s, reconnects, duplicates suppressed) are printed and written to
 * `$C4C_SOAK_REPORT` when set.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { makeProject } from '../helpers/runner.js';

const MESSAGES = 5_000;
const EMPLOYMENTS = 200;
const DROPS = 20;
/** Messages are sent over this long; drops spread across it, the kill lands in its middle. */
const SEND_MS = 48_000;
const TICK_MS = 40;
/** Replies per second the platform accepts during the rate-limited stretch (the load offers ~100). */
const RATE_LIMIT = 60;

const EMPLOYER = { id: 1, name: 'Employer', token: 'cl_soak_employer' };
const WORKER = { id: 2, name: 'Worker', token: 'cl_soak_worker' };
const CONTRACTOR = { id: 3, name: 'Contractor', token: 'cl_soak_contractor' };

/** Every fourth employment has the worker as employer (its contractor writes to it). */
const employments = Array.from({ length: EMPLOYMENTS }, (_, i) => {
  const id = i + 1;
  return id % 4 === 0
    ? { id, employerAgentId: WORKER.id, employeeAgentId: CONTRACTOR.id, salary: '1' }
    : { id, employerAgentId: EMPLOYER.id, employeeAgentId: WORKER.id, salary: '1' };
});
const otherParty = (employmentId: number) => (employmentId % 4 === 0 ? CONTRACTOR.id : EMPLOYER.id);

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

it(
  'soak: 5,000 messages, 200 employments, 20 dropped connections, one kill -9 — each answered once, in order',
  { timeout: 180_000 },
  async () => {
    const platform: Platform = await startPlatform({
      seed: { agents: [EMPLOYER, WORKER, CONTRACTOR], employments },
      faults: true,
    });
    cleanup.push(() => platform.close());
    const project = await makeProject({
      'c4c.config.json': JSON.stringify({
        concurrency: 16,
        reconnect: { initialDelay: 50, maxDelay: 500 },
        logLevel: 'warn',
      }),
      'handlers/message.ts': `export default async (ctx) => 'echo: ' + ctx.event.content;\n`,
    });
    cleanup.push(() => project.remove());

    // What the platform sees: worker sockets opened, message frames written (a repeated id is a duplicate it drops).
    let connections = 0;
    platform.on('connection', ({ agentId }) => {
      if (agentId === WORKER.id) connections++;
    });
    const framesById = new Map<string, number>();
    /** Which life of the runner first wrote each id: a later life writing it again re-handled its message. */
    const lifeOf = new Map<string, number>();
    let rehandled = 0;
    /** Replies the platform dropped because it already stored their id (seen before it handles the frame). */
    let duplicates = 0;
    let duplicatesFromTheRestart = 0;
    platform.on('frame', ({ agentId, frame }) => {
      if (agentId !== WORKER.id || frame.type !== 'message' || !frame.messageId) return;
      framesById.set(frame.messageId, (framesById.get(frame.messageId) ?? 0) + 1);
      const stored =
        platform.state.messageByMessageId(Number(frame.employmentId), frame.messageId) !== undefined;
      if (stored) duplicates++;
      const first = lifeOf.get(frame.messageId);
      if (first === undefined) lifeOf.set(frame.messageId, lives.length);
      else if (first < lives.length) {
        lifeOf.set(frame.messageId, lives.length);
        rehandled++;
        if (stored) duplicatesFromTheRestart++;
      }
    });
    let replies = 0;
    platform.on('message', (m) => {
      if (m.senderAgentId === WORKER.id) replies++;
    });
    let rateLimited = 0;
    platform.on('rejected', ({ agentId, code }) => {
      if (agentId === WORKER.id && code === 'RATE_LIMITED') rateLimited++;
    });

    const lives: CliProcess[] = [];
    const startRunner = async (): Promise<CliProcess> => {
      const opened = connections;
      const cli = spawnCli(['start', '--cwd', project.dir], {
        cwd: project.dir,
        env: { HOME: join(project.dir, 'home'), C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: WORKER.token },
      });
      cleanup.push(() => cli.stop('SIGKILL'));
      lives.push(cli);
      await waitFor(() => connections > opened || cli.child.exitCode !== null, {
        timeout: 30_000,
        message: 'the runner connected',
      });
      expect(cli.child.exitCode, cli.output()).toBeNull();
      return cli;
    };

    const started = Date.now();
    let runner = await startRunner();

    // The load: MESSAGES messages round-robin over the employments, at an even pace over SEND_MS.
    const expected = new Map<number, string[]>();
    let sent = 0;
    let sentWhileDown = 0;
    let down = false;
    const perTick = Math.ceil(MESSAGES / (SEND_MS / TICK_MS));
    const load = new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          for (let i = 0; i < perTick && sent < MESSAGES; i++) {
            const employmentId = (sent % EMPLOYMENTS) + 1;
            const content = `m${sent}`;
            platform.sendMessage({ employmentId, content, from: otherParty(employmentId) });
            let list = expected.get(employmentId);
            if (!list) expected.set(employmentId, (list = []));
            list.push(`echo: ${content}`);
            sent++;
            if (down) sentWhileDown++;
          }
          if (sent >= MESSAGES) {
            clearInterval(timer);
            resolve();
          }
        } catch (error) {
          clearInterval(timer);
          reject(error as Error);
        }
      }, TICK_MS);
      cleanup.push(async () => clearInterval(timer));
    });

    // The faults, spread over the load: DROPS cuts of the worker's sockets, and half-way a kill -9
    // of the runner process, restarted after a pause during which messages keep coming.
    let drops = 0;
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const chaos = (async () => {
      const every = Math.floor(SEND_MS / (DROPS + 2));
      let killed = false;
      while (drops < DROPS) {
        await pause(every);
        if (!killed && drops === DROPS / 2) {
          killed = true;
          down = true;
          runner.child.kill('SIGKILL');
          expect(await runner.exited).toBe('SIGKILL');
          await pause(1_500);
          runner = await startRunner();
          down = false;
          continue;
        }
        if (platform.faults.dropConnections() > 0) drops++;
        // A stretch of rate limiting below the offered load: refused replies are retried, in order.
        if (drops === 3) platform.faults.rateLimit(RATE_LIMIT);
        if (drops === 7) platform.faults.rateLimit(null);
      }
    })();
    await Promise.all([load, chaos]);
    // Every cut is followed by a new socket (the last one too, before the runner is stopped).
    await waitFor(() => connections === lives.length + DROPS, {
      timeout: 15_000,
      message: 'the reconnect after the last cut',
    });

    await waitFor(() => replies >= MESSAGES, {
      timeout: 90_000,
      interval: 50,
      message: `${MESSAGES} replies (have ${replies})`,
    });
    const duration = Date.now() - started;
    // Drained and stopped, the runner can send nothing more: what is stored now is the final answer.
    expect(await runner.stop('SIGTERM'), runner.output()).toBe(0);

    for (const [employmentId, contents] of expected) {
      const answered = platform.state
        .messagesOf(employmentId)
        .filter((m) => m.senderAgentId === WORKER.id)
        .map((m) => m.content);
      expect(answered, `employment ${employmentId}`).toEqual(contents);
    }
    const unread = employments.reduce(
      (n, e) =>
        n +
        platform.state.messagesOf(e.id).filter((m) => m.receiverAgentId === WORKER.id && !m.readAt).length,
      0,
    );
    expect(unread).toBe(0);
    expect(replies).toBe(MESSAGES);
    expect(drops).toBe(DROPS);
    expect(rateLimited).toBeGreaterThan(0);
    expect(lives).toHaveLength(2);

    const figures = {
      messages: MESSAGES,
      employments: EMPLOYMENTS,
      durationMs: duration,
      messagesPerSecond: Math.round((MESSAGES / duration) * 1000),
      droppedConnections: drops,
      kills: 1,
      connections,
      reconnects: connections - lives.length,
      sentWhileDown,
      rateLimitedRefusals: rateLimited,
      framesWritten: [...framesById.values()].reduce((n, count) => n + count, 0),
      duplicatesSuppressed: duplicates,
      duplicatesFromTheRestart,
      repliesWrittenAgainAfterTheKill: rehandled,
    };
    console.info(`soak figures: ${JSON.stringify(figures)}`);
    if (process.env.C4C_SOAK_REPORT)
      await writeFile(process.env.C4C_SOAK_REPORT, `${JSON.stringify(figures, null, 2)}\n`);
    expect(figures.reconnects).toBe(DROPS);
  },
);
