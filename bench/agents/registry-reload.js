/**
 * Fallback for the hot-reload case when `c4c-runner dev` is not available: the runner through its
 * library API, with the least a dev mode must do on a save — fs.watch, registry.load(file),
 * registry.set(). Measures the reload path itself (no chokidar, no dev output).
 */
import process from 'node:process';
import { watch } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, createRunner } from 'c4c-runner';

const runner = createRunner(await loadConfig());
await runner.start();
const { registry } = runner;
let reloading = Promise.resolve();
watch(registry.dir, (_kind, name) => {
  if (!name || !registry.isHandlerFile(name)) return;
  const file = join(registry.dir, name);
  reloading = reloading.then(async () => {
    try {
      const entry = await registry.load(file);
      registry.set(entry.name, entry);
    } catch (error) {
      process.stderr.write(`reload failed: ${error.message}\n`);
    }
  });
});
process.once('SIGTERM', () => runner.close().then(() => process.exit(0)));
