import { defineHandler } from 'c4c-runner';

/** Delivers an accepted task at once: the deliverable names the task. */
export default defineHandler('task-accepted', async (ctx) => ({
  content: `done: ${ctx.event.data.taskTitle ?? 'task'}`,
  notes: 'delivered by the echo example',
}));
