// /machine/register semantics: who a registering machine is and what it may become.
// The machine key comes from the Noise handshake and is trusted; everything in the request body
// is checked against it. Scenarios (after headscale's auth.go, in our own code): refresh after a
// daemon restart (changes nothing), logout (expiry in the past), pre-auth key, key rotation
// (OldNodeKey), interactive login approved by an admin (AuthURL + Followup).

import type { Node } from '../domain/node.js';
import type { PreAuthKey } from '../domain/auth-keys.js';
import { hostnameToLabel } from '../domain/names.js';
import { normalizeTags } from '../domain/tags.js';
import { isExpired } from '../domain/node.js';
import { SwitchboardError, isSwitchboardError } from '../lib/errors.js';
import { parseKey } from '../crypto/keys.js';
import { GO_ZERO_TIME, MIN_CAPABILITY_VERSION, type Hostinfo, type RegisterRequest, type RegisterResponse } from '../tailcfg/types.js';
import type { NodeService } from './nodes.js';
import type { UserService } from './users.js';
import type { PreAuthKeyService } from './preauth-keys.js';
import type { IpAllocator } from './ip-allocator.js';
import { PendingRegistrations, isAuthId } from './pending-registrations.js';
import { registerIdentity } from './identity.js';
import type { Store } from '../store/index.js';

export interface RegistrationOptions {
  serverUrl: string;
  /** Default key expiry for user-owned nodes, ms; 0 = never. */
  nodeExpiryMs: number;
  /** Of the tags a user's node asks for (--advertise-tags), those the policy does not let it have. */
  tagsNotOwned: (userId: number, tags: readonly string[]) => string[];
}

/** A refusal the control server answers with an HTTP status instead of a RegisterResponse. */
export class RegisterHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parseTime(text: string | undefined): Date | null {
  if (!text || text === GO_ZERO_TIME) return null;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) || d.getTime() <= -62135596800000 ? null : d;
}

export class Registration {
  readonly pending = new PendingRegistrations();
  readonly #store: Store;
  readonly #nodes: NodeService;
  readonly #users: UserService;
  readonly #keys: PreAuthKeyService;
  readonly #ips: IpAllocator;
  readonly #opts: RegistrationOptions;

  constructor(store: Store, nodes: NodeService, users: UserService, keys: PreAuthKeyService, ips: IpAllocator, opts: RegistrationOptions) {
    this.#store = store;
    this.#nodes = nodes;
    this.#users = users;
    this.#keys = keys;
    this.#ips = ips;
    this.#opts = opts;
  }

  async register(machineKey: string, req: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    if (!Number.isInteger(req.Version) || req.Version < MIN_CAPABILITY_VERSION) {
      throw new RegisterHttpError(400, `unsupported client version: capability version ${Number(req.Version) || 0} is older than ${MIN_CAPABILITY_VERSION} (Tailscale v1.80); please upgrade the client`);
    }
    if (!parseKey('nodekey', String(req.NodeKey))) throw new RegisterHttpError(400, 'invalid node key');
    const expiry = parseTime(req.Expiry);
    const now = new Date();
    const existing = this.#nodes.findByNodeKey(req.NodeKey);

    if (existing && existing.machineKey !== machineKey) {
      return this.#error('node exists with a different machine key');
    }
    if (existing && expiry && expiry <= now) return this.#logout(existing, now);

    const authKey = req.Auth?.AuthKey;
    if (authKey) return this.#withAuthKey(machineKey, req, authKey, expiry, existing);

    if (existing) {
      if (isExpired(existing, now)) return this.#respond(existing, { NodeKeyExpired: true, MachineAuthorized: false });
      return this.#respond(existing); // restart or refresh: change nothing
    }

    const old = this.#rotationSource(machineKey, req.OldNodeKey);
    if (old && !isExpired(old, now)) {
      const rotated = await this.#nodes.update(old.id, { nodeKey: req.NodeKey, hostinfo: req.Hostinfo ?? old.hostinfo });
      return this.#respond(rotated);
    }

    if (req.Followup) return this.#followup(machineKey, req, signal);

    const pending = this.pending.add({
      machineKey,
      nodeKey: req.NodeKey,
      oldNodeKey: old ? old.nodeKey : null,
      hostinfo: req.Hostinfo ?? null,
      expiry,
      ephemeral: req.Ephemeral === true,
    });
    return { ...emptyResponse(), AuthURL: this.authUrl(pending.authId) };
  }

  authUrl(authId: string): string {
    return `${this.#opts.serverUrl.replace(/\/+$/, '')}/register/${authId}`;
  }

  /** The admin approved an interactive login: create (or re-key) the node for this user. */
  async approve(authId: string, userNameOrId: string): Promise<Node> {
    if (!isAuthId(authId)) throw new SwitchboardError('ERR_ARGUMENT', 'invalid auth ID: expected hskey-authreq- followed by 24 letters and digits');
    const pending = this.pending.get(authId);
    if (!pending) throw new SwitchboardError('ERR_ARGUMENT', `no pending registration with auth ID ${authId} (it may have expired)`);
    const user = this.#users.resolve(userNameOrId);
    let owner: { userId: number | null; tags: string[] };
    try {
      owner = this.#userIdentity(user.id, pending.hostinfo);
    } catch (err) {
      this.pending.complete(authId, { rejected: (err as Error).message });
      throw err;
    }
    const old = this.#rotationSource(pending.machineKey, pending.oldNodeKey ?? undefined);
    let node: Node;
    if (old) {
      node = await this.#nodes.update(old.id, {
        nodeKey: pending.nodeKey,
        ...owner,
        expiry: this.#expiryFor(pending.expiry, owner.tags.length > 0),
        hostinfo: pending.hostinfo ?? old.hostinfo,
        registerMethod: 'cli',
      });
    } else {
      node = await this.#create({
        machineKey: pending.machineKey,
        nodeKey: pending.nodeKey,
        hostinfo: pending.hostinfo,
        ...owner,
        authKeyId: null,
        registerMethod: 'cli',
        expiry: this.#expiryFor(pending.expiry, owner.tags.length > 0),
        ephemeral: pending.ephemeral,
      });
    }
    this.pending.complete(authId, { nodeId: node.id });
    return node;
  }

  /** The admin refused an interactive login: the waiting client is told so. */
  reject(authId: string): void {
    if (!isAuthId(authId)) throw new SwitchboardError('ERR_ARGUMENT', 'invalid auth ID: expected hskey-authreq- followed by 24 letters and digits');
    if (!this.pending.get(authId)) throw new SwitchboardError('ERR_ARGUMENT', `no pending registration with auth ID ${authId} (it may have expired)`);
    this.pending.complete(authId, { rejected: 'the login was rejected by an administrator' });
  }

  async #followup(machineKey: string, req: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    const authId = String(req.Followup).split('/').pop() ?? '';
    const pending = isAuthId(authId) ? this.pending.get(authId) : undefined;
    if (pending && pending.machineKey !== machineKey) return this.#error('this login URL belongs to another machine');
    const outcome = pending ? await this.pending.wait(authId, signal) : undefined;
    if (!outcome) {
      // Unknown or expired: start over with a fresh URL rather than fail.
      if (signal?.aborted) throw new RegisterHttpError(499, 'client went away');
      return this.register(machineKey, { ...req, Followup: '' }, signal);
    }
    if ('rejected' in outcome) return this.#error(outcome.rejected);
    const node = this.#nodes.get(outcome.nodeId);
    if (!node) return this.#error('the registered node was deleted');
    return this.#respond(node);
  }

  async #withAuthKey(machineKey: string, req: RegisterRequest, presented: string, expiry: Date | null, existing: Node | undefined): Promise<RegisterResponse> {
    let key: PreAuthKey;
    try {
      key = await this.#keys.redeem(presented);
    } catch (err) {
      if (isSwitchboardError(err) && err.code.startsWith('ERR_AUTHKEY_')) return this.#error(err.message);
      throw err;
    }
    const target = existing ?? this.#rotationSource(machineKey, req.OldNodeKey);
    if (key.tags.length === 0 && key.userId === null) return this.#error('the pre-auth key has no user and no tags');
    let owner: { userId: number | null; tags: string[] };
    try {
      // A tagged key decides the tags; a user key's node may ask for tags its user owns.
      owner = key.tags.length > 0 ? { userId: null, tags: key.tags } : this.#userIdentity(key.userId as number, req.Hostinfo);
    } catch (err) {
      if (isSwitchboardError(err, 'ERR_NODE_INVALID_TAGS')) return this.#error(err.message);
      throw err;
    }
    const tagged = owner.tags.length > 0;
    const identity = { ...owner, authKeyId: key.id, registerMethod: 'authkey' as const };
    if (target) {
      const node = await this.#nodes.update(target.id, {
        ...identity,
        nodeKey: req.NodeKey,
        hostinfo: req.Hostinfo ?? target.hostinfo,
        expiry: this.#expiryFor(expiry, tagged),
      });
      return this.#respond(node);
    }
    const node = await this.#create({
      machineKey,
      nodeKey: req.NodeKey,
      hostinfo: req.Hostinfo ?? null,
      ...identity,
      expiry: this.#expiryFor(expiry, tagged),
      ephemeral: key.ephemeral,
    });
    return this.#respond(node);
  }

  async #logout(node: Node, now: Date): Promise<RegisterResponse> {
    if (this.#nodes.isEphemeral(node.id)) {
      await this.#nodes.delete(node.id);
      return { ...(this.#identity(node)), NodeKeyExpired: true, MachineAuthorized: false, AuthURL: '' };
    }
    const expired = await this.#nodes.expire(node.id, now);
    return this.#respond(expired, { NodeKeyExpired: true, MachineAuthorized: false });
  }

  /** The machine's node whose key the client says it is replacing. */
  #rotationSource(machineKey: string, oldNodeKey: string | undefined): Node | undefined {
    if (!oldNodeKey || !parseKey('nodekey', oldNodeKey) || /^nodekey:0{64}$/.test(oldNodeKey)) return undefined;
    const old = this.#nodes.findByNodeKey(oldNodeKey);
    return old && old.machineKey === machineKey ? old : undefined;
  }

  /**
   * A user's node asking for tags (Hostinfo.RequestTags) becomes a tagged node when the policy's
   * tagOwners let that user own every one of them; otherwise the registration is refused.
   */
  #userIdentity(userId: number, hostinfo: Hostinfo | null | undefined): { userId: number | null; tags: string[] } {
    const requested = Array.isArray(hostinfo?.RequestTags) ? hostinfo.RequestTags.filter((t): t is string => typeof t === 'string') : [];
    if (requested.length === 0) return { userId, tags: [] };
    const tags = normalizeTags(requested);
    const refused = this.#opts.tagsNotOwned(userId, tags);
    if (refused.length > 0) {
      throw new SwitchboardError('ERR_NODE_INVALID_TAGS', `requested tags [${refused.join(', ')}] are invalid or not permitted`);
    }
    return { userId: null, tags };
  }

  #expiryFor(requested: Date | null, tagged: boolean): Date | null {
    if (tagged) return null;
    if (requested && requested.getTime() > Date.now()) return requested;
    return this.#opts.nodeExpiryMs > 0 ? new Date(Date.now() + this.#opts.nodeExpiryMs) : null;
  }

  async #create(n: {
    machineKey: string;
    nodeKey: string;
    hostinfo: Hostinfo | null;
    userId: number | null;
    tags: string[];
    authKeyId: number | null;
    registerMethod: Node['registerMethod'];
    expiry: Date | null;
    ephemeral: boolean;
  }): Promise<Node> {
    const ips = this.#ips.allocate();
    const hostname = String(n.hostinfo?.Hostname ?? '').slice(0, 255);
    try {
      return await this.#nodes.add(
        {
          machineKey: n.machineKey,
          nodeKey: n.nodeKey,
          discoKey: '',
          endpoints: [],
          hostinfo: n.hostinfo,
          ...ips,
          hostname,
          givenName: hostnameToLabel(hostname),
          userId: n.userId,
          registerMethod: n.registerMethod,
          tags: n.tags,
          authKeyId: n.authKeyId,
          lastSeen: null,
          expiry: n.expiry,
          approvedRoutes: [],
        },
        { ephemeral: n.ephemeral },
      );
    } catch (err) {
      this.#ips.release(ips);
      throw err;
    }
  }

  #identity(node: Node): Pick<RegisterResponse, 'User' | 'Login'> {
    return registerIdentity(node, node.userId === null ? undefined : this.#users.get(node.userId));
  }

  #respond(node: Node, overrides: Partial<RegisterResponse> = {}): RegisterResponse {
    return { ...this.#identity(node), NodeKeyExpired: false, MachineAuthorized: true, AuthURL: '', ...overrides };
  }

  #error(message: string): RegisterResponse {
    return { ...emptyResponse(), Error: message };
  }
}

function emptyResponse(): RegisterResponse {
  return {
    User: { ID: 0, DisplayName: '', ProfilePicURL: '', Created: GO_ZERO_TIME },
    Login: { ID: 0, Provider: '', LoginName: '', DisplayName: '', ProfilePicURL: '' },
    NodeKeyExpired: false,
    MachineAuthorized: false,
    AuthURL: '',
  };
}
