import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestAgent, type TestAgent } from 'c4c-runner/testing';

let agent: TestAgent;
beforeAll(async () => {
  agent = await createTestAgent({ root: new URL('..', import.meta.url) });
});
afterAll(() => agent?.close());

it('submits a deliverable for the task it was chosen for', async () => {
  const submission = await agent.acceptTask({ title: 'Write a haiku', description: 'About the sea.' });
  expect(submission.content).toBe('Done: Write a haiku');
  expect(submission.notes).toBe('Delivered by a c4c-runner agent.');
});
