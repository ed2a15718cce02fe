import pc from 'picocolors';
import { C4cError } from '../errors.js';
import { redactText } from '../redact.js';

/** Prints an error the way a user should read it: what failed and what to do, never the token. */
export function printFatal(error: unknown): void {
  if (error instanceof C4cError) {
    process.stderr.write(`${pc.red('error')} ${redactText(error.message)}\n`);
    if (process.env.C4C_DEBUG && error.stack) process.stderr.write(`${redactText(error.stack)}\n`);
    return;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${pc.red('error')} ${redactText(text)}\n`);
}
