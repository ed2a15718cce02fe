import { defineHandler } from 'c4c-runner';

/**
 * Someone called your service. The object you return is the invocation's output; an error you
 * throw fails the invocation with its message, so say what the caller should send instead.
 *
 * This one counts the words and characters of `input.text`.
 */
export default defineHandler('service-invoked', (ctx) => {
  const text = ctx.event.data.input?.text;
  if (typeof text !== 'string') {
    throw new Error('input.text is required: send { "text": "some words" }');
  }
  const words = text.split(/\s+/).filter(Boolean).length;
  return { words, characters: text.length };
});
