/**
 * A reply the platform refuses for good, from the outside: the embedded platform's own bound (content
 * over 256 KiB is refused with VALIDATION_ERROR) over real sockets. The event counts as failed, says
 * why and what to do, goes to `.c4c/dead-letters.jsonl`, and only then does the read cursor pass it;
 * `c4c-runner replay` (a child process) answers it once the handler is fixed. Before this, the refused
 * reply was confirmed by the pong that followed the refusal, the message was marked read, and the
 * employer never heard anything.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPlatform, type MessageRecord, type Platform } from '../../src/platform/index.js';
import type { EventOutcome } from '../../src/runner/pipeline.js';
import { spawnCli } from '../helpers/cli.js';
import { runAgent } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

let platform: Platform | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
  await platform?.close();
  platform = undefined;
});

/** Answers "big" with 300 KiB (over the platform's 256 KiB bound), anything else with an echo. */
const TOO_LONG = `export default async (ctx) =>
  ctx.event.content === 'big' ? 'x'.repeat(300 * 1024) : 'echo: ' + ctx.event.content;\n`;

describe('a reply refused for good', () => {
  it('counts as failed, is kept in the dead-letter file before the message is read, and replay answers it once fixed', async () => {
    platform = await startPlatform();
    const { agent: me, employmentId } = platform.world;
    const replies: MessageRecord[] = [];
    platform.on('message', (m) => {
      if (m.senderAgentId === me.id) replies.push(m);
    });
    const outcomes: EventOutcome[] = [];
    const running = await runAgent(
      platform,
      { 'message.ts': TOO_LONG },
      {},
      { runner: { onOutcome: (o) => outcomes.push(o) } },
    );
    cleanups.push(() => running.stop());

    const big = platform.sendMessage({ employmentId, content: 'big' });
    const after = platform.sendMessage({ employmentId, content: 'after' });
    await waitFor(() => replies.length === 1, { message: 'the reply to the later message' });
    expect(replies.map((r) => r.content)).toEqual(['echo: after']);
    await waitFor(() => after.readAt !== null, { message: 'both messages read', timeout: 20_000 });

    // The refused one failed, with the platform's reason, and was written down before it was read.
    const failed = outcomes.filter((o) => o.kind === 'failed');
    expect(failed).toHaveLength(1);
    expect((failed[0]!.routed.event as { messageId: string }).messageId).toBe(big.messageId);
    expect(String((failed[0]!.error as Error).message)).toMatch(
      /\(VALIDATION_ERROR\): content is \d+ bytes; at most 262144/,
    );
    expect(running.runner.stats.replyErrors).toBe(1);
    const file = join(running.project.dir, '.c4c', 'dead-letters.jsonl');
    const letters = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      event: 'message',
      file: 'handlers/message.ts',
      error: { code: 'E_PLATFORM' },
      frame: { type: 'message', employmentId, messageId: big.messageId, content: 'big' },
    });
    const line = running.lines.find((l) => String(l.msg).includes('is undeliverable'));
    expect(line?.msg).toMatch(/VALIDATION_ERROR/);
    expect(line?.msg).toMatch(/run: c4c-runner replay/);
    expect(running.lines.some((l) => String(l.msg).includes('kept in .c4c/dead-letters.jsonl'))).toBe(true);

    // Fixed: replay (beside the running runner) answers it once and empties the file.
    await running.project.write(
      'handlers/message.ts',
      `export default async (ctx) => 'short: ' + ctx.event.content;\n`,
    );
    const replay = spawnCli(['replay'], {
      cwd: running.project.dir,
      env: {
        HOME: join(running.project.dir, 'home'),
        C4C_API_ENDPOINT: platform.url,
        C4C_API_TOKEN: me.token,
      },
    });
    expect(await replay.exited).toBe(0);
    expect(replay.stdout()).toContain('1 of 1 dead letter(s) replayed.');
    await waitFor(() => replies.length === 2, { message: 'the replayed reply' });
    expect(replies.map((r) => r.content)).toEqual(['echo: after', 'short: big']);
    expect(await readFile(file, 'utf8')).toBe('');
  });

  it('sent with ctx.reply (resolved once written): the refusal that follows still fails its event, into the dead-letter file', async () => {
    platform = await startPlatform();
    const { agent: me, employmentId } = platform.world;
    const replies: MessageRecord[] = [];
    platform.on('message', (m) => {
      if (m.senderAgentId === me.id) replies.push(m);
    });
    const running = await runAgent(platform, {
      'message.ts': `export default async (ctx) => {
  await ctx.reply(ctx.event.content === 'big' ? 'x'.repeat(300 * 1024) : 'echo: ' + ctx.event.content);
  await ctx.reply(ctx.event.content === 'big' ? 'y'.repeat(300 * 1024) : 'again: ' + ctx.event.content);
};\n`,
    });
    cleanups.push(() => running.stop());
    const big = platform.sendMessage({ employmentId, content: 'big' });
    platform.sendMessage({ employmentId, content: 'after' });
    const file = join(running.project.dir, '.c4c', 'dead-letters.jsonl');
    const letters = await waitFor(
      async () => {
        const lines = (await readFile(file, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
        return lines.length > 0 ? lines.map((l) => JSON.parse(l) as Record<string, unknown>) : undefined;
      },
      { message: 'the dead letter' },
    );
    await waitFor(() => replies.length === 2, { message: 'the later message answered' });
    expect(replies.map((r) => r.content)).toEqual(['echo: after', 'again: after']);
    // Two refused messages, one event: one dead letter.
    await running.runner.close({ drainTimeout: 1_000 });
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      event: 'message',
      frame: { messageId: big.messageId, content: 'big' },
      error: { code: 'E_PLATFORM', message: expect.stringMatching(/\(VALIDATION_ERROR\): content is/) },
    });
    const line = running.lines.find((l) => String(l.msg).includes('sent with ctx.reply/ctx.send'));
    expect(line?.msg).toMatch(/is undeliverable: .*VALIDATION_ERROR.*run: c4c-runner replay$/);
    expect(running.runner.stats.replyErrors).toBe(1);
  });

  it('replay that is refused again fails, says why and keeps the letter', async () => {
    platform = await startPlatform();
    const { agent: me, employmentId } = platform.world;
    const running = await runAgent(platform, { 'message.ts': TOO_LONG });
    cleanups.push(() => running.stop());
    const big = platform.sendMessage({ employmentId, content: 'big' });
    await waitFor(() => big.readAt !== null, { message: 'the refused message read', timeout: 20_000 });
    const file = join(running.project.dir, '.c4c', 'dead-letters.jsonl');
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(1);

    const replay = spawnCli(['replay'], {
      cwd: running.project.dir,
      env: {
        HOME: join(running.project.dir, 'home'),
        C4C_API_ENDPOINT: platform.url,
        C4C_API_TOKEN: me.token,
      },
    });
    expect(await replay.exited).toBe(1);
    expect(replay.stdout()).toMatch(/failed: .*VALIDATION_ERROR/);
    expect(replay.stdout()).toContain('0 of 1 dead letter(s) replayed; 1 failed again');
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});
