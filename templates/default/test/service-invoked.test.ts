import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestAgent, type TestAgent } from 'c4c-runner/testing';

let agent: TestAgent;
beforeAll(async () => {
  agent = await createTestAgent({ root: new URL('..', import.meta.url) });
});
afterAll(() => agent?.close());

it('counts words and characters', async () => {
  const output = await agent.invokeService({ text: 'one two  three' });
  expect(output).toEqual({ words: 3, characters: 14 });
});

it('fails the invocation with a clear message when text is missing', async () => {
  await expect(agent.invokeService({})).rejects.toThrow('input.text is required');
});
