/**
 * How `dev` prints one log line after pino-pretty's time and level: the message, the code frame of
 * a handler's error, the fields a handler logged (`ctx.log.info({ orderId }, …)`), and an error's
 * stack cut to the frames worth reading, with its `cause` chain.
 *
 * The runner's own info lines keep to their message (their fields repeat it); a handler's lines and
 * every warning or error show their fields.
 */
import { fileURLToPath } from 'node:url';

/** Fields every line of a handler carries, or that are printed another way. */
const HIDDEN = new Set([
  'time',
  'level',
  'msg',
  'pid',
  'hostname',
  'component',
  'event',
  'messageId',
  'file',
  'at',
  'frame',
  'err',
]);

/** c4c-runner's own code: frames in it are the runner's, not the user's. */
const OWN_CODE = fileURLToPath(new URL('..', import.meta.url));
const OWN_URL = new URL('..', import.meta.url).href;

/** pino-pretty's `messageFormat` for dev: see the module comment. */
export function formatDevLog(log: Record<string, unknown>, messageKey: string): string {
  const message = log[messageKey];
  const lines = [typeof message === 'string' ? message : oneLine(message ?? '')];
  if (typeof log.frame === 'string') lines.push(log.frame);
  const level = typeof log.level === 'number' ? log.level : 30;
  if (typeof log.file === 'string' || level >= 40) {
    for (const [key, value] of Object.entries(log)) {
      if (HIDDEN.has(key) || key === messageKey || value === undefined) continue;
      lines.push(`    ${key}: ${typeof value === 'string' ? value : oneLine(value)}`);
    }
  }
  if (log.err !== undefined) lines.push(...formatError(log.err, '    '));
  return lines.join('\n');
}

/** An error as pino's serializer left it: its stack cut to the user's frames, then each cause. */
function formatError(err: unknown, indent: string, depth = 0): string[] {
  if (typeof err !== 'object' || err === null) return [`${indent}${oneLine(err)}`];
  const { type, message, stack, cause } = err as {
    type?: unknown;
    message?: unknown;
    stack?: unknown;
    cause?: unknown;
  };
  const head = `${typeof type === 'string' ? type : 'Error'}: ${typeof message === 'string' ? message : oneLine(message)}`;
  const out = [`${indent}${depth === 0 ? '' : 'caused by: '}${head}`];
  if (typeof stack === 'string') {
    const frames = stack.split('\n').filter((line) => /^\s+at /.test(line));
    const own = frames.filter((line) => !isInternal(line));
    // An error of the runner's own (no user frame) keeps its top frames: they are the clue then.
    const shown = own.length > 0 ? own : frames.slice(0, 3);
    for (const line of shown) out.push(`${indent}  ${line.trim()}`);
  }
  if (cause !== undefined && depth < 8) out.push(...formatError(cause, indent, depth + 1));
  return out;
}

function isInternal(frame: string): boolean {
  return (
    frame.includes('node:internal') ||
    frame.includes('(node:') ||
    frame.includes(' node:') ||
    frame.includes('/node_modules/') ||
    frame.includes(OWN_CODE) ||
    frame.includes(OWN_URL) ||
    frame.includes('<anonymous>')
  );
}

function oneLine(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
