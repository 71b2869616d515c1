// The running build's version, read once from package.json (one directory above both src/ and
// dist/), and the details `switchboard version` and GET /version report.

import fs from 'node:fs';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION: string = pkg.version;

export interface VersionInfo {
  version: string;
  commit: string;
  buildTime: string;
  node: { version: string; os: string; arch: string };
  dirty: boolean;
}

export function versionInfo(): VersionInfo {
  return {
    version: VERSION,
    commit: process.env.SWITCHBOARD_COMMIT ?? 'unknown',
    buildTime: process.env.SWITCHBOARD_BUILD_TIME ?? 'unknown',
    node: { version: process.version, os: process.platform, arch: process.arch },
    dirty: false,
  };
}
