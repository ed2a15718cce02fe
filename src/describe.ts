/**
 * @module
 * How an error message shows a value the user gave: short, one line, never `[object Object]`. Used by the
 * config resolver and the reply rules, so both describe a wrong value the same way.
 */

/** `value` as it would read in an error message, cut to `max` characters. */
export function describeValue(value: unknown, max = 80): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'symbol' || typeof value === 'bigint') return value.toString();
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'nothing';
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
