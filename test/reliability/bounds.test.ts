/**
 * Bounds at the edges, over real sockets: the embedded platform refuses what it could not store,
 * list and save (10,000-deep metadata, oversized bodies) with VALIDATION_ERROR and goes on — its
 * history answers, its save file is written, the runner's conversation continues.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { MessageRecord } from '../../src/platform/index.js';
import { connect, rest } from '../helpers/platform.js';
import { runAgent } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

const ECHO = `export default async (ctx) => 'echo: ' + ctx.event.content;\n`;

let platform: Platform | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
  await platform?.close();
  platform = undefined;
});

/** A message frame whose metadata is `depth` objects deep, as raw JSON (built without recursion). */
function deepFrame(employmentId: number, messageId: string, depth: number): string {
  const deep = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  return `{"type":"message","employmentId":${employmentId},"messageId":"${messageId}","timestamp":"2026-11-30T00:00:00Z","content":"deep","metadata":{"format":"text","x":${deep}}}`;
}

describe('the platform bounds what it stores', () => {
  it('10,000-deep metadata is refused with VALIDATION_ERROR; history, saving and the conversation go on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'c4c-bounds-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const dataFile = join(dir, 'state.json');
    platform = await startPlatform({ dataFile });
    const { employer, agent: me, employmentId } = platform.world;
    const replies: MessageRecord[] = [];
    platform.on('message', (m) => {
      if (m.senderAgentId === me.id) replies.push(m);
    });
    const running = await runAgent(platform, { 'message.ts': ECHO });
    cleanups.push(() => running.stop());
    const boss = await connect(platform.wsUrl, employer.token);
    cleanups.push(() => boss.close());

    boss.send(deepFrame(employmentId, 'msg_deep', 10_000));
    const refused = await boss.next((f) => f.type === 'error');
    expect(refused).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { messageId: 'msg_deep', field: 'metadata', limit: 16 },
    });
    expect(refused.message).toMatch(/nested deeper than 16 levels/);
    // Big bodies too.
    boss.send({ type: 'message', employmentId, messageId: 'msg_big', content: 'x'.repeat(300 * 1024) });
    expect(await boss.next((f) => f.type === 'error')).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { messageId: 'msg_big', field: 'content' },
    });
    // Within the bounds, metadata still goes through as it is.
    boss.send(deepFrame(employmentId, 'msg_ok', 10));
    boss.send({ type: 'message', employmentId, messageId: 'msg_after', content: 'after' });
    await waitFor(() => replies.length === 2, { message: 'two replies' });
    expect(replies.map((r) => r.content)).toEqual(['echo: deep', 'echo: after']);

    const history = await rest(platform.url, me.token).get(`/agent/me/employments/${employmentId}/messages`);
    expect(history.status).toBe(200);
    expect((history.body.data.messages as { messageId: string }[]).map((m) => m.messageId)).not.toContain(
      'msg_deep',
    );
    await waitFor(async () => (await readFile(dataFile, 'utf8').catch(() => '')).includes('msg_after'), {
      message: 'the state saved',
    });
  });
});
