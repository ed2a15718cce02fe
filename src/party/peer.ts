/**
 * A small client for "the other party": the employer who chats with an agent, the publisher who
 * accepts its application, the caller who invokes its service. `c4c-runner chat`, `emit`, the test
 * kit and the benchmarks use it. It speaks the same protocol as any client of the real platform.
 */
import WebSocket from 'ws';
import { C4cError } from '../errors.js';
import {
  decodeServerFrame,
  newMessageId,
  rfc3339,
  type MessageMetadata,
  type ServerFrame,
} from '../protocol/frames.js';
import type { Id } from '../protocol/ids.js';
import { wsUrlFor } from '../protocol/rest.js';
import { PartyClient, type PartyOptions } from './client.js';

/** Where a peer connects, and as whom. */
export type PeerOptions = PartyOptions;

type Waiter = { match: (frame: ServerFrame) => boolean; resolve: (frame: ServerFrame) => void };

/** One WebSocket connection as a party of the platform, with awaitable frames. */
export class Peer {
  readonly options: PeerOptions;
  /** REST as this party, typed. */
  readonly api: PartyClient;
  #socket: WebSocket | undefined;
  #waiters = new Set<Waiter>();
  #listeners = new Set<(frame: ServerFrame) => void>();
  #closed: Promise<void> | undefined;

  constructor(options: PeerOptions) {
    this.options = options;
    this.api = new PartyClient(options);
  }

  /** Opens the socket; rejects with `E_AUTH` on 401 and `E_NETWORK` when the platform is not there. */
  connect(): Promise<void> {
    const url = new URL(wsUrlFor(this.options.url));
    url.searchParams.set('api_key', this.options.token);
    const socket = new WebSocket(url, {
      headers: { 'X-API-Key': this.options.token },
      perMessageDeflate: false,
    });
    this.#socket = socket;
    socket.on('message', (data) => {
      const decoded = decodeServerFrame(data as Buffer);
      if (!decoded.ok) return;
      const frame = decoded.frame;
      if (frame.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong', timestamp: frame.timestamp ?? rfc3339() }));
        return;
      }
      for (const listener of this.#listeners) listener(frame);
      for (const waiter of this.#waiters) {
        if (waiter.match(frame)) {
          this.#waiters.delete(waiter);
          waiter.resolve(frame);
        }
      }
    });
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        resolve();
      });
      socket.once('unexpected-response', (_request, response) => {
        socket.terminate();
        reject(
          response.statusCode === 401
            ? new C4cError(
                'E_AUTH',
                `authentication failed: invalid API key for ${this.options.url}; check the token`,
              )
            : new C4cError(
                'E_PLATFORM',
                `the platform at ${this.options.url} refused the WebSocket with HTTP ${response.statusCode}`,
              ),
        );
      });
      socket.once('error', (error) =>
        reject(
          new C4cError('E_NETWORK', `could not connect to ${this.options.url}: ${error.message}`, {
            cause: error,
          }),
        ),
      );
    });
  }

  /** Every frame as it arrives. Returns an unsubscribe function. */
  onFrame(listener: (frame: ServerFrame) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sends a chat message into an employment; resolves with its messageId once written. */
  send(employmentId: Id, content: string, metadata?: MessageMetadata): Promise<string> {
    const messageId = newMessageId();
    const frame = {
      type: 'message',
      employmentId,
      messageId,
      timestamp: rfc3339(),
      content,
      ...(metadata ? { metadata } : {}),
    };
    return this.sendFrame(frame).then(() => messageId);
  }

  /** Writes any frame; resolves when the socket has taken it. */
  sendFrame(frame: object): Promise<void> {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new C4cError('E_CLOSED', 'not connected: call connect() first'));
    }
    return new Promise((resolve, reject) =>
      socket.send(JSON.stringify(frame), (error) => (error ? reject(error) : resolve())),
    );
  }

  /** The next frame that matches, or a clear `E_NETWORK` error after `timeout` ms. */
  waitFor<T extends ServerFrame = ServerFrame>(
    match: (frame: ServerFrame) => boolean,
    { timeout = 30_000, what = 'a frame' }: { timeout?: number; what?: string } = {},
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame as T);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new C4cError('E_NETWORK', `no ${what} within ${timeout} ms`));
      }, timeout);
      timer.unref?.();
      this.#waiters.add(waiter);
    });
  }

  /** Closes the socket; safe to call twice. */
  async close(): Promise<void> {
    const socket = this.#socket;
    if (!socket) return;
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else if (socket.readyState === WebSocket.OPEN) socket.close(1000);
    await this.#closed;
  }
}
