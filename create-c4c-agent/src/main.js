// @ts-check
/* global process, AbortController, URL -- node globals */
/**
 * The creator's command line: the only file that prompts, prints or decides the exit code.
 * Prompts (@clack/prompts) are loaded only when a person is at the terminal, so `--yes` and
 * piped runs need nothing but node.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, relative, resolve } from 'node:path';
import { parseCli, USAGE } from './args.js';
import { CreateError } from './errors.js';
import { afterwards, detectPackageManager, nextSteps, readmeSteps } from './package-manager.js';
import { checkProjectDir, runnerSpec, scaffold, toPackageName } from './scaffold.js';
import { DEFAULT_TEMPLATE, findTemplate, listTemplates, templatesRoot } from './templates.js';

const DEFAULT_DIRECTORY = 'my-agent';

/**
 * @typedef {object} Io
 * @property {NodeJS.ReadStream | import('node:stream').Readable & { isTTY?: boolean }} stdin
 * @property {NodeJS.WriteStream | import('node:stream').Writable & { isTTY?: boolean }} stdout
 * @property {NodeJS.WriteStream | import('node:stream').Writable} stderr
 * @property {NodeJS.ProcessEnv} env
 * @property {string} cwd
 */

/**
 * Runs the creator and resolves with the exit code: 0 done, 1 failed, 130 cancelled.
 * @param {string[]} argv
 * @param {Io} [io]
 * @returns {Promise<number>}
 */
export async function main(
  argv,
  io = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  },
) {
  const out = (/** @type {string} */ line = '') => io.stdout.write(`${line}\n`);
  const fail = (/** @type {string} */ message) => io.stderr.write(`create-c4c-agent: ${message}\n`);
  try {
    const cli = parseCli(argv);
    if (cli.help) {
      out(USAGE);
      return 0;
    }
    if (cli.version) {
      out(ownVersion());
      return 0;
    }
    const root = templatesRoot(io.env);
    // A wrong --template or --runner fails before any question is asked.
    if (cli.template !== undefined) findTemplate(cli.template, root);
    const runner = cli.runner === undefined ? undefined : runnerSpec(cli.runner, io.cwd);

    const interactive = !cli.yes && Boolean(io.stdin.isTTY) && Boolean(io.stdout.isTTY);
    const answers = interactive
      ? await ask(cli, root, io)
      : {
          directory: cli.directory ?? DEFAULT_DIRECTORY,
          template: cli.template ?? DEFAULT_TEMPLATE,
          force: cli.force,
        };
    // The prompt has already said so.
    if (!answers) return 130;

    const template = findTemplate(answers.template, root);
    const dir = resolve(io.cwd, answers.directory);
    const packageName = toPackageName(basename(dir));

    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.on('SIGINT', onSigint);
    try {
      await scaffold({
        templateDir: template.dir,
        targetDir: dir,
        packageName,
        runner,
        force: answers.force,
        signal: controller.signal,
        readmeSteps: readmeSteps(detectPackageManager(io.env.npm_config_user_agent)),
      });
    } finally {
      process.off('SIGINT', onSigint);
    }

    const pm = detectPackageManager(io.env.npm_config_user_agent);
    const cdPath = relative(io.cwd, dir) || undefined;
    const steps = nextSteps(pm, cdPath);
    if (interactive) {
      const clack = await import('@clack/prompts');
      clack.note(steps.join('\n'), 'Next steps');
      const [talk, tests] = afterwards(pm);
      clack.log.message(talk);
      clack.outro(tests);
    } else {
      out(`Created ${packageName} from the "${template.name}" template in ${dir}`);
      out();
      out('Next steps:');
      for (const step of steps) out(`  ${step}`);
      out();
      for (const line of afterwards(pm)) out(line);
    }
    return 0;
  } catch (error) {
    if (error instanceof CreateError) {
      fail(error.message);
      return error.code === 'E_CANCELLED' ? 130 : 1;
    }
    fail(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

/**
 * Asks for whatever the command line left open. Resolves undefined when the user cancels.
 * @param {import('./args.js').CliOptions} cli
 * @param {string} root
 * @param {Io} io
 * @returns {Promise<{ directory: string, template: string, force: boolean } | undefined>}
 */
async function ask(cli, root, io) {
  const clack = await import('@clack/prompts');
  const common = {
    input: /** @type {import('node:stream').Readable} */ (io.stdin),
    output: /** @type {import('node:stream').Writable} */ (io.stdout),
  };
  clack.intro('create-c4c-agent', common);

  let directory = cli.directory;
  if (directory === undefined) {
    const answer = await clack.text({
      ...common,
      message: 'Project folder:',
      placeholder: DEFAULT_DIRECTORY,
      defaultValue: DEFAULT_DIRECTORY,
      validate: (value) => (value ? checkProjectDir(value) : undefined),
    });
    if (clack.isCancel(answer)) return cancelled(clack, common);
    directory = answer.trim() || DEFAULT_DIRECTORY;
  }

  let template = cli.template;
  if (template === undefined) {
    const templates = listTemplates(root);
    if (templates.length === 1 && templates[0]) {
      template = templates[0].name;
    } else {
      const answer = await clack.select({
        ...common,
        message: 'Template:',
        initialValue: DEFAULT_TEMPLATE,
        options: templates.map((t) => ({ value: t.name, label: t.name, hint: t.description })),
      });
      if (clack.isCancel(answer)) return cancelled(clack, common);
      template = answer;
    }
  }

  let force = cli.force;
  const dir = resolve(io.cwd, directory);
  if (!force && isNonEmptyFolder(dir)) {
    const answer = await clack.confirm({
      ...common,
      message: `${directory} is not empty. Write the template into it (files and folders of the same name are replaced)?`,
      initialValue: false,
    });
    if (clack.isCancel(answer) || !answer) return cancelled(clack, common);
    force = true;
  }
  return { directory, template, force };
}

/**
 * @param {typeof import('@clack/prompts')} clack
 * @param {object} common
 * @returns {undefined}
 */
function cancelled(clack, common) {
  clack.cancel('Cancelled; nothing was written.', common);
  return undefined;
}

/** @param {string} dir */
function isNonEmptyFolder(dir) {
  try {
    return statSync(dir).isDirectory() && readdirSync(dir).some((entry) => entry !== '.git');
  } catch {
    return false;
  }
}

function ownVersion() {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return String(pkg.version);
}
