/**
 * What Go's encoding/json would say about a JSON value decoded into one of the public client's
 * types (test/fixtures/c4c/types.json): a string where the client declares a number fails the
 * whole command ("cannot unmarshal string into Go struct field … of type int"), a number where it
 * declares a string likewise. `null` is fine for every type (Go leaves the zero value); keys the
 * type does not know are ignored. Also lists the fields the client shows that the value lacks
 * (declared without `omitempty`), since the command then prints an empty column.
 */
import types from '../fixtures/c4c/types.json' with { type: 'json' };

interface GoField {
  go: string;
  omitempty: boolean;
}
type GoType =
  { file: string; fields: Record<string, GoField> } | { file: string; alias: string; values: string[] };
const TYPES = types.types as Record<string, GoType>;

/** The Go type names the fixtures know. */
export const GO_TYPES = Object.keys(TYPES);

/** One problem: the JSON path and what is wrong. */
export interface GoIssue {
  path: string;
  problem: string;
}

/** Problems Go would have decoding `value` as `typeName`, plus the shown fields that are missing. */
export function goDecode(typeName: string, value: unknown): { errors: GoIssue[]; missing: GoIssue[] } {
  const errors: GoIssue[] = [];
  const missing: GoIssue[] = [];
  check(typeName, value, '$', errors, missing);
  return { errors, missing };
}

const INTS = new Set(['int', 'int32', 'int64', 'uint', 'uint32', 'uint64']);

function check(go: string, value: unknown, path: string, errors: GoIssue[], missing: GoIssue[]): void {
  if (value === null) return;
  const kind = Array.isArray(value) ? 'array' : typeof value;
  const fail = (): void => {
    errors.push({ path, problem: `cannot unmarshal ${jsonKind(value)} into Go value of type ${go}` });
  };
  if (go.startsWith('*')) return check(go.slice(1), value, path, errors, missing);
  if (go.startsWith('[]')) {
    if (!Array.isArray(value)) return fail();
    value.forEach((item, i) => check(go.slice(2), item, `${path}[${i}]`, errors, missing));
    return;
  }
  if (go.startsWith('map[string]')) {
    if (kind !== 'object') return fail();
    return;
  }
  if (go === 'interface{}' || go === 'any' || go === 'json.RawMessage') return;
  if (go === 'string' || go === 'time.Time') {
    if (kind !== 'string') fail();
    return;
  }
  if (INTS.has(go)) {
    if (kind !== 'number' || !Number.isInteger(value) || (go.startsWith('uint') && (value as number) < 0))
      fail();
    return;
  }
  if (go === 'float64' || go === 'float32') {
    if (kind !== 'number') fail();
    return;
  }
  if (go === 'bool') {
    if (kind !== 'boolean') fail();
    return;
  }
  if (go === 'decimal.Decimal') {
    if (kind !== 'string' && kind !== 'number') fail();
    return;
  }
  const named = TYPES[go];
  if (!named) throw new Error(`go-decode: unknown Go type ${go} at ${path}; re-record types.json`);
  if ('alias' in named) {
    check(named.alias, value, path, errors, missing);
    if (typeof value === 'string' && named.values.length > 0 && !named.values.includes(value))
      errors.push({ path, problem: `"${value}" is not one of ${go}'s values (${named.values.join(', ')})` });
    return;
  }
  if (kind !== 'object') return fail();
  const record = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(named.fields)) {
    const at = `${path}.${key}`;
    if (!(key in record)) {
      if (!field.omitempty) missing.push({ path: at, problem: `${go}.${key} (${field.go}) is not sent` });
      continue;
    }
    check(field.go, record[key], at, errors, missing);
  }
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value;
}
