/**
 * The handler registry: one handler module per event, loaded from the handlers folder with jiti.
 * Built to swap one file at a time (dev mode): `load(file)` returns a new entry or throws, and
 * `set`/`delete` replace it; an event already running keeps the entry it started with.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Jiti } from 'jiti';
import { MAX_TIMER } from '../limits.js';
import { describeValue } from '../describe.js';
import { C4cError } from '../errors.js';
import { closestEventName, isEventName, notificationEventName, type EventName } from '../protocol/events.js';
import type { Context } from './context.js';
import { isHandlerDefinition } from './define.js';
import { SourceErrors, createJiti, type ErrorSource } from './source-errors.js';

/**
 * c4c-runner's own compiled code. In this repository the project folder contains it (handlers import
 * 'c4c-runner', which resolves to ./dist); evicting it would re-evaluate the whole runner per reload.
 */
const OWN_CODE = fileURLToPath(new URL('..', import.meta.url));

/** File extensions a handler may have. */
export const HANDLER_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

/** One loaded handler. Immutable: a reload makes a new entry. */
export interface HandlerEntry {
  /** The event it handles (= the file name). */
  readonly name: EventName;
  /** The file, absolute. */
  readonly file: string;
  /** The file as users read it in logs and errors (`handlers/message.ts`). */
  readonly label: string;
  /** The handler function. */
  readonly handle: (ctx: Context) => unknown;
  /** Its own time limit in ms, if `defineHandler` set one. */
  readonly timeout: number | undefined;
}

/** Settings of a {@link HandlerRegistry}. */
export interface RegistryOptions {
  /** The handlers folder, absolute. */
  dir: string;
  /** Labels are relative to this folder. @default the handlers folder's parent */
  root?: string;
}

/** What a runner shows of its handlers: read-only (dev's watcher alone swaps them). */
export interface HandlerRegistryView {
  /** The handlers folder, absolute. */
  readonly dir: string;
  /** The handler of an event, if a file handles it. */
  get(name: EventName): HandlerEntry | undefined;
  /** The events that have a handler, in load order. */
  names(): EventName[];
  /** How many events have a handler. */
  readonly size: number;
}

/** Handler entries by event name, loaded from one folder. */
export class HandlerRegistry implements HandlerRegistryView {
  readonly dir: string;
  readonly #root: string;
  readonly #entries = new Map<EventName, HandlerEntry>();
  /** Made on the first load: `start` opens its socket before the handlers load (docs/benchmarks.md, section 6). */
  #jiti: Jiti | undefined;
  readonly #sources: SourceErrors;

  constructor(options: RegistryOptions) {
    this.dir = resolve(options.dir);
    this.#root = options.root ?? dirname(this.dir);
    this.#sources = new SourceErrors({ root: this.#root, exclude: [OWN_CODE] });
  }

  /** The one jiti of all handlers, made on first use. */
  #loader(): Jiti {
    // One jiti for all handlers: shared dependencies are evaluated once; `load` evicts only the
    // handler file itself, so a reload re-runs that file and nothing else.
    // `c4c-runner` itself is imported natively: handlers share the running copy instead of jiti
    // evaluating the whole package again (measured: +36 MB RSS and ~250 ms per start without it).
    this.#jiti ??= createJiti(join(this.dir, 'index.js'), {
      interopDefault: false,
      moduleCache: true,
      nativeModules: ['c4c-runner'],
    });
    return this.#jiti;
  }

  /** Whether a file in the handlers folder is a handler (by extension; tests and `_private` files are not). */
  isHandlerFile(file: string): boolean {
    const name = basename(file);
    if (name.startsWith('_') || name.startsWith('.') || name.endsWith('.d.ts') || name.endsWith('.d.mts'))
      return false;
    if (/\.(test|spec)\.[cm]?[jt]s$/.test(name)) return false;
    return (HANDLER_EXTENSIONS as readonly string[]).includes(extname(name));
  }

  /**
   * Loads every handler file of the folder and registers them all, or throws one error listing
   * every bad file (nothing is registered then). Returns the entries.
   */
  async loadAll(options: { onProblem?: (problem: C4cError) => void } = {}): Promise<HandlerEntry[]> {
    const entries: HandlerEntry[] = [];
    const problems: C4cError[] = [];
    // In file order: a file whose name is wrong is reported where its load error would have been.
    for (const { file, problem } of await this.#scan()) {
      if (problem) {
        problems.push(problem);
        continue;
      }
      try {
        entries.push(await this.load(file));
      } catch (error) {
        problems.push(
          error instanceof C4cError ? error : new C4cError('E_HANDLER_LOAD', String(error), { cause: error }),
        );
      }
    }
    // Dev mode starts anyway: each bad file is reported and served once it is fixed.
    if (options.onProblem) for (const problem of problems.splice(0)) options.onProblem(problem);
    throwProblems(problems);
    this.#entries.clear();
    for (const entry of entries) this.#entries.set(entry.name, entry);
    return entries;
  }

  /**
   * Checks what can be checked without loading a module: the folder exists, each handler file is
   * named after an event, no two handle the same one. Throws what `loadAll` would throw for them;
   * `start` runs it before it opens its socket, so a misnamed file never reaches the platform.
   */
  async checkNames(): Promise<void> {
    throwProblems((await this.#scan()).flatMap(({ problem }) => (problem ? [problem] : [])));
  }

  /** The handler files of the folder, sorted, each with the problem of its name if it has one. */
  async #scan(): Promise<{ file: string; problem?: C4cError }[]> {
    let names: string[];
    try {
      if (!(await stat(this.dir)).isDirectory()) throw new Error('not a folder');
      names = await readdir(this.dir);
    } catch (error) {
      throw new C4cError(
        'E_CONFIG',
        `handlers folder ${this.#label(this.dir)} does not exist; create it with a handler such as message.ts, or set "handlers" in c4c.config.ts`,
        { cause: error, details: { dir: this.dir } },
      );
    }
    const scanned: { file: string; problem?: C4cError }[] = [];
    const byName = new Map<string, string>();
    for (const file of names
      .filter((name) => this.isHandlerFile(name))
      .sort()
      .map((name) => join(this.dir, name))) {
      const name = basename(file, extname(file));
      const twin = byName.get(name);
      if (twin) {
        scanned.push({
          file,
          problem: new C4cError(
            'E_HANDLER_LOAD',
            `${this.#label(twin)} and ${this.#label(file)} both handle "${name}"; keep one of them`,
            {
              details: { file },
            },
          ),
        });
        continue;
      }
      byName.set(name, file);
      scanned.push(isEventName(name) ? { file } : { file, problem: this.#nameError(file) });
    }
    return scanned;
  }

  /** The error of a handler file whose name is not an event's, with the name to use. */
  #nameError(absolute: string): C4cError {
    const name = basename(absolute, extname(absolute));
    // The platform's own name of an event (task_application_accepted) gets the file name to use.
    const platformName =
      notificationEventName('', name) ?? notificationEventName('', name.replace(/-/g, '_'));
    const dir = relative(this.#root, this.dir).split(sep).join('/') || '.';
    const label = this.#label(absolute);
    return new C4cError(
      'E_HANDLER_NAME',
      platformName
        ? `${label}: "${name}" is the platform's name of the event handler files call "${platformName}"; rename the file to ${dir}/${platformName}${extname(absolute)}`
        : `${label}: no event is called "${name}"; did you mean "${closestEventName(name)}"?`,
      {
        details: { file: absolute },
      },
    );
  }

  /**
   * Loads one handler file, fresh (its cached module is evicted first), and checks it. Returns the
   * entry without registering it; throws `C4cError` naming the file when it is not a valid handler.
   */
  async load(file: string): Promise<HandlerEntry> {
    const absolute = resolve(this.dir, file);
    const label = this.#label(absolute);
    const name = basename(absolute, extname(absolute));
    if (!isEventName(name)) throw this.#nameError(absolute);
    const jiti = this.#loader();
    delete jiti.cache[absolute];
    let mod: unknown;
    try {
      mod = await jiti.import(absolute);
    } catch (error) {
      // The failing file may be one the handler imports (lib/util.ts): name it, with its line.
      const source = this.#sources.explain(error);
      const position = this.#sources.locate(error);
      const where =
        position === undefined
          ? `${label}: could not be loaded`
          : position.file === absolute
            ? `${this.#sources.label(position)}: could not be loaded`
            : `${label}: could not be loaded: ${source.at}`;
      throw new C4cError('E_HANDLER_LOAD', `${where}: ${firstLine(error)}`, {
        cause: error,
        details: { file: absolute, ...source },
      });
    }
    const exported = (mod as { default?: unknown } | undefined)?.default;
    const usage = `export default defineHandler('${name}', async (ctx) => …)`;
    if (exported === undefined) {
      throw new C4cError('E_HANDLER_LOAD', `${label}: has no default export; add ${usage}`, {
        details: { file: absolute },
      });
    }
    if (typeof exported === 'function') {
      return Object.freeze({
        name,
        file: absolute,
        label,
        handle: exported as HandlerEntry['handle'],
        timeout: undefined,
      });
    }
    if (!isHandlerDefinition(exported)) {
      throw new C4cError(
        'E_HANDLER_LOAD',
        `${label}: the default export must be a function or defineHandler(…), got ${describe(exported)}; use ${usage}`,
        { details: { file: absolute } },
      );
    }
    if (exported.event !== name) {
      throw new C4cError(
        'E_HANDLER_NAME',
        `${label}: defines a handler for "${String(exported.event)}" but the file is named after "${name}"; rename the file to ${String(exported.event)}${extname(absolute)} or change the event to "${name}"`,
        { details: { file: absolute } },
      );
    }
    if (typeof exported.handle !== 'function') {
      throw new C4cError(
        'E_HANDLER_LOAD',
        `${label}: defineHandler('${name}', …) needs a handle function, got ${describe(exported.handle)}`,
        {
          details: { file: absolute },
        },
      );
    }
    const { timeout } = exported;
    if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0 && timeout <= MAX_TIMER)) {
      throw new C4cError(
        'E_HANDLER_LOAD',
        `${label}: timeout must be a positive integer of milliseconds (at most ${MAX_TIMER}), got ${describe(timeout)}`,
        {
          details: { file: absolute },
        },
      );
    }
    return Object.freeze({
      name,
      file: absolute,
      label,
      handle: exported.handle,
      timeout,
    });
  }

  /**
   * Evicts every cached module under `root` that is not a dependency (node_modules), so the next
   * `load` evaluates the handler's own local imports afresh too (dev mode). Old module instances stay
   * alive only while a running event still holds them.
   */
  forgetLocalModules(root: string): number {
    const prefix = resolve(root);
    let evicted = 0;
    const cache = this.#jiti?.cache ?? {};
    for (const key of Object.keys(cache)) {
      if (key.startsWith(prefix) && !key.includes(`${sep}node_modules${sep}`) && !key.startsWith(OWN_CODE)) {
        delete cache[key];
        evicted++;
      }
    }
    return evicted;
  }

  /**
   * Where an error from a handler happened in the user's source: maps the positions of its stack
   * (and of its causes) from the transpiled code to the TypeScript source, in place, and returns
   * the first one in the user's code (`lib/util.ts:3:14`) with a code frame. Costs nothing until called.
   */
  explain(error: unknown): ErrorSource {
    return this.#sources.explain(error);
  }

  /** Registers (or replaces) the handler of an event. Events already running keep their old entry. */
  set(name: EventName, entry: HandlerEntry): void {
    if (entry.name !== name)
      throw new C4cError('E_HANDLER_NAME', `${entry.label}: handles "${entry.name}", not "${name}"`);
    this.#entries.set(name, entry);
  }

  /** Removes the handler of an event (its file was deleted). */
  delete(name: EventName): boolean {
    return this.#entries.delete(name);
  }

  get(name: EventName): HandlerEntry | undefined {
    return this.#entries.get(name);
  }

  /** The events that have a handler, sorted. */
  names(): EventName[] {
    return [...this.#entries.keys()].sort();
  }

  get size(): number {
    return this.#entries.size;
  }

  #label(file: string): string {
    const rel = relative(this.#root, file);
    return rel && !rel.startsWith('..') ? rel.split('\\').join('/') : file;
  }
}

/** Throws the one problem, or one error listing them all; nothing when there are none. */
function throwProblems(problems: C4cError[]): void {
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    throw new C4cError('E_HANDLER_LOAD', problems.map((p) => p.message).join('\n'), {
      cause: problems[0],
      details: { files: problems.map((p) => p.details?.file) },
    });
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const kind =
    typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : `a ${typeof value}`;
  return `${kind} (${describeValue(value, 40)})`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
