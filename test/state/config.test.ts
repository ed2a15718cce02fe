/**
 * The config's `state` key: a folder for the file store (relative to the config file), a store
 * object of the user's (used by the runner as it is, and closed with it), and a clear error for
 * anything else.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { createRunner } from '../../src/runner/runner.js';
import { FileStateStore } from '../../src/state/file.js';
import { stateStoreFor } from '../../src/state/from-config.js';
import { MemoryStateStore } from '../../src/state/memory.js';
import { makeProject, memoryLogger, type Project } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

const projects: Project[] = [];
let platform: Platform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
  await Promise.all(projects.splice(0).map((p) => p.remove()));
});

async function configOf(files: Record<string, string>) {
  const p = await makeProject(files);
  projects.push(p);
  return { p, load: () => loadConfig({ cwd: p.dir, env: {}, home: join(p.dir, 'home') }) };
}

describe('the state key', () => {
  it('defaults to the caller’s fallback, and { dir } is a file store in that folder, relative to the config', async () => {
    const none = await configOf({ 'c4c.config.json': '{}' });
    const config = await none.load();
    expect(config.state).toBeUndefined();
    expect(stateStoreFor(config, 'memory')).toBeInstanceOf(MemoryStateStore);
    const file = stateStoreFor(config, 'file');
    expect(file).toBeInstanceOf(FileStateStore);
    expect((file as FileStateStore).dir).toBe(join(none.p.dir, '.c4c', 'state'));

    const dir = await configOf({ 'agent/c4c.config.json': JSON.stringify({ state: { dir: 'data/state' } }) });
    const resolved = await loadConfig({
      cwd: join(dir.p.dir, 'agent'),
      env: {},
      home: join(dir.p.dir, 'home'),
    });
    expect(resolved.state).toEqual({ dir: join(dir.p.dir, 'agent', 'data', 'state') });
    expect((stateStoreFor(resolved, 'memory') as FileStateStore).dir).toBe(
      join(dir.p.dir, 'agent', 'data', 'state'),
    );
  });

  it('refuses anything else in one line that lists what it takes', async () => {
    const { load } = await configOf({ 'c4c.config.json': JSON.stringify({ state: 'redis' }) });
    await expect(load()).rejects.toThrow(
      'c4c.config.json: state must be "memory", "file", { dir: "./data/state" } or a store object with get, set and delete, got "redis" (see docs/handlers.md#state)',
    );
  });

  it('a store object from c4c.config.ts is what ctx.state uses, and the runner closes it', async () => {
    platform = await startPlatform({ port: 0 });
    const { agent, employmentId } = platform.world;
    const p = await makeProject({
      'c4c.config.ts': `import { defineConfig, type StateStore } from 'c4c-runner';
const values = new Map<string, string>();
const store: StateStore & { closed: boolean } = {
  closed: false,
  get: async (key) => values.get(key),
  set: async (key, json) => void values.set(key, json),
  delete: async (key) => void values.delete(key),
  close: async () => void (store.closed = true),
};
(globalThis as any).__userStore = { values, store };
export default defineConfig({ state: store });`,
      'handlers/message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => { await ctx.state.set({ last: ctx.event.content }); return 'ok'; });`,
    });
    projects.push(p);
    const config = await loadConfig({
      cwd: p.dir,
      env: { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: agent.token },
      home: join(p.dir, 'home'),
    });
    const runner = createRunner(config, { logger: memoryLogger().logger });
    await runner.start();
    const user = (globalThis as { __userStore?: { values: Map<string, string>; store: { closed: boolean } } })
      .__userStore!;
    platform.sendMessage({ employmentId, content: 'remember me' });
    await waitFor(() => user.values.get(`employment:${employmentId}`), {
      message: 'the state in the user’s store',
    });
    expect(JSON.parse(user.values.get(`employment:${employmentId}`)!)).toEqual({ last: 'remember me' });
    await runner.close();
    expect(user.store.closed).toBe(true);
  });
});
