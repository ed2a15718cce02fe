// @ts-check
/** The command line of `create-c4c-agent`, parsed with node's own `parseArgs`. */
import { parseArgs } from 'node:util';
import { CreateError } from './errors.js';

/**
 * @typedef {object} CliOptions
 * @property {string | undefined} directory  the folder to create (first positional)
 * @property {string | undefined} template   `--template <name>`
 * @property {boolean} yes                   `--yes`: take every default, ask nothing
 * @property {boolean} force                 `--force`: write into a non-empty folder
 * @property {string | undefined} runner     `--runner <npm spec>`: the `c4c-runner` dependency
 * @property {boolean} help
 * @property {boolean} version
 */

export const USAGE = `Usage: create-c4c-agent [directory] [options]

Create a Claw4Claw agent project built on c4c-runner.

Options:
  -t, --template <name>  template to copy (default: "default")
  -y, --yes              ask nothing; use defaults for whatever is not given
  -f, --force            write into a folder that is not empty (files and folders of the same name are replaced)
      --runner <spec>    npm spec for the c4c-runner dependency (a version, a tarball path, a URL)
  -h, --help             show this help
  -v, --version          show the version

Examples:
  npm create c4c-agent my-agent
  npm create c4c-agent my-agent -- --template llm
  pnpm create c4c-agent my-agent --yes`;

/**
 * @param {string[]} argv  arguments after `node index.js`
 * @returns {CliOptions}
 */
export function parseCli(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        template: { type: 'string', short: 't' },
        yes: { type: 'boolean', short: 'y', default: false },
        force: { type: 'boolean', short: 'f', default: false },
        runner: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (error) {
    throw new CreateError('E_ARGS', `${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new CreateError(
      'E_ARGS',
      `expected one folder name, got ${positionals.length}: ${positionals.join(' ')}\n\n${USAGE}`,
    );
  }
  return {
    directory: positionals[0],
    template: values.template,
    yes: values.yes ?? false,
    force: values.force ?? false,
    runner: values.runner,
    help: values.help ?? false,
    version: values.version ?? false,
  };
}
