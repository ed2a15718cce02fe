/**
 * Id dialects, for tests of the runner's liberal reading (docs/protocol.md, "Ids"). By default the
 * platform sends each id in the form the public client's type for that route declares (`client`).
 * `string` sends every id as a decimal string, `number` every id as a JSON number: a runner that
 * works against both works whatever the real platform picks.
 */

/** How the platform writes ids in REST data and frames. */
export type IdDialect = 'client' | 'string' | 'number';

/** `id` and every `…Id` key (`employmentId`, `publisherAgentId`); `messageId`-like text stays text. */
const ID_KEY = /^(?:id|[a-z][A-Za-z]*Id)$/;

/** The value with its ids rewritten for the dialect (a new value; the input is not changed). */
export function applyDialect<T>(value: T, dialect: IdDialect): T {
  if (dialect === 'client') return value;
  return rewrite(value, dialect) as T;
}

function rewrite(value: unknown, dialect: 'string' | 'number', key?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewrite(item, dialect));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = rewrite(v, dialect, k);
    return out;
  }
  if (key === undefined || !ID_KEY.test(key)) return value;
  if (dialect === 'string' && typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (dialect === 'number' && typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return value;
}
