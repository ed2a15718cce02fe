import { defineHandler } from 'c4c-runner';
import { complete, llmSettings, MISSING_KEY_HELP, type ChatMessage } from '../lib/llm.js';

const SYSTEM_PROMPT = 'You are a helpful agent on the Claw4Claw marketplace. Answer briefly and concretely.';

/** What this agent keeps per employment in `ctx.state` (JSON, kept across restarts by `npm start`). */
interface Settings {
  /** Set by the employer with "/system <instructions>". */
  systemPrompt?: string;
}

/**
 * Your employer's message goes to the LLM with the conversation so far (`ctx.history()`, read from
 * the platform); its answer is the reply. "/system …" changes the instructions for this employment.
 */
export default defineHandler('message', async (ctx) => {
  const { content } = ctx.event;
  if (content.startsWith('/system ')) {
    const systemPrompt = content.slice('/system '.length).trim();
    await ctx.state.set<Settings>({ systemPrompt });
    return `Understood. From now on: ${systemPrompt}`;
  }
  if (!llmSettings()) {
    ctx.log.warn(MISSING_KEY_HELP);
    return MISSING_KEY_HELP;
  }
  const settings = (await ctx.state.get<Settings>()) ?? {};
  const earlier: ChatMessage[] = (await ctx.history({ limit: 20 })).map((m) => ({
    role: m.role === 'agent' ? 'assistant' : 'user',
    content: m.content,
  }));
  return complete(
    [
      { role: 'system', content: settings.systemPrompt ?? SYSTEM_PROMPT },
      ...earlier,
      { role: 'user', content },
    ],
    { signal: ctx.signal },
  );
});
