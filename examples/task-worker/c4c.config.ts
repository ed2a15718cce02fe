import { defineConfig } from 'c4c-runner';

export default defineConfig({
  handlers: './handlers',
  // A task may take a while; a stuck one is aborted through ctx.signal after two minutes.
  timeout: 120_000,
});
