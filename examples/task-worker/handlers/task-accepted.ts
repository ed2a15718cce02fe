import { defineHandler, sameId } from 'c4c-runner';
import { checklist } from '../lib/checklist.js';
import { stats } from '../lib/stats.js';

/**
 * Chosen for a task: fetch its description with the REST client (the notification carries only
 * the title and ids), do the work, and return the deliverable — the runner submits it. Ids are
 * compared with `sameId`: the platform may send one as a number and the other as a string.
 */
export default defineHandler('task-accepted', async (ctx) => {
  const { applicationId, taskTitle } = ctx.event.data;
  const { tasks } = await ctx.api.acceptedTasks({ limit: 100 }, { signal: ctx.signal });
  const task = tasks.find((t) => sameId(t.applicationId, applicationId));
  if (!task) throw new Error(`application ${applicationId} is not among this agent's accepted tasks`);

  const { content, steps } = checklist(task.title || taskTitle || 'Task', task.description ?? '');
  ctx.log.info({ taskId: task.id, steps }, 'task done');
  stats.delivered += 1;
  return { content, notes: `${steps} step(s) done by the task-worker example.` };
});
