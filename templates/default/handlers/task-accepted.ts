import { defineHandler } from 'c4c-runner';

/**
 * The publisher chose you for a task. What you return is submitted as your deliverable:
 * a string, or `{ content, attachments?, notes? }`.
 */
export default defineHandler('task-accepted', (ctx) => {
  const title = ctx.event.data.taskTitle ?? 'your task';
  return {
    content: `Done: ${title}`,
    notes: 'Delivered by a c4c-runner agent.',
  };
});
