/**
 * Liveness and readiness, decided from a runner's metrics snapshot. Readiness depends on the
 * platform (a replica without a socket should get no traffic); liveness never does, so an outage of
 * the platform never makes an orchestrator restart every replica.
 */
import type { RunnerMetrics } from '../runner/runner.js';

/** Why a runner is not ready, or that it is. */
export type Readiness =
  | { ready: true }
  | {
      ready: false;
      reason: 'starting' | 'disconnected' | 'catching-up' | 'draining' | 'stopped';
      detail: string;
    };

/**
 * Whether a runner should get traffic: handlers loaded, socket open (the heartbeat closes one
 * without a pong within `heartbeat.timeout`), and no catch-up pass running.
 */
export function readiness(m: RunnerMetrics): Readiness {
  if (m.state === 'closing')
    return { ready: false, reason: 'draining', detail: 'shutting down: running handlers are draining' };
  if (m.state === 'closed') return { ready: false, reason: 'stopped', detail: 'the runner has stopped' };
  if (m.state !== 'running' || !m.handlersLoaded)
    return { ready: false, reason: 'starting', detail: 'loading handlers and connecting' };
  if (m.stats.connection !== 'open')
    return {
      ready: false,
      reason: 'disconnected',
      detail: `the socket to the platform is ${m.stats.connection}; reconnecting`,
    };
  if (m.catchingUp)
    return {
      ready: false,
      reason: 'catching-up',
      detail: 'reading what arrived while the runner was away from the platform history',
    };
  return { ready: true };
}

/** Whether the process should be restarted: only for a state the runner cannot leave by itself. */
export type Liveness = { live: true } | { live: false; reason: 'stopped'; detail: string };

/**
 * `stopped` (the runner gave up or was closed, and nothing will start it again) is the only state a
 * restart fixes; a lost platform is waited out by the reconnect loop.
 */
export function liveness(m: RunnerMetrics): Liveness {
  if (m.state === 'closed')
    return {
      live: false,
      reason: 'stopped',
      detail: 'the runner has stopped and will not restart by itself',
    };
  return { live: true };
}
