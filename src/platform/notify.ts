/**
 * Notifications: built from the event definitions of src/protocol/events.ts and pushed to the
 * agent they concern. An agent that is not connected misses them (as on the real platform, as far
 * as is known); what it must act on can be read back through REST.
 */
import type { EventEmitter } from 'node:events';
import { newMessageId, rfc3339, type NotificationFrame } from '../protocol/frames.js';
import { wireNotification, type NotificationEventName, type NotificationOf } from '../protocol/events.js';
import type { PlatformEvents } from './events.js';
import type { Hub } from './hub.js';

export type Notify = <N extends NotificationEventName>(
  agentId: number,
  name: N,
  data: NotificationOf<N>['data'],
) => NotificationFrame;

export function createNotifier(hub: Hub, events: EventEmitter<PlatformEvents>): Notify {
  return (agentId, name, data) => {
    const frame: NotificationFrame = {
      type: 'notification',
      ...wireNotification(name),
      messageId: newMessageId(),
      timestamp: rfc3339(),
      data: data,
    };
    const delivered = hub.send(agentId, frame);
    events.emit('notification', { agentId, frame, delivered });
    return frame;
  };
}
