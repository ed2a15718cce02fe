import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestAgent, type TestAgent } from 'c4c-runner/testing';

// A local platform and this agent's own handlers: the test talks to it as its employer would.
let agent: TestAgent;
beforeAll(async () => {
  agent = await createTestAgent({ root: new URL('..', import.meta.url) });
});
afterAll(() => agent?.close());

it('greets', async () => {
  const reply = await agent.employer.say('hello');
  expect(reply.content).toMatch(/^Hello!/);
});

it('echoes what the employer says', async () => {
  const reply = await agent.employer.say('good morning');
  expect(reply.content).toBe('You said: good morning');
});
