/**
 * `c4c-runner chat <employmentId>`: talk to an agent as its employer, like the public client's
 * `c4c chat`, without its faults: `-m` returns when the reply arrives (not after a fixed sleep), and
 * `-i` fed by a pipe sends every line and prints every reply before it exits.
 */
import type { Command } from 'commander';
import { C4cError } from '../errors.js';

interface ChatFlags {
  message?: string;
  interactive?: boolean;
  history?: boolean;
  limit: string;
  url?: string;
  token?: string;
  timeout: string;
  wait: string;
}

export function registerChat(program: Command): void {
  program
    .command('chat')
    .description('Talk to an agent as its employer (default: the local platform of a running `dev`).')
    .argument('<employmentId>', 'the employment to chat in')
    .option('-m, --message <text>', 'send one message and print the reply')
    .option('-i, --interactive', 'read lines from stdin, send each, print every reply')
    .option('--history', 'print the message history')
    .option('-l, --limit <n>', 'messages to show with --history', '20')
    .option('--url <url>', 'platform API base URL (default: the running dev, else http://127.0.0.1:7420)')
    .option('--token <token>', "the employer's token (default: the local world's employer)")
    .option('--timeout <ms>', 'how long to wait for the first reply', '30000')
    .option('--wait <ms>', 'with -m: after a reply, how long to listen for more before exiting', '500')
    .action(async (id: string, flags: ChatFlags) => {
      const employmentId = parsePositive(id, 'employmentId');
      const modes = [flags.message !== undefined, flags.interactive, flags.history].filter(Boolean).length;
      if (modes !== 1)
        throw new C4cError(
          'E_CONFIG',
          'chat: give exactly one of --message <text>, --interactive or --history',
        );
      const { resolveTarget } = await import('./dev-state.js');
      const target = await resolveTarget(flags);
      const timeout = parsePositive(flags.timeout, '--timeout');
      if (flags.history) return history(target, employmentId, parsePositive(flags.limit, '--limit'));
      if (flags.message !== undefined)
        return sendOne(target, employmentId, flags.message, timeout, parseNonNegative(flags.wait, '--wait'));
      return interactive(target, employmentId, timeout);
    });
}

function parsePositive(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new C4cError('E_CONFIG', `${name} must be a positive integer, got "${value}"`);
  return n;
}

function parseNonNegative(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new C4cError('E_CONFIG', `${name} must be a number of ms (0 or more), got "${value}"`);
  return n;
}

type Target = { url: string; token: string };

async function connect(target: Target) {
  const { Peer } = await import('../party/peer.js');
  const peer = new Peer(target);
  try {
    await peer.connect();
  } catch (error) {
    if (error instanceof C4cError && error.code === 'E_NETWORK') {
      throw new C4cError(
        'E_NETWORK',
        `${error.message}\nIs \`c4c-runner dev\` running? Start it in your agent's folder, or pass --url and --token.`,
      );
    }
    throw error;
  }
  return peer;
}

function errorLine(frame: { code: string; message: string }): string {
  return `[Error] ${frame.code}: ${frame.message}`;
}

/**
 * Sends one message and prints every reply: the first within `timeout`, then more until `quiet` ms
 * pass without one (an agent may answer in several messages: `ctx.reply` twice, or a reply and a return).
 */
async function sendOne(
  target: Target,
  employmentId: number,
  content: string,
  timeout: number,
  quiet: number,
): Promise<void> {
  if (!content) throw new C4cError('E_CONFIG', 'chat: the message is empty');
  const peer = await connect(target);
  try {
    let wake: (() => void) | undefined;
    const replies: string[] = [];
    let refusal: { code: string; message: string } | undefined;
    peer.onFrame((frame) => {
      if (frame.type === 'message' && frame.employmentId === employmentId) replies.push(frame.content);
      else if (frame.type === 'error' && isAbout(frame, employmentId)) refusal ??= frame;
      else return;
      wake?.();
    });
    // Resolves at the next reply (or refusal), or with false after `ms`.
    const next = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
    const first = next(timeout);
    await peer.send(employmentId, content);
    process.stdout.write(`✓ Message sent to employment #${employmentId}\n`);
    if (!(await first) && replies.length === 0 && !refusal) {
      throw new C4cError(
        'E_HANDLER_TIMEOUT',
        `no reply within ${timeout} ms. Is the agent running and does it have a message handler? (--timeout to wait longer)`,
      );
    }
    if (refusal) throw new C4cError('E_PLATFORM', errorLine(refusal));
    let printed = 0;
    for (;;) {
      for (; printed < replies.length; printed++) process.stdout.write(`[Reply] ${replies[printed]}\n`);
      if (refusal) throw new C4cError('E_PLATFORM', errorLine(refusal));
      // A reply that came while printing counts as one seen within the quiet time.
      if (quiet === 0 || (!(await next(quiet)) && printed === replies.length)) break;
    }
  } finally {
    await peer.close();
  }
}

function isAbout(frame: { details?: unknown }, employmentId: number): boolean {
  const details = frame.details as { employmentId?: unknown } | undefined;
  return details?.employmentId === undefined || details.employmentId === employmentId;
}

async function interactive(target: Target, employmentId: number, timeout: number): Promise<void> {
  // Here, not at the top: every command's table loads this file, and only this mode reads lines.
  const { createInterface } = await import('node:readline');
  const peer = await connect(target);
  const tty = Boolean(process.stdin.isTTY);
  const prompt = () => tty && process.stdout.write('> ');
  let sent = 0;
  let replies = 0;
  let allReplied: (() => void) | undefined;
  peer.onFrame((frame) => {
    if (frame.type === 'message' && frame.employmentId === employmentId) {
      replies++;
      process.stdout.write(`${tty ? '\n' : ''}[${clock()}] Agent: ${frame.content}\n`);
      prompt();
      if (replies >= sent) allReplied?.();
    } else if (frame.type === 'error') {
      // A refused line still counts as answered, so a pipe does not wait out the timeout for it.
      replies++;
      process.stdout.write(`${errorLine(frame)}\n`);
      prompt();
      if (replies >= sent) allReplied?.();
    }
  });
  process.stdout.write(
    `✓ Connected to employment #${employmentId}. Type a message and press Enter; "exit" to quit.\n`,
  );
  prompt();

  // Lines are sent strictly in order; stdin closing only ends intake, never a line in flight.
  let chain = Promise.resolve();
  let quit = false;
  const lines = createInterface({ input: process.stdin, terminal: false });
  await new Promise<void>((resolve) => {
    lines.on('line', (raw) => {
      const line = raw.trim();
      if (quit || !line) return;
      if (line === 'exit' || line === 'quit') {
        quit = true;
        lines.close();
        return;
      }
      sent++;
      chain = chain.then(() =>
        peer.send(employmentId, line).then(
          () => undefined,
          (error: Error) => void process.stdout.write(`Failed to send "${line}": ${error.message}\n`),
        ),
      );
    });
    lines.on('close', resolve);
    process.once('SIGINT', () => {
      quit = true;
      lines.close();
    });
  });
  await chain;
  if (replies < sent) {
    const done = new Promise<void>((resolve) => (allReplied = resolve));
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeout).unref());
    if ((await Promise.race([done, timer])) === 'timeout') {
      process.stderr.write(`${sent - replies} message(s) got no reply within ${timeout} ms\n`);
      process.exitCode = 1;
    }
  }
  await peer.close();
}

function clock(date = new Date()): string {
  return date.toTimeString().slice(0, 8);
}

async function history(target: Target, employmentId: number, limit: number): Promise<void> {
  const { PartyClient } = await import('../party/client.js');
  process.stdout.write(`Fetching message history for employment #${employmentId}...\n\n`);
  const page = await new PartyClient(target).messages(employmentId, { limit });
  if (page.messages.length === 0) {
    process.stdout.write('No messages found.\n');
    return;
  }
  let out = `Messages (${page.messages.length}):\n${'-'.repeat(80)}\n`;
  for (const message of page.messages) {
    const sender = message.senderAgentId ? `Agent #${message.senderAgentId}` : 'You';
    out += `[${formatTime(message.createdAt)}] ${sender}:\n  ${message.content}\n`;
    if (message.readAt) out += '  ✓ Read\n';
    out += '\n';
  }
  if (page.hasMore) out += `... more messages available (cursor: ${page.nextCursor ?? ''})\n`;
  process.stdout.write(out);
}

/** `2006-01-02 15:04:05`, in UTC, as the public client prints an RFC 3339 `Z` time. */
function formatTime(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString().slice(0, 19).replace('T', ' ');
}
