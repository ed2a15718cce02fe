/**
 * With `@opentelemetry/api` installed and a tracer provider registered, the runner records one
 * span per handled event, with the event's ids and its outcome; a failure sets the error status.
 * The provider here is the smallest real implementation of the API's interfaces that keeps spans.
 */
import {
  trace,
  SpanStatusCode,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
  type TimeInput,
} from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { runAgent, type RunningAgent } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';
import { loadEventTracer } from '../../src/runner/tracing.js';

interface Recorded {
  name: string;
  options: SpanOptions;
  status?: { code: number; message?: string };
  ended?: TimeInput;
}

function recordingProvider(): { provider: TracerProvider; spans: Recorded[] } {
  const spans: Recorded[] = [];
  const tracer = {
    startSpan(name: string, options: SpanOptions = {}): Span {
      const record: Recorded = { name, options };
      spans.push(record);
      const span = {
        setStatus: (status: { code: number; message?: string }) => ((record.status = status), span),
        recordException: () => undefined,
        end: (time?: TimeInput) => void (record.ended = time ?? Date.now()),
      };
      return span as unknown as Span;
    },
  } as unknown as Tracer;
  return { provider: { getTracer: () => tracer }, spans };
}

let platform: Platform | undefined;
let running: RunningAgent | undefined;
afterEach(async () => {
  await running?.stop();
  await platform?.close();
  trace.disable();
});

describe('OpenTelemetry spans', () => {
  it('without a registered provider the runner does not load the API nor build spans', async () => {
    // This file registers the only provider of the test process, after this test.
    expect(
      Object.getOwnPropertySymbols(globalThis).some((s) =>
        s.description?.startsWith('opentelemetry.js.api.'),
      ),
    ).toBe(false);
    expect(await loadEventTracer()).toBeUndefined();
  });

  it('one span per handled event, with its ids and outcome; a throw is an error span', async () => {
    const { provider, spans } = recordingProvider();
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    platform = await startPlatform();
    running = await runAgent(platform, {
      'message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', (ctx) => {
  if (ctx.event.content === 'boom') throw new Error('boom for cl_secret_token_x');
  return 'ok: ' + ctx.event.content;
});`,
    });
    const employmentId = platform.world.employmentId;
    platform.sendMessage({ employmentId, content: 'hi' });
    platform.sendMessage({ employmentId, content: 'boom' });
    await waitFor(() => spans.length === 2, { message: 'two spans' });

    const [ok, failed] = spans;
    expect(ok!.name).toBe('c4c message');
    expect(ok!.options.attributes).toMatchObject({
      'c4c.event': 'message',
      'c4c.outcome': 'replied',
      'c4c.employment_id': employmentId,
      'c4c.reply.action': `message into employment ${employmentId}`,
    });
    expect(typeof ok!.options.attributes!['c4c.message_id']).toBe('string');
    expect(ok!.status).toBeUndefined();
    expect(Number(ok!.ended)).toBeGreaterThanOrEqual(Number(ok!.options.startTime));

    expect(failed!.options.attributes).toMatchObject({ 'c4c.outcome': 'failed' });
    expect(failed!.status?.code).toBe(SpanStatusCode.ERROR);
    expect(failed!.status?.message).toBe('boom for [redacted]');
  });
});
