/**
 * `c4c-runner/ops`: the operator's side of a runner — the health/metrics server `start
 * --health-port` runs, the Prometheus registry behind it, and the liveness/readiness rules, for
 * applications that embed a runner and serve them themselves. A subpath of its own so importing
 * `c4c-runner` never loads prom-client.
 * @module
 */
export { startHealthServer } from './health.js';
export type { HealthServer, HealthServerOptions } from './health.js';
export { createPrometheusRegistry } from './prometheus.js';
export type { MetricsSource, PrometheusOptions } from './prometheus.js';
export { liveness, readiness } from './readiness.js';
export type { Liveness, Readiness } from './readiness.js';
export { DURATION_BUCKETS } from '../runner/metrics.js';
