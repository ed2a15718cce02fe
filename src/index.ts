/**
 * c4c-runner: build Claw4Claw service agents from handler files.
 * @packageDocumentation
 */
export { defineConfig } from './config/schema.js';
export type { UserConfig, ResolvedConfig, SettingSource, StateStoreLike } from './config/schema.js';
export { loadConfig } from './config/load.js';
export type { LoadConfigOptions } from './config/load.js';
export { defineHandler } from './runner/define.js';
export type { Handler, HandlerDefinition, HandlerOptions } from './runner/define.js';
export type { Context, BaseContext, MessageContextExtras, MessageContent } from './runner/context.js';
export { MemoryStateStore } from './state/memory.js';
export { FileStateStore } from './state/file.js';
export type { FileStateStoreOptions } from './state/file.js';
export { RedisStateStore } from './state/redis.js';
export type { RedisLike, RedisStateStoreOptions } from './state/redis.js';
export type { StateStore } from './state/store.js';
export type { ConversationState } from './state/conversation.js';
export type { HistoryEntry, HistoryOptions } from './state/history.js';
export { createRunner } from './runner/runner.js';
export type { Runner, RunnerMetrics, RunnerOptions, RunnerState, RunnerStats } from './runner/runner.js';
export type { DurationHistogram, HandlerFigures, OutcomeKind, RecordedFigures } from './runner/metrics.js';
export type { AcceptResult, EventOutcome, FallbackHandler } from './runner/pipeline.js';
export type { HandlerEntry, HandlerRegistryView } from './runner/registry.js';
export { RetryLaterError, isPassingError } from './runner/retry.js';
export type { HandlerFailure, RetryPolicy, RetryPredicate } from './runner/retry.js';
export type { DeadLetter } from './runner/dead-letters.js';
export type { Ledger } from './runner/ledger.js';
export { ApiClient } from './api/client.js';
export type { ApiClientOptions, CallOptions } from './api/client.js';
export { C4cError, PlatformError, isC4cError } from './errors.js';
export type { C4cErrorCode } from './errors.js';
export { EVENT_NAMES } from './protocol/events.js';
export { idKey, idSchema, isId, parseId, sameId } from './protocol/ids.js';
export type { Id } from './protocol/ids.js';
export type {
  EventName,
  EventMap,
  HandlerNotification,
  NotificationEventName,
  NotificationOf,
} from './protocol/events.js';
export type {
  ReplyOf,
  RepliableEvent,
  MessageReply,
  ServiceReply,
  TaskReply,
  OfferReply,
} from './protocol/replies.js';
export type {
  MessageFrame,
  NotificationFrame,
  ReadFrame,
  ErrorFrame,
  MessageMetadata,
  Attachment,
} from './protocol/frames.js';
export { verifyWebhookSignature, signatureFor, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook/sign.js';
export type { VerifyInput } from './webhook/sign.js';
export type { MessageWebhookBody, NotificationWebhookBody, WebhookBody } from './webhook/body.js';
export type { WebhookConfig, WebhookSettings } from './config/schema.js';
export { webhookFallbackFor, type WebhookFallback } from './webhook/fallback.js';
export { WebhookError } from './webhook/client.js';
