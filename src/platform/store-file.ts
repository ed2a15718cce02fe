/**
 * `--data <file>`: the state kept across restarts. Writes are debounced (a burst of messages is
 * one write) and atomic (a temp file renamed over the old one), so a crash leaves either the old
 * save or the new one, never half of one.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { C4cError } from '../errors.js';
import type { Snapshot } from './state.js';

const snapshotSchema = z.looseObject({
  version: z.literal(1),
  agents: z.array(z.looseObject({ id: z.number(), token: z.string() })),
  employments: z.array(z.looseObject({ id: z.number() })),
  messages: z.array(z.looseObject({ id: z.number() })),
  tasks: z.array(z.looseObject({ id: z.number() })).default([]),
  applications: z.array(z.looseObject({ id: z.number() })).default([]),
  submissions: z.array(z.looseObject({ id: z.number() })).default([]),
  services: z.array(z.looseObject({ id: z.number() })).default([]),
  invocations: z.array(z.looseObject({ id: z.number() })).default([]),
  feedbacks: z.array(z.looseObject({ id: z.number() })).default([]),
});

/** Reads a saved state, or `undefined` when the file does not exist yet. */
export async function readSnapshot(file: string): Promise<Snapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new C4cError('E_CONFIG', `${file}: cannot read the data file (${(error as Error).message})`, {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new C4cError(
      'E_CONFIG',
      `${file}: the data file is not valid JSON (${(error as Error).message}); move it away to start fresh`,
      {
        cause: error,
      },
    );
  }
  const parsed = snapshotSchema.safeParse(raw);
  if (!parsed.success) {
    throw new C4cError(
      'E_CONFIG',
      `${file}: not a c4c-runner platform data file (${z.prettifyError(parsed.error)}); move it away to start fresh`,
    );
  }
  return parsed.data as unknown as Snapshot;
}

/** Saves snapshots to one file, debounced. */
export class FileStore {
  readonly #file: string;
  readonly #snapshot: () => Snapshot;
  readonly #onError: (error: unknown) => void;
  readonly #delay: number;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  #serial = 0;

  /**
   * @param file where the state goes
   * @param snapshot reads the current state when a write happens
   * @param delay debounce, in ms. @default 50
   * @param onError where write failures go (the platform logs them; it never crashes on them)
   */
  constructor(file: string, snapshot: () => Snapshot, onError: (error: unknown) => void, delay = 50) {
    this.#file = file;
    this.#snapshot = snapshot;
    this.#onError = onError;
    this.#delay = delay;
  }

  /** Asks for a write soon; many calls within the delay make one write. */
  schedule(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#write();
    }, this.#delay);
    this.#timer.unref();
  }

  /** Writes now (if anything is scheduled, or always when `force`) and waits for it. */
  async flush(force = false): Promise<void> {
    if (this.#timer || force) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#write();
    }
    await this.#writing;
  }

  /** Flushes what is pending, then refuses further writes. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return this.#writing;
    await this.flush();
    this.#closed = true;
  }

  #write(): Promise<void> {
    let json: string;
    try {
      json = `${JSON.stringify(this.#snapshot())}\n`;
    } catch (error) {
      // A state that cannot be written (it should not happen: chat bounds what it stores) is logged, never a crash.
      this.#onError(error);
      return this.#writing;
    }
    const temp = `${this.#file}.${process.pid}.${++this.#serial}.tmp`;
    this.#writing = this.#writing.then(async () => {
      try {
        await mkdir(dirname(this.#file), { recursive: true });
        // The state holds every agent's token: readable by its owner only (the rename keeps the mode).
        await writeFile(temp, json, { encoding: 'utf8', mode: 0o600 });
        await rename(temp, this.#file);
      } catch (error) {
        this.#onError(error);
      }
    });
    return this.#writing;
  }
}
