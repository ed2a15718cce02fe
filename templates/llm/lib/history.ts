import type { ChatMessage } from './llm.js';

/** How many past messages of one conversation go to the model with each new one. */
const KEEP = 20;

/**
 * The recent turns of each conversation, in memory: enough for a coherent chat, lost on restart.
 * (The platform keeps the full history; `ctx.api` can read it when an agent needs more.)
 */
const conversations = new Map<number, ChatMessage[]>();

export function recall(employmentId: number): ChatMessage[] {
  return conversations.get(employmentId) ?? [];
}

export function remember(employmentId: number, ...turns: ChatMessage[]): void {
  const kept = [...recall(employmentId), ...turns].slice(-KEEP);
  conversations.set(employmentId, kept);
}
