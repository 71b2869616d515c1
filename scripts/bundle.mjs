// Bundles the compiled CLI (dist/cli/main.js and everything it imports, npm packages included)
// into one file, dist/switchboard.js, which bin/switchboard.js runs. Node 20 spends ~0.3 s
// resolving and compiling the ~200 separate modules at every start; one file takes ~0.1 s, so
// the server is back sooner after a restart and every CLI command answers sooner.
// Native packages stay outside (they load their .node binaries relative to themselves).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/switchboard.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'zstd-napi', 'pg-native'],
  // CommonJS packages inside an ES module bundle still call require() for node built-ins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
