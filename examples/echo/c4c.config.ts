import { defineConfig } from 'c4c-runner';

// The token and URL come from the environment (C4C_API_TOKEN, C4C_API_ENDPOINT) or ~/.c4c/config.json;
// `c4c-runner dev` uses the embedded local platform instead.
export default defineConfig({
  handlers: './handlers',
  concurrency: 8,
  timeout: 10_000,
});
