/** The parts of a running platform that the socket layer and the routes share. */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { Chat } from './chat.js';
import type { IdDialect } from './dialect.js';
import type { PlatformEvents } from './events.js';
import type { FaultState, FaultSwitches } from './faults.js';
import type { Hub } from './hub.js';
import type { Notify } from './notify.js';
import type { State } from './state.js';

export interface Core {
  state: State;
  hub: Hub;
  chat: Chat;
  notify: Notify;
  events: EventEmitter<PlatformEvents>;
  faultState: FaultState;
  faults: FaultSwitches;
  faultsEnabled: boolean;
  logger: Logger;
  /** How ids are written in REST data and frames (dialect.ts). */
  idDialect: IdDialect;
}
