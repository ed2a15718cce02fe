/** What the platform tells in-process observers (tests, `dev`): typed events on `platform.on(…)`. */
import type { ClientFrame, NotificationFrame } from '../protocol/frames.js';
import type { MessageRecord } from './state.js';

export interface PlatformEvents {
  /** An agent's socket opened (after auth). */
  connection: [{ agentId: number; connectionId: number }];
  /** An agent's socket closed, for whatever reason (close frame, terminate, heartbeat, fault). */
  disconnect: [{ agentId: number; connectionId: number; code: number; reason: string }];
  /** A message was stored (from a socket, `sendMessage` or `POST /dev/messages`). */
  message: [MessageRecord];
  /** Messages were marked read, by a `read` frame or the REST call. */
  read: [{ employmentId: number; readerAgentId: number; lastReadMessageId: string; unreadCount: number }];
  /** A notification was built; `delivered` is the number of sockets it reached (0 = agent offline). */
  notification: [{ agentId: number; frame: NotificationFrame; delivered: number }];
  /** A valid frame arrived from an agent. */
  frame: [{ agentId: number; frame: ClientFrame }];
  /** A frame from an agent was refused with an error frame. */
  rejected: [{ agentId: number; code: string; message: string }];
  /** An HTTP 401 at the upgrade. */
  unauthorized: [{ via: 'header' | 'query' | 'none' }];
}
