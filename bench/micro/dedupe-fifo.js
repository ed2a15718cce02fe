/**
 * Micro-benchmark behind a finding of the null-platform profile: the runner's dedupe
 * (`MemoryLedger.claim`, src/runner/ledger.ts) is a `Map` used as a FIFO of 10,000 ids, evicting with
 * `map.keys().next()` + `map.delete()`. V8 leaves a deleted entry as a hole in the map's table
 * until the next rehash, and a fresh iterator walks over every hole from the start, so once the map
 * is full each eviction costs a scan that grows with the deletions since the last rehash. A ring of
 * ids + a `Set` does the same job (first-in first-out, same bound) in constant time; two
 * generations of `Set`s (the newest fills to SIZE, then replaces the older one whole) do it without
 * a delete per claim, for a window of SIZE to 2 × SIZE ids. The ledger's way now: the same two
 * generations as open-addressing tables of 32-bit hashes in `Int32Array`s (the ids beside them for
 * the exact comparison), measured from dist/ (`npm run build` first).
 *
 *   node bench/micro/dedupe-fifo.js
 */
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { MemoryLedger } from '../../dist/runner/ledger.js';

const SIZE = 10_000;
const OPS = 300_000;
// Keys shaped like the ledger's: `employment:<id>/msg_<uuid>`, built per claim as the pipeline does.
const UUIDS = Array.from({ length: OPS }, () => randomUUID());
const key = (i) => `employment:${(i % 1000) + 1}/msg_${UUIDS[i]}`;

/** The ledger's way: a Map, the oldest key found with a new iterator on every eviction. */
function mapFifo() {
  const seen = new Map();
  const t0 = performance.now();
  for (let i = 0; i < OPS; i += 1) {
    const id = `msg_${i}`;
    if (seen.has(id)) continue;
    seen.set(id, true);
    if (seen.size > SIZE) seen.delete(seen.keys().next().value);
  }
  return ((performance.now() - t0) * 1000) / OPS;
}

/** A ring of the last SIZE ids and a Set for lookups. */
function ringFifo() {
  const seen = new Set();
  const ring = new Array(SIZE);
  let head = 0;
  const t0 = performance.now();
  for (let i = 0; i < OPS; i += 1) {
    const id = `msg_${i}`;
    if (seen.has(id)) continue;
    const oldest = ring[head];
    if (oldest !== undefined) seen.delete(oldest);
    ring[head] = id;
    head = (head + 1) % SIZE;
    seen.add(id);
  }
  return ((performance.now() - t0) * 1000) / OPS;
}

/** The ledger's ring before the generations: a Map from id to slot, so a released-and-reclaimed id survives its old slot. */
function ringSlots() {
  const seen = new Map();
  const ring = new Array(SIZE);
  let head = 0;
  const t0 = performance.now();
  for (let i = 0; i < OPS; i += 1) {
    const id = key(i);
    if (seen.has(id)) continue;
    const oldest = ring[head];
    if (oldest !== undefined && seen.get(oldest) === head) seen.delete(oldest);
    ring[head] = id;
    seen.set(id, head);
    head = (head + 1) % SIZE;
  }
  return ((performance.now() - t0) * 1000) / OPS;
}

const noChurn = () => {};

/** Two generations: lookups in both, adds to the newest, the older dropped whole. */
function generations(churn = noChurn) {
  let current = new Set();
  let previous = new Set();
  const t0 = performance.now();
  for (let i = 0; i < OPS; i += 1) {
    churn();
    const id = key(i);
    if (current.has(id) || previous.has(id)) continue;
    if (current.size >= SIZE) {
      previous = current;
      current = new Set();
    }
    current.add(id);
  }
  return ((performance.now() - t0) * 1000) / OPS;
}

/**
 * The ledger's way now (src/runner/ledger.ts, built in dist/): two generations of open-addressing
 * tables holding a 32-bit hash per id in an `Int32Array`, the id beside it for exact comparison.
 */
function ledgerTables(churn = noChurn) {
  const ledger = new MemoryLedger({ size: SIZE, logger: { child: () => ({}) } });
  const t0 = performance.now();
  for (let i = 0; i < OPS; i += 1) {
    churn();
    ledger.claim(key(i));
  }
  return ((performance.now() - t0) * 1000) / OPS;
}

/**
 * What the runner's heap adds: other allocation between claims (a reply's worth of short-lived
 * objects), so that the stored ids are not all in the cache. `claimAll` takes the churn to run per claim.
 */
function withChurn(claimAll) {
  let junk = [];
  const churn = () => {
    for (let j = 0; j < 40; j += 1) junk.push({ j, list: [j] });
    if (junk.length > 100_000) junk = [];
  };
  return claimAll(churn);
}

function churnOnly(churn) {
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < OPS; i += 1) {
    churn();
    n += key(i).length;
  }
  if (n === 0) process.stdout.write('');
  return ((performance.now() - t0) * 1000) / OPS;
}

for (let round = 1; round <= 3; round += 1) {
  process.stdout.write(
    `round ${round}: Map + keys().next(): ${mapFifo().toFixed(2)} µs per claim · ring + Set: ${ringFifo().toFixed(2)} µs · ring + Map to slots, ledger keys: ${ringSlots().toFixed(2)} µs · two Set generations, ledger keys: ${generations().toFixed(2)} µs · the ledger's hash tables: ${ledgerTables().toFixed(2)} µs\n`,
  );
  const base = withChurn(churnOnly);
  process.stdout.write(
    `         with other allocation between claims (minus its own ${base.toFixed(2)} µs): two Set generations ${(withChurn(generations) - base).toFixed(2)} µs · the ledger's hash tables ${(withChurn(ledgerTables) - base).toFixed(2)} µs\n`,
  );
}
