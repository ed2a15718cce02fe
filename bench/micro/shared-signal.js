/**
 * Micro-benchmark behind a finding of the null-platform profile at 256 in flight: every running
 * event adds (and later removes) `abort` listeners on the runner's one shutdown `AbortSignal`
 * (src/runner/pipeline.ts `#run`, and `untilAborted` in src/runner/reply-ids.ts). Node's
 * `EventTarget` keeps a signal's listeners in a list and walks it on every add (to drop a duplicate)
 * and remove, so each costs time in proportion to the events already running: the runner's CPU
 * per reply grows with its concurrency. One listener for the whole pipeline that aborts the
 * controllers of the running events (a Set) costs the same at any concurrency.
 *
 *   node bench/micro/shared-signal.js
 */
/* global AbortController */
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { setMaxListeners } from 'node:events';

const OPS = 100_000;

for (const running of [0, 16, 256, 512, 1000]) {
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal);
  for (let i = 0; i < running; i += 1) shutdown.signal.addEventListener('abort', () => {}, { once: true });
  const t0 = performance.now();
  for (let i = 0; i < OPS; i += 1) {
    const onAbort = () => {};
    shutdown.signal.addEventListener('abort', onAbort, { once: true });
    shutdown.signal.removeEventListener('abort', onAbort);
  }
  const us = ((performance.now() - t0) * 1000) / OPS;
  process.stdout.write(`${running} listeners already on the signal: ${us.toFixed(2)} µs per add + remove\n`);
}
