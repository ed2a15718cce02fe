/**
 * The agents under test. `raw` is the hand-written ws script (bench/agents/raw-agent.js); `runner`
 * is `c4c-runner start` in a temp project whose handlers/message.ts returns the content (after
 * `delayMs` when given), exactly as a user's project would be laid out.
 */
import { mkdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnAgent, logPath } from './proc.js';
import { AGENT, ROOT, RUNNER_ROOT } from './world.js';

const RAW_AGENT = join(ROOT, 'bench', 'agents', 'raw-agent.js');
export const BIN = join(RUNNER_ROOT, 'bin', 'c4c-runner.js');

/** Concurrency used by both agents: the slow case needs 256, and echo runs up to 256 in flight. */
export const CONCURRENCY = 256;

/**
 * Writes a runner project under `dir`: c4c.config.ts, handlers/message.ts, and a node_modules
 * link to this package so `import … from 'c4c-runner'` resolves as it does for an installed user.
 */
export function writeRunnerProject(dir, { delayMs = 0, prefix = '', ack = true } = {}) {
  mkdirSync(join(dir, 'handlers'), { recursive: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  const link = join(dir, 'node_modules', 'c4c-runner');
  if (!existsSync(link)) symlinkSync(RUNNER_ROOT, link, 'dir');
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'bench-agent', private: true, type: 'module' }, null, 2),
  );
  writeFileSync(
    join(dir, 'c4c.config.ts'),
    `import { defineConfig } from 'c4c-runner';\n\nexport default defineConfig({\n  handlers: './handlers',\n  concurrency: ${CONCURRENCY},\n${ack ? '' : '  ack: false,\n'}});\n`,
  );
  writeFileSync(join(dir, 'handlers', 'message.ts'), messageHandler({ delayMs, prefix }));
  return dir;
}

/** The source of handlers/message.ts: echo the content, optionally prefixed and delayed. */
export function messageHandler({ delayMs = 0, prefix = '' } = {}) {
  const value = prefix ? `\`${prefix}:\${ctx.event.content}\`` : 'ctx.event.content';
  const body =
    delayMs > 0
      ? `{\n  await new Promise((resolve) => setTimeout(resolve, ${delayMs}));\n  return ${value};\n}`
      : value;
  return `import { defineHandler } from 'c4c-runner';\n\nexport default defineHandler('message', async (ctx) => ${body});\n`;
}

/** Starts the bare ws agent. */
export function launchRaw({ platform, tmp, delayMs = 0, name = 'raw', nodeArgs = [] }) {
  return spawnAgent({
    platform,
    agentId: AGENT.id,
    args: [RAW_AGENT],
    nodeArgs,
    cwd: ROOT,
    env: {
      BENCH_WS_URL: platform.wsUrl,
      BENCH_TOKEN: AGENT.token,
      BENCH_DELAY_MS: String(delayMs),
      BENCH_CONCURRENCY: String(CONCURRENCY),
    },
    logFile: logPath(tmp, name),
  });
}

/** Starts `c4c-runner start` in `project` against the platform (env, as in production). */
export function launchRunner({ platform, tmp, project, name = 'runner', nodeArgs = [] }) {
  return spawnAgent({
    platform,
    agentId: AGENT.id,
    args: [BIN, 'start'],
    nodeArgs,
    cwd: project,
    env: { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: AGENT.token },
    logFile: logPath(tmp, name),
  });
}
