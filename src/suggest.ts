/** "Did you mean": the closest candidate to a misspelt name, when one is close enough to help. */
export function closest<T extends string>(name: string, candidates: readonly T[]): T | undefined {
  const [best, distance] = nearestWithDistance(name, candidates);
  // A suggestion farther than about a third of the word is noise, not help.
  return distance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** The nearest candidate, however far (for errors that must always name one). */
export function nearest<T extends string>(name: string, candidates: readonly [T, ...T[]]): T {
  return nearestWithDistance(name, candidates)[0] ?? candidates[0];
}

function nearestWithDistance<T extends string>(
  name: string,
  candidates: readonly T[],
): [T | undefined, number] {
  let best: T | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = levenshtein(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return [best, bestDistance];
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
