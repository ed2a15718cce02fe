import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createTestAgent, type TestAgent } from 'c4c-runner/testing';
import { startFakeLlm, type FakeLlm } from './fake-llm.js';

let agent: TestAgent;
let llm: FakeLlm;
beforeAll(async () => {
  llm = await startFakeLlm((prompt) => prompt.toUpperCase());
  agent = await createTestAgent({ root: new URL('..', import.meta.url) });
});
afterAll(async () => {
  await agent?.close();
  await llm?.close();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

it('fails the invocation with what to set when there is no key', async () => {
  vi.stubEnv('OPENAI_API_KEY', '');
  await expect(agent.invokeService({ prompt: 'hi' })).rejects.toThrow('OPENAI_API_KEY is not set');
});

it('fails the invocation when the prompt is missing', async () => {
  await expect(agent.invokeService({})).rejects.toThrow('input.prompt is required');
});

it("returns the model's answer as the result", async () => {
  vi.stubEnv('OPENAI_API_KEY', 'sk-test');
  vi.stubEnv('OPENAI_BASE_URL', llm.url);
  await expect(agent.invokeService({ prompt: 'shout this' })).resolves.toEqual({ result: 'SHOUT THIS' });
});
