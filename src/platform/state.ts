/**
 * The platform's state: plain records in maps, with one counter per kind of id. Everything the
 * platform knows lives here, so a snapshot of this object is a complete save.
 */
import type { EmploymentStatus, InvocationStatus, TaskStatus } from '../protocol/rest.js';

/** An agent and its token. */
export interface AgentRecord {
  id: number;
  name: string;
  token: string;
  category: string | null;
  description: string | null;
  /** `online`, `offline` or `busy` once the agent set it; until then, derived from its sockets. */
  status: string;
  createdAt: string;
  // Profile fields of the public client (register, update, publish); absent in older saves.
  capabilities?: string[];
  preferences?: Record<string, unknown>;
  marketVisibility?: 'public' | 'private';
  marketPublishedAt?: string | null;
  lastActiveAt?: string;
}

/** A note sent with `c4c feedback`. */
export interface FeedbackRecord {
  id: number;
  agentId: number;
  content: string;
  createdAt: string;
}

export interface EmploymentRecord {
  id: number;
  employerAgentId: number;
  employeeAgentId: number;
  /** Decimal string, as the platform answers amounts. */
  salary: string;
  /** As the employer wrote it: the public client sends text ("1 month"); older saves hold hours. */
  duration: number | string | null;
  stakedAmount: string;
  status: EmploymentStatus;
  startTime: string | null;
  endTime: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A chat message; `id` is the platform's sequence number, `messageId` the sender's `msg_…`. */
export interface MessageRecord {
  id: number;
  employmentId: number;
  senderAgentId: number;
  receiverAgentId: number;
  type: string;
  content: string;
  messageId: string;
  metadata: Record<string, unknown> | null;
  readAt: string | null;
  createdAt: string;
}

export interface TaskRecord {
  id: number;
  title: string;
  description: string;
  category: string;
  bounty: string;
  deadline: string | null;
  status: TaskStatus;
  publisherAgentId: number;
  workerAgentId: number | null;
  stakedAmount: string;
  rating: number | null;
  review: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
}

/** A task as it is published: open, staked for its bounty, no worker yet. */
export function openTask(
  fields: Pick<
    TaskRecord,
    'id' | 'title' | 'description' | 'category' | 'bounty' | 'deadline' | 'publisherAgentId'
  >,
  now: string,
): TaskRecord {
  return {
    ...fields,
    status: 'open',
    workerAgentId: null,
    stakedAmount: fields.bounty,
    rating: null,
    review: null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    completedAt: null,
    cancelledAt: null,
  };
}

export type ApplicationStatus = 'pending' | 'accepted' | 'rejected' | 'submitted' | 'completed' | 'cancelled';

export interface ApplicationRecord {
  id: number;
  taskId: number;
  agentId: number;
  message: string | null;
  estimatedDuration: number | string | null;
  status: ApplicationStatus;
  createdAt: string;
  updatedAt: string;
}

export interface SubmissionRecord {
  id: number;
  taskId: number;
  applicationId: number;
  agentId: number;
  content: string;
  attachments: string[];
  notes: string | null;
  submittedAt: string;
}

export interface ServiceRecord {
  id: number;
  providerAgentId: number;
  title: string;
  description: string;
  category: string;
  price: string;
  avgResponseMs: number | null;
  inputSchema: Record<string, unknown> | null;
  outputSchema: Record<string, unknown> | null;
  status: string;
  createdAt: string;
}

export interface InvocationRecord {
  id: number;
  serviceId: number;
  callerAgentId: number;
  providerAgentId: number;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  attachments: string[];
  error: string | null;
  status: InvocationStatus;
  price: string;
  idempotencyKey: string | null;
  rating: number | null;
  review: string | null;
  createdAt: string;
  completedAt: string | null;
}

const KINDS = [
  'agents',
  'employments',
  'messages',
  'tasks',
  'applications',
  'submissions',
  'services',
  'invocations',
  'feedbacks',
] as const;
type Kind = (typeof KINDS)[number];

/** What `--data` writes and reads back: every record, as JSON. */
export interface Snapshot {
  version: 1;
  agents: AgentRecord[];
  employments: EmploymentRecord[];
  messages: MessageRecord[];
  tasks: TaskRecord[];
  applications: ApplicationRecord[];
  submissions: SubmissionRecord[];
  services: ServiceRecord[];
  invocations: InvocationRecord[];
  feedbacks: FeedbackRecord[];
}

/** The records, by id. Mutations go through the owner of each flow, which then calls `changed()`. */
export class State {
  readonly agents = new Map<number, AgentRecord>();
  readonly employments = new Map<number, EmploymentRecord>();
  readonly messages = new Map<number, MessageRecord>();
  readonly tasks = new Map<number, TaskRecord>();
  readonly applications = new Map<number, ApplicationRecord>();
  readonly submissions = new Map<number, SubmissionRecord>();
  readonly services = new Map<number, ServiceRecord>();
  readonly invocations = new Map<number, InvocationRecord>();
  readonly feedbacks = new Map<number, FeedbackRecord>();
  readonly #byToken = new Map<string, AgentRecord>();
  /**
   * Messages per employment in id order, and by `employmentId` + `messageId`: the chat's dedupe and
   * read receipts stay O(1) per message as history grows (a scan of every message capped the
   * platform near 2,000 messages/s after a few seconds of load; see docs/benchmarks.md).
   */
  readonly #messagesByEmployment = new Map<number, MessageRecord[]>();
  readonly #messagesByKey = new Map<string, MessageRecord>();
  readonly #counters: Record<Kind, number> = {
    agents: 0,
    employments: 0,
    messages: 0,
    tasks: 0,
    applications: 0,
    submissions: 0,
    services: 0,
    invocations: 0,
    feedbacks: 0,
  };
  readonly #listeners = new Set<() => void>();
  #version = 0;

  /**
   * Goes up on every change (`put`, `changed`): what is computed from the records (a filtered
   * listing) can be kept while it stays the same. Every mutation already calls `changed()` so that
   * it is saved; a mutation that did not would be lost from saves and seen stale here alike.
   */
  get version(): number {
    return this.#version;
  }

  /** The next free id of a kind (one more than the largest ever used). */
  nextId(kind: Kind): number {
    this.#counters[kind] += 1;
    return this.#counters[kind];
  }

  /** Adds (or replaces) a record and keeps the id counter above it. */
  put<K extends Kind>(kind: K, record: Snapshot[K][number]): void {
    this.#version++;
    (this[kind] as Map<number, Snapshot[K][number]>).set(record.id, record);
    if (record.id > this.#counters[kind]) this.#counters[kind] = record.id;
    if (kind === 'agents') this.#byToken.set((record as AgentRecord).token, record as AgentRecord);
    if (kind === 'messages') this.#indexMessage(record as MessageRecord);
  }

  /** The messages of an employment, oldest first. Read-only: records change through their owner. */
  messagesOf(employmentId: number): readonly MessageRecord[] {
    return this.#messagesByEmployment.get(employmentId) ?? [];
  }

  /** The message a sender called `messageId` in an employment, if any. */
  messageByMessageId(employmentId: number, messageId: string): MessageRecord | undefined {
    return this.#messagesByKey.get(`${employmentId}\u0000${messageId}`);
  }

  #indexMessage(record: MessageRecord): void {
    let list = this.#messagesByEmployment.get(record.employmentId);
    if (!list) this.#messagesByEmployment.set(record.employmentId, (list = []));
    // Appending keeps id order (ids only grow); a replaced or out-of-order record is placed by id.
    const last = list[list.length - 1];
    if (!last || last.id < record.id) list.push(record);
    else {
      const at = list.findIndex((m) => m.id >= record.id);
      list.splice(at, list[at]!.id === record.id ? 1 : 0, record);
    }
    this.#messagesByKey.set(`${record.employmentId}\u0000${record.messageId}`, record);
  }

  agentByToken(token: string): AgentRecord | undefined {
    return this.#byToken.get(token);
  }

  /** Tells the persistence layer that something changed. */
  changed(): void {
    this.#version++;
    for (const listener of this.#listeners) listener();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): Snapshot {
    return {
      version: 1,
      agents: [...this.agents.values()],
      employments: [...this.employments.values()],
      messages: [...this.messages.values()],
      tasks: [...this.tasks.values()],
      applications: [...this.applications.values()],
      submissions: [...this.submissions.values()],
      services: [...this.services.values()],
      invocations: [...this.invocations.values()],
      feedbacks: [...this.feedbacks.values()],
    };
  }

  static fromSnapshot(snapshot: Snapshot): State {
    const state = new State();
    for (const kind of KINDS) for (const record of snapshot[kind] ?? []) state.put(kind, record);
    return state;
  }
}
