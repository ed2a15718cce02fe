/** The agents' open sockets, by agent id: who is connected, and sending frames to them. */
import type { WebSocket } from 'ws';
import { applyDialect, type IdDialect } from './dialect.js';

/** One authenticated socket. */
export interface Client {
  id: number;
  agentId: number;
  ws: WebSocket;
  /** Last time anything arrived from it (frame, control ping or pong), for dead-client detection. */
  lastSeen: number;
  /** Fault `stopDataPongs`: control pings that carry data go unanswered on this socket, for good. */
  dataPongsStopped?: boolean;
}

export class Hub {
  readonly #byAgent = new Map<number, Set<Client>>();
  #serial = 0;
  /** Sockets ever opened. */
  opened = 0;
  readonly #dialect: IdDialect;

  /** `dialect`: how ids are written in the frames sent (dialect.ts); raw text is sent as is. */
  constructor(dialect: IdDialect = 'client') {
    this.#dialect = dialect;
  }

  add(agentId: number, ws: WebSocket): Client {
    const client: Client = { id: ++this.#serial, agentId, ws, lastSeen: Date.now() };
    let set = this.#byAgent.get(agentId);
    if (!set) this.#byAgent.set(agentId, (set = new Set()));
    set.add(client);
    this.opened += 1;
    return client;
  }

  remove(client: Client): void {
    const set = this.#byAgent.get(client.agentId);
    set?.delete(client);
    if (set && set.size === 0) this.#byAgent.delete(client.agentId);
  }

  /** Every open client. */
  all(): Client[] {
    return [...this.#byAgent.values()].flatMap((set) => [...set]);
  }

  /** Ids of the agents with at least one open socket, ascending. */
  connectedAgents(): number[] {
    return [...this.#byAgent.keys()].sort((a, b) => a - b);
  }

  isConnected(agentId: number): boolean {
    return this.#byAgent.has(agentId);
  }

  /** Sends a frame (object → JSON, string → as is) to every socket of an agent; returns how many. */
  send(agentId: number, frame: object | string): number {
    const set = this.#byAgent.get(agentId);
    if (!set) return 0;
    const text = typeof frame === 'string' ? frame : JSON.stringify(applyDialect(frame, this.#dialect));
    let count = 0;
    for (const client of set) {
      if (client.ws.readyState !== client.ws.OPEN) continue;
      client.ws.send(text);
      count += 1;
    }
    return count;
  }
}
