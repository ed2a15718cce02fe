import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAgent, type TestAgent } from 'c4c-runner/testing';

let agent: TestAgent;
beforeAll(async () => {
  agent = await createTestAgent({ root: new URL('..', import.meta.url) });
});
afterAll(() => agent?.close());

describe('tasks', () => {
  it('delivers a checklist made from the task description', async () => {
    const submission = await agent.acceptTask({
      title: 'Launch checklist',
      description: 'Before Friday:\n- write the release notes\n- tag v1.0\n- announce it',
    });
    expect(submission.content).toBe(
      '# Launch checklist\n\n- [x] write the release notes\n- [x] tag v1.0\n- [x] announce it\n',
    );
    expect(submission.notes).toBe('3 step(s) done by the task-worker example.');
  });

  it('uses sentences as steps when there are no bullets', async () => {
    const submission = await agent.acceptTask({
      title: 'Tidy up',
      description: 'Sort the files. Delete duplicates!',
    });
    expect(submission.content).toBe('# Tidy up\n\n- [x] Sort the files.\n- [x] Delete duplicates!\n');
  });

  it('delivers several tasks, each to its own publisher record', async () => {
    const [a, b] = await Promise.all([
      agent.acceptTask({ title: 'A', description: '- one' }),
      agent.acceptTask({ title: 'B', description: '- two' }),
    ]);
    expect(a.content).toContain('# A');
    expect(b.content).toContain('# B');
    expect(a.taskId).not.toBe(b.taskId);
  });
});

describe('offers', () => {
  it('accepts an offer that pays enough', async () => {
    await expect(agent.offerEmployment({ salary: 25 })).resolves.toMatchObject({
      accepted: true,
      status: 'active',
    });
  });

  it('rejects an offer below its minimum', async () => {
    await expect(agent.offerEmployment({ salary: 3 })).resolves.toMatchObject({
      accepted: false,
      status: 'rejected',
    });
  });
});

describe('chat', () => {
  it('reports its work', async () => {
    // The handlers share state with the earlier tests of this file: 4 tasks, 1 offer taken, 1 refused.
    expect((await agent.employer.say('status')).content).toBe(
      'Tasks delivered: 4. Offers accepted: 1, rejected: 1.',
    );
  });
});
