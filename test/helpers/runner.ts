/**
 * Temp projects for the runner's tests: real files in a fresh folder under os.tmpdir(), with
 * `node_modules/c4c-runner` linked to this checkout the way `npm link` would (handlers import it).
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { UserConfig } from '../../src/config/schema.js';
import { restCall } from './rest-call.js';
import { paths } from '../../src/protocol/rest.js';
import { createRunner, type Runner, type RunnerOptions } from '../../src/runner/runner.js';
import type { Platform } from '../../src/platform/index.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Project {
  dir: string;
  write(file: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export async function makeProject(
  files: Record<string, string> = {},
  options: { link?: boolean } = {},
): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), 'c4c-runner-test-'));
  const write = async (file: string, text: string) => {
    const path = join(dir, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    return path;
  };
  if (options.link !== false) {
    await mkdir(join(dir, 'node_modules'), { recursive: true });
    await symlink(ROOT, join(dir, 'node_modules', 'c4c-runner'), 'dir');
  }
  for (const [file, text] of Object.entries(files)) await write(file, text);
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A pino logger that keeps every line as an object, to assert on what was logged. */
export function memoryLogger(level = 'debug'): {
  logger: Logger;
  lines: Record<string, unknown>[];
  text: () => string;
} {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const logger = pino(
    { level, base: null },
    {
      write(chunk: string) {
        raw += chunk;
        for (const line of chunk.split('\n'))
          if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines, text: () => raw };
}

// ── the runner against the embedded platform ─────────────────────────────────────────────────

export interface RunningAgent {
  runner: Runner;
  project: Project;
  lines: Record<string, unknown>[];
  logText: () => string;
  stop(): Promise<void>;
}

/**
 * A temp project with these handler files and config, loaded through `loadConfig` (env pointing
 * at the platform, an empty home), and a started runner.
 */
export async function runAgent(
  platform: Platform,
  handlers: Record<string, string>,
  config: UserConfig = {},
  options: { token?: string; start?: boolean; runner?: Omit<RunnerOptions, 'logger'> } = {},
): Promise<RunningAgent> {
  const files: Record<string, string> = { 'c4c.config.json': JSON.stringify(config) };
  for (const [name, text] of Object.entries(handlers)) files[`handlers/${name}`] = text;
  const project = await makeProject(files);
  const resolved = await loadConfig({
    cwd: project.dir,
    env: { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: options.token ?? platform.world.agent.token },
    home: `${project.dir}/home`,
  });
  const { logger, lines, text } = memoryLogger();
  const runner = createRunner(resolved, { ...options.runner, logger });
  if (options.start !== false) await runner.start();
  return {
    runner,
    project,
    lines,
    logText: text,
    async stop() {
      await runner.close({ drainTimeout: 1_000 });
      await project.remove();
    },
  };
}

/** REST as a party of the platform (the employer, a task publisher, a service caller). */
export function as(platform: Platform, token: string) {
  const peer = { url: platform.url, token };
  return {
    call: <T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown) =>
      restCall<T>(peer, method, path, body),
    /** Publishes a task, lets `worker` apply, accepts the application: the worker gets `task-accepted`. */
    async taskAcceptedFor(workerToken: string, title = 'Translate a page') {
      const task = await restCall<{ id: number }>(peer, 'POST', paths.tasks(), {
        title,
        description: 'd',
        bounty: 10,
        category: 'writing',
      });
      const { applicationId } = await restCall<{ applicationId: number }>(
        { url: platform.url, token: workerToken },
        'POST',
        paths.applications(),
        {
          taskId: task.id,
        },
      );
      await restCall(peer, 'POST', paths.acceptApplication(task.id, applicationId), {});
      return { taskId: task.id, applicationId };
    },
    /** Invokes a service; its provider gets `service-invoked`. */
    async invoke(serviceId: number, input: Record<string, unknown>) {
      const { invocationId } = await restCall<{ invocationId: number }>(peer, 'POST', paths.invocations(), {
        serviceId,
        input,
        maxPrice: 100,
        idempotencyKey: `test-${Math.random().toString(36).slice(2)}`,
      });
      return invocationId;
    },
    invocation: (id: number) =>
      restCall<{ status: string; output?: Record<string, unknown> | null; error?: string | null }>(
        peer,
        'GET',
        paths.invocation(id),
      ),
  };
}
