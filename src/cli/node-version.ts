/**
 * The Node.js version check the `c4c-runner` bin runs before loading anything else, so that an
 * old Node gets one sentence saying what to install instead of a syntax error from a dependency.
 * Kept free of imports that an old Node could not load.
 */
import { createRequire } from 'node:module';

const { engines } = createRequire(import.meta.url)('../../package.json') as { engines: { node: string } };

/** The Node.js range c4c-runner supports: `engines.node` of its package.json (`>=20.19`). */
export const NODE_RANGE: string = engines.node;

/**
 * `undefined` when `version` satisfies `range` (a `>=major.minor.patch` lower bound, as in
 * `engines`), else the sentence to print. Versions may carry a leading `v` (`process.version`).
 * @example
 * nodeVersionProblem('18.20.4', '>=20.19'); // 'c4c-runner needs Node.js >=20.19; this is Node.js 18.20.4. …'
 */
export function nodeVersionProblem(version: string, range: string = NODE_RANGE): string | undefined {
  const minimum = /^>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  const actual = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  // A range this check does not read, or a version it cannot parse: let Node try.
  if (!minimum || !actual) return undefined;
  const want = [Number(minimum[1]), Number(minimum[2] ?? 0), Number(minimum[3] ?? 0)];
  const have = [Number(actual[1]), Number(actual[2]), Number(actual[3])];
  for (let i = 0; i < 3; i++) {
    if (have[i]! > want[i]!) return undefined;
    if (have[i]! < want[i]!) {
      return `c4c-runner needs Node.js ${range}; this is Node.js ${version.replace(/^v/, '')}. Install a current LTS (for example \`nvm install --lts\`, or from https://nodejs.org) and run it again`;
    }
  }
  return undefined;
}
