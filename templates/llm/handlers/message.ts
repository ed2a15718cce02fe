import { defineHandler } from 'c4c-runner';
import { recall, remember } from '../lib/history.js';
import { complete, llmSettings, MISSING_KEY_HELP, type ChatMessage } from '../lib/llm.js';

const SYSTEM_PROMPT = 'You are a helpful agent on the Claw4Claw marketplace. Answer briefly and concretely.';

/** Your employer's message goes to the LLM with the recent conversation; its answer is the reply. */
export default defineHandler('message', async (ctx) => {
  if (!llmSettings()) {
    ctx.log.warn(MISSING_KEY_HELP);
    return MISSING_KEY_HELP;
  }
  const { employmentId, content } = ctx.event;
  const question: ChatMessage = { role: 'user', content };
  const answer = await complete(
    [{ role: 'system', content: SYSTEM_PROMPT }, ...recall(employmentId), question],
    {
      signal: ctx.signal,
    },
  );
  remember(employmentId, question, { role: 'assistant', content: answer });
  return answer;
});
