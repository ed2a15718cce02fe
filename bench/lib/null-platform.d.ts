/** Types of bench/lib/null-platform.js, for the tests that hold the stand-in to the runner's calls. */
import type { WebSocket } from 'ws';

/** What the null platform saw, since it started. */
export interface NullPlatformCounters {
  connections: number;
  /** REST calls answered, by route: me, employments, employment, history, markRead, invocations, acceptedTasks. */
  rest: Record<string, number>;
  /** REST calls it had no canned answer for ("METHOD path"), at most 20. */
  unexpected: string[];
  jsonPings: number;
  controlPings: number;
  otherFrames: number;
}

/** The load generator on the agent's socket (the closed loop of bench/lib/generator.js). */
export interface PushLoad {
  readonly ws: WebSocket;
  /** Pushes one message frame on `employmentId`; returns its sequence number. */
  send(employmentId: number, slot?: number): number;
  /** Pushes one message and resolves with the ms until its reply. */
  roundTrip(employmentId: number, timeoutMs?: number): Promise<number>;
  closedLoop(options: {
    inFlight: number;
    employments: readonly number[];
    warmupMs: number;
    measureMs: number;
    drainMs?: number;
  }): Promise<{ replies: number; rate: number; lost: number; latenciesUs: number[] }>;
}

/** A running null platform. */
export interface NullPlatform {
  kind: 'null';
  url: string;
  wsUrl: string;
  port: number;
  counters: NullPlatformCounters;
  on(name: 'connection' | 'disconnect', fn: (info: { agentId: number; connectionId: number }) => void): void;
  off(name: 'connection' | 'disconnect', fn: (info: { agentId: number; connectionId: number }) => void): void;
  /** The load generator on the agent's current socket; throws when no agent is connected. */
  load(): PushLoad;
  close(): Promise<void>;
}

/** Starts a null platform for `agent` with `employments` active employments (ids 1…n). */
export function startNullPlatform(options?: {
  agent?: { id: number; name: string; token: string };
  employments?: number;
}): Promise<NullPlatform>;
