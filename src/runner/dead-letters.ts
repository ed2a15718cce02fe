/**
 * The dead-letter file: events whose handler failed for good, one JSON line each, in
 * `.c4c/dead-letters.jsonl` of the project. A failed message is acknowledged (its conversation must
 * go on), so this file is what is left of it; `c4c-runner replay` runs the events in it again and
 * removes the ones that succeed.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { C4cError } from '../errors.js';
import type { ServerFrame } from '../protocol/frames.js';
import type { HandlerFailure } from './retry.js';

/** One line of the dead-letter file. */
export interface DeadLetter {
  /** This entry's id (`replay --id`). */
  readonly id: string;
  /** When the event failed for good (RFC 3339). */
  readonly at: string;
  /** The event's name (`message`, `service-invoked`, …). */
  readonly event: string;
  /** The handler file that failed (relative label). */
  readonly file: string;
  /** Attempts made. */
  readonly attempts: number;
  /** The last error, as text (no stack: the log has it). */
  readonly error: { readonly name: string; readonly message: string; readonly code?: string };
  /** The frame as it arrived, to run again. */
  readonly frame: ServerFrame;
}

/** The dead-letter file of a project: `<root>/.c4c/dead-letters.jsonl`. */
export function deadLetterPath(root: string): string {
  return join(root, '.c4c', 'dead-letters.jsonl');
}

/** Appends to, reads and rewrites one dead-letter file; writes go one at a time, in order. */
export class DeadLetters {
  readonly path: string;
  #writes: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** Appends a failed event; resolves once it is on disk. */
  add(failure: HandlerFailure): Promise<DeadLetter> {
    const error = failure.error;
    const entry: DeadLetter = {
      id: randomUUID(),
      at: new Date().toISOString(),
      event: failure.routed.name,
      file: failure.file,
      attempts: failure.attempts,
      error: {
        name: error instanceof Error ? error.name : typeof error,
        message: error instanceof Error ? error.message : String(error),
        ...(typeof (error as { code?: unknown } | null)?.code === 'string'
          ? { code: (error as { code: string }).code }
          : {}),
      },
      frame: failure.routed.event,
    };
    return this.#serial(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      await appendFile(this.path, `${JSON.stringify(entry)}\n`);
    }).then(() => entry);
  }

  /** Every entry, oldest first; `[]` when there is no file. A line that is not an entry is an error naming it. */
  async list(): Promise<DeadLetter[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries: DeadLetter[] = [];
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        entry = undefined;
      }
      const e = entry as Partial<DeadLetter> | undefined;
      if (!e || typeof e.id !== 'string' || typeof e.frame !== 'object' || e.frame === null) {
        throw new C4cError(
          'E_CONFIG',
          `${this.path}:${index + 1} is not a dead letter (a JSON object with "id" and "frame"); fix or delete that line`,
        );
      }
      entries.push(e as DeadLetter);
    });
    return entries;
  }

  /** Removes the entries with these ids (rewrites the file through a temp file, so a crash leaves one or the other). */
  remove(ids: ReadonlySet<string>): Promise<void> {
    return this.#serial(async () => {
      const kept = (await this.list()).filter((e) => !ids.has(e.id));
      const temp = `${this.path}.${process.pid}.tmp`;
      await writeFile(temp, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
      await rename(temp, this.path);
    });
  }

  /** Resolves when every write so far is on disk. */
  flush(): Promise<void> {
    return this.#writes;
  }

  #serial(step: () => Promise<void>): Promise<void> {
    const next = this.#writes.then(step);
    this.#writes = next.catch(() => {});
    return next;
  }
}
