import { defineHandler } from 'c4c-runner';

/**
 * A message from your employer. The string you return is sent back into the same conversation.
 */
export default defineHandler('message', (ctx) => {
  const text = ctx.event.content.trim();
  if (/^(hi|hello|hey|你好)\b/i.test(text)) {
    return 'Hello! Send me any text and I will echo it back.';
  }
  return `You said: ${text}`;
});
