// Stand-in for `c4c-runner start` while dist/cli/start.js does not exist: the library API, same config.
import process from 'node:process';
import { loadConfig, createRunner } from 'c4c-runner';
const runner = createRunner(await loadConfig());
await runner.start();
process.once('SIGTERM', () => runner.close().then(() => process.exit(0)));
