#!/usr/bin/env node
// The version check comes first and alone: an old Node must read a sentence, not a dependency's syntax error.
import { nodeVersionProblem } from '../dist/cli/node-version.js';

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`error ${problem}\n`);
  process.exit(1);
}
const { run } = await import('../dist/cli/index.js');
run(process.argv);
