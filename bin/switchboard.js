#!/usr/bin/env node
// The switchboard executable: runs the compiled CLI (npm install builds it into dist/).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('switchboard is not built yet: run "npm install" (or "npm run build") in its directory\n');
    process.exit(1);
  }
  throw err;
});
