/**
 * What `emit` does around a raise: it learns the parties from a lone platform's dev API (`--url`), and
 * it waits for the agent's answer as the platform saw it — the notification the agent's action
 * sends the other party (result submitted, work submitted, offer answered), with the details read back
 * over REST. Only the three events whose handler's return value is an action have an answer.
 */
import { z } from 'zod';
import { C4cError, PlatformError } from '../errors.js';
import { notificationEventName } from '../protocol/events.js';
import { sameId, type Id } from '../protocol/ids.js';
import { PartyClient } from './client.js';
import { EMITTABLE, emit, isEmittable, type EmitParties, type EmitResult } from './emit.js';
import { Peer } from './peer.js';

/** Events whose handler's return value becomes a platform action that `emit` can wait for. */
export const ANSWERED = ['service-invoked', 'task-accepted', 'employment-offered'] as const;
export type AnsweredEvent = (typeof ANSWERED)[number];

export function isAnswered(event: string): event is AnsweredEvent {
  return (ANSWERED as readonly string[]).includes(event);
}

/** The agent's answer to a raised event, as the other party sees it. */
export type Answer =
  | { kind: 'invocation'; invocationId: Id; status: 'completed'; output: unknown }
  | { kind: 'invocation'; invocationId: Id; status: 'failed'; error: string }
  | { kind: 'deliverable'; taskId: Id; content: string | undefined }
  | { kind: 'offer'; employmentId: Id; accepted: boolean };

/** The notification that carries each answer to the other party, by the id that ties it to the raise. */
const ANSWER_NOTIFICATIONS: Record<AnsweredEvent, { names: readonly string[]; key: keyof EmitResult }> = {
  'service-invoked': { names: ['result-submitted', 'invocation-failed'], key: 'invocationId' },
  'task-accepted': { names: ['task-submitted'], key: 'taskId' },
  'employment-offered': { names: ['employment-accepted', 'employment-rejected'], key: 'employmentId' },
};

/**
 * Listens as the other party, from before the raise (so the answer cannot slip by), for the agent's
 * answer. Call `answer(result, timeout)` after the raise; `undefined` means none came in time.
 */
export async function watchAnswer(
  event: AnsweredEvent,
  parties: EmitParties,
): Promise<{
  answer(result: EmitResult, timeout: number): Promise<Answer | undefined>;
  close(): Promise<void>;
}> {
  const other = { url: parties.url, token: parties.other.token };
  const peer = new Peer(other);
  await peer.connect();
  const { names, key } = ANSWER_NOTIFICATIONS[event];
  const seen: { name: string; data: Record<string, unknown> }[] = [];
  let wake: (() => void) | undefined;
  peer.onFrame((frame) => {
    if (frame.type !== 'notification') return;
    const name = notificationEventName(frame.domain, frame.event);
    if (!name || !names.includes(name)) return;
    seen.push({ name, data: frame.data });
    wake?.();
  });
  return {
    async answer(result, timeout) {
      const id = result[key];
      const match = () => seen.find((n) => sameId(n.data[key] as Id | undefined, id));
      let found = match();
      if (!found) {
        const timer = new Promise<void>((resolve) => setTimeout(resolve, timeout).unref());
        for (;;) {
          const next = new Promise<void>((resolve) => (wake = resolve));
          if ((await Promise.race([next.then(() => 'frame'), timer.then(() => 'timeout')])) === 'timeout')
            break;
          if ((found = match())) break;
        }
        found ??= match();
      }
      if (!found || id === undefined) return undefined;
      switch (event) {
        case 'service-invoked': {
          const invocationId = id;
          const view = await peer.api.invocation(invocationId);
          return found.name === 'result-submitted'
            ? { kind: 'invocation', invocationId, status: 'completed', output: view.output }
            : {
                kind: 'invocation',
                invocationId,
                status: 'failed',
                error: view.error ?? (typeof found.data.error === 'string' ? found.data.error : ''),
              };
        }
        case 'task-accepted':
          return { kind: 'deliverable', taskId: id, content: await deliverable(peer.api, id) };
        case 'employment-offered':
          return { kind: 'offer', employmentId: id, accepted: found.name === 'employment-accepted' };
      }
    },
    close: () => peer.close(),
  };
}

/** The submitted work of a task, from its review (`GET /agent/me/tasks/:id`, as the publisher). */
async function deliverable(api: PartyClient, taskId: Id): Promise<string | undefined> {
  try {
    return (await api.task(taskId)).submissions?.at(-1)?.content ?? undefined;
  } catch {
    return undefined;
  }
}

/** One agent of a platform's world, as its dev API lists it. */
export interface WorldAgent {
  id: number;
  name: string;
  token: string;
  connected: boolean;
}

/** The world of an embedded platform, from `GET /dev/world`. */
export interface WorldView {
  agents: WorldAgent[];
  employments: { id: number; employerAgentId: number; employeeAgentId: number; status: string }[];
}

const worldViewSchema: z.ZodType<WorldView> = z.looseObject({
  agents: z.array(
    z.looseObject({ id: z.number(), name: z.string(), token: z.string(), connected: z.boolean() }),
  ),
  employments: z.array(
    z.looseObject({
      id: z.number(),
      employerAgentId: z.number(),
      employeeAgentId: z.number(),
      status: z.string(),
    }),
  ),
});

/**
 * The parties `emit` acts as, learned from a lone platform's dev API: the agent (`agentId`, else the
 * one agent connected), the other party (the employer of its first active employment, else another
 * agent) and a rival (a third agent), each with its token.
 */
export async function learnParties(url: string, agentId?: number): Promise<EmitParties> {
  let world: WorldView;
  try {
    world = await new PartyClient({ url, token: '' }).dev('GET', '/dev/world', worldViewSchema);
  } catch (error) {
    if (error instanceof PlatformError && error.status === 404)
      throw new C4cError(
        'E_CONFIG',
        `emit: ${url} has no dev API (GET /dev/world answered 404); emit acts only on the embedded platform (c4c-runner dev or c4c-runner platform)`,
      );
    throw error;
  }
  const list = () =>
    world.agents.map((a) => `#${a.id} ${a.name}${a.connected ? ' (connected)' : ''}`).join(', ');
  let agent: WorldAgent | undefined;
  if (agentId !== undefined) {
    agent = world.agents.find((a) => a.id === agentId);
    if (!agent)
      throw new C4cError(
        'E_CONFIG',
        `emit: the platform at ${url} has no agent #${agentId}; its agents: ${list()}`,
      );
  } else {
    const connected = world.agents.filter((a) => a.connected);
    if (connected.length !== 1)
      throw new C4cError(
        'E_CONFIG',
        `emit: ${connected.length === 0 ? 'no agent is connected' : `${connected.length} agents are connected`} to ${url}; say which one with --agent <id> (agents: ${list()})`,
      );
    agent = connected[0]!;
  }
  const me = agent;
  const employerId = world.employments
    .filter((e) => e.employeeAgentId === me.id && e.status === 'active')
    .sort((a, b) => a.id - b.id)[0]?.employerAgentId;
  const others = world.agents.filter((a) => a.id !== me.id).sort((a, b) => a.id - b.id);
  const other = others.find((a) => a.id === employerId) ?? others[0];
  if (!other)
    throw new C4cError(
      'E_CONFIG',
      `emit: the platform at ${url} has only agent #${me.id}; emit needs a second agent to act as the other party`,
    );
  const rival = others.find((a) => a.id !== other.id);
  return {
    url,
    agent: { id: me.id, token: me.token },
    other: { id: other.id, token: other.token },
    ...(rival ? { rival: { id: rival.id, token: rival.token } } : {}),
  };
}

/**
 * The playground page's event buttons, for a platform's host (`dev`, `c4c-runner platform`) to attach:
 * each press learns the parties from the dev API and raises the event as `c4c-runner emit` does.
 */
export function playgroundEmitter(url: string): {
  events: readonly string[];
  raise(event: string, agentId: number): Promise<Record<string, unknown>>;
} {
  return {
    events: EMITTABLE,
    async raise(event, agentId) {
      if (!isEmittable(event)) throw new C4cError('E_CONFIG', `cannot raise "${event}"`);
      return { ...(await emit(event, await learnParties(url, agentId))) };
    },
  };
}

/** The handlers panel of `GET /dev/world`: `null` on a lone platform (no dev session). */
const worldHandlersSchema = z.looseObject({
  handlers: z
    .array(z.looseObject({ event: z.string().optional(), state: z.string() }))
    .nullable()
    .default(null),
});

/** An outcome line of a `dev` session, as its platform's feed carries it. */
export interface FeedOutcome {
  event: string;
  ok: boolean;
  text: string;
  ids?: Record<string, number>;
}

/**
 * For events that take no reply: in `dev`, the platform's feed carries the runner's outcome of each
 * event, so `emit` can still say what the handler did. `undefined` on a lone platform (no dev session,
 * no outcomes); `'no-handler'` when no loaded handler file takes the event. Listening starts before
 * the raise; past outcomes never match, since each raise creates fresh ids.
 */
export async function watchOutcome(
  url: string,
  event: string,
): Promise<
  | { answer(result: EmitResult, timeout: number): Promise<FeedOutcome | undefined>; close(): void }
  | 'no-handler'
  | undefined
> {
  const world = await new PartyClient({ url, token: '' }).dev('GET', '/dev/world', worldHandlersSchema);
  if (!world.handlers) return undefined;
  const handles = (name: string) => world.handlers!.some((h) => h.event === name);
  if (!handles(event) && !handles('notification')) return 'no-handler';

  const controller = new AbortController();
  const response = await fetch(`${url}/dev/feed`, { signal: controller.signal });
  if (!response.ok || !response.body)
    throw new C4cError('E_PLATFORM', `${url}/dev/feed answered HTTP ${response.status}`);
  const outcomes: FeedOutcome[] = [];
  let wake: (() => void) | undefined;
  const reading = (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .find((line) => line.startsWith('data: '));
        buffer = buffer.slice(end + 2);
        if (!data) continue;
        const entry = JSON.parse(data.slice(6)) as { type: string; outcome?: FeedOutcome };
        if (entry.type === 'outcome' && entry.outcome) {
          outcomes.push(entry.outcome);
          wake?.();
        }
      }
    }
  })().catch(() => {});

  return {
    async answer(result, timeout) {
      const fields = ['taskId', 'applicationId', 'invocationId', 'serviceId', 'employmentId'] as const;
      const match = () =>
        outcomes.find((o) => {
          if (o.event !== event || !o.ids) return false;
          const shared = fields.filter((key) => o.ids![key] !== undefined && result[key] !== undefined);
          return shared.length > 0 && shared.every((key) => o.ids![key] === result[key]);
        });
      let found = match();
      const timer = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), timeout).unref(),
      );
      while (!found) {
        const next = new Promise<'outcome'>((resolve) => (wake = () => resolve('outcome')));
        if ((await Promise.race([next, timer])) === 'timeout') return match();
        found = match();
      }
      return found;
    },
    close() {
      controller.abort();
      void reading;
    },
  };
}
