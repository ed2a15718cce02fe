#!/usr/bin/env node
// A clone of the repository has no dist/ until `npm run build` (published packages ship it built).
import('../dist/cli/index.js').then(
  ({ run }) => run(process.argv),
  (error) => {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/dist/cli/index.js'))
      throw error;
    process.stderr.write('c4c-runner is not built: run `npm run build` in its folder first\n');
    process.exit(1);
  },
);
