import { defineHandler } from 'c4c-runner';
import { convert, parseInput } from '../lib/units.js';

/**
 * The paid service: `{ value, from, to }` → `{ value, unit }`. A thrown error fails the invocation
 * and the caller reads its message, so every error here says what to send instead.
 * A conversion never takes long: 2 s is plenty, and a stuck one fails instead of hanging.
 */
export default defineHandler('service-invoked', {
  timeout: 2_000,
  handle: (ctx) => {
    const { value, from, to } = parseInput(ctx.event.data.input);
    const result = convert(value, from, to);
    ctx.log.info({ invocationId: ctx.event.data.invocationId, from, to }, 'converted');
    return { value: result.value, unit: result.unit };
  },
});
