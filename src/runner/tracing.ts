/**
 * OpenTelemetry spans, only when the application has `@opentelemetry/api` installed (and, for the
 * spans to go anywhere, an SDK registered — `@opentelemetry/sdk-node` or similar). c4c-runner does
 * not depend on it: the import is tried once, and without it every call here is a no-op.
 */
import { redactText } from '../redact.js';
import type { EventOutcome } from './pipeline.js';

/** The part of `@opentelemetry/api` used here (typed locally: the package is optional). */
interface OtelApi {
  trace: { getTracer(name: string, version?: string): OtelTracer };
  SpanStatusCode: { ERROR: number; OK: number };
  SpanKind: { CONSUMER: number };
}
interface OtelTracer {
  startSpan(
    name: string,
    options: { kind?: number; startTime?: number; attributes?: Record<string, string | number | boolean> },
  ): OtelSpan;
}
interface OtelSpan {
  setStatus(status: { code: number; message?: string }): void;
  recordException(exception: Error | string): void;
  end(endTime?: number): void;
}

/** Records one span per handled event. */
export interface EventTracer {
  /** A span from the handler's start to its reply sent (the outcome's report), with the event's ids. */
  outcome(outcome: EventOutcome): void;
}

/**
 * Whether `@opentelemetry/api` holds a registration: it keeps its globals (tracer provider,
 * propagator, context manager) under `Symbol.for('opentelemetry.js.api.<major>')` on `globalThis`,
 * set by the first `setGlobalTracerProvider` (what every SDK's `start()`/`register()` calls).
 */
function otelRegistered(): boolean {
  return Object.getOwnPropertySymbols(globalThis).some((symbol) =>
    symbol.description?.startsWith('opentelemetry.js.api.'),
  );
}

/** Package name in a variable: TypeScript must not require its types, and bundlers must not inline it. */
const OTEL = '@opentelemetry/api';

/**
 * The tracer of `@opentelemetry/api` when it is installed and something registered with it (an
 * SDK, a tracer provider) before the runner started, else `undefined`. Never throws.
 * The time base is wall-clock ms, as OpenTelemetry's `TimeInput` takes it.
 */
export async function loadEventTracer(version?: string): Promise<EventTracer | undefined> {
  // Without a registration every span would be a no-op: the API (~50 modules) is not even loaded,
  // and no span is built per event (docs/benchmarks.md, "Start-up").
  if (!otelRegistered()) return undefined;
  let api: OtelApi;
  try {
    api = (await import(OTEL)) as OtelApi;
  } catch {
    return undefined;
  }
  const tracer = api.trace.getTracer('c4c-runner', version);
  return {
    outcome(outcome) {
      const now = Date.now();
      const event = outcome.routed.event as Record<string, unknown> & { data?: Record<string, unknown> };
      const attributes: Record<string, string | number | boolean> = {
        'c4c.event': outcome.routed.name,
        'c4c.handler.file': outcome.file,
        'c4c.outcome': outcome.kind,
        'c4c.handler.duration_ms': Math.round(outcome.durationMs * 1000) / 1000,
      };
      for (const [key, attribute] of ID_ATTRIBUTES) {
        const value = event[key] ?? event.data?.[key];
        if (typeof value === 'string' || typeof value === 'number') attributes[attribute] = value;
      }
      if (outcome.action) attributes['c4c.reply.action'] = outcome.action;
      // Handler time is measured; the reply's delivery came after it, up to now.
      const span = tracer.startSpan(`c4c ${outcome.routed.name}`, {
        kind: api.SpanKind.CONSUMER,
        startTime: now - outcome.durationMs,
        attributes,
      });
      if (outcome.kind === 'failed' || outcome.kind === 'timed-out' || outcome.kind === 'unsent') {
        // Spans leave the process: the message goes through the same redaction as a log line.
        const message = redactText(
          outcome.error instanceof Error ? outcome.error.message : String(outcome.error),
        );
        span.recordException(message);
        span.setStatus({ code: api.SpanStatusCode.ERROR, message });
      }
      span.end(now);
    },
  };
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The event ids a span carries, with their attribute names (built once, not per event). */
const ID_ATTRIBUTES = ['messageId', 'employmentId', 'invocationId', 'applicationId', 'taskId'].map(
  (key) => [key, `c4c.${snake(key)}`] as const,
);
