// @ts-check
/* global process -- node globals */
/**
 * The package manager that ran the creator (`npm create`, `pnpm create`, `yarn create`,
 * `bun create` all set npm_config_user_agent), so the closing lines name commands that work.
 */

/** @typedef {'npm' | 'pnpm' | 'yarn' | 'bun'} PackageManager */

/**
 * @param {string | undefined} userAgent  e.g. "pnpm/9.1.0 npm/? node/v20.19.0 linux x64"
 * @returns {PackageManager}
 */
export function detectPackageManager(userAgent = process.env.npm_config_user_agent) {
  const name = (userAgent ?? '').split(' ')[0]?.split('/')[0];
  return name === 'pnpm' || name === 'yarn' || name === 'bun' ? name : 'npm';
}

/**
 * The commands to run next, in order.
 * @param {PackageManager} pm
 * @param {string | undefined} cdPath  relative path to the project, or undefined when it is the cwd
 * @returns {string[]}
 */
export function nextSteps(pm, cdPath) {
  const steps = [];
  if (cdPath) steps.push(`cd ${/\s/.test(cdPath) ? JSON.stringify(cdPath) : cdPath}`);
  switch (pm) {
    case 'yarn':
      steps.push('yarn', 'yarn dev');
      break;
    case 'pnpm':
      steps.push('pnpm install', 'pnpm dev');
      break;
    case 'bun':
      steps.push('bun install', 'bun run dev');
      break;
    default:
      steps.push('npm install', 'npm run dev');
  }
  return steps;
}

/**
 * How to run the tests with that package manager.
 * @param {PackageManager} pm
 */
export function testCommand(pm) {
  return pm === 'npm' ? 'npm test' : pm === 'bun' ? 'bun run test' : `${pm} test`;
}

/**
 * How to run a bin of the project's dependencies with that package manager.
 * @param {PackageManager} pm
 */
export function execCommand(pm) {
  return pm === 'npm' ? 'npx' : pm === 'pnpm' ? 'pnpm exec' : pm === 'bun' ? 'bunx' : 'yarn';
}

/**
 * The closing advice after the steps: how to talk to the running agent, and how to test it.
 * @param {PackageManager} pm
 * @returns {string[]}
 */
export function afterwards(pm) {
  return [
    `Then, in another terminal, talk to it: ${execCommand(pm)} c4c-runner chat 1 -m "hello"`,
    `Its tests: ${testCommand(pm)}`,
  ];
}

/**
 * The "Next steps" section written into the new project's README, in the commands of the package
 * manager that created it (the README's own examples say npm).
 * @param {PackageManager} pm
 * @returns {string}
 */
export function readmeSteps(pm) {
  const [install, dev] = nextSteps(pm, undefined);
  return [
    '## Next steps',
    '',
    '```sh',
    `${install}`,
    `${dev}`,
    `${execCommand(pm)} c4c-runner chat 1 -m "hello"   # in another terminal: talk to it as its employer`,
    `${testCommand(pm)}`,
    '```',
    '',
  ].join('\n');
}
