/**
 * Logging: pino everywhere. JSON lines in production; `dev` passes a pretty stream. Every string
 * that reaches a log line goes through the redactor, so a token inside an error message or a URL
 * is censored as surely as one in a `headers` object.
 */
import { createRequire } from 'node:module';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { REDACT_PATHS, REDACTED, redactText } from './redact.js';

// pino's CommonJS entry, required as ws and jiti are: imported, Node would first run its CommonJS
// lexer over pino.js to find named exports (~3 ms of every start; docs/benchmarks.md, section 6).
const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');

export type { Logger } from 'pino';

export interface LoggerSettings {
  /** @default 'info' */
  level?: LoggerOptions['level'];
  /** Where lines go. @default stdout (pino's default) */
  destination?: DestinationStream;
  /** Known secrets (the configured token) to censor wherever they appear. */
  secrets?: readonly string[];
  /** Base bindings, e.g. `{ name: 'runner' }`. */
  base?: Record<string, unknown>;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const secrets = settings.secrets ?? [];
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: settings.base ?? null,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? redactText(arg, secrets) : arg)) as Parameters<
            typeof method
          >,
        );
      },
    },
    formatters: {
      log(object) {
        return redactDeep(object, secrets) as Record<string, unknown>;
      },
    },
    serializers: {
      err: (error: unknown) => serializeError(error, secrets),
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/** A logger that drops everything, for library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

function serializeError(error: unknown, secrets: readonly string[]): unknown {
  if (!(error instanceof Error)) return redactDeep(error, secrets);
  const out: Record<string, unknown> = {
    type: error.name,
    message: redactText(error.message, secrets),
    stack: error.stack ? redactText(error.stack, secrets) : undefined,
  };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  const details = (error as { details?: unknown }).details;
  if (details !== undefined) out.details = redactDeep(details, secrets);
  if (error.cause !== undefined) out.cause = serializeError(error.cause, secrets);
  return out;
}

function redactDeep(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return serializeError(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = /^(token|api_?token|x-api-key|api_key|authorization)$/i.test(key)
      ? REDACTED
      : redactDeep(item, secrets, depth + 1);
  }
  return out;
}
