/**
 * `c4c-runner replay`: runs the events of the dead-letter file (`.c4c/dead-letters.jsonl`) again,
 * with the handlers as they are now, one at a time, and removes the ones that succeed. It connects
 * to send replies only: live events are left to `c4c-runner start` (which may run at the same time),
 * and nothing is marked read (a dead letter was acknowledged when it failed).
 */
import type { Command } from 'commander';
import type { ServerFrame } from '../protocol/frames.js';
import type { EventOutcome } from '../runner/pipeline.js';
import { surviveStrayRejections } from './stray.js';

interface ReplayOptions {
  config?: string;
  cwd?: string;
  list?: boolean;
  id?: string[];
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
  let settle: ((outcome: EventOutcome) => void) | undefined;
  const runner = createRunner(
    // A dead letter was marked read when it failed; moving the read cursor back to it would be wrong.
    { ...config, ack: false },
    {
      logger,
      live: false,
      // A replay that fails again stays where it is in the file, not a second time at its end.
      deadLetters: false,
      onOutcome: (outcome) => {
        if (outcome.kind !== 'retrying') settle?.(outcome);
      },
    },
  );
  const done = new Set<string>();
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
        done.add(letter.id);
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
    if (done.size > 0) await file.remove(done);
    unguard();
  }
  print(
    `${done.size} of ${letters.length} dead letter(s) replayed${failed > 0 ? `; ${failed} failed again and stay in ${file.path}` : ''}.`,
  );
  return failed > 0 ? 1 : 0;
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
