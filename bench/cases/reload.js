/** Case 3, hot reload — filled in once `c4c-runner dev` lands. */
export async function reloadRuns() {
  return null;
}
