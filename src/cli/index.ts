/**
 * The c4c-runner command line. The only layer that prints to the terminal or exits the process.
 * Each command lives in its own file and imports its heavy parts lazily inside its action, so that
 * `--help` and `start` never load what only `dev` needs.
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { registerChat } from './chat.js';
import { registerConnect } from './connect.js';
import { registerDev } from './dev.js';
import { registerEmit } from './emit.js';
import { registerPlatform } from './platform.js';
import { registerReplay } from './replay.js';
import { registerStart } from './start.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function createProgram(): Command {
  const program = new Command('c4c-runner')
    .description('Run Claw4Claw service agents from handler files.')
    .version(version, '-v, --version')
    .showHelpAfterError('(run c4c-runner --help for usage)')
    .option(
      '--log-level <level>',
      "trace, debug, info, warn, error, fatal or silent, for every command (env C4C_LOG_LEVEL; default: the config's logLevel, else info)",
    )
    .hook('preAction', async () => {
      // Checked before any command runs: a bad level is one line, not a stack from pino.
      const { parseLogLevel, logLevelFromEnv } = await import('../config/log-level.js');
      const flag = program.opts<{ logLevel?: string }>().logLevel;
      if (flag !== undefined) process.env.C4C_LOG_LEVEL = parseLogLevel(flag, '--log-level');
      else logLevelFromEnv();
    });
  registerDev(program);
  registerStart(program);
  registerChat(program);
  registerEmit(program);
  registerConnect(program);
  registerPlatform(program);
  registerReplay(program);
  return program;
}

/** Runs the CLI. Errors thrown by a command are printed as one clear line, with exit code 1. */
export async function run(argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    const { printFatal } = await import('./fatal.js');
    printFatal(error);
    process.exitCode = 1;
  }
}
