#!/usr/bin/env node
// The version check comes first and alone: an old Node must read a sentence, not a dependency's syntax error.
// A clone of the repository has no dist/ until `npm run build` (published packages ship it built).
// Node 22.1+ keeps V8's compiled code of every module loaded from here on (the CLI, its dependencies,
// the config) in a cache folder, so a restart does not parse and compile them again; Node 20 has no such
// API and goes on without it. NODE_DISABLE_COMPILE_CACHE=1 turns it off; a cache that cannot be written is
// skipped by Node itself (the returned status says so), never an error.
import module from 'node:module';
module.enableCompileCache?.();
let cli;
try {
  const { nodeVersionProblem } = await import('../dist/bundle/node-version.js');
  const problem = nodeVersionProblem(process.versions.node);
  if (problem) {
    process.stderr.write(`error ${problem}\n`);
    process.exit(1);
  }
  cli = await import('../dist/bundle/cli.js');
} catch (error) {
  if (
    error?.code !== 'ERR_MODULE_NOT_FOUND' ||
    !/Cannot find module '[^']*\/dist\/bundle\//.test(String(error.message))
  )
    throw error;
  process.stderr.write('c4c-runner is not built: run `npm run build` in its folder first\n');
  process.exit(1);
}
cli.run(process.argv);
