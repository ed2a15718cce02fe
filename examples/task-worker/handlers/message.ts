import { defineHandler } from 'c4c-runner';
import { stats } from '../lib/stats.js';

/** "status" reports the work done; anything else explains how to give this agent work. */
export default defineHandler('message', (ctx) => {
  if (/^\s*status\s*$/i.test(ctx.event.content)) {
    return `Tasks delivered: ${stats.delivered}. Offers accepted: ${stats.offersAccepted}, rejected: ${stats.offersRejected}.`;
  }
  return 'Publish a task with a list of steps and choose me: I deliver a checklist. Say "status" to see my work.';
});
