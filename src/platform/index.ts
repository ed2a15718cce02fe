/**
 * The embedded Claw4Claw platform: HTTP (REST under `/openapi/v1`, dev API under `/dev`) and the
 * WebSocket `/ws` on one port. In-process for tests and `dev`; `c4c-runner platform` runs it alone.
 *
 * @example
 * const platform = await startPlatform();
 * // connect an agent to platform.wsUrl with platform.world.agent.token …
 * platform.sendMessage({ employmentId: platform.world.employmentId, content: 'hello' });
 * await platform.close();
 */
import { LOOPBACK_HOST } from '../limits.js';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { refuseDevRequest } from './dev-guard.js';
import { getRequestListener } from '@hono/node-server';
import { C4cError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { NotificationEventName, NotificationOf } from '../protocol/events.js';
import type { NotificationFrame } from '../protocol/frames.js';
import { HEARTBEAT_DEFAULTS } from '../protocol/heartbeat.js';
import { Chat } from './chat.js';
import type { Core } from './core.js';
import type { PlatformEvents } from './events.js';
import { createFaultSwitches, FaultState, type FaultSwitches } from './faults.js';
import type { IdDialect } from './dialect.js';
import { Hub } from './hub.js';
import { createNotifier } from './notify.js';
import { PlaygroundHost, type DevStatusFeed, type PlaygroundEmitter } from './playground/host.js';
import { createApp } from './routes/app.js';
import { completeEmployment, sendAs, timeoutInvocation } from './routes/dev.js';
import { loadSeed, stateFromSeed, type SeedInput } from './seed.js';
import { State, type MessageRecord } from './state.js';
import { FileStore, readSnapshot } from './store-file.js';
import { defaultSeed, type World } from './world.js';
import { attachWebSocket } from './ws.js';

export {
  DEFAULT_AGENT,
  DEFAULT_EMPLOYER,
  DEFAULT_EMPLOYMENT,
  DEFAULT_RIVAL,
  DEFAULT_SERVICE,
  defaultSeed,
} from './world.js';
export type { World } from './world.js';
export { seedSchema, loadSeed, validateSeed } from './seed.js';
export type { Seed, SeedInput } from './seed.js';
export type { PlatformEvents } from './events.js';
export type { FaultSwitches } from './faults.js';
export type { IdDialect } from './dialect.js';
export { MALFORMED_FRAMES } from './faults.js';
export type { MessageRecord, Snapshot } from './state.js';
export type { DevStatusFeed, HandlerStatus, OutcomeStatus, PlaygroundEmitter } from './playground/host.js';

/** Options of `startPlatform`. */
export interface PlatformOptions {
  /** @default 0 (a free port; the CLI defaults to 7420) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** A seed object or the path of a seed JSON file. @default the default world */
  seed?: SeedInput | string;
  /** Keep state in this file across restarts (loaded on start when it exists; the seed is then ignored). */
  dataFile?: string;
  /**
   * Lets non-loopback clients use the dev API (`/dev/*`) when they send it in `X-C4C-Dev-Token`.
   * @default none: `/dev/*` answers loopback clients only
   */
  devToken?: string;
  /** Enable the fault switches (`platform.faults`, `POST /dev/faults`). @default false */
  faults?: boolean;
  /** Server-side dead-client detection. */
  heartbeat?: {
    /** How often each client is pinged, ms. @default 30_000 */
    interval?: number;
    /** A client silent for longer is terminated, ms. @default 60_000 */
    timeout?: number;
  };
  /** @default a silent logger */
  logger?: Logger;
  /**
   * For tests: `string` or `number` sends every id in REST data and frames in that one form,
   * instead of the form each route of the public client declares (dialect.ts). @default 'client'
   */
  idDialect?: IdDialect;
}

/** A running platform. */
export interface Platform {
  /** API base, e.g. `http://127.0.0.1:53211` (REST under `/openapi/v1`). */
  readonly url: string;
  /** `ws://127.0.0.1:53211/ws` */
  readonly wsUrl: string;
  readonly port: number;
  readonly host: string;
  /** The parties of the first employment, with their tokens. */
  readonly world: World;
  /** Fault switches; each throws unless started with `faults: true`. */
  readonly faults: FaultSwitches;
  readonly stats: {
    /** Sockets opened since start. */
    readonly connectionsOpened: number;
    /** Agents with at least one open socket. */
    connectedAgents(): number[];
  };
  /** Sends a message as a party of an employment (the employer unless `from`), no socket needed. */
  sendMessage(input: {
    employmentId: number;
    content: string;
    from?: number;
    metadata?: Record<string, unknown>;
  }): MessageRecord;
  /** Sends a raw frame (object → JSON, string → as is) to every socket of an agent; returns how many. */
  push(agentId: number, frame: object | string): number;
  /** Pushes a notification built from its event name, as the platform would. */
  notify<N extends NotificationEventName>(
    agentId: number,
    name: N,
    data: NotificationOf<N>['data'],
  ): NotificationFrame;
  /** Ends an active employment as completed (notifies `employment_completed`). */
  completeEmployment(employmentId: number): void;
  /** Times out a pending invocation (notifies `invocation_timeout` to both parties). */
  timeoutInvocation(invocationId: number): void;
  /** A read-only look at the state (tests). */
  readonly state: State;
  /**
   * Plugs into the playground page at `/`: `dev`'s status feed (the handlers panel, outcomes in the log)
   * and an emitter (the event buttons). The platform never imports the runner; its host hands these over.
   */
  attachPlayground(parts: { status?: DevStatusFeed; emitter?: PlaygroundEmitter }): void;
  on<K extends keyof PlatformEvents>(event: K, listener: (...args: PlatformEvents[K]) => void): Platform;
  off<K extends keyof PlatformEvents>(event: K, listener: (...args: PlatformEvents[K]) => void): Platform;
  once<K extends keyof PlatformEvents>(event: K, listener: (...args: PlatformEvents[K]) => void): Platform;
  /** Closes every socket, the server and the data file. Safe to call twice. */
  close(): Promise<void>;
}

/** Starts the platform; resolves once it listens. Throws `C4cError('E_SEED')` for a bad seed. */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const logger = options.logger ?? silentLogger();
  const host = options.host ?? LOOPBACK_HOST;
  const heartbeat = {
    interval: options.heartbeat?.interval ?? HEARTBEAT_DEFAULTS.interval,
    timeout: options.heartbeat?.timeout ?? HEARTBEAT_DEFAULTS.timeout,
  };

  const seed = await loadSeed(options.seed ?? defaultSeed());
  const saved = options.dataFile ? await readSnapshot(options.dataFile) : undefined;
  const state = saved ? State.fromSnapshot(saved) : stateFromSeed(seed);
  const world = worldOf(state, saved ? undefined : seed.employments[0]!.id);

  const events = new EventEmitter<PlatformEvents>();
  const idDialect = options.idDialect ?? 'client';
  const hub = new Hub(idDialect);
  const faultState = new FaultState();
  const core: Core = {
    state,
    hub,
    chat: new Chat(state, hub, events),
    notify: createNotifier(hub, events),
    events,
    faultState,
    faults: createFaultSwitches(options.faults === true, faultState, hub),
    faultsEnabled: options.faults === true,
    logger,
    idDialect,
  };

  const store = options.dataFile
    ? new FileStore(
        options.dataFile,
        () => state.snapshot(),
        (error) => logger.error({ err: error, file: options.dataFile }, 'could not save the platform state'),
      )
    : undefined;
  if (store) {
    state.onChange(() => store.schedule());
    if (!saved) await store.flush(true);
  }

  const playground = new PlaygroundHost(core);
  const app = createApp(core, playground);
  // The platform runs inside other programs (dev mode, tests): leave their global Request/Response alone.
  const listener = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  // The listener answers its own errors (500); nothing is left to await here.
  const server: Server = createServer((req, res) => {
    if (!refuseDevRequest(req, res, options.devToken)) void listener(req, res);
  });
  const ws = attachWebSocket(server, core, heartbeat);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await ws.close();
    await store?.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new C4cError(
      'E_CONFIG',
      `cannot listen on ${host}:${options.port ?? 0} (${code ?? (error as Error).message})${code === 'EADDRINUSE' ? '; choose another --port, or --port 0 for a free one' : ''}`,
      { cause: error, details: { errno: code, host, port: options.port ?? 0 } },
    );
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  logger.info({ url }, 'platform listening');

  let closing: Promise<void> | undefined;
  const platform: Platform = {
    url,
    wsUrl: `ws://${urlHost}:${port}/ws`,
    port,
    host,
    world,
    faults: core.faults,
    stats: {
      get connectionsOpened() {
        return hub.opened;
      },
      connectedAgents: () => hub.connectedAgents(),
    },
    state,
    attachPlayground: (parts) => playground.attach(parts),
    sendMessage: (input) => sendAs(core, input),
    push: (agentId, frame) => hub.send(agentId, frame),
    notify: (agentId, name, data) => core.notify(agentId, name, data),
    completeEmployment: (id) => void completeEmployment(core, id),
    timeoutInvocation: (id) => void timeoutInvocation(core, id),
    on(event, listener) {
      events.on(event, listener as never);
      return platform;
    },
    off(event, listener) {
      events.off(event, listener as never);
      return platform;
    },
    once(event, listener) {
      events.once(event, listener as never);
      return platform;
    },
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        playground.close();
        server.closeAllConnections();
        await ws.close();
        await serverClosed;
        await store?.close();
        logger.info('platform closed');
      })();
      return closing;
    },
  };
  return platform;
}

/** The parties of the seed's first employment (or, from a data file, the lowest-numbered one). */
function worldOf(state: State, employmentId: number | undefined): World {
  const employment =
    employmentId !== undefined
      ? state.employments.get(employmentId)
      : [...state.employments.values()].sort((a, b) => a.id - b.id)[0];
  if (!employment)
    throw new C4cError(
      'E_SEED',
      'the platform has no employment; a seed needs at least one (the first one is the world)',
    );
  const party = (id: number) => {
    const agent = state.agents.get(id);
    if (!agent)
      throw new C4cError('E_SEED', `employment ${employment.id} names agent ${id}, which does not exist`);
    return { id: agent.id, name: agent.name, token: agent.token };
  };
  return {
    employer: party(employment.employerAgentId),
    agent: party(employment.employeeAgentId),
    employmentId: employment.id,
  };
}
