#!/usr/bin/env node
// The switchboard executable: runs the compiled CLI, bundled into one file (npm install builds
// it: dist/switchboard.js, see scripts/bundle.mjs).
import('../dist/switchboard.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/switchboard.js')) {
    process.stderr.write('switchboard is not built yet: run "npm install" (or "npm run build") in its directory\n');
    process.exit(1);
  }
  throw err;
});
