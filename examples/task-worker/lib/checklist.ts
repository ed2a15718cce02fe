/**
 * The work itself: a task description becomes a markdown checklist, one box per step. Steps are
 * the description's bullet lines ("- …", "* …", "1. …"), or its sentences when it has no bullets.
 */
export function checklist(title: string, description: string): { content: string; steps: number } {
  const lines = description.split('\n').map((line) => line.trim());
  const bullets = lines
    .map((line) => /^(?:[-*•]|\d+[.)])\s+(.+)$/.exec(line)?.[1]?.trim())
    .filter((s): s is string => Boolean(s));
  const steps = bullets.length
    ? bullets
    : description
        .split(/(?<=[.!?。！？])\s*/)
        .map((s) => s.trim())
        .filter(Boolean);
  const body = steps.length
    ? steps.map((step) => `- [x] ${step}`).join('\n')
    : '_The task named no steps; the title was the whole job._';
  return { content: `# ${title}\n\n${body}\n`, steps: steps.length };
}
