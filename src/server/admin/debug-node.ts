// DebugCreateNode: a made-up client login waiting for an admin, for tests and demos. It goes
// into the pending-registration cache under the auth ID the caller chose (with fresh random
// machine and node keys and the given routes announced), so `auth register --auth-id <key>`
// turns it into a real node. The answer echoes the node as it will look.

import { create } from '@bufbuild/protobuf';
import { NodeSchema, type Node as NodeMsg } from '../../gen/headscale/v1/node_pb.js';
import { formatKey, generatePrivateKey, publicKeyOf } from '../../crypto/keys.js';
import { SwitchboardError } from '../../lib/errors.js';
import { isAuthId } from '../../state/pending-registrations.js';
import type { State } from '../../state/index.js';
import { userToMsg } from './convert.js';
import { announcedRoutes, parseRoute } from '../../domain/routes.js';

export interface DebugNodeRequest {
  user: string;
  key: string;
  name: string;
  routes: string[];
}

export function debugCreateNode(state: State, req: DebugNodeRequest): NodeMsg {
  if (!req.user) throw new SwitchboardError('ERR_ARGUMENT', 'user is required');
  const user = state.users.resolve(req.user);
  if (!isAuthId(req.key)) {
    throw new SwitchboardError('ERR_ARGUMENT', 'invalid key: expected an auth ID, hskey-authreq- followed by 24 letters and digits');
  }
  if (!req.name) throw new SwitchboardError('ERR_ARGUMENT', 'name is required');
  for (const r of req.routes) {
    if (!parseRoute(r)) throw new SwitchboardError('ERR_ARGUMENT', `parsing route: "${r}" is not a CIDR prefix`);
  }
  const machineKey = formatKey('mkey', publicKeyOf(generatePrivateKey()));
  const nodeKey = formatKey('nodekey', publicKeyOf(generatePrivateKey()));
  const hostinfo = { Hostname: req.name, OS: 'TestOS', RoutableIPs: req.routes };
  state.registration.pending.add(
    { machineKey, nodeKey, oldNodeKey: null, hostinfo, expiry: null, ephemeral: false },
    req.key,
  );
  return create(NodeSchema, {
    machineKey,
    nodeKey,
    name: req.name,
    user: userToMsg(user),
    availableRoutes: announcedRoutes(hostinfo),
  });
}
