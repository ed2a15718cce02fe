/**
 * Errors in the user's TypeScript, told in the user's TypeScript: positions in stacks mapped from
 * jiti's transpiled code back to the source file, the first position in the user's own code found
 * (a parse error's, or the top stack frame outside node_modules), and a code frame around it.
 *
 * Node's own source-map support does not see code jiti evaluates (`vm.runInThisContext`), and jiti's
 * `sourceMaps` option would make every reload pay for a map no one reads. So nothing is paid at load
 * time: only when an error is explained is the failing file transpiled once more, with an inline
 * map (jiti keeps lines, so only columns move), and read with `node:module`'s `SourceMap`.
 */
import { readFileSync, statSync } from 'node:fs';
import { SourceMap, type SourceMapping } from 'node:module';
import { relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import type { Jiti } from 'jiti';

const requireHere = createRequire(import.meta.url);

/**
 * A jiti instance, jiti itself required on the first call rather than when this module loads: with a
 * JavaScript or JSON config, `start` opens its socket before jiti is needed (~7 ms of its start-up;
 * docs/benchmarks.md, section 6). Its CommonJS entry: the ES one imports a 190 KB CommonJS bundle
 * that Node lexes for named exports first (~30 ms; section 0b).
 */
export function createJiti(...args: Parameters<typeof import('jiti').createJiti>): Jiti {
  return (requireHere('jiti') as typeof import('jiti')).createJiti(...args);
}

/** A position in a file, 1-based line and column. */
export interface SourcePosition {
  /** The file, absolute. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** What {@link SourceErrors.explain} tells about an error. */
export interface ErrorSource {
  /** The first position in the user's code, as users read it: `lib/util.ts:3:14`. */
  readonly at?: string;
  /** The lines around it, the failing one marked (`> 6 | …` and a caret under the column). */
  readonly frame?: string;
}

/** Settings of {@link SourceErrors}. */
export interface SourceErrorsOptions {
  /** The project folder: files under it (outside node_modules) are the user's code. */
  root: string;
  /** Code that is the user's only in appearance (c4c-runner itself when linked into the project). */
  exclude?: readonly string[];
}

const TRANSPILED = /\.([cm]?tsx?|m?js)$/;
// A V8 stack line's position: `    at fn (/abs/file.ts:6:30)` or `    at /abs/file.ts:6:30`.
const FRAME = /^(\s+at (?:.*? \()?)((?:\/|[A-Za-z]:\\)[^():]+):(\d+):(\d+)(\)?)$/;
// jiti's parse errors: `ParseError: Unexpected token \n /abs/file.ts:3:13` (0-based column).
const PARSE_POSITION = /(?:^|\s)((?:\/|[A-Za-z]:\\)[^\s():]+):(\d+):(\d+)/;
const MAPPED = Symbol('c4c-runner.stack-mapped');

/** Maps error positions to the user's source and frames them. One per handler registry. */
export class SourceErrors {
  readonly #root: string;
  readonly #exclude: readonly string[];
  #jiti: Jiti | undefined;
  readonly #maps = new Map<string, { mtimeMs: number; map: SourceMap | undefined; lines: string[] }>();

  constructor(options: SourceErrorsOptions) {
    this.#root = resolve(options.root);
    this.#exclude = options.exclude ?? [];
  }

  /**
   * Rewrites the stack of an error and of each error in its `cause` chain so that positions in the
   * user's transpiled files are those of their source, then returns where it happened and a code
   * frame. Safe to call twice on the same error; never throws.
   */
  explain(error: unknown): ErrorSource {
    try {
      for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++)
        this.#mapStack(e);
      const position = this.locate(error);
      if (!position) return {};
      const frame = this.codeFrame(position);
      return { at: this.label(position), ...(frame ? { frame } : {}) };
    } catch {
      return {};
    }
  }

  /** The first position in the user's code: a parse error's, else the top user frame of the stack. */
  locate(error: unknown): SourcePosition | undefined {
    if (!(error instanceof Error)) return undefined;
    if (/ParseError|SyntaxError/.test(`${error.name} ${error.message}`)) {
      const match = PARSE_POSITION.exec(error.message) ?? PARSE_POSITION.exec(error.stack ?? '');
      if (match && this.isUserFile(match[1]!)) {
        const column = Number(match[3]);
        // jiti says babel's 0-based column; Node's own SyntaxError positions come from the stack.
        return {
          file: match[1]!,
          line: Number(match[2]),
          column: /ParseError/.test(error.message) ? column + 1 : column,
        };
      }
    }
    for (const line of (error.stack ?? '').split('\n')) {
      const match = FRAME.exec(line);
      if (match && this.isUserFile(match[2]!))
        return { file: match[2]!, line: Number(match[3]), column: Number(match[4]) };
    }
    return undefined;
  }

  /** `lib/util.ts:3:14`: the position relative to the project folder. */
  label(position: SourcePosition): string {
    const rel = relative(this.#root, position.file);
    const file = rel && !rel.startsWith('..') ? rel.split(sep).join('/') : position.file;
    return `${file}:${position.line}:${position.column}`;
  }

  /** The lines around a position (two before, one after), the line marked and a caret under the column. */
  codeFrame(position: SourcePosition): string | undefined {
    const source = this.#source(position.file);
    if (!source) return undefined;
    const { lines } = source;
    if (position.line < 1 || position.line > lines.length) return undefined;
    const first = Math.max(1, position.line - 2);
    const last = Math.min(lines.length, position.line + 1);
    const width = String(last).length;
    const out: string[] = [];
    for (let n = first; n <= last; n++) {
      const text = (lines[n - 1] ?? '').replace(/\t/g, '  ');
      out.push(`${n === position.line ? '>' : ' '} ${String(n).padStart(width)} | ${text}`.trimEnd());
      if (n === position.line && position.column >= 1) {
        const before = (lines[n - 1] ?? '').slice(0, position.column - 1).replace(/[^\t]/g, ' ');
        out.push(`  ${' '.repeat(width)} | ${before.replace(/\t/g, '  ')}^`);
      }
    }
    return out.join('\n');
  }

  /** Whether a file is the user's own code (under the project, not a dependency, not excluded). */
  isUserFile(file: string): boolean {
    const absolute = resolve(file);
    if (!absolute.startsWith(this.#root + sep)) return false;
    if (absolute.includes(`${sep}node_modules${sep}`)) return false;
    return !this.#exclude.some((prefix) => absolute.startsWith(prefix));
  }

  #mapStack(error: Error): void {
    const marked = error as Error & { [MAPPED]?: true };
    if (marked[MAPPED] || typeof error.stack !== 'string') return;
    const lines = error.stack.split('\n');
    let changed = false;
    for (let i = 0; i < lines.length; i++) {
      const match = FRAME.exec(lines[i]!);
      if (!match) continue;
      const [, head, file, line, column, tail] = match as unknown as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      if (!this.isUserFile(file) || !TRANSPILED.test(file)) continue;
      const map = this.#source(file)?.map;
      // findEntry is 0-based; V8's positions are 1-based.
      const entry: Partial<SourceMapping> | undefined = map?.findEntry(Number(line) - 1, Number(column) - 1);
      if (entry?.originalLine === undefined || entry.originalColumn === undefined) continue;
      lines[i] = `${head}${file}:${entry.originalLine + 1}:${entry.originalColumn + 1}${tail}`;
      changed = true;
    }
    try {
      if (changed) error.stack = lines.join('\n');
      Object.defineProperty(error, MAPPED, { value: true, enumerable: false });
    } catch {
      // A frozen error keeps its stack as it is.
    }
  }

  /** The file's lines and the map of its transpiled form, cached until the file changes. */
  #source(file: string): { map: SourceMap | undefined; lines: string[] } | undefined {
    let mtimeMs: number;
    let text: string;
    try {
      mtimeMs = statSync(file).mtimeMs;
      const cached = this.#maps.get(file);
      if (cached?.mtimeMs === mtimeMs) return cached;
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    const entry = { mtimeMs, map: this.#mapOf(file, text), lines: text.split(/\r?\n/) };
    this.#maps.set(file, entry);
    return entry;
  }

  #mapOf(file: string, source: string): SourceMap | undefined {
    if (!TRANSPILED.test(file)) return undefined;
    try {
      // A jiti of its own: the registry's must keep its cache and its options (no maps at load time).
      this.#jiti ??= createJiti(resolve(this.#root, 'index.js'), {
        sourceMaps: true,
        fsCache: false,
        moduleCache: false,
        interopDefault: false,
      });
      const code = this.#jiti.transform({
        source,
        filename: file,
        ts: /\.[cm]?tsx?$/.test(file),
        async: true,
      });
      const inline = /\/\/# sourceMappingURL=data:application\/json[^,]*;base64,([A-Za-z0-9+/=]+)\s*$/.exec(
        code,
      );
      if (!inline) return undefined;
      return new SourceMap(JSON.parse(Buffer.from(inline[1]!, 'base64').toString('utf8')) as never);
    } catch {
      return undefined;
    }
  }
}
