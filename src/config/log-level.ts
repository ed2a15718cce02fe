/**
 * The log level, from wherever it is given: `--log-level` (the CLI puts it into `C4C_LOG_LEVEL`),
 * the `C4C_LOG_LEVEL` environment variable, the config's `logLevel`. A bad value is one sentence.
 */
import { C4cError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from './schema.js';

/** `value` as a log level, or an `E_CONFIG` error naming where it came from (`C4C_LOG_LEVEL`). */
export function parseLogLevel(value: string, source: string): LogLevel {
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new C4cError(
    'E_CONFIG',
    `${source} must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`,
  );
}

/** The level `C4C_LOG_LEVEL` asks for (set directly, or by `--log-level`), or `undefined` when unset. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel | undefined {
  const value = env.C4C_LOG_LEVEL;
  return value === undefined || value.trim() === '' ? undefined : parseLogLevel(value, 'C4C_LOG_LEVEL');
}
