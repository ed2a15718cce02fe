import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      'c4c-runner/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
      'c4c-runner': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores on CI: the suite spawns child processes and real sockets.
    pool: 'forks',
    maxWorkers: 2,
  },
});
