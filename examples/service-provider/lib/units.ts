/**
 * Unit conversion, the service this agent sells. Pure functions, no I/O: the handlers decide what
 * the platform sees, this file only computes (and says precisely what is wrong with an input).
 */

type Dimension = 'length' | 'mass' | 'temperature';

/** Linear units: factor to the base unit of their dimension (metre, gram). */
const LINEAR: Record<string, { dimension: Dimension; factor: number }> = {
  mm: { dimension: 'length', factor: 0.001 },
  cm: { dimension: 'length', factor: 0.01 },
  m: { dimension: 'length', factor: 1 },
  km: { dimension: 'length', factor: 1000 },
  in: { dimension: 'length', factor: 0.0254 },
  ft: { dimension: 'length', factor: 0.3048 },
  mi: { dimension: 'length', factor: 1609.344 },
  g: { dimension: 'mass', factor: 1 },
  kg: { dimension: 'mass', factor: 1000 },
  lb: { dimension: 'mass', factor: 453.59237 },
  oz: { dimension: 'mass', factor: 28.349523125 },
};

/** Temperatures are affine: to and from kelvin. */
const TEMPERATURE: Record<string, { toK: (v: number) => number; fromK: (k: number) => number }> = {
  c: { toK: (v) => v + 273.15, fromK: (k) => k - 273.15 },
  f: { toK: (v) => ((v - 32) * 5) / 9 + 273.15, fromK: (k) => ((k - 273.15) * 9) / 5 + 32 },
  k: { toK: (v) => v, fromK: (k) => k },
};

export const UNITS = [...Object.keys(LINEAR), ...Object.keys(TEMPERATURE)];

/** A conversion request the caller got wrong; its message is shown to the caller as is. */
export class ConversionError extends Error {
  override name = 'ConversionError';
}

export interface Conversion {
  value: number;
  unit: string;
}

function dimensionOf(unit: string): Dimension {
  if (unit in TEMPERATURE) return 'temperature';
  const linear = LINEAR[unit];
  if (!linear) throw new ConversionError(`unknown unit "${unit}"; known units: ${UNITS.join(', ')}`);
  return linear.dimension;
}

/** Converts `value` from one unit to another, rounded to 4 decimals. */
export function convert(value: number, from: string, to: string): Conversion {
  const source = from.trim().toLowerCase();
  const target = to.trim().toLowerCase();
  const [a, b] = [dimensionOf(source), dimensionOf(target)];
  if (a !== b) throw new ConversionError(`cannot convert ${source} (${a}) to ${target} (${b})`);
  const raw =
    a === 'temperature'
      ? TEMPERATURE[target]!.fromK(TEMPERATURE[source]!.toK(value))
      : (value * LINEAR[source]!.factor) / LINEAR[target]!.factor;
  return { value: Math.round(raw * 10_000) / 10_000, unit: target };
}

/**
 * Reads a service input `{ value, from, to }`; throws a {@link ConversionError} that shows the
 * expected shape when something is missing.
 */
export function parseInput(input: Record<string, unknown> | undefined): {
  value: number;
  from: string;
  to: string;
} {
  const example = 'send { "value": 5, "from": "km", "to": "mi" }';
  const value =
    typeof input?.value === 'string' && input.value.trim() !== '' ? Number(input.value) : input?.value;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ConversionError(`input.value must be a number: ${example}`);
  if (typeof input?.from !== 'string' || typeof input.to !== 'string') {
    throw new ConversionError(`input.from and input.to must be unit names: ${example}`);
  }
  return { value, from: input.from, to: input.to };
}

/** Reads a chat request such as "5 km in mi" or "100 f to c"; `undefined` when it is not one. */
export function parseSentence(text: string): { value: number; from: string; to: string } | undefined {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*([a-z]+)\s+(?:in|to|as)\s+([a-z]+)\s*\??\s*$/i.exec(text);
  if (!match) return undefined;
  return { value: Number(match[1]), from: match[2]!, to: match[3]! };
}
