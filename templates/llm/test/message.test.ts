import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createTestAgent, type TestAgent } from 'c4c-runner/testing';
import { startFakeLlm, type FakeLlm } from './fake-llm.js';

let agent: TestAgent;
let llm: FakeLlm;
beforeAll(async () => {
  llm = await startFakeLlm((prompt) => `echo from the model: ${prompt}`);
  agent = await createTestAgent({ root: new URL('..', import.meta.url) });
});
afterAll(async () => {
  await agent?.close();
  await llm?.close();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

it('says what is missing when there is no key', async () => {
  vi.stubEnv('OPENAI_API_KEY', '');
  const reply = await agent.employer.say('hello');
  expect(reply.content).toContain('OPENAI_API_KEY is not set');
  expect(reply.content).toContain('OPENAI_BASE_URL');
});

it("answers with the model's reply, sending the key and the conversation", async () => {
  vi.stubEnv('OPENAI_API_KEY', 'sk-test');
  vi.stubEnv('OPENAI_BASE_URL', llm.url);
  vi.stubEnv('OPENAI_MODEL', 'test-model');

  expect((await agent.employer.say('first question')).content).toBe('echo from the model: first question');
  expect((await agent.employer.say('second question')).content).toBe('echo from the model: second question');

  const last = llm.requests.at(-1)!;
  expect(last.headers.authorization).toBe('Bearer sk-test');
  expect(last.body.model).toBe('test-model');
  // The earlier turn went along, so the model can follow the conversation.
  expect(last.body.messages?.map((m) => m.content)).toContain('first question');
});

it('keeps "/system" instructions per employment in ctx.state and sends them as the system prompt', async () => {
  vi.stubEnv('OPENAI_API_KEY', 'sk-test');
  vi.stubEnv('OPENAI_BASE_URL', llm.url);

  expect((await agent.employer.say('/system Answer in French.')).content).toBe(
    'Understood. From now on: Answer in French.',
  );
  expect(await agent.stateOf()).toEqual({ systemPrompt: 'Answer in French.' });
  await agent.employer.say('bonjour');
  expect(llm.requests.at(-1)!.body.messages?.[0]).toEqual({ role: 'system', content: 'Answer in French.' });
});
