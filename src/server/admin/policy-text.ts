// Where the access policy text lives, as GetPolicy returns it: policy.mode database: the newest
// `policies` row; file mode: the file at policy.path, as written. Validation is the engine's
// (src/state/policy-manager.ts).

import fs from 'node:fs';
import { Code, ConnectError } from '@connectrpc/connect';
import { SwitchboardError } from '../../lib/errors.js';

export interface PolicySource {
  mode: 'file' | 'database';
  /** policy.path, used in file mode. */
  path: string;
}

/** The policy text in force, with when it was stored (database mode only). */
export async function readPolicy(
  source: PolicySource,
  latest: () => Promise<{ data: string; updatedAt: Date } | undefined>,
): Promise<{ policy: string; updatedAt?: Date }> {
  if (source.mode === 'database') {
    const row = await latest();
    if (!row) throw new ConnectError('no policy has been stored in the database yet', Code.NotFound);
    return { policy: row.data, updatedAt: row.updatedAt };
  }
  if (!source.path) {
    throw new SwitchboardError('ERR_ARGUMENT', 'no policy file is configured (policy.path is empty)');
  }
  try {
    return { policy: fs.readFileSync(source.path, 'utf8') };
  } catch (err) {
    throw new SwitchboardError('ERR_ARGUMENT', `reading policy from path "${source.path}": ${(err as NodeJS.ErrnoException).code ?? 'failed'}`);
  }
}
