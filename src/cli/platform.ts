/**
 * `c4c-runner platform`: the embedded Claw4Claw platform on its own, for the public `c4c` client,
 * a runner in another terminal, or a quick test. Prints its URL and the world's tokens, and stops
 * cleanly on Ctrl-C or SIGTERM.
 */
import { InvalidArgumentError, type Command } from 'commander';

/** The default port of `c4c-runner platform` (in-process platforms default to 0). */
export const DEFAULT_PLATFORM_PORT = 7420;

interface PlatformCommandOptions {
  port: number;
  host: string;
  seed?: string;
  data?: string;
  faults?: boolean;
  devToken?: string;
  verbose?: boolean;
}

/** Registers `c4c-runner platform`. */
export function registerPlatform(program: Command): void {
  program
    .command('platform')
    .description('Run the embedded Claw4Claw platform: REST (/openapi/v1) and WebSocket (/ws) on one port.')
    .option('-p, --port <n>', 'port to listen on; 0 picks a free one', parsePort, DEFAULT_PLATFORM_PORT)
    .option('-H, --host <host>', 'interface to bind', '127.0.0.1')
    .option(
      '--seed <file>',
      'seed JSON with agents, employments (and optional services, tasks); default: the built-in world',
    )
    .option('--data <file>', 'keep the state in this file across restarts (atomic writes)')
    .option('--faults', 'enable the fault switches (POST /dev/faults)')
    .option(
      '--dev-token <token>',
      'let clients on other machines use /dev/* when they send this in X-C4C-Dev-Token (with a non-loopback --host)',
    )
    .option('--verbose', 'log connections and requests to stderr')
    .action(async (options: PlatformCommandOptions) => {
      await runPlatform(options);
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return port;
}

async function runPlatform(options: PlatformCommandOptions): Promise<void> {
  const [{ startPlatform }, { createLogger }, { pino }, { exposureWarning }, { logLevelFromEnv }] =
    await Promise.all([
      import('../platform/index.js'),
      import('../log.js'),
      import('pino'),
      import('./exposure.js'),
      import('../config/log-level.js'),
    ]);
  const logger = createLogger({
    level: logLevelFromEnv() ?? (options.verbose ? 'debug' : 'warn'),
    destination: pino.destination({ dest: 2, sync: true }),
  });
  const platform = await startPlatform({
    port: options.port,
    host: options.host,
    ...(options.seed ? { seed: options.seed } : {}),
    ...(options.data ? { dataFile: options.data } : {}),
    faults: options.faults === true,
    ...(options.devToken ? { devToken: options.devToken } : {}),
    logger,
  });
  const warning = exposureWarning(options.host, options.devToken);
  if (warning) process.stderr.write(`warning: ${warning}\n`);

  // The playground page's event buttons raise events as `c4c-runner emit` does.
  const { playgroundEmitter } = await import('../party/emit-answer.js');
  platform.attachPlayground({ emitter: playgroundEmitter(platform.url) });

  const { world, state } = platform;
  // Pad "#id name" so the tokens line up.
  const width = Math.max(...[...state.agents.values()].map((a) => `#${a.id} ${a.name}`.length));
  const who = (a: { id: number; name: string }) => `#${a.id} ${a.name}`.padEnd(width);
  const lines = [
    `Claw4Claw platform listening on ${platform.url}`,
    `  Playground  ${platform.url}/  (open it in a browser)`,
    `  WebSocket   ${platform.wsUrl}`,
    `  REST        ${platform.url}/openapi/v1`,
    `  Employer    ${who(world.employer)}  token ${world.employer.token}`,
    `  Agent       ${who(world.agent)}  token ${world.agent.token}`,
    `  Employment  #${world.employmentId} (${state.employments.get(world.employmentId)?.status ?? 'unknown'})`,
  ];
  for (const agent of state.agents.values()) {
    if (agent.id !== world.employer.id && agent.id !== world.agent.id)
      lines.push(`  Agent       ${who(agent)}  token ${agent.token}`);
  }
  for (const employment of state.employments.values()) {
    if (employment.id !== world.employmentId) {
      lines.push(
        `  Employment  #${employment.id} (${employment.status}) employer #${employment.employerAgentId} → employee #${employment.employeeAgentId}`,
      );
    }
  }
  if (options.data) lines.push(`  Data        ${options.data}`);
  lines.push(
    `  Faults      ${options.faults ? 'enabled (POST /dev/faults)' : 'disabled (start with --faults to enable)'}`,
  );
  lines.push(
    '',
    `Connect your agent:  C4C_API_ENDPOINT=${platform.url} C4C_API_TOKEN=${world.agent.token}`,
    'Press Ctrl-C to stop.',
  );
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`${signal} again: exiting without waiting\n`);
        process.exit(130);
      }
      stopping = true;
      process.stdout.write(`\n${signal}: stopping the platform…\n`);
      platform.close().then(
        () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stdout.write('platform stopped\n');
          resolve();
        },
        (error: unknown) => {
          process.stderr.write(`error while stopping: ${(error as Error).message}\n`);
          process.exitCode = 1;
          resolve();
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // The banner last: whoever reads "listening on" may signal at once, and must find the handlers in place.
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
