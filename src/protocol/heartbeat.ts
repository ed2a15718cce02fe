/**
 * @module
 * The platform's heartbeat, as its guide states it: a control ping every 30 s, and a peer silent for 60 s
 * is dead. Both sides use it — the runner's connection (its own pings) and the embedded platform (its
 * dead-client check) — and the config schema refers to it for its defaults.
 */

/** Heartbeat timing, in ms. */
export const HEARTBEAT_DEFAULTS = Object.freeze({
  /** A control ping every… */
  interval: 30_000,
  /** Dead after this long without a pong (or any frame). */
  timeout: 60_000,
});
