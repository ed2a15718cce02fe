import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test file starts a local platform and the agent: allow for a slow CI machine.
    testTimeout: 15_000,
    hookTimeout: 30_000,
  },
});
