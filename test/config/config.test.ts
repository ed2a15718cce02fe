import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { isC4cError } from '../../src/errors.js';
import { DEFAULT_API_ENDPOINT } from '../../src/protocol/rest.js';
import { makeProject, type Project } from '../helpers/runner.js';

const projects: Project[] = [];
afterEach(async () => {
  await Promise.all(projects.splice(0).map((p) => p.remove()));
});
async function project(files: Record<string, string> = {}) {
  const p = await makeProject(files);
  projects.push(p);
  return p;
}
/** No env token/URL and an empty home: only what the test puts there counts. */
const clean = (p: Project, env: Record<string, string> = {}) => ({
  cwd: p.dir,
  env,
  home: join(p.dir, 'home'),
});

async function configError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isC4cError(error, 'E_CONFIG'), `expected E_CONFIG, got ${String(error)}`).toBe(true);
  return (error as Error).message;
}

describe('loadConfig: finding the file', () => {
  it('fills every default when there is no config file', async () => {
    const p = await project();
    const config = await loadConfig(clean(p));
    expect(config.configFile).toBeUndefined();
    expect(config.root).toBe(p.dir);
    expect(config.handlers).toBe(join(p.dir, 'handlers'));
    expect(config.concurrency).toBe(16);
    expect(config.timeout).toBe(30_000);
    expect(config.drainTimeout).toBe(10_000);
    expect(config.reconnect).toEqual({
      initialDelay: 1_000,
      maxDelay: 30_000,
      maxAttempts: Number.POSITIVE_INFINITY,
    });
    expect(config.heartbeat).toEqual({ interval: 30_000, timeout: 60_000 });
    expect(config.outbox).toEqual({ limit: 10_000 });
    expect(config.logLevel).toBe('info');
    expect(config.ack).toBe(true);
    expect(config.platform).toEqual({
      url: DEFAULT_API_ENDPOINT,
      wsUrl: 'wss://api.claw4claw.bianjie.ai/ws',
      token: undefined,
      sources: { url: 'default', token: 'none' },
    });
  });

  it('loads c4c.config.ts through jiti, TypeScript syntax and the c4c-runner import included', async () => {
    const p = await project({
      'c4c.config.ts': `import { defineConfig, type UserConfig } from 'c4c-runner';
const limit: number = 4;
const config: UserConfig = { handlers: './src/handlers', concurrency: limit, heartbeat: { interval: 5_000 } };
export default defineConfig(config);`,
    });
    const config = await loadConfig(clean(p));
    expect(config.configFile).toBe(join(p.dir, 'c4c.config.ts'));
    expect(config.handlers).toBe(join(p.dir, 'src', 'handlers'));
    expect(config.concurrency).toBe(4);
    expect(config.heartbeat).toEqual({ interval: 5_000, timeout: 60_000 });
  });

  it('a warm start reads the TypeScript config jiti transpiled on the first, keyed by its content', async () => {
    const p = await project({
      'c4c.config.ts': `import { defineConfig } from 'c4c-runner';\nimport { join } from 'node:path';\nconst n: number = 5;\nexport default defineConfig({ concurrency: n, handlers: join('src', 'handlers') });\n`,
    });
    const cacheDir = join(p.dir, 'node_modules', '.cache', 'c4c-runner');
    const first = await loadConfig(clean(p));
    expect([first.concurrency, first.handlers]).toEqual([5, join(p.dir, 'src', 'handlers')]);
    const stored = (await readdir(cacheDir)).filter((name) => name.endsWith('.cjs'));
    expect(stored).toHaveLength(1);
    // What is stored is what the next start runs: changed behind its back, the change shows.
    const file = join(cacheDir, stored[0]!);
    await writeFile(file, (await readFile(file, 'utf8')).replace('const n = 5', 'const n = 7'));
    expect((await loadConfig(clean(p))).concurrency).toBe(7);
    // An edited config is a new key: read afresh, never the stale entry.
    await p.write(
      'c4c.config.ts',
      `import { defineConfig } from 'c4c-runner';\nexport default defineConfig({ concurrency: 6 as number });\n`,
    );
    expect((await loadConfig(clean(p))).concurrency).toBe(6);
    expect((await readdir(cacheDir)).filter((name) => name.endsWith('.cjs'))).toHaveLength(2);
  });

  it('a TypeScript config that imports its own files keeps going through jiti; a broken one says so', async () => {
    const p = await project({
      'lib/limits.ts': `export const limit: number = 11;\n`,
      'c4c.config.ts': `import { limit } from './lib/limits.ts';\nexport default { concurrency: limit };\n`,
    });
    expect((await loadConfig(clean(p))).concurrency).toBe(11);
    expect((await loadConfig(clean(p))).concurrency).toBe(11);
    const cacheDir = join(p.dir, 'node_modules', '.cache', 'c4c-runner');
    expect(existsSync(cacheDir) ? await readdir(cacheDir) : []).toEqual([]);
    const broken = await project({ 'c4c.config.ts': `export default { concurrency: 4, };\nconst = ;\n` });
    expect(await configError(loadConfig(clean(broken)))).toMatch(
      /^c4c\.config\.ts: could not be loaded: .*Unexpected token.*; fix the file and try again/,
    );
    const again = await configError(loadConfig(clean(broken)));
    expect(again).toMatch(/Unexpected token/);
  });

  it('a TypeScript config that throws at load: its error, on the first start and on a warm one', async () => {
    const p = await project({
      'c4c.config.ts': `const key: string | undefined = process.env.NO_SUCH_KEY_C4C;\nif (!key) throw new Error('set NO_SUCH_KEY_C4C first');\nexport default {};\n`,
    });
    for (let start = 0; start < 2; start++) {
      expect(await configError(loadConfig(clean(p)))).toBe(
        'c4c.config.ts: could not be loaded: set NO_SUCH_KEY_C4C first; fix the file and try again',
      );
    }
  });

  it.each([
    ['c4c.config.mts', `export default { concurrency: 3 };`],
    ['c4c.config.js', `export default { concurrency: 3 };`],
    ['c4c.config.mjs', `export default { concurrency: 3 };`],
    ['c4c.config.json', `{ "concurrency": 3 }`],
    ['.c4crc', `{ "concurrency": 3 }`],
    ['.c4crc.json', `{ "concurrency": 3 }`],
    ['package.json', `{ "name": "agent", "type": "module", "c4c": { "concurrency": 3 } }`],
  ])('finds %s', async (file, text) => {
    const p = await project({ [file]: text });
    const config = await loadConfig(clean(p));
    expect(config.configFile).toBe(join(p.dir, file));
    expect(config.concurrency).toBe(3);
  });

  it('reads a .c4crc in YAML, and a CommonJS c4c.config.js (without jiti, natively)', async () => {
    const yaml = await project({ '.c4crc': 'concurrency: 6\ntimeout: 2000\n' });
    const fromYaml = await loadConfig(clean(yaml));
    expect([fromYaml.concurrency, fromYaml.timeout]).toEqual([6, 2000]);
    const cjs = await project({
      'package.json': '{ "name": "agent" }',
      'c4c.config.js': 'module.exports = { concurrency: 9 };',
    });
    expect((await loadConfig(clean(cjs))).concurrency).toBe(9);
  });

  it('skips a package.json without a "c4c" key, and names a broken c4c.config.json', async () => {
    const p = await project({ 'package.json': '{ "name": "agent" }', '.c4crc.json': '{ "concurrency": 4 }' });
    expect((await loadConfig(clean(p))).concurrency).toBe(4);
    const broken = await project({ 'c4c.config.json': '{ "concurrency": ' });
    expect(await configError(loadConfig(clean(broken)))).toMatch(
      /^c4c\.config\.json: could not be loaded: .+; fix the file and try again/,
    );
  });

  it('prefers c4c.config.ts over the other places', async () => {
    const p = await project({
      'c4c.config.ts': 'export default { concurrency: 2 };',
      '.c4crc.json': '{ "concurrency": 5 }',
    });
    expect((await loadConfig(clean(p))).concurrency).toBe(2);
  });

  it('takes --config relative to --cwd, and resolves handlers relative to that file', async () => {
    const p = await project({
      'conf/prod.config.mjs': `export default { handlers: '../agent/handlers', concurrency: 7 };`,
    });
    const config = await loadConfig({ ...clean(p), configFile: 'conf/prod.config.mjs' });
    expect(config.concurrency).toBe(7);
    expect(config.handlers).toBe(join(p.dir, 'agent', 'handlers'));
  });

  it('says which --config file is missing', async () => {
    const p = await project();
    const message = await configError(loadConfig({ ...clean(p), configFile: 'nope.config.ts' }));
    expect(message).toMatch(/config file nope\.config\.ts not found .*check --config/);
  });

  it('says which --cwd folder is missing', async () => {
    const p = await project();
    const message = await configError(loadConfig({ ...clean(p), cwd: join(p.dir, 'missing') }));
    expect(message).toMatch(/project folder .*missing does not exist .*check --cwd/);
  });
});

describe('loadConfig: bad config gets a sentence with the file, the key, the value and the fix', () => {
  it.each([
    [
      'concurrency: -1',
      'c4c.config.ts: concurrency must be a positive integer, got -1 (how many handlers may run at once, e.g. 16)',
    ],
    ['concurrency: 2.5', 'c4c.config.ts: concurrency must be a positive integer, got 2.5'],
    ["concurrency: '8'", 'c4c.config.ts: concurrency must be a positive integer, got "8"'],
    [
      'timeout: 0',
      'c4c.config.ts: timeout must be a positive integer, got 0 (milliseconds per handler, e.g. 30000)',
    ],
    ['handlers: 42', 'c4c.config.ts: handlers must be a folder path such as "./handlers", got 42'],
    [
      "platform: { url: 'ftp://x' }",
      'c4c.config.ts: platform.url must be an http(s) URL such as "https://api.claw4claw.bianjie.ai", got "ftp://x"',
    ],
    [
      "logLevel: 'loud'",
      'c4c.config.ts: logLevel must be one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    ],
    ['ack: 1', 'c4c.config.ts: ack must be true or false, got 1'],
    [
      'reconnect: { initialDelay: 5000, maxDelay: 1000 }',
      'c4c.config.ts: reconnect.maxDelay must be at least reconnect.initialDelay, got 1000',
    ],
    [
      'heartbeat: { interval: 60000, timeout: 30000 }',
      'c4c.config.ts: heartbeat.timeout must be longer than heartbeat.interval, got 30000 (a pong needs time to arrive)',
    ],
    [
      'timeout: 2 ** 31',
      'c4c.config.ts: timeout must be at most 2147483647 ms, got 2147483648 (about 24 days; the longest timer Node can hold)',
    ],
    [
      "platform: 'http://x'",
      'c4c.config.ts: platform must be an object such as { url: "https://…", token: process.env.C4C_API_TOKEN }, got "http://x"',
    ],
    [
      'heartbeat: 5',
      'c4c.config.ts: heartbeat must be an object such as { interval: 30000, timeout: 60000 }, got 5',
    ],
    ['drainTimeout: -5', 'c4c.config.ts: drainTimeout must be a number of milliseconds >= 0, got -5'],
  ])('%s', async (body, expected) => {
    const p = await project({ 'c4c.config.ts': `export default { ${body} };` });
    expect(await configError(loadConfig(clean(p)))).toContain(expected);
  });

  it('lists every problem, one line each', async () => {
    const p = await project({ 'c4c.config.ts': `export default { concurrency: 0, timeout: -1 };` });
    const lines = (await configError(loadConfig(clean(p)))).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^c4c\.config\.ts: concurrency /);
    expect(lines[1]).toMatch(/^c4c\.config\.ts: timeout /);
  });

  it('suggests the key an unknown one was meant to be, at any depth', async () => {
    const p = await project({
      'c4c.config.ts': `export default { concurency: 4, platform: { tokn: 'x' }, heartbeat: { intervall: 1 } };`,
    });
    const message = await configError(loadConfig(clean(p)));
    expect(message).toContain('c4c.config.ts: unknown key "concurency"; did you mean "concurrency"?');
    expect(message).toContain('c4c.config.ts: unknown key "platform.tokn"; did you mean "platform.token"?');
    expect(message).toContain(
      'c4c.config.ts: unknown key "heartbeat.intervall"; did you mean "heartbeat.interval"?',
    );
  });

  it('lists the known keys when nothing is close', async () => {
    const p = await project({ '.c4crc.json': '{ "zzzzzzzz": 1 }' });
    const message = await configError(loadConfig(clean(p)));
    expect(message).toMatch(
      /^\.c4crc\.json: unknown key "zzzzzzzz"; known keys: handlers, platform, concurrency, workers, timeout/,
    );
  });

  it('names the package.json "c4c" key', async () => {
    const p = await project({ 'package.json': '{ "c4c": { "concurrency": -2 } }' });
    expect(await configError(loadConfig(clean(p)))).toContain(
      'package.json ("c4c" key): concurrency must be a positive integer, got -2',
    );
  });

  it('refuses a config that is not an object', async () => {
    const p = await project({ 'c4c.config.mjs': 'export default "fast";' });
    expect(await configError(loadConfig(clean(p)))).toBe(
      'c4c.config.mjs: must export a config object (export default defineConfig({ … })), got "fast"',
    );
  });

  it('names the file when it does not even load', async () => {
    const p = await project({ 'c4c.config.ts': 'export default { concurrency: 4 ' });
    expect(await configError(loadConfig(clean(p)))).toMatch(
      /^c4c\.config\.ts: could not be loaded: .+; fix the file and try again/,
    );
  });

  it('never echoes a token back, even a malformed one', async () => {
    const p = await project({
      'c4c.config.ts': `export default { platform: { token: ['cl_secret_value'] } };`,
    });
    const message = await configError(loadConfig(clean(p)));
    expect(message).toContain(
      'c4c.config.ts: platform.token must be a string, got an array (your agent token, cl_…)',
    );
    expect(message).not.toContain('cl_secret_value');
  });
});

describe('loadConfig: token and URL sources', () => {
  async function withHome(p: Project, json: unknown) {
    await mkdir(join(p.dir, 'home', '.c4c'), { recursive: true });
    await writeFile(
      join(p.dir, 'home', '.c4c', 'config.json'),
      typeof json === 'string' ? json : JSON.stringify(json),
    );
  }

  it("reads ~/.c4c/config.json (api_token, api_endpoint), the public client's file, honouring HOME", async () => {
    const p = await project();
    await withHome(p, { api_token: 'cl_home', api_endpoint: 'http://home.example:1', output: 'json' });
    const config = await loadConfig({ cwd: p.dir, env: { HOME: join(p.dir, 'home') } });
    expect(config.platform).toMatchObject({
      token: 'cl_home',
      url: 'http://home.example:1',
      wsUrl: 'ws://home.example:1/ws',
      sources: { token: 'home', url: 'home' },
    });
  });

  it('config file beats ~/.c4c/config.json', async () => {
    const p = await project({
      'c4c.config.ts': `export default { platform: { url: 'http://file.example', token: 'cl_file' } };`,
    });
    await withHome(p, { api_token: 'cl_home', api_endpoint: 'http://home.example' });
    const config = await loadConfig(clean(p));
    expect(config.platform).toMatchObject({
      token: 'cl_file',
      url: 'http://file.example',
      sources: { token: 'config', url: 'config' },
    });
  });

  it('env beats the config file (the deployment overrides the committed default)', async () => {
    const p = await project({
      'c4c.config.ts': `export default { platform: { url: 'http://file.example', token: 'cl_file' } };`,
    });
    await withHome(p, { api_token: 'cl_home' });
    const config = await loadConfig(
      clean(p, { C4C_API_TOKEN: 'cl_env', C4C_API_ENDPOINT: 'https://env.example' }),
    );
    expect(config.platform).toMatchObject({
      token: 'cl_env',
      url: 'https://env.example',
      wsUrl: 'wss://env.example/ws',
      sources: { token: 'env', url: 'env' },
    });
  });

  it('ignores empty env values', async () => {
    const p = await project({ 'c4c.config.ts': `export default { platform: { token: 'cl_file' } };` });
    const config = await loadConfig(clean(p, { C4C_API_TOKEN: '  ', C4C_API_ENDPOINT: '' }));
    expect(config.platform.sources).toEqual({ token: 'config', url: 'default' });
  });

  it('says which env var is not a URL', async () => {
    const p = await project();
    expect(await configError(loadConfig(clean(p, { C4C_API_ENDPOINT: 'localhost:7420' })))).toBe(
      'env C4C_API_ENDPOINT must be an http(s) URL such as "https://api.claw4claw.bianjie.ai", got "localhost:7420"',
    );
  });

  it('names ~/.c4c/config.json when it is not JSON, or its endpoint is bad', async () => {
    const p = await project();
    await withHome(p, '{ nope');
    expect(await configError(loadConfig(clean(p)))).toMatch(
      /home\/\.c4c\/config\.json: is not valid JSON .*; fix it or remove it/,
    );
    await withHome(p, { api_endpoint: 'nope' });
    expect(await configError(loadConfig(clean(p)))).toMatch(
      /config\.json: api_endpoint must be an http\(s\) URL .*got "nope"/,
    );
  });
});
