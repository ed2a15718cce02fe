/**
 * The pipeline between a decoded frame and the ledger, with the runner's own scheduler and ledger and
 * a sender whose proof of delivery the test controls: a handler's slot is free once its reply is
 * written, while its conversation and its acknowledgement wait for the proof.
 */
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { ClientFrame, ServerFrame } from '../../src/protocol/frames.js';
import type { Id } from '../../src/protocol/ids.js';
import { MemoryLedger } from '../../src/runner/ledger.js';
import { Pipeline } from '../../src/runner/pipeline.js';
import { HandlerRegistry } from '../../src/runner/registry.js';
import { Scheduler } from '../../src/runner/scheduler.js';
import { memoryLogger } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

function message(employmentId: number, messageId: string): ServerFrame {
  return { type: 'message', employmentId, messageId, timestamp: '2026-01-01T00:00:00Z', content: messageId };
}

/** A pipeline whose confirmed sends are written at once and proven when the test says so. */
function setup(concurrency: number) {
  const { logger } = memoryLogger('warn');
  const registry = new HandlerRegistry({ dir: '/nowhere/handlers', root: '/nowhere' });
  const started: string[] = [];
  registry.set('message', {
    name: 'message',
    file: '/nowhere/handlers/message.ts',
    label: 'handlers/message.ts',
    timeout: undefined,
    handle: (ctx) => {
      const event = ctx.event as { content: string };
      started.push(event.content);
      return `re ${event.content}`;
    },
  });
  const scheduler = new Scheduler({ concurrency, backlog: 100 });
  const acknowledged: [Id, string][] = [];
  const ledger = new MemoryLedger({
    size: 100,
    logger,
    ackInterval: 0,
    markRead: (employmentId, id) => {
      acknowledged.push([employmentId, id]);
      return Promise.resolve();
    },
  });
  const proofs: { frame: ClientFrame; prove: () => void }[] = [];
  const pipeline = new Pipeline({
    registry,
    scheduler,
    ledger,
    api: {} as ApiClient,
    logger,
    timeout: 5_000,
    send: () => Promise.resolve(),
    sendConfirmed: (frame, onWritten) =>
      new Promise<void>((resolve) => {
        onWritten?.();
        proofs.push({ frame, prove: resolve });
      }),
  });
  return { pipeline, scheduler, started, acknowledged, proofs };
}

describe('Pipeline: the slot is freed on write', () => {
  it('another conversation runs while a reply waits for its proof; the acknowledgement waits for it', async () => {
    const { pipeline, scheduler, started, acknowledged, proofs } = setup(1);
    expect(pipeline.accept(message(1, 'a1'))).toBe('accepted');
    expect(pipeline.accept(message(2, 'b1'))).toBe('accepted');
    // One slot: b1 ran although a1's reply is not proven yet.
    await waitFor(() => proofs.length === 2);
    expect(started).toEqual(['a1', 'b1']);
    expect(scheduler.stats.running).toBe(0);
    expect(acknowledged).toEqual([]);
    proofs[1]!.prove();
    await waitFor(() => acknowledged.length === 1);
    expect(acknowledged).toEqual([[2, 'b1']]);
    proofs[0]!.prove();
    await scheduler.onIdle();
    await waitFor(() => acknowledged.length === 2);
    expect(acknowledged[1]).toEqual([1, 'a1']);
    expect(pipeline.stats.replies).toBe(2);
  });

  it('the next message of the same conversation waits until the reply before it is proven', async () => {
    const { pipeline, scheduler, started, acknowledged, proofs } = setup(4);
    pipeline.accept(message(1, 'a1'));
    pipeline.accept(message(1, 'a2'));
    await waitFor(() => proofs.length === 1);
    // Held by its conversation, not by a slot: a2 would otherwise be acknowledged before a1's proof.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a1']);
    proofs[0]!.prove();
    await waitFor(() => proofs.length === 2);
    expect(started).toEqual(['a1', 'a2']);
    proofs[1]!.prove();
    await scheduler.onIdle();
    await waitFor(() => acknowledged.length === 2);
    expect(acknowledged).toEqual([
      [1, 'a1'],
      [1, 'a2'],
    ]);
  });

  it('a reply whose proof fails leaves its message unacknowledged and unclaimed', async () => {
    const { logger } = memoryLogger('error');
    const registry = new HandlerRegistry({ dir: '/nowhere/handlers', root: '/nowhere' });
    registry.set('message', {
      name: 'message',
      file: '/nowhere/handlers/message.ts',
      label: 'handlers/message.ts',
      timeout: undefined,
      handle: () => 'hi',
    });
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    const acknowledged: string[] = [];
    const ledger = new MemoryLedger({
      size: 10,
      logger,
      ackInterval: 0,
      markRead: (_employmentId, id) => {
        acknowledged.push(id);
        return Promise.resolve();
      },
    });
    const pipeline = new Pipeline({
      registry,
      scheduler,
      ledger,
      api: {} as ApiClient,
      logger,
      timeout: 5_000,
      send: () => Promise.resolve(),
      sendConfirmed: (_frame, onWritten) => {
        onWritten?.();
        return Promise.reject(new Error('the socket dropped and the connection closed'));
      },
    });
    pipeline.accept(message(1, 'a1'));
    await scheduler.onIdle();
    expect(pipeline.stats.replyErrors).toBe(1);
    expect(acknowledged).toEqual([]);
    // Unclaimed: a redelivery or catch-up runs it again.
    expect(ledger.claim('employment:1/a1')).toBe(true);
  });
});
