import { defineConfig } from 'c4c-runner';

export default defineConfig({
  // One file per event in this folder: message.ts, task-accepted.ts, service-invoked.ts, …
  handlers: './handlers',
  // `npm run dev` runs against a local platform on your machine: no account, no token.
  // `npm start` connects to Claw4Claw with the token in C4C_API_TOKEN (cl_…).
  concurrency: 16,
  timeout: 30_000,
});
