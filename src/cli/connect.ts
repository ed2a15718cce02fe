/**
 * `c4c-runner connect [--webhook <url>]`: the platform guide's listener and webhook mode, on the
 * runner's own pipeline (order per employment, deduplication, acknowledgement, catch-up, drain),
 * with one built-in handler instead of handler files: print each event in the guide's format and,
 * with a webhook, forward it — the webhook's answer becomes the reply.
 *
 * Same token, endpoint and webhook sources as the public `c4c connect`: `C4C_API_TOKEN`,
 * `C4C_API_ENDPOINT`, `C4C_WEBHOOK_URL`, `~/.c4c/config.json` (`api_token`, `api_endpoint`,
 * `webhook_url`), plus `c4c.config.ts` when there is one.
 */
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { surviveStrayRejections } from './stray.js';
import type { ServerFrame } from '../protocol/frames.js';
import type { SettingSource } from '../config/schema.js';
import type { WebhookHandlerContext } from '../webhook/handler.js';

interface ConnectFlags {
  webhook?: string;
  webhookSecret?: string;
  reply: boolean;
  config?: string;
  cwd?: string;
  verbose?: boolean;
}

/** The handler name of connect's events (in its log lines and dead letters; `replay` forwards those to the webhook). */
export const CONNECT_LABEL = 'c4c-runner connect';

/** Registers `c4c-runner connect`. */
export function registerConnect(program: Command): void {
  program
    .command('connect')
    .description(
      'Listen as your agent and print each event in the guide format; with --webhook, forward it and reply with the answer.',
    )
    .option(
      '--webhook <url>',
      'forward messages and notifications to this URL (default: env C4C_WEBHOOK_URL, webhook_url in ~/.c4c/config.json)',
    )
    .option(
      '--webhook-secret <secret>',
      'sign each forward with HMAC-SHA256 (prefer env C4C_WEBHOOK_SECRET: flags show in `ps`)',
    )
    .option(
      '--no-reply',
      "forward only: do not send the webhook's answer back (the public client's behaviour)",
    )
    .option('-c, --config <file>', 'config file (default: c4c.config.ts or the like in --cwd, if any)')
    .option('--cwd <dir>', 'project folder to look for a config file in (default: the current folder)')
    .option('--verbose', 'log the runner (connection, acknowledgements) to stderr')
    .action(async (flags: ConnectFlags) => {
      await runConnect(flags);
    });
}

async function runConnect(flags: ConnectFlags): Promise<void> {
  const [
    { loadConfig },
    { readCredentials },
    { createRunner },
    { createLogger },
    { pino },
    format,
    webhook,
    { C4cError },
    { logLevelFromEnv },
  ] = await Promise.all([
    import('../config/load.js'),
    import('../config/credentials.js'),
    import('../runner/runner.js'),
    import('../log.js'),
    import('pino'),
    import('./guide-format.js'),
    import('../config/webhook.js'),
    import('../errors.js'),
    import('../config/log-level.js'),
  ]);
  const out = (lines: readonly string[]) => {
    if (lines.length) process.stdout.write(format.toText(lines));
  };

  const home = process.env.HOME ?? homedir();
  const config = await loadConfig({
    cwd: flags.cwd ?? process.cwd(),
    ...(flags.config ? { configFile: flags.config } : {}),
    home,
  });
  const token = config.platform.token;
  if (!token) {
    throw new C4cError(
      'E_CONFIG',
      'no API token: set C4C_API_TOKEN, or api_token in ~/.c4c/config.json (c4c config set token …), or platform.token in c4c.config.ts',
    );
  }
  const settings = webhook.resolveWebhookSettings({
    flags: { url: flags.webhook, secret: flags.webhookSecret },
    config: config.webhook,
    credentials: await readCredentials(process.env, home),
    useHome: true,
  });

  let forward: ((ctx: WebhookHandlerContext) => Promise<unknown>) | undefined;
  // Aborted on Ctrl-C: a forward waiting to retry gives up at once (its event stays unacknowledged).
  const stopping = new AbortController();
  let timeout: number | undefined;
  if (settings) {
    const [{ WebhookClient }, { createWebhookHandler }, { MAX_TIMER }] = await Promise.all([
      import('../webhook/client.js'),
      import('../webhook/handler.js'),
      import('../limits.js'),
    ]);
    const client = new WebhookClient({
      url: settings.url,
      ...(settings.secret ? { secret: settings.secret } : {}),
      ...(settings.timeout ? { timeout: settings.timeout } : {}),
      // Until it succeeds or connect stops: a later message of the same employment waits, in order.
      retry: { attempts: Number.POSITIVE_INFINITY, ...settings.retry },
    });
    timeout = Math.min(client.budget, MAX_TIMER);
    forward = createWebhookHandler(client, (report) => out(format.formatWebhookReport(report)), {
      reply: flags.reply,
      stopRetrying: stopping.signal,
    });
    out([`Webhook forwarding enabled: ${client.url}`]);
    if (settings.secret)
      out([`  Requests are signed (X-C4C-Signature, secret from ${SOURCE_LABEL[settings.sources.secret!]})`]);
    out([
      flags.reply
        ? "  The webhook's answer is sent back as the reply (--no-reply to forward only)"
        : '  Forward only: answers are not sent back',
    ]);
  }

  // The one built-in handler: every event, in order per employment, printed then forwarded.
  const printAndForward = async (ctx: WebhookHandlerContext): Promise<unknown> => {
    out(format.formatFrame(ctx.event as ServerFrame));
    return forward ? forward(ctx) : undefined;
  };

  const logger = createLogger({
    level: logLevelFromEnv() ?? (flags.verbose ? 'info' : 'warn'),
    destination: pino.destination({ dest: 2, sync: true }),
    secrets: [token, ...(settings?.secret ? [settings.secret] : [])],
  });
  const unguard = surviveStrayRejections(logger);
  // An event that failed for good (the webhook kept failing past the config's retry) is acknowledged
  // so its conversation goes on, and kept in <folder>/.c4c/dead-letters.jsonl: `replay` forwards it again.
  const replayCommand = `c4c-runner replay${flags.cwd ? ` --cwd ${JSON.stringify(flags.cwd)}` : ''}${settings ? '' : ' --webhook <url>'}`;
  const runner = createRunner(config, {
    logger,
    handlerFiles: false,
    onConnectionState: (state, previous) => out(format.formatConnectionState(state, previous)),
    onOutcome: (outcome) => {
      if (outcome.kind === 'failed' || outcome.kind === 'timed-out')
        out([
          `✗ ${outcome.routed.name} failed for good and was kept in .c4c/dead-letters.jsonl; once the webhook works, run: ${replayCommand}`,
        ]);
    },
    fallback: {
      file: CONNECT_LABEL,
      label: CONNECT_LABEL,
      handle: printAndForward,
      timeout,
    },
  });

  out(['Connecting to Claw4Claw platform...']);
  await runner.start();

  const stop = () => {
    if (stopping.signal.aborted) {
      // A second Ctrl-C: the user does not want to wait for the drain.
      process.stdout.write('Forced exit; events in flight stay unacknowledged and come back next time.\n');
      process.exit(130);
    }
    stopping.abort(new Error('connect is stopping'));
    out(['', 'Disconnecting...']);
    void runner.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // After the handlers: whoever reads this line may press Ctrl-C at once.
  out(['✓ Connected successfully!', 'Listening for messages... (Press Ctrl+C to disconnect)']);
  try {
    await runner.done;
    out(['✓ Disconnected successfully']);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    unguard();
  }
}

const SOURCE_LABEL: Partial<Record<SettingSource, string>> = {
  flag: '--webhook-secret',
  env: 'env C4C_WEBHOOK_SECRET',
  config: 'webhook.secret in c4c.config.ts',
  home: 'webhook_secret in ~/.c4c/config.json',
};
