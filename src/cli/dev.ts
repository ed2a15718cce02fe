/**
 * `c4c-runner dev`: the agent in this folder, hot-reloaded, against an embedded local platform (or
 * the real one with `--remote`), with one banner that says how to talk to it.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { C4cError } from '../errors.js';

interface DevFlags {
  port?: string;
  host: string;
  seed?: string;
  data?: string;
  faults?: boolean;
  devToken?: string;
  remote?: boolean;
  config?: string;
  cwd?: string;
  workers?: string;
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('Run the agent in this folder with hot reload, against an embedded local platform.')
    .option('--port <n>', 'embedded platform port (default 7420; taken → a free one)')
    .option('--host <host>', 'embedded platform host', '127.0.0.1')
    .option('--seed <file>', 'seed the embedded platform from a JSON file (default: the default world)')
    .option('--data <file>', 'keep the embedded platform state in this file across restarts')
    .option('--faults', 'enable the embedded platform fault switches (POST /dev/faults)')
    .option(
      '--dev-token <token>',
      'let clients on other machines use /dev/* when they send this in X-C4C-Dev-Token (with a non-loopback --host)',
    )
    .option('--remote', 'run against the configured real platform instead (needs a token)')
    .option('-c, --config <file>', 'config file (default: c4c.config.* in the project folder)')
    .option('--cwd <dir>', 'project folder', '.')
    .option(
      '--workers <n>',
      'run handlers in n worker threads (env C4C_WORKERS, config workers; default 0: on the main thread)',
    )
    .action(async (flags: DevFlags) => {
      const port = flags.port === undefined ? undefined : Number(flags.port);
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
        throw new C4cError(
          'E_CONFIG',
          `--port must be a port number (0 for any free port), got "${flags.port}"`,
        );
      }
      const [{ runDev }] = await Promise.all([import('./dev-run.js')]);
      await runDev({ ...flags, cwd: resolve(flags.cwd ?? '.'), port });
    });
}
