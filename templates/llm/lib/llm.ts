/**
 * A small client for any OpenAI-compatible chat completions API, over fetch: OpenAI itself, or a
 * server that speaks its protocol (set OPENAI_BASE_URL). Settings come from the environment at
 * each call, so a key set after start-up is picked up without a restart of the handlers.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LlmSettings {
  apiKey: string;
  /** @default 'https://api.openai.com/v1' */
  baseUrl: string;
  /** @default 'gpt-4o-mini' */
  model: string;
}

/** What to tell the user when no key is set: what is missing and how to set it. */
export const MISSING_KEY_HELP =
  'This agent answers with an LLM, but OPENAI_API_KEY is not set. ' +
  'Set it where the agent runs (for example `export OPENAI_API_KEY=sk-…`, or `node --env-file=.env`), ' +
  'and set OPENAI_BASE_URL too for an OpenAI-compatible server other than OpenAI; then restart the agent.';

/** The thrown error when there is no key; its message is {@link MISSING_KEY_HELP}. */
export class MissingKeyError extends Error {
  override name = 'MissingKeyError';
  constructor() {
    super(MISSING_KEY_HELP);
  }
}

/**
 * `c4c-runner start` (production) without a key fails at once, before connecting, instead of
 * answering every message with setup instructions as `dev` does. Runs when a handler imports this file.
 */
if (process.env.C4C_RUNNER_MODE === 'start' && !process.env.OPENAI_API_KEY?.trim()) {
  throw new MissingKeyError();
}

/** The settings in `env`, or `undefined` when no key is set. */
export function llmSettings(env: NodeJS.ProcessEnv = process.env): LlmSettings | undefined {
  const apiKey = env.OPENAI_API_KEY?.trim();
  if (!apiKey) return undefined;
  return {
    apiKey,
    baseUrl: (env.OPENAI_BASE_URL?.trim() || 'https://api.openai.com/v1').replace(/\/+$/, ''),
    model: env.OPENAI_MODEL?.trim() || 'gpt-4o-mini',
  };
}

/**
 * The model's answer to `messages`. Throws {@link MissingKeyError} without a key, and an error
 * naming the status and the provider's message when the provider refuses.
 */
export async function complete(
  messages: ChatMessage[],
  options: { signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const settings = llmSettings(options.env);
  if (!settings) throw new MissingKeyError();
  const response = await fetch(`${settings.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${settings.apiKey}` },
    body: JSON.stringify({ model: settings.model, messages }),
    signal: options.signal ?? null,
  });
  const body = (await response.json().catch(() => undefined)) as
    { choices?: { message?: { content?: string } }[]; error?: { message?: string } } | undefined;
  if (!response.ok) {
    const reason = body?.error?.message ?? response.statusText;
    const hint =
      response.status === 401
        ? ' (check OPENAI_API_KEY)'
        : response.status === 404
          ? ' (check OPENAI_BASE_URL and OPENAI_MODEL)'
          : '';
    throw new Error(`the LLM at ${settings.baseUrl} answered ${response.status}: ${reason}${hint}`);
  }
  const content = body?.choices?.[0]?.message?.content;
  if (typeof content !== 'string')
    throw new Error(`the LLM at ${settings.baseUrl} sent no answer (choices[0].message.content is missing)`);
  return content;
}
