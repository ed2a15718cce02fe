/**
 * @module
 * Facts of the runtime that several layers share: the longest timer, and the host every local server
 * binds to unless told otherwise.
 */

/** The longest delay a Node timer holds (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER = 2 ** 31 - 1;

/** The most worker threads `workers` / `--workers` / `C4C_WORKERS` accept: far beyond any useful core count. */
export const MAX_WORKERS = 256;

/** Where the embedded platform, dev and the health server listen by default: this machine only. */
export const LOOPBACK_HOST = '127.0.0.1';
