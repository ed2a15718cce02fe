/**
 * The test kit (`c4c-runner/testing`) itself: that it drives the real runner through a real
 * platform (the conversation is in the platform's records, not short-circuited), that its waits
 * match the right frames, and that when an agent does not answer the error says why.
 */
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestAgent,
  ServiceInvocationError,
  TestTimeoutError,
  type TestAgent,
} from '../../src/testing/index.js';

const ECHO = new URL('../../examples/echo/', import.meta.url);

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'c4c-testing-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A project folder whose handlers are the given sources (plain default-exported functions). */
async function project(name: string, handlers: Record<string, string>): Promise<string> {
  const root = join(scratch, name);
  await mkdir(join(root, 'handlers'), { recursive: true });
  for (const [event, source] of Object.entries(handlers))
    await writeFile(join(root, 'handlers', `${event}.ts`), source);
  return root;
}

describe('against the echo example', () => {
  let agent: TestAgent;
  beforeAll(async () => {
    agent = await createTestAgent({ root: ECHO });
  });
  afterAll(() => agent?.close());

  it('talks to the agent through the platform, as the employer', async () => {
    const reply = await agent.employer.say('hello there');
    expect(reply).toMatchObject({
      type: 'message',
      employmentId: agent.world.employmentId,
      content: 'echo: hello there',
    });
    // Both messages went through the platform's store: the kit did not call the handler itself.
    const stored = [...agent.platform.state.messages.values()].filter(
      (m) => m.employmentId === agent.world.employmentId,
    );
    expect(stored.map((m) => [m.senderAgentId, m.content])).toEqual(
      expect.arrayContaining([
        [agent.world.employer.id, 'hello there'],
        [agent.world.agent.id, 'echo: hello there'],
      ]),
    );
  });

  it('pairs each say() with its own reply when several are in flight', async () => {
    const replies = await Promise.all(['one', 'two', 'three'].map((text) => agent.employer.say(text)));
    // One employment's messages are handled in order, and each say() takes one reply: they pair up.
    expect(replies.map((r) => r.content)).toEqual(['echo: one', 'echo: two', 'echo: three']);
  });

  it('invokes the service as a caller and returns the output', async () => {
    await expect(agent.invokeService({ text: 'loud' })).resolves.toEqual({ upper: 'LOUD' });
  });

  it('turns a failed invocation into a ServiceInvocationError with the handler message', async () => {
    const failure = await agent.invokeService({ text: 42 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceInvocationError);
    expect((failure as Error).message).toBe('input.text must be a string');
    expect((failure as ServiceInvocationError).invocation).toMatchObject({ status: 'failed' });
  });

  it('publishes a task, picks the agent and returns what it submitted', async () => {
    const submission = await agent.acceptTask({ title: 'Paint the fence' });
    expect(submission).toMatchObject({
      content: 'done: Paint the fence',
      notes: 'delivered by the echo example',
      attachments: [],
    });
    const task = agent.platform.state.tasks.get(submission.taskId);
    expect(task?.status).toBe('pending_review');
  });

  it('explains a wait that runs out: the echo agent has no employment-offered handler', async () => {
    const failure = await agent
      .offerEmployment({ salary: 20 }, { timeout: 500 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TestTimeoutError);
    expect((failure as Error).message).toContain('does handlers/employment-offered.ts return true or false?');
  });
});

describe('waiting for messages', () => {
  let agent: TestAgent;
  beforeAll(async () => {
    const root = await project('chatty', {
      message: `export default async (ctx: any) => {
        await ctx.reply('first: ' + ctx.event.content);
        await ctx.reply('second');
        return 'third';
      };`,
    });
    agent = await createTestAgent({ root });
  });
  afterAll(() => agent?.close());

  it('say() resolves with the first message; waitForMessage() returns the rest in order', async () => {
    expect((await agent.employer.say('go')).content).toBe('first: go');
    expect((await agent.employer.waitForMessage()).content).toBe('second');
    expect((await agent.employer.waitForMessage()).content).toBe('third');
    expect(agent.employer.messages.map((m) => m.content)).toEqual(['first: go', 'second', 'third']);
  });

  it('a later say() skips replies left unread by earlier ones', async () => {
    expect((await agent.employer.say('a')).content).toBe('first: a');
    expect((await agent.employer.say('b')).content).toBe('first: b');
  });

  it('waitForMessage() runs out with a TestTimeoutError when nothing more comes', async () => {
    await agent.employer.waitForMessage(); // 'second' of the last say()
    await agent.employer.waitForMessage(); // 'third'
    await expect(agent.employer.waitForMessage({ timeout: 300 })).rejects.toThrow(TestTimeoutError);
  });
});

describe('when the agent fails', () => {
  it('says what the runner logged when a handler throws instead of answering', async () => {
    const root = await project('broken', {
      message: `export default () => { throw new Error('kaboom in the handler'); };`,
    });
    const agent = await createTestAgent({ root, timeout: 1_000 });
    try {
      const failure = await agent.employer.say('hi').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TestTimeoutError);
      expect((failure as Error).message).toContain('the agent did not answer "hi"');
      expect((failure as Error).message).toContain('kaboom in the handler');
    } finally {
      await agent.close();
    }
  });

  it('rejects with the runner’s own error when the project has no handlers folder', async () => {
    const root = join(scratch, 'empty');
    await mkdir(root, { recursive: true });
    await expect(createTestAgent({ root })).rejects.toThrow(/handlers folder .* does not exist/);
  });

  it('takes a handlers folder other than the config’s', async () => {
    const root = await project('alt', { message: `export default () => 'from the main folder';` });
    await mkdir(join(root, 'other'));
    await writeFile(join(root, 'other', 'message.ts'), `export default () => 'from the other folder';`);
    const agent = await createTestAgent({ root, handlers: 'other' });
    try {
      expect((await agent.employer.say('which?')).content).toBe('from the other folder');
    } finally {
      await agent.close();
    }
  });
});

describe('close()', () => {
  it('stops the runner and the platform, and is safe to call twice', async () => {
    const agent = await createTestAgent({ root: ECHO });
    const url = agent.platform.url;
    expect(agent.platform.stats.connectedAgents()).toContain(agent.world.agent.id);
    expect(agent.runner.state).toBe('running');
    await Promise.all([agent.close(), agent.close()]);
    await agent.close();
    expect(agent.runner.state).toBe('closed');
    expect(agent.platform.stats.connectedAgents()).toEqual([]);
    await expect(fetch(`${url}/openapi/v1/agent/me`)).rejects.toThrow();
  });
});

describe('ctx.state and ctx.history() under the kit', () => {
  it('seeds and reads an employment’s state, and the handler sees the conversation so far', async () => {
    const root = await project('stateful', {
      message: `export default async (ctx: any) => {
  const seen = await ctx.state.update((s: { turns: number } | undefined) => ({ turns: (s?.turns ?? 0) + 1 }));
  const earlier = await ctx.history();
  return \`turn \${seen.turns}, \${earlier.length} earlier: \${earlier.map((m: any) => m.role + ':' + m.content).join(' | ')}\`;
};`,
    });
    const agent = await createTestAgent({ root });
    try {
      await agent.setState({ turns: 10 });
      expect((await agent.employer.say('one')).content).toBe('turn 11, 0 earlier: ');
      expect((await agent.employer.say('two')).content).toBe(
        'turn 12, 2 earlier: employer:one | agent:turn 11, 0 earlier: ',
      );
      expect(await agent.stateOf<{ turns: number }>()).toEqual({ turns: 12 });
      // The kit's store is its own: nothing is written into the project.
      await expect(readdir(join(root, '.c4c'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await agent.close();
    }
  });
});
