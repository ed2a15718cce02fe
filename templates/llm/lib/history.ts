import { idKey, type Id } from 'c4c-runner';
import type { ChatMessage } from './llm.js';

/** How many past messages of one conversation go to the model with each new one. */
const KEEP = 20;

/**
 * The recent turns of each conversation, in memory: enough for a coherent chat, lost on restart.
 * (The platform keeps the full history; `ctx.api` can read it when an agent needs more.)
 */
// Keyed by the canonical id: the platform may send an employment id as a number or a string.
const conversations = new Map<string, ChatMessage[]>();

export function recall(employmentId: Id): ChatMessage[] {
  return conversations.get(idKey(employmentId)) ?? [];
}

export function remember(employmentId: Id, ...turns: ChatMessage[]): void {
  const kept = [...recall(employmentId), ...turns].slice(-KEEP);
  conversations.set(idKey(employmentId), kept);
}
