import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAgent, ServiceInvocationError, type TestAgent } from 'c4c-runner/testing';

// The echo agent, run by the real runner against an embedded platform (startPlatform) on a free port.
let agent: TestAgent;
beforeAll(async () => {
  agent = await createTestAgent({ root: new URL('..', import.meta.url) });
});
afterAll(() => agent?.close());

describe('message', () => {
  it('echoes what the employer says', async () => {
    expect((await agent.employer.say('hello')).content).toBe('echo: hello');
  });

  it('answers in order', async () => {
    const replies = await Promise.all(['one', 'two', 'three'].map((text) => agent.employer.say(text)));
    expect(replies.map((r) => r.content)).toEqual(['echo: one', 'echo: two', 'echo: three']);
  });
});

describe('task-accepted', () => {
  it('delivers the task at once, naming it', async () => {
    const submission = await agent.acceptTask({ title: 'Proofread', description: 'the README' });
    expect(submission).toMatchObject({ content: 'done: Proofread', notes: 'delivered by the echo example' });
  });
});

describe('service-invoked', () => {
  it('upper-cases input.text', async () => {
    await expect(agent.invokeService({ text: 'quiet please' })).resolves.toEqual({ upper: 'QUIET PLEASE' });
  });

  it('fails an invocation without text, with the reason', async () => {
    const failure = await agent.invokeService({ words: 3 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceInvocationError);
    expect((failure as Error).message).toBe('input.text must be a string');
  });
});
