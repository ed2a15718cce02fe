/**
 * The body of `c4c-runner dev`, loaded only by that command: it owns the terminal (banner, reload
 * lines, the guide-format echo of incoming frames, pretty logs) and the process signals.
 */
import pc from 'picocolors';
import pretty from 'pino-pretty';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { logLevelFromEnv } from '../config/log-level.js';
import { createLogger } from '../log.js';
import { surviveStrayRejections } from './stray.js';
import { loadDotEnv } from './env-file.js';
import { startDev, type DevSession } from '../dev/session.js';
import { DEFAULT_RIVAL } from '../platform/world.js';
import type { ReloadEvent } from '../dev/watcher.js';
import { formatDevLog } from './dev-log.js';
import { formatFrame, toText } from './guide-format.js';
import { formatOutcome } from '../dev/outcome-format.js';
import { removeDevState, writeDevState } from './dev-state.js';
import { exposureWarning } from './exposure.js';

export interface RunDevOptions {
  port: number | undefined;
  host: string;
  seed?: string | undefined;
  data?: string | undefined;
  faults?: boolean | undefined;
  devToken?: string | undefined;
  remote?: boolean | undefined;
  config?: string | undefined;
  cwd: string;
  /** `--workers` as typed. */
  workers?: string | undefined;
}

const out = (text: string) => process.stdout.write(text);

export async function runDev(options: RunDevOptions): Promise<void> {
  const started = performance.now();
  const stream = pretty({
    colorize: pc.isColorSupported,
    translateTime: 'HH:MM:ss',
    ignore: 'pid,hostname,component',
    // Fields, code frames and stacks are printed by formatDevLog, readable rather than as JSON.
    hideObject: true,
    messageFormat: formatDevLog,
    sync: true,
    destination: 1,
  });
  loadDotEnv(options.cwd);
  // --log-level / C4C_LOG_LEVEL win; else the config's logLevel, applied once it is read (onConfig).
  const forcedLevel = logLevelFromEnv();
  const logger = createLogger({
    level: forcedLevel ?? 'info',
    destination: stream,
    secrets: process.env.C4C_API_TOKEN ? [process.env.C4C_API_TOKEN] : [],
  });
  // Dev runs until the process ends: the guard is never removed.
  surviveStrayRejections(logger);

  const session = await startDev({
    cwd: options.cwd,
    configFile: options.config,
    remote: options.remote ?? false,
    ...(options.port !== undefined ? { port: options.port, strictPort: true } : {}),
    host: options.host,
    seed: options.seed,
    dataFile: options.data,
    faults: options.faults ?? false,
    devToken: options.devToken,
    workers: options.workers,
    logger,
    onConfig: (config) => {
      if (forcedLevel === undefined) logger.level = config.logLevel;
    },
  });
  if (!options.remote) {
    const warning = exposureWarning(options.host, options.devToken);
    if (warning) logger.warn(warning);
  }

  session.on('frame', (frame) => {
    const lines = formatFrame(frame);
    if (lines.length > 0) out(toText(lines));
  });
  session.on('outcome', (outcome) => {
    const line = formatOutcome(outcome);
    const mark = line.text.slice(0, 1);
    out(`  ${line.ok ? pc.green(mark) : pc.red(mark)}${line.text.slice(1)}\n`);
  });
  session.on('reload', (event) => printReload(event));
  session.on('restart', (result) => {
    if (result.ok) out(`${pc.green('✓')} config changed: runner restarted in ${result.ms} ms\n`);
    else
      out(
        `${pc.red('✗')} config: ${result.error.message}\n  the previous config keeps running; fix the file to apply it\n`,
      );
  });
  session.on('error', (error) => logger.error({ err: error }, error.message));

  const stateFile = session.world
    ? await writeDevState(options.cwd, {
        url: session.platform!.url,
        employer: session.world.employer,
        agent: session.world.agent,
        employmentId: session.world.employmentId,
        ...rivalOf(session),
        pid: process.pid,
      })
    : undefined;

  // Signal handlers before the banner: whoever reads it may press Ctrl-C (or send SIGTERM) at once.
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        out(`${signal} again: exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      out(`\n${pc.dim('stopping…')}\n`);
      void (async () => {
        try {
          await session.close();
          if (stateFile) await removeDevState(options.cwd);
        } catch (error) {
          logger.error({ err: error }, `while stopping: ${(error as Error).message}`);
          process.exitCode = 1;
        }
        resolve();
      })();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

  printBanner(session, options, Math.round(performance.now() - started));
  for (const error of session.startupProblems) {
    printReload({
      kind: 'failed',
      file: typeof error.details?.file === 'string' ? error.details.file : '',
      label: '',
      error,
      repeated: false,
    });
  }

  await stopped;
}

/** The default world's third agent, when this platform has it (for `emit task-rejected`). */
function rivalOf(session: DevSession): { rival?: { id: number; name: string; token: string } } {
  const agent = session.platform?.state.agents.get(DEFAULT_RIVAL.id);
  return agent?.token === DEFAULT_RIVAL.token ? { rival: { ...DEFAULT_RIVAL } } : {};
}

function printReload(event: ReloadEvent): void {
  switch (event.kind) {
    case 'reloaded':
      out(
        event.added
          ? `${pc.green('+')} added ${event.label} (handles "${event.name}") in ${event.ms} ms\n`
          : `${pc.green('✓')} reloaded ${event.label} in ${event.ms} ms\n`,
      );
      return;
    case 'removed':
      out(`${pc.yellow('-')} removed ${event.label}: "${event.name}" has no handler now\n`);
      return;
    case 'failed':
      if (!event.repeated) {
        const frame = event.error.details?.frame;
        out(
          `${pc.red('✗')} ${event.error.message}\n${typeof frame === 'string' ? `${frame}\n` : ''}  the previous version keeps serving; fix the file to reload it\n`,
        );
      }
      return;
    case 'config':
      return;
  }
}

function printBanner(session: DevSession, options: RunDevOptions, ms: number): void {
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  const handlers = session.runner.registry.names();
  const dir = relative(options.cwd, session.config.handlers) || '.';
  const lines = [
    '',
    `  ${pc.bold('c4c-runner dev')} ${pc.dim(`v${version}`)}  ${pc.dim(`ready in ${ms} ms`)}`,
    '',
  ];
  const row = (label: string, value: string) =>
    lines.push(`  ${pc.green('➜')}  ${pc.bold(label.padEnd(11))} ${value}`);
  if (session.platform && session.world) {
    const { world, platform } = session;
    row('Platform:', `${platform.url} ${pc.dim('(embedded; state in memory)')}`);
    row(
      'Playground:',
      `${pc.cyan(`${platform.url}/`)} ${pc.dim('(open it in a browser: chat, raise events, watch)')}`,
    );
    row('Agent:', `${world.agent.name} (#${world.agent.id})`);
    row('Employer:', `${world.employer.name} (#${world.employer.id}), token ${world.employer.token}`);
    row('Employment:', `#${world.employmentId}`);
    row(
      'Handlers:',
      handlers.length
        ? `${handlers.join(', ')} ${pc.dim(`(${dir})`)}`
        : pc.yellow(`none yet: add ${dir}/message.ts`),
    );
    lines.push('');
    row(
      'Talk to it:',
      pc.cyan(`npx c4c-runner chat ${world.employmentId} -m "hello"`) + pc.dim('   (-i for a conversation)'),
    );
    row(
      'Raise:',
      pc.cyan('npx c4c-runner emit task-accepted') + pc.dim('   (or service-invoked, employment-offered, …)'),
    );
  } else {
    row('Platform:', `${session.config.platform.url} ${pc.dim('(remote)')}`);
    row('Handlers:', handlers.join(', ') || pc.yellow('none'));
  }
  lines.push(
    '',
    `  ${pc.dim('Edit a handler and save: it reloads without dropping the connection. Ctrl-C to stop.')}`,
    '',
  );
  out(`${lines.join('\n')}\n`);
}
