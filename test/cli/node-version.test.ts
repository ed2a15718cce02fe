/** The Node.js version check the bin runs first, tested with version strings. */
import { describe, expect, it } from 'vitest';
import { NODE_RANGE, nodeVersionProblem } from '../../src/cli/node-version.js';

describe('nodeVersionProblem', () => {
  it.each(['20.19.0', 'v20.19.0', '20.19.5', '20.20.2', '21.0.0', '22.12.0', '24.1.0'])(
    '%s satisfies >=20.19',
    (version) => {
      expect(nodeVersionProblem(version, '>=20.19')).toBeUndefined();
    },
  );

  it.each(['20.18.3', 'v20.0.0', '18.20.4', '16.20.2', '19.9.0'])('%s is too old for >=20.19', (version) => {
    expect(nodeVersionProblem(version, '>=20.19')).toBe(
      `c4c-runner needs Node.js >=20.19; this is Node.js ${version.replace(/^v/, '')}. Install a current LTS (for example \`nvm install --lts\`, or from https://nodejs.org) and run it again`,
    );
  });

  it('reads patch versions in the range, and leaves ranges it does not read to Node', () => {
    expect(nodeVersionProblem('20.19.0', '>=20.19.1')).toMatch(/needs Node\.js >=20\.19\.1/);
    expect(nodeVersionProblem('20.19.1', '>=20.19.1')).toBeUndefined();
    expect(nodeVersionProblem('18.0.0', '^20 || >=22')).toBeUndefined();
    expect(nodeVersionProblem('not a version', '>=20.19')).toBeUndefined();
  });

  it('checks against the engines range of package.json, which this Node satisfies', () => {
    expect(NODE_RANGE).toBe('>=20.19');
    expect(nodeVersionProblem(process.versions.node)).toBeUndefined();
  });
});
