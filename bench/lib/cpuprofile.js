/**
 * Summaries of a V8 `.cpuprofile` (what `node --cpu-prof` writes): self time per function and per
 * module, optionally only over a window of the profile, as Markdown tables.
 *
 * Self time is the time a function was on top of the stack. Modules are named so they can be acted
 * on: the runner's own files by their source path (`dist/runner/pipeline.js` → `src/runner/pipeline.ts`),
 * packages by name (`zod`, `ws`, `pino`), Node's own JavaScript by its internal module
 * (`node:internal/streams/writable` → `node: streams`), and V8's pseudo-frames as they are:
 * `(garbage collector)`, `(program)` (native code V8 cannot attribute: syscalls, libuv, the
 * embedder) and `(idle)`, which is left out of the busy time.
 */
import { readFileSync } from 'node:fs';

/**
 * Reads a profile and returns the self time (µs) of each node, restricted to samples taken in
 * [fromUs, toUs) of the profile's clock (the system's monotonic clock, the same as
 * `process.hrtime` in any process on the machine) when given.
 */
export function loadProfile(file, { fromUs, toUs } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let t = profile.startTime;
  let first;
  let last;
  // timeDeltas[i] is the gap before sample i; the sample accounts for the time until the next one.
  for (let i = 0; i < profile.samples.length; i += 1) {
    t += profile.timeDeltas[i] ?? 0;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (fromUs !== undefined && t < fromUs) continue;
    if (toUs !== undefined && t >= toUs) continue;
    first ??= t;
    last = t + dt;
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  return {
    byId,
    self,
    startUs: profile.startTime,
    endUs: profile.endTime,
    windowUs: first === undefined ? 0 : last - first,
  };
}

/** The module a call frame belongs to, named so that it can be acted on (see the file comment). */
export function moduleOf(callFrame) {
  const { url, functionName } = callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native: V8 builtins and bindings)';
  if (url.startsWith('node:')) {
    const path = url.slice('node:'.length);
    if (path.startsWith('internal/deps/')) return `node: ${path.split('/')[2]}`;
    const parts = path.split('/');
    return `node: ${parts[0] === 'internal' ? (parts[1] ?? 'internal').replace(/\.js$/, '') : parts[0]}`;
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return `src/${url.slice(dist + '/dist/'.length).replace(/\.js$/, '.ts')}`;
  if (url.includes('/handlers/')) return 'the handler (handlers/message.ts)';
  return url.replace(/^file:\/\//, '');
}

/** `name — module`, with the line in the file that ran (for the runner's files, the line in dist/). */
function functionKey(callFrame) {
  const name = callFrame.functionName || '(anonymous)';
  const { url, lineNumber } = callFrame;
  if (!url) return `${name} — ${moduleOf(callFrame)}`;
  const dist = url.lastIndexOf('/dist/');
  const where = dist >= 0 ? `dist/${url.slice(dist + '/dist/'.length)}` : moduleOf(callFrame);
  return `${name} — ${where}:${lineNumber + 1}`;
}

/**
 * Self time grouped by `keyOf(callFrame)`, busiest first: [{ key, us, share }] where share is of
 * the busy time (everything but `(idle)`).
 */
export function selfTimeBy({ byId, self }, keyOf) {
  const totals = new Map();
  let busy = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id).callFrame;
    if (frame.functionName === '(idle)') continue;
    busy += us;
    const key = keyOf(frame);
    totals.set(key, (totals.get(key) ?? 0) + us);
  }
  return {
    busyUs: busy,
    rows: [...totals]
      .map(([key, us]) => ({ key, us, share: busy ? us / busy : 0 }))
      .sort((a, b) => b.us - a.us),
  };
}

/**
 * Markdown: self time per module and the top `top` functions, each also as µs per reply when
 * `replies` is given.
 */
export function profileTables(loaded, { replies, top = 25 } = {}) {
  const perReply = (us) => (replies ? (us / replies).toFixed(2) : 'n/a');
  const modules = selfTimeBy(loaded, moduleOf);
  const functions = selfTimeBy(loaded, functionKey);
  const lines = [
    `Busy (not idle) CPU in the window: ${(modules.busyUs / 1000).toFixed(0)} ms over ${(loaded.windowUs / 1000).toFixed(0)} ms` +
      (replies
        ? `, ${replies.toLocaleString('en-US')} replies: ${perReply(modules.busyUs)} µs per reply.`
        : '.'),
    '',
    '| module | self time | share of busy | µs per reply |',
    '|---|---|---|---|',
    ...modules.rows
      .filter((row) => row.share >= 0.002)
      .map(
        (row) =>
          `| ${row.key} | ${(row.us / 1000).toFixed(1)} ms | ${(row.share * 100).toFixed(1)}% | ${perReply(row.us)} |`,
      ),
    '',
    `| function (top ${top} by self time) | self time | share of busy | µs per reply |`,
    '|---|---|---|---|',
    ...functions.rows
      .slice(0, top)
      .map(
        (row) =>
          `| ${row.key.replace(/\|/g, '\\|')} | ${(row.us / 1000).toFixed(1)} ms | ${(row.share * 100).toFixed(1)}% | ${perReply(row.us)} |`,
      ),
  ];
  return lines.join('\n');
}
