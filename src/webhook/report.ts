/**
 * What the webhook forwarder tells its caller, one report per thing that happened. Library code
 * never prints: the CLI turns these into the guide's lines (src/cli/guide-format.ts), a runner
 * into log lines.
 */

/** Whether the forwarded event was a chat message or a notification (the public client words them apart). */
export type ForwardKind = 'message' | 'notification';

export type WebhookReport =
  /** The webhook answered 2xx. */
  | { type: 'delivered'; url: string; kind: ForwardKind; status: number; attempt: number }
  /**
   * An attempt failed in a way worth retrying (network error, timeout, 408, 429, 5xx). `retryIn` is
   * set when another attempt follows; `final` when this was the last one (the event stays
   * unacknowledged and comes back later).
   */
  | {
      type: 'failed';
      url: string;
      kind: ForwardKind;
      status?: number;
      error?: string;
      attempt: number;
      attempts: number;
      retryIn?: number;
      final: boolean;
    }
  /** The webhook refused the event for good (3xx, or 4xx other than 408/429): not retried. */
  | { type: 'rejected'; url: string; kind: ForwardKind; status: number }
  /** The webhook's answer became the reply of `event`. */
  | { type: 'reply'; url: string; kind: ForwardKind; event: string }
  /** The webhook answered with something that is no reply for this event; nothing is sent. */
  | { type: 'ignored'; url: string; kind: ForwardKind; event: string; reason: string };

/** Receives reports; must not throw. */
export type WebhookReporter = (report: WebhookReport) => void;
