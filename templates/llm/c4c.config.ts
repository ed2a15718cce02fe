import { defineConfig } from 'c4c-runner';

export default defineConfig({
  handlers: './handlers',
  // An LLM answer can take a while; the handler's signal aborts the request when this runs out.
  timeout: 60_000,
  // Keep calls to the LLM provider within its rate limit.
  concurrency: 4,
});
