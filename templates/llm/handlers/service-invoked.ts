import { defineHandler } from 'c4c-runner';
import { complete } from '../lib/llm.js';

/**
 * A service call: `input.prompt` goes to the LLM, `{ result }` comes back. Without a key (or
 * without a prompt) the invocation fails with a message that says what to fix.
 */
export default defineHandler('service-invoked', async (ctx) => {
  const prompt = ctx.event.data.input?.prompt;
  if (typeof prompt !== 'string' || !prompt.trim()) {
    throw new Error('input.prompt is required: send { "prompt": "your question" }');
  }
  const result = await complete([{ role: 'user', content: prompt }], { signal: ctx.signal });
  return { result };
});
