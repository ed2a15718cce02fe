/**
 * SourceErrors: positions in the user's TypeScript (not in jiti's transpiled code), the failing
 * file of an error inside an imported module, code frames, and the cause chain — on real files
 * loaded by a real HandlerRegistry.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isC4cError, type C4cError } from '../../src/errors.js';
import { HandlerRegistry } from '../../src/runner/registry.js';
import { SourceErrors } from '../../src/runner/source-errors.js';
import { makeProject, type Project } from '../helpers/runner.js';

const projects: Project[] = [];
afterEach(async () => {
  await Promise.all(projects.splice(0).map((p) => p.remove()));
});
async function registryFor(files: Record<string, string>) {
  const p = await makeProject(files);
  projects.push(p);
  return { p, registry: new HandlerRegistry({ dir: join(p.dir, 'handlers'), root: p.dir }) };
}
async function thrownBy(promise: unknown): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

// Types before the failing expression on the same line: jiti's output keeps the line but not the column.
const TYPED_LINE = `  const table: Record<string, { a: { b: number } }> = {}; const n: number = (table as any).x.b;`;

describe('HandlerRegistry.explain (a handler that throws)', () => {
  it('maps the stack to the TypeScript source and frames the failing line', async () => {
    const { registry } = await registryFor({
      'handlers/message.ts': `import { defineHandler } from 'c4c-runner';

export default defineHandler('message', () => {
${TYPED_LINE}
  return String(n);
});
`,
    });
    const entry = await registry.load('message.ts');
    const error = await thrownBy((async () => entry.handle({} as never))());
    const source = registry.explain(error);
    const column = TYPED_LINE.indexOf('.b;') + 2; // 1-based column of "b", where V8 points
    expect(source.at).toBe(`handlers/message.ts:4:${column}`);
    expect(error.stack).toContain(`handlers/message.ts:4:${column})`);
    expect(source.frame!.split('\n')).toEqual([
      `  2 |`,
      `  3 | export default defineHandler('message', () => {`,
      `> 4 | ${TYPED_LINE}`,
      `    | ${' '.repeat(column - 1)}^`,
      `  5 |   return String(n);`,
    ]);
    // Twice is harmless: the stack is not shifted again.
    expect(registry.explain(error)).toEqual(source);
  });

  it('names the imported module the error came from, and maps every error of the cause chain', async () => {
    const { registry } = await registryFor({
      'lib/check.ts': `export function check(value: string): void {
  const limit: number = 3;
  if (value.length > limit) throw new Error('too long', { cause: new TypeError('inner: ' + (value as string)) });
}
`,
      'handlers/message.ts': `import { check } from '../lib/check.js';
export default (ctx: { event: { content: string } }) => { check(ctx.event.content); return 'ok'; };
`,
    });
    const entry = await registry.load('message.ts');
    const error = await thrownBy((async () => entry.handle({ event: { content: 'hello' } } as never))());
    const source = registry.explain(error);
    const line = `  if (value.length > limit) throw new Error('too long', { cause: new TypeError('inner: ' + (value as string)) });`;
    expect(source.at).toBe(`lib/check.ts:3:${line.indexOf('new Error') + 1}`);
    expect(source.frame).toContain(`> 3 | ${line}`);
    const cause = error.cause as Error;
    expect(cause.message).toBe('inner: hello');
    expect(cause.stack).toContain(`lib/check.ts:3:${line.indexOf('new TypeError') + 1})`);
  });

  it('says nothing for errors that do not come from the user’s files', () => {
    const errors = new SourceErrors({ root: '/nowhere/project' });
    expect(errors.explain(new Error('from elsewhere'))).toEqual({});
    expect(errors.explain('a string')).toEqual({});
    expect(errors.explain(undefined)).toEqual({});
  });
});

describe('HandlerRegistry.load (a file that does not load)', () => {
  async function loadFailure(files: Record<string, string>): Promise<C4cError> {
    const { registry } = await registryFor(files);
    const error = await thrownBy(registry.load('message.ts'));
    expect(isC4cError(error, 'E_HANDLER_LOAD'), String(error)).toBe(true);
    return error as C4cError;
  }

  it('a syntax error in an imported module names that module and its line, not the handler', async () => {
    const error = await loadFailure({
      'lib/util.ts': `export const a = 1;\nexport function helper(): string {\n  const b = {;\n  return 'x';\n}\n`,
      'handlers/message.ts': `import { helper } from '../lib/util.js';\nexport default () => helper();\n`,
    });
    expect(error.message).toMatch(
      /^handlers\/message\.ts: could not be loaded: lib\/util\.ts:3:14: .*Unexpected token/,
    );
    expect(error.details?.at).toBe('lib/util.ts:3:14');
    expect(error.details?.frame).toContain('> 3 |   const b = {;');
  });

  it('a throw at import time in an imported module names that module', async () => {
    const error = await loadFailure({
      'lib/env.ts': `const key: string | undefined = undefined;\nif (!key) throw new Error('OPENAI_API_KEY is not set');\nexport const apiKey: string = key;\n`,
      'handlers/message.ts': `import { apiKey } from '../lib/env.js';\nexport default () => apiKey;\n`,
    });
    expect(error.message).toBe(
      'handlers/message.ts: could not be loaded: lib/env.ts:2:17: OPENAI_API_KEY is not set',
    );
  });

  it('a syntax error in the handler itself keeps the handler first, with line and column', async () => {
    const error = await loadFailure({
      'handlers/message.ts': `export default () => {\n  const x: number = ;\n};\n`,
    });
    expect(error.message).toMatch(/^handlers\/message\.ts:2:21: could not be loaded: /);
    expect(error.details?.frame).toContain('> 2 |   const x: number = ;');
  });
});
