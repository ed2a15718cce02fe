/**
 * The llm template in production: `start` without OPENAI_API_KEY stops at once with the fix,
 * before any connection (dev keeps answering with the setup instructions instead).
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnCli, ROOT } from '../helpers/cli.js';
import { makeProject } from '../helpers/runner.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('templates/llm with c4c-runner start', () => {
  it('fails fast with a clear message when OPENAI_API_KEY is missing', async () => {
    const project = await makeProject({});
    cleanups.push(() => project.remove());
    for (const part of ['handlers', 'lib', 'c4c.config.ts'])
      await cp(join(ROOT, 'templates', 'llm', part), join(project.dir, part), { recursive: true });
    const env = {
      HOME: join(project.dir, 'home'),
      C4C_API_TOKEN: 'cl_llm_template_token',
      OPENAI_API_KEY: '',
    };
    // Nothing listens on port 9: a start that tried to connect would retry instead of exiting.
    const cli = spawnCli(['start'], {
      cwd: project.dir,
      env: { ...env, C4C_API_ENDPOINT: 'http://127.0.0.1:9' },
    });
    cleanups.push(() => cli.stop('SIGKILL'));
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toContain('OPENAI_API_KEY is not set');
    expect(cli.output()).not.toContain('connecting');
  });
});
