/**
 * The second step of `npm run build`: bundles what tsc wrote to dist/ into dist/bundle/, the files
 * the package's entry points (`c4c-runner`, `c4c-runner/testing`, `c4c-runner/ops`), the CLI and the
 * worker threads load.
 *
 * Why: Node 20 loads an ES module file by file (resolve, read, compile, link), and `c4c-runner
 * start` reached ~250 files before its socket opened (dist/ itself, zod's ~100, commander's); that
 * per-file cost was most of its start-up (docs/benchmarks.md, "Start-up"). Bundled, the same code is
 * a few dozen files.
 *
 * What is bundled: c4c-runner's own code, zod and commander (plain JavaScript that only runs what it
 * is asked to). Every other dependency stays an import of the installed package: pino and its
 * transports, pino-pretty, chokidar, piscina and ioredis find their own files on disk, and ws and
 * jiti are required through their CommonJS entries. zod keeps working across copies (a user's
 * `import { z } from 'zod'` and c4c-runner's bundled one): its classes test membership by trait,
 * not by identity.
 *
 * One copy of c4c-runner per process: the package's exports, the CLI and the worker file all point
 * into dist/bundle/, so the runner's `instanceof C4cError` knows an error a handler made with
 * `import { C4cError } from 'c4c-runner'` (test/cli/start.test.ts, "one copy of c4c-runner"). The unbundled dist/ stays for the tests and the
 * benchmark harness, which import single modules from it.
 *
 *   node scripts/bundle.mjs   (after tsc -p tsconfig.build.json)
 */
import { rmSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';
import process from 'node:process';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist/`;

/** Dependencies bundled in (see the file comment); every other bare import stays external. */
const BUNDLED = /^(zod|commander)(\/|$)/;

/** Dev-only parts, kept in a chunk of their own (dev-*.js) that `start` never loads (test/cli/start.test.ts). */
const DEV_ONLY = /[\\/]dist[\\/](dev|platform|party)[\\/]|[\\/]dist[\\/]cli[\\/](dev-|exposure\.js$)/;

/**
 * Leaf modules (no imports of their own) that the CLI's command table needs before any command runs:
 * kept out of the runtime chunk so that `--help` or a mistyped flag does not load zod and the runner.
 */
const BASE =
  /[\\/]dist[\\/](errors|describe|limits|suggest|redact)\.js$|[\\/]dist[\\/]config[\\/](precedence|sources)\.js$/;

/**
 * The runtime every agent loads (the modules `c4c-runner`'s index reaches, zod): one chunk rather
 * than one per module, as a single file is what saves the per-file cost. Optional parts (workers,
 * Redis scaling, the health server, tracing) stay separate chunks, loaded when used.
 */
const RUNTIME =
  /[\\/]node_modules[\\/]zod[\\/]|[\\/]dist[\\/](api|config|connection|protocol|state|webhook)[\\/]|[\\/]dist[\\/]log\.js$|[\\/]dist[\\/]runner[\\/](?!workers[\\/])/;

/** Writes dist/bundle/ from dist/ (tsc's output must be there), then checks the chunk graph. */
export async function bundle() {
  rmSync(`${dist}bundle`, { recursive: true, force: true });
  const { output } = await build({
    input: {
      index: `${dist}index.js`,
      testing: `${dist}testing/index.js`,
      ops: `${dist}ops/index.js`,
      cli: `${dist}cli/index.js`,
      'node-version': `${dist}cli/node-version.js`,
      // Next to the chunk that holds the worker pool, which finds it as ./worker.js.
      worker: `${dist}runner/workers/worker.js`,
    },
    platform: 'node',
    logLevel: 'warn',
    // The package's index imports statically what the runner also imports lazily (the webhook
    // fallback, the platform for the testing kit): expected, not worth a warning per build.
    checks: { ineffectiveDynamicImport: false },
    // An entry may export more than its source does (rolldown's requirement for the groups below).
    preserveEntrySignatures: 'allow-extension',
    external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0') && !BUNDLED.test(id),
    output: {
      dir: `${dist}bundle`,
      format: 'esm',
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
      // Kept as written: the files stay readable in a stack trace.
      minify: false,
      codeSplitting: {
        // A group holds the modules it names, not also everything they import (a dev-only module's
        // imports are mostly runtime ones).
        includeDependenciesRecursively: false,
        groups: [
          // Highest first: a module both reach belongs to the runtime, never to a dev-only chunk.
          { name: 'base', test: BASE, priority: 4 },
          { name: 'runtime', test: RUNTIME, priority: 3 },
          { name: 'commander', test: /[\\/]node_modules[\\/]commander[\\/]/, priority: 2 },
          { name: 'dev', test: DEV_ONLY, priority: 1 },
          // The health server and Prometheus metrics, loaded with --health-port or `c4c-runner/ops`.
          { name: 'ops', test: /[\\/]dist[\\/]ops[\\/]/, priority: 1 },
        ],
      },
    },
  });
  assertNoCycle(output);
}

/**
 * Chunks run their modules in import order, without rolldown's lazy wrappers (`strictExecutionOrder`,
 * which cost ~10 ms of a start): that order is only sound while no two chunks import each other, so a
 * cycle fails the build with the chunks that form it (put the module both need into one group).
 */
function assertNoCycle(output) {
  const imports = new Map(output.filter((c) => c.type === 'chunk').map((c) => [c.fileName, c.imports]));
  const state = new Map();
  const visit = (file, path) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      throw new Error(
        `scripts/bundle.mjs: chunks import each other: ${[...path.slice(path.indexOf(file)), file].join(' → ')}`,
      );
    }
    state.set(file, 'open');
    for (const next of imports.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of imports.keys()) visit(file, []);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
