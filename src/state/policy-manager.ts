// The access policy in force: its text (from `policy.path` in file mode, from the newest
// `policies` row in database mode), compiled against the current users and nodes. A new text is
// parsed, compiled and its tests run before it replaces the old one; a refused text changes
// nothing. The compiled form is rebuilt lazily after topology changes. No policy = allow all.

import fs from 'node:fs';
import type { Store } from '../store/index.js';
import { SwitchboardError, describeError } from '../lib/errors.js';
import { compilePolicy, parsePolicy, tagsNotOwned, type CompiledPolicy, type Policy, type Topology } from '../policy/index.js';
import { EXIT_V4, EXIT_V6, announcedRoutes, servedRoutes } from '../domain/routes.js';
import type { ChangeBus } from './change-bus.js';
import type { NodeService } from './nodes.js';
import type { UserService } from './users.js';
import type { RouteElection } from './route-election.js';

export interface PolicyOptions {
  mode: 'file' | 'database';
  path: string;
  serverUrl: string;
}

export class PolicyManager {
  readonly #store: Store;
  readonly #nodes: NodeService;
  readonly #users: UserService;
  readonly #changes: ChangeBus;
  readonly #opts: PolicyOptions;
  readonly #routes: RouteElection | undefined;
  #policy: Policy | null = null;
  #text = '';
  #compiled: CompiledPolicy | undefined;
  /** The last compiled form of the same policy: unaffected nodes' filters are reused from it. */
  #previous: CompiledPolicy | undefined;

  constructor(store: Store, nodes: NodeService, users: UserService, changes: ChangeBus, opts: PolicyOptions, routes?: RouteElection) {
    this.#store = store;
    this.#routes = routes;
    this.#nodes = nodes;
    this.#users = users;
    this.#changes = changes;
    this.#opts = opts;
    changes.subscribe((c) => {
      if (!this.#compiled || c.type === 'node-patched' || c.type === 'policy-changed') return;
      // a router coming or going can move via-steered routes (via grants prefer online routers)
      if (c.type === 'node-online' && !this.#isRouter(c.nodeId)) return;
      this.#previous = this.#compiled;
      this.#compiled = undefined;
    });
  }

  get mode(): 'file' | 'database' {
    return this.#opts.mode;
  }

  /** True when a policy is in force (false: allow all). */
  get active(): boolean {
    return this.#policy !== null;
  }

  get text(): string {
    return this.#text;
  }

  /** Loads the stored or file policy at start-up; an invalid one stops the server. */
  async load(): Promise<void> {
    const text = this.#opts.mode === 'database' ? ((await this.#store.policies.latest())?.data ?? '') : this.#readFile();
    this.#install(text, this.#check(text));
  }

  /** Re-reads the policy file (SIGHUP, file change). A refused file keeps the running policy. */
  reloadFile(): { ok: true } | { ok: false; error: string } {
    if (this.#opts.mode !== 'file') return { ok: true };
    try {
      const text = this.#readFile();
      if (text === this.#text) return { ok: true };
      this.#install(text, this.#check(text));
      this.#changes.publish({ type: 'policy-changed' });
      return { ok: true };
    } catch (err) {
      return { ok: false, error: describeError(err) };
    }
  }

  /** Validates a text against the live users and nodes, running its tests; throws when refused. */
  check(text: string): void {
    this.#check(text);
  }

  /** Database mode: stores and applies a new policy. */
  async set(text: string): Promise<{ data: string; updatedAt: Date }> {
    if (this.#opts.mode !== 'database') {
      throw new SwitchboardError('ERR_ARGUMENT', "update is disabled for modes other than 'database' (policy.mode is file)");
    }
    const policy = this.#check(text);
    const stored = await this.#store.policies.insert(text);
    this.#install(text, policy);
    this.#changes.publish({ type: 'policy-changed' });
    return stored;
  }

  /** The requested tags this user may not apply under the policy in force. */
  tagsNotOwned(userId: number, tags: readonly string[]): string[] {
    const user = this.#users.get(userId);
    return user ? tagsNotOwned(this.#policy, user, tags) : [...tags];
  }

  /** Tags the policy in force does not define (none are checked when there is no policy). */
  unknownTags(tags: readonly string[]): string[] {
    const policy = this.#policy;
    return policy ? tags.filter((t) => !policy.tagOwners.has(t)) : [];
  }

  /** The compiled policy for the current topology, or null when there is no policy. */
  compiled(): CompiledPolicy | null {
    if (!this.#policy) return null;
    this.#compiled ??= compilePolicy(this.#policy, this.topology(), {
      serverUrl: this.#opts.serverUrl,
      ...(this.#previous ? { previous: this.#previous } : {}),
    });
    return this.#compiled;
  }

  #isRouter(nodeId: number): boolean {
    const n = this.#nodes.get(nodeId);
    return !!n && servedRoutes(n.approvedRoutes, announcedRoutes(n.hostinfo)).some((r) => r !== EXIT_V4 && r !== EXIT_V6);
  }

  /**
   * Users and nodes as the policy sees them: every router's approved routes (all HA members
   * get the filter rules for them, as in SaaS), with the HA election's primaries and who is
   * online, so AllowedIPs and PrimaryRoutes show each route on the router that carries it for
   * that viewer (the primary, or a via grant's router). `asStored` leaves the election out.
   */
  topology(asStored = false): Topology {
    return {
      users: this.#users.list().map((u) => ({ id: u.id, name: u.name, email: u.email })),
      nodes: this.#nodes.list().map((n) => ({
        id: n.id,
        name: n.givenName,
        userId: n.userId,
        tags: n.tags,
        ipv4: n.ipv4,
        ipv6: n.ipv6,
        announcedRoutes: announcedRoutes(n.hostinfo),
        approvedRoutes: n.approvedRoutes,
        ...(asStored || !this.#routes ? {} : { primaryRoutes: this.#routes.primaryRoutes(n.id), online: this.#nodes.isOnline(n.id) }),
      })),
    };
  }

  #readFile(): string {
    if (!this.#opts.path) return '';
    try {
      return fs.readFileSync(this.#opts.path, 'utf8');
    } catch (err) {
      throw new SwitchboardError('ERR_POLICY_INVALID', `reading policy file ${this.#opts.path}: ${describeError(err)}`, { cause: err });
    }
  }

  #check(text: string): Policy | null {
    if (text.trim() === '') return null;
    try {
      const policy = parsePolicy(text);
      const failures = compilePolicy(policy, this.topology(), { serverUrl: this.#opts.serverUrl }).runTests();
      if (failures.length > 0) {
        throw new SwitchboardError('ERR_POLICY_INVALID', `policy tests failed:\n${failures.map((f) => `  ${f.kind} ${f.index + 1}: ${f.message}`).join('\n')}`);
      }
      return policy;
    } catch (err) {
      if (err instanceof SwitchboardError) throw err;
      throw new SwitchboardError('ERR_POLICY_INVALID', describeError(err), { cause: err });
    }
  }

  #install(text: string, policy: Policy | null): void {
    this.#text = text;
    this.#policy = policy;
    this.#compiled = undefined;
    this.#previous = undefined;
  }
}
