import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm test` runs everything but test/slow/ (the soak and the packed-create test, which runs npm install);
// `npm run test:slow` runs those alone (C4C_TEST_SLOW=1). CI runs both.
const slow = process.env.C4C_TEST_SLOW === '1';

export default defineConfig({
  resolve: {
    alias: {
      'c4c-runner/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
      'c4c-runner/ops': fileURLToPath(new URL('./src/ops/index.ts', import.meta.url)),
      'c4c-runner': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: slow ? ['test/slow/**/*.test.ts'] : ['test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    exclude: slow ? [] : ['test/slow/**', '**/node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores on CI: the suite spawns child processes and real sockets.
    pool: 'forks',
    maxWorkers: 2,
  },
});
