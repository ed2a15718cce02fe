import { defineConfig } from 'c4c-runner';

export default defineConfig({
  handlers: './handlers',
  // Conversions are cheap: many may run at once. Each gets 10 s unless its handler says otherwise.
  concurrency: 32,
  timeout: 10_000,
});
