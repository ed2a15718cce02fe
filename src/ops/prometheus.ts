/**
 * The runner's figures as Prometheus text, through prom-client. Nothing is counted twice: every
 * `c4c_` metric reads `runner.metrics()` when scraped, so the exporter can be attached to a runner
 * at any time and costs nothing between scrapes. Each exporter has its own registry (plus Node's
 * default process metrics), never prom-client's global one, so two runners in one process do not
 * collide and an application's own registry stays its own.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunnerMetrics } from '../runner/runner.js';
import { readiness } from './readiness.js';
import { DURATION_BUCKETS } from '../runner/metrics.js';

/** What the exporter reads: a runner, or anything with its `metrics()`. */
export interface MetricsSource {
  metrics(): RunnerMetrics;
}

/** Options of {@link createPrometheusRegistry}. */
export interface PrometheusOptions {
  /** Also export Node's process metrics (CPU, memory, event loop lag, GC, handles). @default true */
  defaultMetrics?: boolean;
  /** Labels put on every series, e.g. `{ agent: 'translator' }`. @default none */
  labels?: Record<string, string>;
}

/**
 * A prom-client registry holding the runner's `c4c_` metrics (and, by default, the process metrics).
 * Serve `await registry.metrics()` with `registry.contentType`.
 * @example
 * const registry = createPrometheusRegistry(runner);
 * app.get('/metrics', async () => new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } }));
 */
export function createPrometheusRegistry(source: MetricsSource, options: PrometheusOptions = {}): Registry {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  // One snapshot per scrape, shared by its metrics: prom-client calls every `collect` in the same
  // turn of the event loop, so the snapshot is forgotten on the next one and never goes stale.
  let cached: RunnerMetrics | undefined;
  const read = (): RunnerMetrics => {
    if (!cached) {
      cached = source.metrics();
      setImmediate(() => (cached = undefined));
    }
    return cached;
  };

  const counter = (name: string, help: string, value: (m: RunnerMetrics) => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value(read()));
      },
    });
  };
  const gauge = (name: string, help: string, value: (m: RunnerMetrics) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(read()));
      },
    });
  };

  new Counter({
    name: 'c4c_events_received_total',
    help: 'Events received from the platform socket, by event name.',
    labelNames: ['event'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [event, n] of Object.entries(read().events)) this.inc({ event }, n);
    },
  });
  counter(
    'c4c_events_duplicate_total',
    'Events dropped as duplicates (same messageId).',
    (m) => m.stats.duplicates,
  );
  counter(
    'c4c_events_unhandled_total',
    'Events without a handler file or fallback (dropped).',
    (m) => m.stats.unhandled,
  );
  counter(
    'c4c_events_refused_total',
    'Events refused because the backlog was full (left unacknowledged, caught up later).',
    (m) => m.stats.refused,
  );
  new Counter({
    name: 'c4c_handlers_total',
    help: 'Handlers finished, by event and outcome (replied, no-reply, failed, timed-out, aborted, unsent).',
    labelNames: ['event', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [event, figures] of Object.entries(read().handlers))
        for (const [outcome, n] of Object.entries(figures.outcomes)) this.inc({ event, outcome }, n);
    },
  });
  registry.registerMetric(new DurationHistogram(read));
  counter(
    'c4c_replies_sent_total',
    'Replies sent: messages, task deliveries, service outputs, decisions.',
    (m) => m.stats.replies,
  );
  counter(
    'c4c_replies_refused_total',
    'Replies that were invalid or that the platform refused.',
    (m) => m.stats.replyErrors + m.undeliverable,
  );
  counter('c4c_reconnects_total', 'Sockets opened again after a drop.', (m) => m.reconnects);
  gauge('c4c_connection_up', '1 while the socket to the platform is open.', (m) =>
    m.stats.connection === 'open' ? 1 : 0,
  );
  gauge('c4c_ready', '1 while the runner is ready (see /readyz).', (m) => (readiness(m).ready ? 1 : 0));
  gauge('c4c_queue_running', 'Handlers running now.', (m) => m.stats.running);
  gauge('c4c_queue_waiting', 'Events waiting for a free handler slot.', (m) => m.stats.waiting);
  counter('c4c_catchup_passes_total', 'Catch-up passes started (start, every reconnect, retries).', (m) =>
    Number(m.stats.catchUp?.passes ?? 0),
  );
  counter(
    'c4c_catchup_messages_total',
    'Unread messages found in history by catch-up and handed to the handlers.',
    (m) => Number(m.stats.catchUp?.messages ?? 0),
  );
  counter('c4c_catchup_failures_total', 'Catch-up passes or employments that failed (retried).', (m) =>
    Number(m.stats.catchUp?.failures ?? 0),
  );
  counter('c4c_acknowledgements_total', 'Mark-read calls the platform confirmed.', (m) => m.acknowledgements);
  // Only for a process of a scaled-out agent (`start --redis`): which one holds the socket, who works on what.
  if (read().scale) {
    gauge('c4c_scale_holder', '1 while this process holds the platform socket (start --redis).', (m) =>
      m.scale?.holder ? 1 : 0,
    );
    gauge('c4c_scale_partitions', 'Partitions this process consumes now (start --redis).', (m) =>
      Number(m.scale?.partitions ?? 0),
    );
    counter('c4c_scale_written_total', 'Events this process wrote into partitions as socket holder.', (m) =>
      Number(m.scale?.written ?? 0),
    );
    counter(
      'c4c_scale_relayed_total',
      'Frames this process sent for other processes as socket holder.',
      (m) => Number(m.scale?.relayed ?? 0),
    );
  }
  return registry;
}

const DURATION_HELP = 'Time in the handler (without the reply delivery), by event.';

/** `c4c_handler_duration_seconds`, rendered from the recorder's cumulative buckets at scrape time. */
class DurationHistogram extends Histogram<'event'> {
  readonly #read: () => RunnerMetrics;

  constructor(read: () => RunnerMetrics) {
    super({
      name: 'c4c_handler_duration_seconds',
      help: DURATION_HELP,
      labelNames: ['event'],
      buckets: [...DURATION_BUCKETS],
      registers: [],
    });
    this.#read = read;
  }

  override get(): ReturnType<Histogram<'event'>['get']> {
    return Promise.resolve(this.getForPromString());
  }

  /** What prom-client's registry prints (it prefers this method to `get()`). */
  getForPromString(): Awaited<ReturnType<Histogram<'event'>['get']>> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    const name = 'c4c_handler_duration_seconds';
    for (const [event, { duration }] of Object.entries(this.#read().handlers)) {
      DURATION_BUCKETS.forEach((le, i) =>
        values.push({ labels: { event, le }, value: duration.counts[i] ?? 0, metricName: `${name}_bucket` }),
      );
      values.push({ labels: { event, le: '+Inf' }, value: duration.count, metricName: `${name}_bucket` });
      values.push({ labels: { event }, value: duration.sum, metricName: `${name}_sum` });
      values.push({ labels: { event }, value: duration.count, metricName: `${name}_count` });
    }
    // prom-client's types do not list `le` among the labels it prints for its own histograms.
    return { name, help: DURATION_HELP, type: 'histogram', aggregator: 'sum', values } as unknown as Awaited<
      ReturnType<Histogram<'event'>['get']>
    >;
  }
}
