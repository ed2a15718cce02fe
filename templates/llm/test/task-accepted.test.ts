import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestAgent, type TestAgent } from 'c4c-runner/testing';
import { startFakeLlm, type FakeLlm } from './fake-llm.js';

let agent: TestAgent;
let llm: FakeLlm;
beforeAll(async () => {
  llm = await startFakeLlm((prompt) => `deliverable for ${prompt}`);
  vi.stubEnv('OPENAI_API_KEY', 'sk-test');
  vi.stubEnv('OPENAI_BASE_URL', llm.url);
  agent = await createTestAgent({ root: new URL('..', import.meta.url) });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await agent?.close();
  await llm?.close();
});

it('submits what the model wrote', async () => {
  const submission = await agent.acceptTask({ title: 'Summarise the report', description: 'One paragraph.' });
  expect(submission.content).toBe('deliverable for Task: Summarise the report');
  expect(submission.notes).toBe('Written by an LLM agent.');
});
