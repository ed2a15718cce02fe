/**
 * Which modules a child process loads: a preloaded hook records every module it resolves (ESM) or
 * requires (CJS), so a test can prove `start` and `--help` never load what only `dev` needs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Modules only `dev` may load: the watcher, the pretty printer, the embedded platform, dev mode
 * (in dist/bundle/, the CLI's files, they are the dev-*.js chunk; scripts/bundle.mjs).
 */
export const DEV_ONLY =
  /node_modules\/(chokidar|pino-pretty)\/|\/dist\/(platform|dev)\/|\/dist\/bundle\/dev-[^/]*\.js$/;

/** Records every module the child resolves (ESM) or requires (CJS), through a preloaded hook. */
export async function moduleRecorder(p: {
  dir: string;
  write(path: string, content: string): Promise<string>;
}): Promise<{ env: NodeJS.ProcessEnv; modules: () => Promise<string[]> }> {
  const log = join(p.dir, 'modules.log');
  await writeFile(log, '');
  await p.write(
    'hooks.mjs',
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.C4C_MODULE_LOG, result.url + '\\n');
  return result;
}`,
  );
  const register = await p.write(
    'register.mjs',
    `import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';
register('./hooks.mjs', import.meta.url);
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try { appendFileSync(process.env.C4C_MODULE_LOG, Module._resolveFilename(request, parent, isMain) + '\\n'); } catch {}
  return load.apply(this, arguments);
};`,
  );
  return {
    env: { C4C_MODULE_LOG: log, NODE_OPTIONS: `--import=${register}` },
    modules: async () => (await readFile(log, 'utf8')).split('\n').filter(Boolean),
  };
}
