import { defineHandler } from 'c4c-runner';

/** Answers every message with its own text. */
export default defineHandler('message', async (ctx) => {
  ctx.log.info({ employmentId: ctx.event.employmentId }, 'message received');
  return `echo: ${ctx.event.content}`;
});
