/**
 * Case 6, catch-up at scale: the embedded platform seeded with N active employments (1,000, 10,000,
 * 50,000), `c4c-runner start` spawned against it. As soon as its socket opens — its catch-up pass
 * has just begun, no employment is caught up — the generator sends a live message on the last
 * employment (the one a pass in list order reaches last) and times its answer. Measured from the
 * outside: the platform's own request log (a pino stream in this process) gives when the last
 * employment's history was read (total catch-up time) and how many REST requests the agent made
 * per employment; /proc gives the agent's resident memory once the pass is over, and the CPU time
 * the agent and this process (the platform, with the generator idle) spent on the pass — per
 * employment, a figure a busy machine moves far less than the wall-clock rate.
 */
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout, clearTimeout } from 'node:timers';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Generator, sleep } from '../lib/generator.js';
import { cpuSeconds, rssMiB } from '../lib/proc.js';
import { AGENT, EMPLOYER, benchSeed } from '../lib/world.js';

/**
 * Messages already in each employment's history, all read (BENCH_CATCHUP_HISTORY=20): 0 by default,
 * as in the published runs; with some, each history read carries what a real conversation would.
 */
export const CATCHUP_HISTORY = Number(process.env.BENCH_CATCHUP_HISTORY ?? 0);

/** The sizes measured (BENCH_CATCHUP_SIZES=1000,10000 picks others, for working on one). */
export const CATCHUP_SIZES = (process.env.BENCH_CATCHUP_SIZES ?? '1000,10000,50000').split(',').map(Number);

const HISTORY = /^\/openapi\/v1\/agent\/me\/employments\/(\d+)\/messages$/;
/** The path of a request line as pino writes it (read without parsing every line as JSON). */
const REQUEST_PATH = /"msg":"request".*?"path":"([^"]*)"|"path":"([^"]*)".*?"msg":"request"/;

/**
 * One run at one size: { employments, liveMs, totalMs, perSecond, requestsPerEmployment, rssMiB }.
 * `liveMs` is connection → the live message's reply at the generator; `totalMs` is connection →
 * the last of the N history reads answered (the pass's own reads; the missed-notification reads
 * after them are two more requests). `agentCpuUs` and `platformCpuUs` are CPU µs per employment
 * over that same span (the agent's from /proc; this process's, which is the platform's plus the
 * idle generator's and this request count's).
 */
export async function catchupRun({ employments, launch, timeoutMs = 300_000, history = CATCHUP_HISTORY }) {
  const { startPlatform } = await import('../../dist/platform/index.js');
  let requests = 0;
  const read = new Set();
  let lastReadAt = 0;
  let agentPid;
  let cpuAtStart;
  let cpuAtEnd;
  const cpuNow = () => ({ agent: agentPid ? cpuSeconds(agentPid) : Number.NaN, self: process.cpuUsage() });
  let allRead;
  const done = new Promise((resolve) => (allRead = resolve));
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      const request = REQUEST_PATH.exec(chunk.toString());
      const path = request?.[1] ?? request?.[2];
      if (path?.startsWith('/openapi/')) {
        requests += 1;
        const match = HISTORY.exec(path);
        if (match && !read.has(match[1])) {
          read.add(match[1]);
          if (read.size === employments) {
            lastReadAt = performance.now();
            cpuAtEnd = cpuNow();
            allRead();
          }
        }
      }
      callback();
    },
  });
  const platform = await startPlatform({
    port: 0,
    host: '127.0.0.1',
    seed: benchSeed(employments),
    logger: pino({ level: 'debug' }, stream),
  });
  seedHistory(platform.state, employments, history);
  let agent;
  let generator;
  let timer;
  try {
    generator = await Generator.connect({ wsUrl: platform.wsUrl, token: EMPLOYER.token });
    let sentAt = 0;
    let repliedAt = 0;
    let replied;
    const reply = new Promise((resolve) => (replied = resolve));
    generator.onReply = () => {
      repliedAt = performance.now();
      replied();
    };
    // Sent the moment the agent's socket opens: its pass has just begun (sockets open before it).
    const onConnection = ({ agentId }) => {
      if (agentId !== AGENT.id || sentAt) return;
      sentAt = performance.now();
      generator.send(employments);
    };
    platform.on('connection', onConnection);
    agent = await launch(platform);
    // Read as soon as the agent is known (a few ms after its socket opened; the pass has barely begun).
    agentPid = agent.pid;
    cpuAtStart = cpuNow();
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `catch-up of ${employments} employments not over in ${timeoutMs} ms; see ${agent.logFile}`,
            ),
          ),
        timeoutMs,
      );
    });
    await Promise.race([Promise.all([reply, done]), timeout]);
    platform.off('connection', onConnection);
    // Let the pass finish its notification reads and settle before reading memory.
    await sleep(500);
    const totalMs = lastReadAt - sentAt;
    return {
      employments,
      liveMs: repliedAt - sentAt,
      totalMs,
      perSecond: employments / (totalMs / 1000),
      requestsPerEmployment: requests / employments,
      agentCpuUs: ((cpuAtEnd.agent - cpuAtStart.agent) * 1e6) / employments,
      platformCpuUs:
        (cpuAtEnd.self.user - cpuAtStart.self.user + cpuAtEnd.self.system - cpuAtStart.self.system) /
        employments,
      rssMiB: rssMiB(agent.pid),
    };
  } finally {
    clearTimeout(timer);
    await generator?.close();
    await agent?.stop();
    await platform.close();
  }
}

/**
 * `perEmployment` read messages in each employment: the employer asks, the agent answers, in turn
 * (so the newest is the agent's answer and the one before it the last read question).
 */
function seedHistory(state, employments, perEmployment) {
  if (!perEmployment) return;
  const createdAt = new Date(Date.now() - 3_600_000).toISOString();
  const content = 'A question of about the length people write in a chat, with a few details. '.repeat(2);
  for (let e = 1; e <= employments; e += 1) {
    for (let i = 0; i < perEmployment; i += 1) {
      const fromEmployer = i % 2 === 0;
      const id = state.nextId('messages');
      state.put('messages', {
        id,
        employmentId: e,
        senderAgentId: fromEmployer ? EMPLOYER.id : AGENT.id,
        receiverAgentId: fromEmployer ? AGENT.id : EMPLOYER.id,
        type: 'text',
        content,
        messageId: `msg_seed_${id}`,
        metadata: null,
        readAt: createdAt,
        createdAt,
      });
    }
  }
}
