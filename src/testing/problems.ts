/**
 * The kit's logger: silent for a passing test, but the runner's warnings and errors are kept, so
 * that a wait that runs out can say why ("handlers/message.ts threw …") instead of only "timed out".
 */
import { createLogger, type Logger } from '../log.js';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: Infinity } as const;
export type LogLevel = keyof typeof LEVELS;

export interface ProblemLog {
  logger: Logger;
  /** The last few warning and error lines, newest last, as one readable paragraph ('' when none). */
  describe(): string;
}

/** @param echo print lines at or above this level to stderr (`silent`: print nothing) */
export function problemLog(echo: LogLevel, keep = 5): ProblemLog {
  const kept: string[] = [];
  const destination = {
    write(line: string) {
      let record: { level?: number; msg?: string } = {};
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        // not JSON: keep nothing, print as is below
      }
      const level = record.level ?? 0;
      if (level >= LEVELS.warn && record.msg) {
        kept.push(record.msg);
        if (kept.length > keep) kept.shift();
      }
      if (level >= LEVELS[echo]) process.stderr.write(line);
    },
  };
  const level = LEVELS[echo] < LEVELS.warn ? echo : 'warn';
  return {
    logger: createLogger({ level, destination }),
    describe: () => (kept.length ? `; the runner logged: ${kept.join(' | ')}` : ''),
  };
}
