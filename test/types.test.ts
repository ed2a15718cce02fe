/**
 * Type tests: `ctx.event` follows the handler's event, and the return value is checked against
 * that event's reply rule. A line marked @ts-expect-error must fail to compile (vitest --typecheck
 * and `npm run typecheck` both check these).
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  defineConfig,
  defineHandler,
  type Context,
  type EventMap,
  type EventName,
  type Handler,
  type Id,
  type HandlerDefinition,
  type ReplyOf,
  type ResolvedConfig,
  type UserConfig,
  type HistoryEntry,
  type StateStore,
  type StateStoreLike,
} from 'c4c-runner';

describe("ctx.event is narrowed by the handler's event", () => {
  it('message', () => {
    defineHandler('message', (ctx) => {
      expectTypeOf(ctx.name).toEqualTypeOf<'message'>();
      expectTypeOf(ctx.event.content).toEqualTypeOf<string>();
      expectTypeOf(ctx.event.employmentId).toEqualTypeOf<Id>();
      expectTypeOf(ctx.event.messageId).toEqualTypeOf<string>();
      // Frames are loose (the platform may add keys): unknown keys are `unknown`, never typed.
      expectTypeOf(ctx.event.data).toBeUnknown();
      return 'ok';
    });
  });

  it('notifications', () => {
    defineHandler('task-accepted', (ctx) => {
      expectTypeOf(ctx.event.type).toEqualTypeOf<'notification'>();
      expectTypeOf(ctx.event.event).toEqualTypeOf<'task_application_accepted'>();
      expectTypeOf(ctx.event.data.taskTitle).toEqualTypeOf<string | undefined>();
      expectTypeOf(ctx.event.data.publisherAgentName).toEqualTypeOf<string | undefined>();
      expectTypeOf(ctx.event.content).toBeUnknown();
      expectTypeOf(ctx.event.messageId).toEqualTypeOf<string | undefined>();
    });
    defineHandler('service-invoked', (ctx) => {
      expectTypeOf(ctx.event.data.input).toEqualTypeOf<Record<string, unknown> | undefined>();
      expectTypeOf(ctx.event.data.serviceTitle).toEqualTypeOf<string | undefined>();
    });
    defineHandler('employment-offered', {
      handle: (ctx) => expectTypeOf(ctx.event.domain).toEqualTypeOf<'employment'>() === undefined,
    });
    defineHandler('notification', (ctx) => {
      expectTypeOf(ctx.event.data).toEqualTypeOf<Record<string, unknown>>();
      expectTypeOf(ctx.event.event).toEqualTypeOf<string>();
    });
  });

  it('the rest of ctx', () => {
    defineHandler('read', (ctx) => {
      expectTypeOf(ctx.event.lastReadMessageId).toEqualTypeOf<string | undefined>();
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
      expectTypeOf(ctx.reply)
        .parameter(0)
        .toEqualTypeOf<string | { content: string; metadata?: EventMap['message']['metadata'] }>();
      expectTypeOf(ctx.send).parameters.toEqualTypeOf<
        [Id, string | { content: string; metadata?: EventMap['message']['metadata'] }]
      >();
      expectTypeOf(ctx.api.invocation).returns.resolves.toHaveProperty('status');
    });
    expectTypeOf<Context<'error'>['event']['code']>().toEqualTypeOf<string>();
  });
});

describe('ids are one type, in either form', () => {
  it("an event's ids go straight back into ctx.api, with no Number(...)", () => {
    defineHandler('task-accepted', async (ctx) => {
      // The runner finds an id the platform left out before the handler runs: it is always there.
      expectTypeOf(ctx.event.data.applicationId).toEqualTypeOf<Id>();
      await ctx.api.submitTask(ctx.event.data.applicationId, { content: 'done' });
      await ctx.api.submitTask('42', { content: 'a string id is an id too' });
      // @ts-expect-error an id is a number or a string, nothing else
      await ctx.api.submitTask({ id: 42 }, { content: 'x' });
    });
    defineHandler('service-invoked', (ctx) => {
      expectTypeOf(ctx.event.data.invocationId).toEqualTypeOf<Id>();
      expectTypeOf(ctx.event.data.serviceId).toEqualTypeOf<Id | undefined>();
    });
    defineHandler('employment-offered', (ctx) => {
      expectTypeOf(ctx.event.data.employmentId).toEqualTypeOf<Id>();
    });
    defineHandler('task-completed', (ctx) => {
      // No reply needs it, so nothing looks for it: as the platform sent it.
      expectTypeOf(ctx.event.data.applicationId).toEqualTypeOf<Id | undefined>();
    });
    defineHandler('message', async (ctx) => {
      await ctx.send(ctx.event.employmentId, 'same employment');
      expectTypeOf(ctx.api.acceptedTasks).returns.resolves.toHaveProperty('tasks');
    });
  });
});

describe("the return value is checked against the event's reply", () => {
  it('accepts what each reply rule allows', () => {
    defineHandler('message', () => 'text');
    defineHandler('message', async () => ({ content: 'text', metadata: { format: 'markdown' } }));
    defineHandler('message', () => undefined);
    defineHandler('service-invoked', () => ({ anything: 1 }));
    defineHandler('service-invoked', async () => 'as { result }');
    defineHandler('task-accepted', () => ({ content: 'done', attachments: ['https://x/y.pdf'], notes: 'n' }));
    defineHandler('employment-offered', () => true);
    defineHandler('employment-offered', () => ({ accept: false, reason: 'busy' }));
    defineHandler('task-completed', async () => {});
  });

  it('refuses what it does not allow', () => {
    // @ts-expect-error a message reply is a string or { content }
    defineHandler('message', () => 42);
    // @ts-expect-error the object needs `content`
    defineHandler('message', async () => ({ text: 'nope' }));
    // @ts-expect-error an offer is answered with a boolean or { accept }
    defineHandler('employment-offered', () => 'yes');
    // @ts-expect-error a deliverable needs content
    defineHandler('task-accepted', () => ({ notes: 'only notes' }));
    // @ts-expect-error task-completed has no reply
    defineHandler('task-completed', () => 'nobody reads this');
    // @ts-expect-error not an event
    defineHandler('mesage', () => 'x');
    // @ts-expect-error timeout is a number
    defineHandler('message', { timeout: '5s', handle: () => 'x' });
  });

  it('ReplyOf and Handler', () => {
    expectTypeOf<ReplyOf<'employment-offered'>>().toEqualTypeOf<
      | boolean
      | { accept: boolean; message?: string | undefined; reason?: string | undefined }
      | void
      | undefined
      | null
    >();
    expectTypeOf<ReplyOf<'invocation-reviewed'>>().toEqualTypeOf<void | undefined>();
    expectTypeOf(defineHandler('message', () => 'x')).toEqualTypeOf<HandlerDefinition<'message'>>();
    expectTypeOf<Handler<'message'>>().returns.toEqualTypeOf<
      ReplyOf<'message'> | Promise<ReplyOf<'message'>>
    >();
    expectTypeOf<EventName>().toExtend<string>();
    expectTypeOf<'task-accepted'>().toExtend<EventName>();
  });
});

describe('config types', () => {
  it('UserConfig is all optional; ResolvedConfig is filled and read-only', () => {
    defineConfig({});
    defineConfig({
      handlers: './h',
      platform: { url: 'http://x' },
      concurrency: 2,
      reconnect: { maxDelay: 5_000 },
    });
    // @ts-expect-error concurrency is a number
    defineConfig({ concurrency: 'many' });
    // @ts-expect-error unknown keys are refused
    defineConfig({ concurency: 2 });
    expectTypeOf<UserConfig['concurrency']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ResolvedConfig['concurrency']>().toEqualTypeOf<number>();
    expectTypeOf<ResolvedConfig['heartbeat']>().toEqualTypeOf<{
      readonly interval: number;
      readonly timeout: number;
    }>();
    expectTypeOf<ResolvedConfig['platform']['token']>().toEqualTypeOf<string | undefined>();
    const resolved = {} as ResolvedConfig;
    // @ts-expect-error read-only
    resolved.concurrency = 3;
  });
});

describe('ctx.state and ctx.history', () => {
  it('state is on every context, typed by the generic; history only in message handlers', () => {
    defineHandler('message', async (ctx) => {
      expectTypeOf(await ctx.state.get<{ n: number }>()).toEqualTypeOf<{ n: number } | undefined>();
      expectTypeOf(await ctx.state.update<number>((n) => (n ?? 0) + 1)).toEqualTypeOf<number>();
      expectTypeOf(await ctx.history({ limit: 5 })).toEqualTypeOf<HistoryEntry[]>();
      expectTypeOf<HistoryEntry['role']>().toEqualTypeOf<'employer' | 'agent'>();
      return undefined;
    });
    defineHandler('employment-completed', async (ctx) => {
      await ctx.state.set({ done: true });
      // @ts-expect-error history is for message handlers only
      ctx.history();
    });
    // @ts-expect-error not on the context of every event
    expectTypeOf<Context['history']>();
  });

  it('a StateStore is what the config accepts as `state`', () => {
    expectTypeOf<StateStore>().toExtend<StateStoreLike>();
    expectTypeOf<StateStoreLike>().toExtend<StateStore>();
    const store = {} as StateStore;
    expectTypeOf(defineConfig({ state: store })).toEqualTypeOf<UserConfig>();
    defineConfig({ state: 'file' });
    defineConfig({ state: { dir: './data/state' } });
    // @ts-expect-error not a store
    defineConfig({ state: 'redis' });
  });
});
