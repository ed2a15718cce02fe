import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { C4cError, isC4cError } from '../../src/errors.js';
import { HandlerRegistry } from '../../src/runner/registry.js';
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
async function failure(promise: Promise<unknown>): Promise<C4cError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected a C4cError').toBeInstanceOf(Error);
  expect(isC4cError(error), String(error)).toBe(true);
  return error as C4cError;
}

const ctx = (event: unknown) => ({ event }) as never;

describe('HandlerRegistry.loadAll', () => {
  it('loads ts, mts, js and mjs handlers, named after their file, in both export forms', async () => {
    const { registry } = await registryFor({
      'handlers/message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => 'echo: ' + ctx.event.content);`,
      'handlers/task-accepted.mts': `export default (ctx: { event: unknown }) => 'task';`,
      'handlers/service-invoked.js': `import { defineHandler } from 'c4c-runner';
export default defineHandler('service-invoked', { timeout: 1234, handle: () => ({ ok: true }) });`,
      'handlers/notification.mjs': `export default function catchAll() { return undefined; }`,
      'handlers/_helpers.ts': `export const x = 1;`,
      'handlers/message.test.ts': `throw new Error('tests are not handlers');`,
      'handlers/README.md': '# not a handler',
    });
    const entries = await registry.loadAll();
    expect(entries.map((e) => e.label)).toEqual([
      'handlers/message.ts',
      'handlers/notification.mjs',
      'handlers/service-invoked.js',
      'handlers/task-accepted.mts',
    ]);
    expect(registry.names()).toEqual(['message', 'notification', 'service-invoked', 'task-accepted']);
    expect(await registry.get('message')!.handle(ctx({ content: 'hi' }))).toBe('echo: hi');
    expect(registry.get('service-invoked')!.timeout).toBe(1234);
    expect(registry.get('message')!.timeout).toBeUndefined();
  });

  it('names the closest event for a misspelt file', async () => {
    const { registry } = await registryFor({ 'handlers/mesage.ts': `export default () => 'x';` });
    const error = await failure(registry.loadAll());
    expect(error.code).toBe('E_HANDLER_NAME');
    expect(error.message).toBe('handlers/mesage.ts: no event is called "mesage"; did you mean "message"?');
  });

  it.each([
    ['task_application_accepted.ts', 'task-accepted.ts'],
    ['task-application-accepted.ts', 'task-accepted.ts'],
    ['service_invoked.mts', 'service-invoked.mts'],
    ['employment_offered.ts', 'employment-offered.ts'],
  ])(
    'a file named after the platform’s event name (%s) is told the file name to use',
    async (file, right) => {
      const { registry } = await registryFor({ [`handlers/${file}`]: `export default () => undefined;` });
      const error = await failure(registry.loadAll());
      expect(error.code).toBe('E_HANDLER_NAME');
      expect(error.message).toBe(
        `handlers/${file}: "${file.replace(/\.m?ts$/, '')}" is the platform's name of the event handler files call "${right.replace(/\.m?ts$/, '')}"; rename the file to handlers/${right}`,
      );
    },
  );

  it('refuses a handler whose declared event is not its file name', async () => {
    const { registry } = await registryFor({
      'handlers/message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('task-accepted', () => 'x');`,
    });
    const error = await failure(registry.loadAll());
    expect(error.code).toBe('E_HANDLER_NAME');
    expect(error.message).toBe(
      'handlers/message.ts: defines a handler for "task-accepted" but the file is named after "message"; rename the file to task-accepted.ts or change the event to "message"',
    );
  });

  it.each([
    [
      'export const handler = () => 1;',
      /handlers\/message\.ts: has no default export; add export default defineHandler\('message', async \(ctx\) => …\)/,
    ],
    [
      'export default 42;',
      /handlers\/message\.ts: the default export must be a function or defineHandler\(…\), got a number \(42\)/,
    ],
    [
      'export default { handle() {} };',
      /handlers\/message\.ts: the default export must be a function or defineHandler\(…\), got an object/,
    ],
    [
      `import { defineHandler } from 'c4c-runner'; export default defineHandler('message', { timeout: -1, handle: () => 'x' });`,
      /handlers\/message\.ts: timeout must be a positive integer of milliseconds \(at most 2147483647\), got a number \(-1\)/,
    ],
    // Load failures also name the line (and column when known).
    ['export default () => { ;', /^handlers\/message\.ts:1(:\d+)?: could not be loaded: /],
    [
      `throw new Error('boom at load');`,
      /^handlers\/message\.ts:1(:\d+)?: could not be loaded: boom at load/,
    ],
  ])('a bad export gets a clear error with the file: %s', async (source, expected) => {
    const { registry } = await registryFor({ 'handlers/message.ts': source });
    const error = await failure(registry.loadAll());
    expect(error.message).toMatch(expected);
    expect(registry.size).toBe(0);
  });

  it('reports every bad file at once and registers none of them', async () => {
    const { registry } = await registryFor({
      'handlers/mesage.ts': `export default () => 'x';`,
      'handlers/task-acepted.ts': `export default () => 'x';`,
      'handlers/message.ts': `export default () => 'x';`,
    });
    const error = await failure(registry.loadAll());
    expect(error.message.split('\n')).toEqual([
      'handlers/mesage.ts: no event is called "mesage"; did you mean "message"?',
      'handlers/task-acepted.ts: no event is called "task-acepted"; did you mean "task-accepted"?',
    ]);
    expect(registry.size).toBe(0);
  });

  it('refuses two files for one event', async () => {
    const { registry } = await registryFor({
      'handlers/message.ts': `export default () => 'a';`,
      'handlers/message.mjs': `export default () => 'b';`,
    });
    const error = await failure(registry.loadAll());
    expect(error.message).toBe(
      'handlers/message.mjs and handlers/message.ts both handle "message"; keep one of them',
    );
  });

  it('says when the handlers folder is missing, and how to fix it', async () => {
    const { registry } = await registryFor({});
    const error = await failure(registry.loadAll());
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toMatch(
      /^handlers folder handlers does not exist; create it with a handler such as message\.ts, or set "handlers" in c4c\.config\.ts/,
    );
  });
});

describe('HandlerRegistry: one file at a time (dev mode)', () => {
  it('load() returns a fresh entry for a changed file; set() swaps it; the old entry keeps working', async () => {
    const { p, registry } = await registryFor({ 'handlers/message.ts': `export default () => 'v1';` });
    await registry.loadAll();
    const v1 = registry.get('message')!;
    await p.write('handlers/message.ts', `export default () => 'v2';`);
    const v2 = await registry.load(join(p.dir, 'handlers', 'message.ts'));
    expect(registry.get('message')).toBe(v1); // load() alone changes nothing
    registry.set('message', v2);
    expect(await registry.get('message')!.handle(ctx({}))).toBe('v2');
    // An event that started on v1 still holds v1.
    expect(await v1.handle(ctx({}))).toBe('v1');
  });

  it('a file that fails to load throws and leaves the registered version serving', async () => {
    const { p, registry } = await registryFor({ 'handlers/message.ts': `export default () => 'good';` });
    await registry.loadAll();
    await p.write('handlers/message.ts', `export default () => { ;`);
    await failure(registry.load('message.ts'));
    expect(await registry.get('message')!.handle(ctx({}))).toBe('good');
  });

  it('delete() removes a handler; set() refuses an entry for another event', async () => {
    const { registry } = await registryFor({
      'handlers/message.ts': `export default () => 'x';`,
      'handlers/read.ts': `export default () => undefined;`,
    });
    await registry.loadAll();
    expect(registry.delete('read')).toBe(true);
    expect(registry.names()).toEqual(['message']);
    expect(() => registry.set('read', registry.get('message')!)).toThrow(
      /handlers\/message\.ts: handles "message", not "read"/,
    );
  });
});
