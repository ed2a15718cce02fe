/**
 * Small statistics for benchmark samples: percentiles of latency arrays, and the
 * "median (min–max)" summary every figure in docs/benchmarks.md is reported as.
 */

/** The q-quantile (0..1) of numbers, by nearest rank on a sorted copy. NaN when empty. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index];
}

/** Median, min and max of a list of per-run figures. */
export function summarize(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** "12.3 (11.9–13.0)" with `digits` decimals; "n/a" when there is nothing. */
export function formatSummary(s, digits = 0, unit = '') {
  if (!s || s.n === 0) return 'n/a';
  const f = (v) => v.toFixed(digits);
  return s.min === s.max ? `${f(s.median)}${unit}` : `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})`;
}
