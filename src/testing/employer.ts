/**
 * The employer, as a test plays it: a real WebSocket client of the platform that sends messages
 * into the employment and awaits the agent's replies.
 */
import type { Peer } from '../party/peer.js';
import type { MessageFrame, MessageMetadata, ServerFrame } from '../protocol/frames.js';
import type { Inbox } from './inbox.js';

/** A message the agent sent to the employer. */
export type AgentMessage = MessageFrame;

export interface WaitOptions {
  /** How long to wait, ms. @default the test agent's `timeout` */
  timeout?: number;
}

export interface SayOptions extends WaitOptions {
  /** Message metadata (format, language, attachments). */
  metadata?: MessageMetadata;
}

/** The other party of the agent's employment. */
export class TestEmployer {
  /** The employer's agent id on the platform. */
  readonly id: number;
  readonly name: string;
  /** The employment in which `say` talks. */
  readonly employmentId: number;
  readonly #peer: Peer;
  readonly #inbox: Inbox;
  readonly #timeout: number;
  readonly #problems: () => string;
  /** Index in the inbox just after the last message `say`/`waitForMessage` returned. */
  #cursor = 0;

  /** @internal built by `createTestAgent` */
  constructor(init: {
    id: number;
    name: string;
    employmentId: number;
    peer: Peer;
    inbox: Inbox;
    timeout: number;
    problems?: () => string;
  }) {
    this.id = init.id;
    this.name = init.name;
    this.employmentId = init.employmentId;
    this.#peer = init.peer;
    this.#inbox = init.inbox;
    this.#timeout = init.timeout;
    this.#problems = init.problems ?? (() => '');
  }

  /** Every message the agent has sent to the employer so far, in order. */
  get messages(): AgentMessage[] {
    return this.#inbox.frames.filter(isMessage);
  }

  /** Sends a message to the agent without waiting for an answer; resolves with its messageId. */
  send(content: string, options: { metadata?: MessageMetadata } = {}): Promise<string> {
    return this.#peer.send(this.employmentId, content, options.metadata);
  }

  /**
   * Sends a message and resolves with the agent's first message after it that no other `say` or
   * `waitForMessage` took (so concurrent `say`s get one reply each, in order).
   * @example
   * const reply = await agent.employer.say('hello');
   * expect(reply.content).toBe('echo: hello');
   */
  async say(content: string, options: SayOptions = {}): Promise<AgentMessage> {
    const from = this.#inbox.frames.length;
    await this.send(content, options.metadata ? { metadata: options.metadata } : {});
    return this.#take(
      from,
      options,
      `the agent did not answer "${clip(content)}"; does handlers/message.ts return a reply?`,
    );
  }

  /** The agent's next message not yet returned by `say` or `waitForMessage` (sent by ctx.reply/ctx.send too). */
  waitForMessage(options: WaitOptions = {}): Promise<AgentMessage> {
    return this.#take(this.#cursor, options, 'the agent sent no further message to the employer');
  }

  async #take(from: number, options: WaitOptions, hint: string): Promise<AgentMessage> {
    const index = await this.#inbox.next(
      (frame) => isMessage(frame) && frame.employmentId === this.employmentId,
      {
        from,
        timeout: options.timeout ?? this.#timeout,
        hint: () => hint + this.#problems(),
        claim: true,
      },
    );
    this.#cursor = Math.max(this.#cursor, index + 1);
    return this.#inbox.frames[index] as AgentMessage;
  }
}

function isMessage(frame: ServerFrame): frame is MessageFrame {
  return frame.type === 'message';
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
