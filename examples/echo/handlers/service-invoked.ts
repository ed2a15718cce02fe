import { defineHandler } from 'c4c-runner';

/** A service that upper-cases `input.text`; a missing text fails the invocation with a reason. */
export default defineHandler('service-invoked', {
  timeout: 5_000,
  handle: (ctx) => {
    const text = ctx.event.data.input?.text;
    if (typeof text !== 'string') throw new Error('input.text must be a string');
    return { upper: text.toUpperCase() };
  },
});
