/**
 * `ctx.state` and `ctx.history()` in real handlers: the runner against the embedded platform over
 * loopback sockets, handler files in a temp project.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startPlatform, type MessageRecord, type Platform } from '../../src/platform/index.js';
import { createRunner } from '../../src/runner/runner.js';
import type { HistoryEntry } from '../../src/state/history.js';
import { makeProject, memoryLogger, runAgent, type RunningAgent } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

let platform: Platform;
const agents: RunningAgent[] = [];
beforeEach(async () => {
  platform = await startPlatform({ port: 0 });
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await platform.close();
});

function repliesFrom(agentId: number): MessageRecord[] {
  const replies: MessageRecord[] = [];
  platform.on('message', (m) => {
    if (m.senderAgentId === agentId) replies.push(m);
  });
  return replies;
}

const STATEFUL = `import { defineHandler } from 'c4c-runner';
type Notes = { notes: string[] };
export default defineHandler('message', async (ctx) => {
  const { notes } = await ctx.state.update<Notes>((s) => ({ notes: [...(s?.notes ?? []), ctx.event.content] }));
  return notes.join(',');
});`;

describe('ctx.state in handlers', () => {
  it('keeps the employment’s state across events', async () => {
    const { agent: me, employmentId } = platform.world;
    const replies = repliesFrom(me.id);
    const a = await runAgent(platform, { 'message.ts': STATEFUL });
    agents.push(a);
    for (const content of ['a', 'b', 'c']) {
      platform.sendMessage({ employmentId, content });
      await waitFor(() => replies.some((r) => r.content.endsWith(content)), {
        message: `the reply to ${content}`,
      });
    }
    expect(replies.map((r) => r.content)).toEqual(['a', 'a,b', 'a,b,c']);
  });

  it('with the file store (the default of createRunner and start), survives a restart', async () => {
    const { agent: me, employmentId } = platform.world;
    const replies = repliesFrom(me.id);
    const project = await makeProject({ 'handlers/message.ts': STATEFUL });
    try {
      const run = async () => {
        const config = await loadConfig({
          cwd: project.dir,
          env: { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: me.token },
          home: join(project.dir, 'home'),
        });
        const runner = createRunner(config, { logger: memoryLogger().logger });
        await runner.start();
        return runner;
      };
      const first = await run();
      platform.sendMessage({ employmentId, content: 'before' });
      await waitFor(() => replies.length === 1, { message: 'the first reply' });
      await first.close();
      expect(await readdir(join(project.dir, '.c4c', 'state'))).toEqual([
        `employment%3A${employmentId}.json`,
      ]);

      const second = await run();
      platform.sendMessage({ employmentId, content: 'after' });
      await waitFor(() => replies.length === 2, { message: 'the reply after the restart' });
      await second.close();
      expect(replies.map((r) => r.content)).toEqual(['before', 'before,after']);
    } finally {
      await project.remove();
    }
  });

  it('an event without an employment gets a clear error from ctx.state, logged with its file', async () => {
    const a = await runAgent(
      platform,
      {
        'task-accepted.ts': `export default async (ctx: any) => { await ctx.state.get(); };`,
      },
      { state: 'memory' },
    );
    agents.push(a);
    // With its applicationId: no REST lookup runs before the handler (that would fail first here).
    platform.notify(platform.world.agent.id, 'task-accepted', {
      taskTitle: 't',
      taskId: 9,
      applicationId: 4,
    });
    await waitFor(() => a.lines.find((l) => l.level === 50), { message: 'the error line' });
    expect(a.lines.find((l) => l.level === 50)?.msg).toMatch(
      /^handlers\/task-accepted\.ts threw while handling "task-accepted": handlers\/task-accepted\.ts: ctx\.state is kept per employment, and "task-accepted" has none/,
    );
  });
});

describe('ctx.history() in message handlers', () => {
  it('returns the conversation before the current message, oldest first, from the agent’s point of view', async () => {
    const { agent: me, employmentId } = platform.world;
    const replies = repliesFrom(me.id);
    const a = await runAgent(platform, {
      'message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  if (ctx.event.content.startsWith('history')) {
    const limit = Number(ctx.event.content.split(' ')[1]) || undefined;
    return JSON.stringify(await ctx.history(limit ? { limit } : {}));
  }
  return 'ok ' + ctx.event.content;
});`,
    });
    agents.push(a);
    for (const content of ['one', 'two']) {
      platform.sendMessage({ employmentId, content });
      await waitFor(() => replies.some((r) => r.content === `ok ${content}`), {
        message: `the reply to ${content}`,
      });
    }
    platform.sendMessage({ employmentId, content: 'history' });
    await waitFor(() => replies.length === 3, { message: 'the history reply' });
    const history = JSON.parse(replies[2]!.content) as HistoryEntry[];
    expect(history.map(({ role, content }) => ({ role, content }))).toEqual([
      { role: 'employer', content: 'one' },
      { role: 'agent', content: 'ok one' },
      { role: 'employer', content: 'two' },
      { role: 'agent', content: 'ok two' },
    ]);
    for (const entry of history) {
      expect(entry.messageId).toEqual(expect.any(String));
      expect(Number.isNaN(Date.parse(entry.at))).toBe(false);
    }

    platform.sendMessage({ employmentId, content: 'history 2' });
    await waitFor(() => replies.length === 4, { message: 'the limited history reply' });
    // The two messages just before "history 2": the previous question and its answer.
    const limited = JSON.parse(replies[3]!.content) as HistoryEntry[];
    expect(limited.map((m) => m.role)).toEqual(['employer', 'agent']);
    expect(limited.map((m) => m.messageId)).toEqual([expect.any(String), replies[2]!.messageId]);
    expect(limited[0]!.content).toBe('history');
  });
});
