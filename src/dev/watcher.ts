/**
 * Hot reload of handler files. chokidar watches the project; a changed handler file is loaded
 * afresh (its own local imports too) and swapped into the registry without touching the
 * connection. A file that fails to load leaves the last good version serving.
 */
import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import { basename, extname, relative, resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { C4cError } from '../errors.js';
import { isEventName, type EventName } from '../protocol/events.js';
import type { HandlerRegistry } from '../runner/registry.js';

export type ReloadEvent =
  | { kind: 'reloaded'; file: string; label: string; name: EventName; ms: number; added: boolean }
  | { kind: 'removed'; file: string; label: string; name: EventName }
  | { kind: 'failed'; file: string; label: string; error: C4cError; repeated: boolean }
  | { kind: 'config'; file: string; label: string };

export interface HandlerWatcherEvents {
  reload: [ReloadEvent];
  error: [Error];
}

export interface HandlerWatcherOptions {
  /** The project folder: every source file under it (but node_modules) may be a handler's import. */
  root: string;
  registry: HandlerRegistry;
  /** The config file, whose change restarts the runner rather than reloading a handler. */
  configFile?: string | undefined;
  /**
   * Wait for writes to settle before reloading, ms. Short: a load that overlaps a write is retried
   * rather than reported, and a save chokidar misses is caught by a second look. @default 5
   */
  settle?: number;
}

/** Size and modification time: what tells a file changed without reading it. */
async function fingerprint(file: string): Promise<string | undefined> {
  try {
    const stats = await stat(file);
    return `${stats.size}:${stats.mtimeMs}`;
  } catch {
    return undefined;
  }
}

const SOURCE = /\.(m|c)?[jt]sx?$/;
const IGNORED = /(^|[/\\])(node_modules|\.git|\.c4c|dist|coverage)([/\\]|$)/;

/**
 * Watches a project and keeps the registry in step with its handler files.
 * Emits `reload` for each outcome; the caller prints them.
 */
export class HandlerWatcher extends EventEmitter<HandlerWatcherEvents> {
  readonly #options: HandlerWatcherOptions;
  readonly #registry: HandlerRegistry;
  #watcher: FSWatcher | undefined;
  /** Last error message per file, so a file that keeps failing the same way is reported once. */
  readonly #failures = new Map<string, string>();
  /** Changes arrive in bursts (write + rename + chmod); reload a file once per burst, in order. */
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #verifiers = new Set<NodeJS.Timeout>();
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: HandlerWatcherOptions) {
    super();
    this.#options = options;
    this.#registry = options.registry;
  }

  /** Starts watching; resolves when the initial scan is done (files already there are not reloaded). */
  async start(): Promise<void> {
    const root = resolve(this.#options.root);
    const watcher = watch(root, {
      ignoreInitial: true,
      ignored: (path) => IGNORED.test(relative(root, path)),
      // Editors that save through a temp file and rename would otherwise show an unlink + add.
      atomic: true,
    });
    this.#watcher = watcher;
    watcher.on('add', (file) => this.#schedule(file, 'change'));
    watcher.on('change', (file) => this.#schedule(file, 'change'));
    watcher.on('unlink', (file) => this.#schedule(file, 'unlink'));
    watcher.on('error', (error) => this.emit('error', error as Error));
    await new Promise<void>((done) => watcher.once('ready', () => done()));
  }

  /** Resolves when every reload already triggered has finished (tests, and a clean close). */
  idle(): Promise<void> {
    return this.#chain;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of [...this.#timers.values(), ...this.#verifiers]) clearTimeout(timer);
    this.#timers.clear();
    this.#verifiers.clear();
    await this.#watcher?.close();
    await this.#chain;
  }

  #schedule(file: string, what: 'change' | 'unlink'): void {
    if (this.#closed) return;
    const absolute = resolve(file);
    clearTimeout(this.#timers.get(absolute));
    const timer = setTimeout(() => {
      this.#timers.delete(absolute);
      this.#chain = this.#chain
        .then(() => this.#handle(absolute, what))
        .catch((error: unknown) => {
          this.emit('error', error as Error);
        });
    }, this.#options.settle ?? 5);
    timer.unref();
    this.#timers.set(absolute, timer);
  }

  async #handle(file: string, what: 'change' | 'unlink'): Promise<void> {
    if (this.#closed) return;
    if (what === 'change') this.#verifyLater(file, await fingerprint(file));
    const label = this.#label(file);
    if (this.#options.configFile && file === resolve(this.#options.configFile)) {
      this.emit('reload', { kind: 'config', file, label });
      return;
    }
    if (!SOURCE.test(file)) return;
    if (this.#isHandlerFile(file)) {
      if (what === 'unlink') return this.#remove(file, label);
      return this.#reload(file, label);
    }
    // A module a handler imports (handlers/_shared.ts, lib/prompt.ts …): reload every handler, since
    // which of them import it is not known; each keeps its old version if it now fails.
    for (const name of this.#registry.names()) {
      const entry = this.#registry.get(name);
      if (entry) await this.#reload(entry.file, entry.label);
    }
  }

  /**
   * chokidar drops a change that follows another within 50 ms (its throttle), so a quick second save
   * would never be seen. Look again once that window has passed: if the file changed since we read
   * it, reload it.
   */
  #verifyLater(file: string, seen: string | undefined): void {
    const timer = setTimeout(() => {
      this.#verifiers.delete(timer);
      void fingerprint(file).then((now) => {
        if (!this.#closed && now !== undefined && now !== seen) this.#schedule(file, 'change');
      });
    }, 75);
    timer.unref();
    this.#verifiers.add(timer);
  }

  #isHandlerFile(file: string): boolean {
    const dir = this.#registry.dir;
    return (
      file.startsWith(dir + sep) &&
      !file.slice(dir.length + 1).includes(sep) &&
      this.#registry.isHandlerFile(file)
    );
  }

  #remove(file: string, label: string): void {
    this.#failures.delete(file);
    const name = basename(file, extname(file));
    if (!isEventName(name)) return;
    const current = this.#registry.get(name);
    // Only unregister when the deleted file is the one serving (not a twin with another extension).
    if (current && current.file === file) {
      this.#registry.delete(name);
      this.emit('reload', { kind: 'removed', file, label, name });
    }
  }

  async #reload(file: string, label: string): Promise<void> {
    const started = performance.now();
    const name = basename(file, extname(file));
    const known = isEventName(name) ? this.#registry.get(name) : undefined;
    const before = await fingerprint(file);
    try {
      this.#registry.forgetLocalModules(this.#options.root);
      const entry = await this.#registry.load(file);
      this.#registry.set(entry.name, entry);
      this.#failures.delete(file);
      this.emit('reload', {
        kind: 'reloaded',
        file,
        label,
        name: entry.name,
        ms: Math.round(performance.now() - started),
        added: known === undefined,
      });
    } catch (error) {
      // Read while the editor was still writing (a half-saved file): load it again, say nothing yet.
      const after = await fingerprint(file);
      if (after !== before) return this.#schedule(file, 'change');
      // An empty file is a save caught between truncate and write; the second look reloads it.
      if (after?.startsWith('0:')) return;
      const failure =
        error instanceof C4cError
          ? error
          : new C4cError('E_HANDLER_LOAD', `${label}: ${String(error)}`, { cause: error });
      const repeated = this.#failures.get(file) === failure.message;
      this.#failures.set(file, failure.message);
      this.emit('reload', { kind: 'failed', file, label, error: failure, repeated });
    }
  }

  #label(file: string): string {
    const rel = relative(this.#options.root, file);
    return rel && !rel.startsWith('..') ? rel.split(sep).join('/') : file;
  }
}
