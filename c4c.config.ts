import { defineConfig } from 'c4c-runner';

// `npx c4c-runner dev` in a fresh clone runs the echo example against the embedded platform.
export default defineConfig({
  handlers: './examples/echo/handlers',
});
