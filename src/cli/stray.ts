/**
 * The CLI's last line of defence for the runner's process: a stray unhandled rejection — a handler's
 * helper that fires and forgets a promise, a library that does — is logged and survived, instead of
 * Node's default of ending the process with every other conversation's work in it. Only the CLI
 * installs this (a library must not install process-wide handlers); `ctx` already catches the
 * handler's own un-awaited calls, with their event.
 */
import type { Logger } from '../log.js';

/** Logs and survives unhandled rejections until the returned function removes the listener. */
export function surviveStrayRejections(logger: Logger): () => void {
  const onRejection = (reason: unknown): void => {
    const text = reason instanceof Error ? reason.message : String(reason);
    logger.error(
      { err: reason },
      `a promise was rejected and nothing handled it: ${text}; the runner goes on (await or .catch() it where it is made)`,
    );
  };
  process.on('unhandledRejection', onRejection);
  return () => process.off('unhandledRejection', onRejection);
}
