/**
 * `createTestAgent`: the agent's own handlers, run by the real runner, connected to a real
 * embedded platform on a free port, with the test playing the other party over the platform's
 * REST API and WebSocket — the employer who chats, the publisher who picks the agent for a task,
 * the caller who invokes its service, the company that offers employment.
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PartyClient } from '../party/client.js';
import { Peer } from '../party/peer.js';
import { loadConfig } from '../config/load.js';
import type { UserConfig } from '../config/schema.js';
import { startPlatform, type Platform, type SeedInput, type World } from '../platform/index.js';
import type { NotificationFrame, ServerFrame } from '../protocol/frames.js';
import { idNumber } from '../protocol/ids.js';
import type { CreateTaskBody } from '../protocol/rest.js';
import { TestEmployer } from './employer.js';
import { ServiceInvocationError, TestTimeoutError } from './errors.js';
import { Inbox } from './inbox.js';
import { problemLog, type LogLevel, type ProblemLog } from './problems.js';
import type { Runner } from '../runner/runner.js';
import { startTestRunner, type TestRunner } from './runner.js';
import { conversationState } from '../state/conversation.js';
import { MemoryStateStore } from '../state/memory.js';
import { employmentStateKey, type StateStore } from '../state/store.js';

export interface TestAgentOptions {
  /**
   * The agent's project folder: where its `c4c.config.ts` (or `handlers/`) is. A `file:` URL works,
   * so a test can say `new URL('..', import.meta.url)`. @default process.cwd()
   */
  root?: string | URL;
  /** The handlers folder, instead of the config's (relative to `root`). */
  handlers?: string | URL;
  /** Settings that win over the project's config (`timeout`, `concurrency`, …). */
  config?: Omit<UserConfig, 'platform' | 'handlers'>;
  /** The platform's world (agents, employments, services). @default the default world */
  seed?: SeedInput;
  /** How long each helper waits for the agent, ms. @default 10_000 */
  timeout?: number;
  /**
   * Where the handlers' `ctx.state` is kept. The project's own `state` setting is not used, so a
   * test never writes into `.c4c/state/`. @default a fresh memory store per agent
   */
  state?: StateStore;
  /**
   * Log level of the runner and the platform, for a test that needs to see inside.
   * @default env C4C_TEST_LOG, else 'silent'
   */
  logLevel?: LogLevel;
}

/** What the agent submitted for a task, as the publisher sees it. */
export interface TaskSubmission {
  taskId: number;
  applicationId: number;
  submissionId: number;
  content: string;
  attachments: string[];
  notes: string | null;
}

/** The agent's answer to an employment offer. */
export interface OfferOutcome {
  accepted: boolean;
  employmentId: number;
  /** The employment's status afterwards: `active` or `rejected`. */
  status: string;
}

export interface TestAgent {
  /** The embedded platform the agent is connected to (for assertions on its state). */
  readonly platform: Platform;
  /** Who is who: the employer, the agent, the employment. */
  readonly world: World;
  /** The agent's runner (its `stats`, `state`, handler `registry`). */
  readonly runner: Runner;
  /** The employer of the agent, played by the test. */
  readonly employer: TestEmployer;
  /**
   * The `ctx.state` the handlers left for an employment (JSON-parsed), for assertions.
   * @default the test employer's employment
   */
  stateOf<T = unknown>(employmentId?: number): Promise<T | undefined>;
  /** Sets an employment's `ctx.state` before the agent handles anything (a returning customer). */
  setState(value: unknown, employmentId?: number): Promise<void>;
  /**
   * Invokes the agent's service as a caller and resolves with the output its `service-invoked`
   * handler returned. Rejects with {@link ServiceInvocationError} when the handler threw.
   */
  invokeService(
    input: Record<string, unknown>,
    options?: { serviceId?: number; timeout?: number },
  ): Promise<Record<string, unknown>>;
  /**
   * Publishes a task, has the agent apply and picks it: its `task-accepted` handler runs, and this
   * resolves with what it submitted.
   */
  acceptTask(
    task: { title: string; description?: string; bounty?: number; category?: string },
    options?: { timeout?: number },
  ): Promise<TaskSubmission>;
  /** Offers the agent employment; its `employment-offered` handler accepts or rejects. */
  offerEmployment(
    offer?: { salary?: number; duration?: number },
    options?: { timeout?: number },
  ): Promise<OfferOutcome>;
  /** Stops the runner, the employer's socket and the platform. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a platform on a free port and the agent's runner against it; resolves once both the agent
 * and the employer are connected.
 * @example
 * const agent = await createTestAgent({ root: new URL('..', import.meta.url) });
 * const reply = await agent.employer.say('hello');
 * await agent.close();
 */
export async function createTestAgent(options: TestAgentOptions = {}): Promise<TestAgent> {
  const root = pathOf(options.root ?? process.cwd());
  const timeout = options.timeout ?? 10_000;
  const problems = problemLog(options.logLevel ?? logLevelFromEnv());
  const logger = problems.logger;

  const platform = await startPlatform({
    ...(options.seed ? { seed: options.seed } : {}),
    logger: logger.child({ name: 'platform' }),
  });
  const cleanup: (() => Promise<void>)[] = [() => platform.close()];
  const closeAll = async () => {
    for (const step of cleanup.reverse().splice(0)) await step().catch(() => undefined);
  };
  try {
    const world = platform.world;
    const overrides: UserConfig = { ...options.config };
    if (options.handlers !== undefined)
      overrides.handlers =
        typeof options.handlers === 'string' && !options.handlers.startsWith('file:')
          ? resolve(root, options.handlers)
          : pathOf(options.handlers);
    const config = await loadConfig({
      cwd: root,
      // The environment wins over the config file: the agent talks to this platform, as itself.
      env: { ...process.env, C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: world.agent.token },
      overrides,
    });

    const inbox = new Inbox();
    const peer = new Peer({ url: platform.url, token: world.employer.token });
    peer.onFrame((frame: ServerFrame) => inbox.push(frame));
    await peer.connect();
    cleanup.push(() => peer.close());

    const connected = new Promise<void>((resolveConnected) => {
      const check = ({ agentId }: { agentId: number }) => {
        if (agentId !== world.agent.id) return;
        platform.off('connection', check);
        resolveConnected();
      };
      platform.on('connection', check);
      if (platform.stats.connectedAgents().includes(world.agent.id)) resolveConnected();
    });
    const state = options.state ?? new MemoryStateStore();
    const runner: TestRunner = await startTestRunner(config, logger.child({ name: 'runner' }), state);
    cleanup.push(() => runner.close());
    await withTimeout(
      connected,
      timeout,
      () => `the runner did not connect to the test platform${problems.describe()}`,
    );

    const employer = new TestEmployer({
      ...world.employer,
      employmentId: world.employmentId,
      peer,
      inbox,
      timeout,
      problems: () => problems.describe(),
    });
    return buildAgent({
      platform,
      world,
      runner: runner.runner,
      employer,
      state,
      inbox,
      timeout,
      problems,
      close: closeAll,
    });
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function buildAgent(init: {
  platform: Platform;
  world: World;
  runner: Runner;
  employer: TestEmployer;
  state: StateStore;
  inbox: Inbox;
  timeout: number;
  problems: ProblemLog;
  close: () => Promise<void>;
}): TestAgent {
  const { platform, world, inbox } = init;
  // The kit's ids are numbers: the embedded platform's routes answer these ids as numbers.
  const asEmployer = new PartyClient({ url: platform.url, token: world.employer.token });
  const asAgent = new PartyClient({ url: platform.url, token: world.agent.token });
  let closing: Promise<void> | undefined;

  /** The first notification of `event` about `key = id` the employer received (past or future). */
  const notification = (events: string[], key: string, id: number, wait: number, hint: string) =>
    inbox
      .next(
        (frame) =>
          frame.type === 'notification' && events.includes(frame.event) && Number(frame.data[key]) === id,
        {
          timeout: wait,
          hint: () => hint + init.problems.describe(),
        },
      )
      .then((index) => inbox.frames[index] as NotificationFrame);

  let serviceId: number | undefined;
  const agentService = async (): Promise<number> => {
    if (serviceId !== undefined) return serviceId;
    const mine = await asAgent.myServices();
    const first = mine.services[0];
    serviceId = idNumber(
      first?.id ??
        (
          await asAgent.publishService({
            title: 'Test service',
            description: 'Created by c4c-runner/testing',
            category: 'programming',
            price: '1',
          })
        ).id,
    );
    return serviceId;
  };

  const stateOf = (employmentId = world.employmentId) =>
    conversationState(init.state, employmentStateKey(employmentId), {
      label: 'c4c-runner/testing',
      event: 'test',
    });

  return {
    platform,
    world,
    runner: init.runner,
    employer: init.employer,
    stateOf: <T>(employmentId?: number) => stateOf(employmentId).get<T>(),
    setState: (value, employmentId) => stateOf(employmentId).set(value),

    async invokeService(input, options = {}) {
      const id = options.serviceId ?? (await agentService());
      const invocationId = idNumber(
        (await asEmployer.invoke({ serviceId: id, input, idempotencyKey: randomUUID() })).invocationId,
      );
      await notification(
        ['result_submitted', 'invocation_failed'],
        'invocationId',
        invocationId,
        options.timeout ?? init.timeout,
        `the agent submitted no result for invocation ${invocationId}; does handlers/service-invoked.ts return an output?`,
      );
      const invocation = await asEmployer.invocation(invocationId);
      if (invocation.status !== 'completed') {
        throw new ServiceInvocationError(
          invocation.error ?? `invocation ${invocationId} ended ${invocation.status}`,
          invocation,
        );
      }
      return invocation.output ?? {};
    },

    async acceptTask(task, options = {}) {
      const published = await asEmployer.publishTask({
        title: task.title,
        description: task.description ?? '',
        bounty: task.bounty ?? 10,
        // Any text: the platform refuses an unknown category with the list of known ones.
        category: (task.category ?? 'programming') as CreateTaskBody['category'],
      });
      const created = { id: idNumber(published.id) };
      // Applying is the agent's own step on the marketplace, before any handler of it runs.
      const applicationId = idNumber(
        (await asAgent.applyTask(created.id, { message: 'Applied by c4c-runner/testing' })).applicationId,
      );
      await asEmployer.acceptApplication(created.id, applicationId);
      await notification(
        ['task_submitted'],
        'applicationId',
        applicationId,
        options.timeout ?? init.timeout,
        `the agent submitted nothing for task "${task.title}"; does handlers/task-accepted.ts return a deliverable?`,
      );
      // The publisher's REST view has no submission body; the platform's record is the same data.
      const submission = [...platform.state.submissions.values()].find(
        (s) => s.applicationId === applicationId,
      );
      if (!submission)
        throw new Error(
          `task ${created.id} was reported submitted, but the platform holds no submission for application ${applicationId}`,
        );
      return {
        taskId: created.id,
        applicationId,
        submissionId: submission.id,
        content: submission.content,
        attachments: [...submission.attachments],
        notes: submission.notes,
      };
    },

    async offerEmployment(offer = {}, options = {}) {
      const hired = await asEmployer.hire({
        employeeAgentId: world.agent.id,
        salary: offer.salary ?? 10,
        ...(offer.duration !== undefined ? { duration: offer.duration } : {}),
      });
      const employment = { id: idNumber(hired.id) };
      const answer = await notification(
        ['employment_accepted', 'employment_rejected'],
        'employmentId',
        employment.id,
        options.timeout ?? init.timeout,
        `the agent did not answer the offer of employment ${employment.id}; does handlers/employment-offered.ts return true or false?`,
      );
      const after = await asEmployer.employment(employment.id);
      return {
        accepted: answer.event === 'employment_accepted',
        employmentId: employment.id,
        status: after.status,
      };
    },

    close() {
      closing ??= init.close();
      return closing;
    },
  };
}

function logLevelFromEnv(): LogLevel {
  const value = process.env.C4C_TEST_LOG;
  return value === 'trace' || value === 'debug' || value === 'info' || value === 'warn' || value === 'error'
    ? value
    : 'silent';
}

function pathOf(location: string | URL): string {
  if (location instanceof URL) return fileURLToPath(location);
  if (location.startsWith('file:')) return fileURLToPath(location);
  return isAbsolute(location) ? location : resolve(location);
}

function withTimeout<T>(promise: Promise<T>, ms: number, hint: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TestTimeoutError(`${hint()} (waited ${ms} ms)`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
