/**
 * The file store: the default in `start`. One JSON file per key under a folder (`.c4c/state/` of
 * the project), written behind: `set` returns at once and the changes of the next `delay` ms are
 * written together, each atomically (a temp file renamed over the old one), so a crash leaves the
 * old state or the new one, never half of either. Nothing touches the disk until a key is used.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { C4cError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StateStore } from './store.js';

/** Settings of a {@link FileStateStore}. */
export interface FileStateStoreOptions {
  /** The folder, absolute; created on the first write. */
  dir: string;
  /** How long changes wait to be written together, ms. @default 50 */
  delay?: number;
  /** Where a failed background write is reported (it is retried on the next write or flush). */
  logger?: Logger;
}

let tempCounter = 0;

/** A {@link StateStore} of JSON files, written behind in batches. */
export class FileStateStore implements StateStore {
  readonly dir: string;
  readonly #delay: number;
  readonly #logger: Logger | undefined;
  /** Changes not yet written: JSON text, or `null` for a delete. */
  readonly #pending = new Map<string, string | null>();
  /** The batch being written: read from here until its files are renamed into place. */
  #writingBatch = new Map<string, string | null>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #madeDir = false;
  #closed = false;

  constructor(options: FileStateStoreOptions) {
    this.dir = options.dir;
    this.#delay = options.delay ?? 50;
    if (!(Number.isInteger(this.#delay) && this.#delay >= 0))
      throw new C4cError(
        'E_CONFIG',
        `state store delay must be a whole number of ms >= 0, got ${String(options.delay)}`,
      );
    this.#logger = options.logger;
  }

  async get(key: string): Promise<string | undefined> {
    if (this.#pending.has(key)) return this.#pending.get(key) ?? undefined;
    if (this.#writingBatch.has(key)) return this.#writingBatch.get(key) ?? undefined;
    try {
      return await readFile(this.#file(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new C4cError(
        'E_STATE',
        `could not read state "${key}" from ${this.dir}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  set(key: string, json: string): Promise<void> {
    this.#change(key, json);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.#change(key, null);
    return Promise.resolve();
  }

  /** Writes every pending change now; rejects if one could not be written (it stays pending). */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    // One batch at a time: a key's older value never lands after its newer one.
    const run = this.#writing.then(() => this.#writeBatch());
    this.#writing = run.catch(() => {});
    return run;
  }

  /** Flushes and stops taking changes. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return this.#writing;
    this.#closed = true;
    await this.flush();
  }

  #change(key: string, value: string | null): void {
    if (this.#closed)
      throw new C4cError(
        'E_CLOSED',
        `the state store of ${this.dir} is closed; state "${key}" was not saved`,
      );
    this.#pending.set(key, value);
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((error: unknown) =>
        this.#logger?.error({ err: error }, `${(error as Error).message}; retrying with the next change`),
      );
    }, this.#delay);
    this.#timer.unref();
  }

  async #writeBatch(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending];
    this.#writingBatch = new Map(this.#pending);
    this.#pending.clear();
    const failed: [string, string | null][] = [];
    let firstError: unknown;
    try {
      if (!this.#madeDir) await mkdir(this.dir, { recursive: true });
      this.#madeDir = true;
    } catch (error) {
      failed.push(...batch);
      firstError = error;
    }
    if (firstError === undefined)
      await Promise.all(
        batch.map(async ([key, value]) => {
          const file = this.#file(key);
          try {
            if (value === null) {
              await rm(file, { force: true });
            } else {
              const temp = `${file}.${process.pid}.${++tempCounter}.tmp`;
              await writeFile(temp, value);
              await rename(temp, file).catch(async (error: unknown) => {
                await rm(temp, { force: true });
                throw error;
              });
            }
          } catch (error) {
            failed.push([key, value]);
            firstError ??= error;
          }
        }),
      );
    this.#writingBatch = new Map();
    // A key changed again while this batch was written keeps its newer value.
    for (const [key, value] of failed) if (!this.#pending.has(key)) this.#pending.set(key, value);
    if (firstError !== undefined) {
      throw new C4cError(
        'E_STATE',
        `could not write ${failed.length} state file(s) in ${this.dir}: ${(firstError as Error).message}`,
        { cause: firstError },
      );
    }
  }

  #file(key: string): string {
    // File names safe on every system: `employment:42` → `employment%3A42.json`.
    return join(
      this.dir,
      `${encodeURIComponent(key).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}.json`,
    );
  }
}
