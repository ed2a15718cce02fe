/**
 * `c4c-runner replay`: runs the events of the dead-letter file (`.c4c/dead-letters.jsonl`) again,
 * with the handlers as they are now, one at a time, and removes the ones that succeed. It connects
 * to send replies only: live events are left to `c4c-runner start` (which may run at the same time),
 * and nothing is marked read (a dead letter was acknowledged when it failed). The dead letters of
 * `c4c-runner connect` are forwarded to its webhook again instead.
 */
import type { Command } from 'commander';
import type { ResolvedConfig } from '../config/schema.js';
import type { ServerFrame } from '../protocol/frames.js';
import type { DeadLetter } from '../runner/dead-letters.js';
import type { EventOutcome } from '../runner/pipeline.js';
import type { RunnerOptions } from '../runner/runner.js';
import { CONNECT_LABEL } from './connect.js';
import { surviveStrayRejections } from './stray.js';

interface ReplayOptions {
  config?: string;
  cwd?: string;
  list?: boolean;
  id?: string[];
  webhook?: string;
  webhookSecret?: string;
  reply: boolean;
}

/** Registers `c4c-runner replay`. */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'Run the events that failed for good (.c4c/dead-letters.jsonl) again with the current handlers; the ones that succeed are removed from the file.',
    )
    .option('--list', 'only list the dead letters')
    .option('--id <id...>', 'only these dead letters (ids from --list)')
    .option(
      '--webhook <url>',
      'where the dead letters of c4c-runner connect are forwarded again (default: as connect reads it: env C4C_WEBHOOK_URL, c4c.config.ts, ~/.c4c/config.json)',
    )
    .option('--webhook-secret <secret>', 'sign those forwards (prefer env C4C_WEBHOOK_SECRET)')
    .option('--no-reply', "forward connect's dead letters only: do not send the webhook's answer back")
    .option('-c, --config <file>', 'config file (default: found in the project folder)')
    .option('--cwd <dir>', 'project folder (default: the current folder)')
    .action(async (options: ReplayOptions) => {
      process.exitCode = await runReplay(options);
    });
}

async function runReplay(options: ReplayOptions): Promise<number> {
  const [
    { loadConfig },
    { createRunner },
    { createLogger },
    { C4cError },
    { DeadLetters, deadLetterPath },
    { pino },
  ] = await Promise.all([
    import('../config/load.js'),
    import('../runner/runner.js'),
    import('../log.js'),
    import('../errors.js'),
    import('../runner/dead-letters.js'),
    import('pino'),
  ]);
  const config = await loadConfig({
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.config ? { configFile: options.config } : {}),
  });
  const file = new DeadLetters(deadLetterPath(config.root));
  const all = await file.list();
  const wanted = options.id ? new Set(options.id) : undefined;
  if (wanted) {
    const unknown = [...wanted].filter((id) => !all.some((e) => e.id === id));
    if (unknown.length > 0)
      throw new C4cError(
        'E_CONFIG',
        `no dead letter with id ${unknown.join(', ')} in ${file.path}; run c4c-runner replay --list to see the ids`,
      );
  }
  const letters = wanted ? all.filter((e) => wanted.has(e.id)) : all;
  if (letters.length === 0) {
    print(`No dead letters in ${file.path}.`);
    return 0;
  }
  if (options.list) {
    for (const e of letters)
      print(`${e.id}  ${e.at}  ${e.event} ${where(e.frame)} in ${e.file}: ${e.error.message}`);
    print(`${letters.length} dead letter(s) in ${file.path}; run c4c-runner replay to run them again.`);
    return 0;
  }
  const token = config.platform.token;
  if (!token) {
    throw new C4cError(
      'E_CONFIG',
      'no API token: set C4C_API_TOKEN, or platform.token in c4c.config.ts, or api_token in ~/.c4c/config.json',
    );
  }
  const logger = createLogger({
    level: config.logLevel,
    destination: pino.destination({ dest: 2, sync: true }),
    secrets: [token],
  });
  const unguard = surviveStrayRejections(logger);
  // Events `connect` kept go to its webhook again; the rest to the handler files.
  const fromConnect = letters.filter((e) => e.file === CONNECT_LABEL);
  const fromHandlers = letters.filter((e) => e.file !== CONNECT_LABEL);
  const done = new Set<string>();
  let failed = 0;
  try {
    if (fromHandlers.length > 0) {
      const result = await replayWith(createRunner, config, { logger }, fromHandlers);
      for (const id of result.done) done.add(id);
      failed += result.failed;
    }
    if (fromConnect.length > 0) {
      const fallback = await connectFallback(config, options);
      if (!fallback) {
        failed += fromConnect.length;
        for (const letter of fromConnect)
          print(
            `✗ ${letter.id} ${letter.event} ${where(letter.frame)}: not run — it came from c4c-runner connect and no webhook is set; run: c4c-runner replay --webhook <url> (or set C4C_WEBHOOK_URL)`,
          );
      } else {
        const result = await replayWith(
          createRunner,
          config,
          { logger, handlerFiles: false, fallback },
          fromConnect,
        );
        for (const id of result.done) done.add(id);
        failed += result.failed;
      }
    }
  } finally {
    if (done.size > 0) await file.remove(done);
    unguard();
  }
  print(
    `${done.size} of ${letters.length} dead letter(s) replayed${failed > 0 ? `; ${failed} failed again and stay in ${file.path}` : ''}.`,
  );
  return failed > 0 ? 1 : 0;
}

/** Runs `letters` one at a time on a runner that only sends; says which succeeded and how many did not. */
async function replayWith(
  createRunner: typeof import('../runner/runner.js').createRunner,
  config: ResolvedConfig,
  options: Pick<RunnerOptions, 'logger' | 'handlerFiles' | 'fallback'>,
  letters: readonly DeadLetter[],
): Promise<{ done: string[]; failed: number }> {
  let settle: ((outcome: EventOutcome) => void) | undefined;
  const runner = createRunner(
    // A dead letter was marked read when it failed; moving the read cursor back to it would be wrong.
    { ...config, ack: false },
    {
      ...options,
      live: false,
      // A replay that fails again stays where it is in the file, not a second time at its end.
      deadLetters: false,
      onOutcome: (outcome) => {
        if (outcome.kind !== 'retrying') settle?.(outcome);
      },
    },
  );
  const done: string[] = [];
  let failed = 0;
  try {
    await runner.start();
    for (const letter of letters) {
      const outcome = new Promise<EventOutcome>((resolve) => (settle = resolve));
      const taken = runner.dispatch(letter.frame);
      if (taken !== 'accepted') {
        failed++;
        print(`✗ ${letter.id} ${letter.event} ${where(letter.frame)}: not run (${taken})`);
        continue;
      }
      const result = await outcome;
      if (result.kind === 'replied' || result.kind === 'no-reply') {
        done.push(letter.id);
        print(
          `✓ ${letter.id} ${letter.event} ${where(letter.frame)}: ${result.action ?? 'handled, no reply'}`,
        );
      } else {
        failed++;
        const reason = result.error instanceof Error ? result.error.message : String(result.error);
        print(`✗ ${letter.id} ${letter.event} ${where(letter.frame)}: ${result.kind}: ${reason}`);
      }
    }
  } finally {
    await runner.close();
  }
  return { done, failed };
}

/**
 * The handler `connect` ran, for its dead letters: forward to the webhook (flag > env > config >
 * ~/.c4c/config.json, as connect reads it) and send its answer back, unless `--no-reply`.
 */
async function connectFallback(
  config: ResolvedConfig,
  options: ReplayOptions,
): Promise<RunnerOptions['fallback']> {
  const [{ readCredentials }, { resolveWebhookSettings }, { webhookFallbackFor }, { homedir }] =
    await Promise.all([
      import('../config/credentials.js'),
      import('../config/webhook.js'),
      import('../webhook/fallback.js'),
      import('node:os'),
    ]);
  const settings = resolveWebhookSettings({
    flags: { url: options.webhook, secret: options.webhookSecret },
    config: config.webhook,
    credentials: await readCredentials(process.env, process.env.HOME ?? homedir()),
    useHome: true,
  });
  if (!settings) return undefined;
  const forward = webhookFallbackFor(
    // A replay reports on a webhook that is still down; it does not wait for it without end.
    {
      ...settings,
      retry: {
        ...settings.retry,
        attempts: Number.isFinite(settings.retry.attempts ?? Infinity) ? settings.retry.attempts : 3,
      },
    },
    undefined,
    { reply: options.reply },
  );
  return { ...forward, file: CONNECT_LABEL, label: CONNECT_LABEL };
}

function where(frame: ServerFrame): string {
  const f = frame as { employmentId?: unknown; messageId?: unknown };
  const parts = [
    ...(typeof f.employmentId === 'number' ? [`employment ${f.employmentId}`] : []),
    ...(typeof f.messageId === 'string' ? [f.messageId] : []),
  ];
  return parts.length > 0 ? `(${parts.join(', ')})` : '';
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
