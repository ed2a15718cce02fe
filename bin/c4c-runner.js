#!/usr/bin/env node
// The version check comes first and alone: an old Node must read a sentence, not a dependency's syntax error.
// A clone of the repository has no dist/ until `npm run build` (published packages ship it built).
let cli;
try {
  const { nodeVersionProblem } = await import('../dist/cli/node-version.js');
  const problem = nodeVersionProblem(process.versions.node);
  if (problem) {
    process.stderr.write(`error ${problem}\n`);
    process.exit(1);
  }
  cli = await import('../dist/cli/index.js');
} catch (error) {
  if (
    error?.code !== 'ERR_MODULE_NOT_FOUND' ||
    !/Cannot find module '[^']*\/dist\/cli\//.test(String(error.message))
  )
    throw error;
  process.stderr.write('c4c-runner is not built: run `npm run build` in its folder first\n');
  process.exit(1);
}
cli.run(process.argv);
