/**
 * The failure policy, from the outside: a handler that fails for a passing reason is run again
 * while its conversation waits (exactly one reply, in order, all read); one that fails for good
 * ends in `.c4c/dead-letters.jsonl`, `onError` sees it, its conversation goes on, and
 * `c4c-runner replay` (a child process) answers it once the handler is fixed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { MessageRecord } from '../../src/platform/index.js';
import type { EventOutcome } from '../../src/runner/pipeline.js';
import { createRunner } from '../../src/runner/runner.js';
import { spawnCli } from '../helpers/cli.js';
import { makeProject, memoryLogger, runAgent, type RunningAgent } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

declare global {
  // What the config's onError saw (jiti loads c4c.config.ts into this process).
  var __failures: { event: string; file: string; attempts: number; error: string }[] | undefined;
}

const seed = {
  agents: [
    { id: 1, name: 'Employer', token: 'cl_fail_employer' },
    { id: 2, name: 'Worker', token: 'cl_fail_worker' },
  ],
  employments: [
    { id: 1, employerAgentId: 1, employeeAgentId: 2, salary: '1' },
    { id: 2, employerAgentId: 1, employeeAgentId: 2, salary: '1' },
  ],
};

let platform: Platform | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
  await platform?.close();
  platform = undefined;
  globalThis.__failures = undefined;
});

function repliesOf(p: Platform): MessageRecord[] {
  const replies: MessageRecord[] = [];
  p.on('message', (m) => {
    if (m.senderAgentId === 2) replies.push(m);
  });
  return replies;
}
const contents = (replies: MessageRecord[], employmentId: number) =>
  replies.filter((r) => r.employmentId === employmentId).map((r) => r.content);

describe('retry', () => {
  it('a handler that throws RetryLaterError twice and then answers: one reply, and the later message after it', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    const outcomes: EventOutcome[] = [];
    const running: RunningAgent = await runAgent(
      platform,
      {
        'message.ts': `import { RetryLaterError } from 'c4c-runner';
let tries = 0;
export default async (ctx) => {
  if (ctx.event.content === 'flaky' && ++tries <= 2) throw new RetryLaterError('the model is overloaded');
  return 'echo: ' + ctx.event.content;
};\n`,
      },
      { retry: { initialDelay: 10, maxDelay: 20 } },
      { token: 'cl_fail_worker', runner: { onOutcome: (o) => outcomes.push(o) } },
    );
    cleanups.push(() => running.stop());
    const flaky = platform.sendMessage({ employmentId: 1, content: 'flaky' });
    const later = platform.sendMessage({ employmentId: 1, content: 'later' });
    platform.sendMessage({ employmentId: 2, content: 'elsewhere' });
    await waitFor(() => replies.length === 3, { message: 'three replies' });
    expect(contents(replies, 1)).toEqual(['echo: flaky', 'echo: later']);
    expect(contents(replies, 2)).toEqual(['echo: elsewhere']);
    const ofFlaky = outcomes.filter((o) => (o.routed.event as { content?: string }).content === 'flaky');
    expect(ofFlaky.map((o) => [o.kind, o.attempt])).toEqual([
      ['retrying', 1],
      ['retrying', 2],
      ['replied', 3],
    ]);
    expect(ofFlaky[0]!.retryInMs).toBeGreaterThanOrEqual(0);
    expect(running.runner.stats).toMatchObject({ retried: 2, failed: 0 });
    await waitFor(() => flaky.readAt !== null && later.readAt !== null, { message: 'both read' });
    expect(
      running.lines.filter((l) => String(l.msg).includes('failed for a passing reason')).map((l) => l.level),
    ).toEqual([40, 40]);
  });

  it('an error that is not passing fails at once: no retry', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    const running = await runAgent(
      platform,
      {
        'message.ts': `export default async (ctx) => {
  if (ctx.event.content === 'bug') throw new TypeError('undefined is not a function');
  return 'echo: ' + ctx.event.content;
};\n`,
      },
      { retry: { initialDelay: 10, maxDelay: 20 } },
      { token: 'cl_fail_worker' },
    );
    cleanups.push(() => running.stop());
    platform.sendMessage({ employmentId: 1, content: 'bug' });
    platform.sendMessage({ employmentId: 1, content: 'next' });
    await waitFor(() => replies.length === 1, { message: 'the next reply' });
    expect(contents(replies, 1)).toEqual(['echo: next']);
    expect(running.runner.stats).toMatchObject({ retried: 0, failed: 1 });
  });
});

describe('dead letters', () => {
  it('one that always fails ends in the dead-letter file and onError; replay answers it once the handler is fixed', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    const broken = `import { RetryLaterError } from 'c4c-runner';
export default async (ctx) => {
  if (ctx.event.content === 'poison') throw new RetryLaterError('the model is down');
  return 'echo: ' + ctx.event.content;
};\n`;
    const project = await makeProject({
      'c4c.config.ts': `import { defineConfig } from 'c4c-runner';
export default defineConfig({
  retry: { attempts: 3, initialDelay: 10, maxDelay: 20 },
  onError: (failure) => {
    (globalThis.__failures ??= []).push({
      event: failure.routed.name,
      file: failure.file,
      attempts: failure.attempts,
      error: failure.error.message,
    });
  },
});\n`,
      'handlers/message.ts': broken,
    });
    cleanups.push(() => project.remove());
    const env = { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: 'cl_fail_worker' };
    const config = await loadConfig({ cwd: project.dir, env, home: join(project.dir, 'home') });
    const log = memoryLogger();
    const runner = createRunner(config, { logger: log.logger });
    cleanups.push(() => runner.close({ drainTimeout: 500 }));
    await runner.start();

    const poison = platform.sendMessage({ employmentId: 1, content: 'poison' });
    platform.sendMessage({ employmentId: 1, content: 'after' });
    // The conversation goes on after the failure: the message behind it is answered, and both are read.
    await waitFor(() => replies.length === 1, { message: 'the reply after the failure' });
    expect(contents(replies, 1)).toEqual(['echo: after']);
    expect(globalThis.__failures).toEqual([
      { event: 'message', file: 'handlers/message.ts', attempts: 3, error: 'the model is down' },
    ]);
    await runner.close({ drainTimeout: 500 });
    expect(poison.readAt).not.toBeNull();
    const file = join(project.dir, '.c4c', 'dead-letters.jsonl');
    const letters = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string });
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      event: 'message',
      file: 'handlers/message.ts',
      attempts: 3,
      error: { name: 'RetryLaterError', message: 'the model is down' },
      frame: { type: 'message', employmentId: 1, messageId: poison.messageId, content: 'poison' },
    });
    expect(log.lines.some((l) => String(l.msg).includes('run: c4c-runner replay'))).toBe(true);

    const home = { HOME: join(project.dir, 'home'), ...env };
    const list = spawnCli(['replay', '--list'], { cwd: project.dir, env: home });
    expect(await list.exited).toBe(0);
    expect(list.stdout()).toContain(`${letters[0]!.id}`);
    expect(list.stdout()).toContain('the model is down');

    // Still broken: the replay fails again, says so, exits 1, and keeps the letter.
    const again = spawnCli(['replay'], { cwd: project.dir, env: home });
    expect(await again.exited).toBe(1);
    expect(again.stdout()).toContain('0 of 1 dead letter(s) replayed; 1 failed again');
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(1);

    // Fixed: the replay answers it, once, and empties the file.
    await project.write(
      'handlers/message.ts',
      `export default async (ctx) => 'fixed: ' + ctx.event.content;\n`,
    );
    const replay = spawnCli(['replay'], { cwd: project.dir, env: home });
    expect(await replay.exited).toBe(0);
    expect(replay.stdout()).toContain('1 of 1 dead letter(s) replayed.');
    await waitFor(() => replies.length === 2, { message: 'the replayed reply' });
    expect(contents(replies, 1)).toEqual(['echo: after', 'fixed: poison']);
    expect(await readFile(file, 'utf8')).toBe('');
    const nothing = spawnCli(['replay'], { cwd: project.dir, env: home });
    expect(await nothing.exited).toBe(0);
    expect(nothing.stdout()).toContain('No dead letters');
    expect(replies).toHaveLength(2);
  });
});
