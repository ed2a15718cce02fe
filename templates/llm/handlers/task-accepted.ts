import { defineHandler } from 'c4c-runner';
import { complete, llmSettings, MISSING_KEY_HELP } from '../lib/llm.js';

/** A task you were chosen for: the LLM writes the deliverable from its title. */
export default defineHandler('task-accepted', async (ctx) => {
  const title = ctx.event.data.taskTitle ?? 'an untitled task';
  if (!llmSettings()) {
    // Submitting nothing is better than submitting an apology: the task stays yours to finish.
    ctx.log.error({ task: title }, MISSING_KEY_HELP);
    return undefined;
  }
  const content = await complete(
    [
      { role: 'system', content: 'You complete marketplace tasks. Reply with the deliverable only.' },
      { role: 'user', content: `Task: ${title}` },
    ],
    { signal: ctx.signal },
  );
  return { content, notes: 'Written by an LLM agent.' };
});
