// Owns the typed, validated policy model that parsePolicy produces and compilePolicy reads.
// Field names follow the policy file; aliases are already classified (see alias.ts).

import type { PortRange } from '../tailcfg/types.js';
import type { Prefix } from './ip.js';

export type AutogroupName = 'internet' | 'member' | 'nonroot' | 'tagged' | 'self' | 'danger-all';
export const AUTOGROUPS: readonly AutogroupName[] = ['internet', 'member', 'nonroot', 'tagged', 'self', 'danger-all'];

export type Alias =
  | { kind: 'prefix'; text: string; prefix: Prefix }
  | { kind: 'wildcard'; text: '*' }
  | { kind: 'user'; text: string }
  | { kind: 'group'; text: string }
  | { kind: 'tag'; text: string }
  | { kind: 'autogroup'; text: string; name: AutogroupName }
  | { kind: 'host'; text: string };

/** One network capability: protocol numbers (undefined = client default) and port ranges. */
export interface IPCap {
  proto: number[] | undefined;
  ports: PortRange[];
}

export interface AclRule {
  src: Alias[];
  /** One entry per `dst` string: the selector and its ports. */
  dst: Array<{ alias: Alias; ports: PortRange[] }>;
  proto: number[] | undefined;
}

export interface Grant {
  src: Alias[];
  dst: Alias[];
  ip: IPCap[];
  app: Record<string, unknown[]> | null;
  via: string[];
}

export interface SshRule {
  action: 'accept' | 'check';
  src: Alias[];
  dst: Alias[];
  users: string[];
  /** Nanoseconds; undefined when not given; 0 for "always". */
  checkPeriod: number | undefined;
  acceptEnv: string[] | undefined;
}

export interface PolicyTest {
  src: string;
  proto: number | undefined;
  accept: string[];
  deny: string[];
}

export interface SshTest {
  src: string;
  dst: string[];
  accept: string[];
  check: string[];
  deny: string[];
}

export interface NodeAttr {
  target: Alias[];
  attr: string[];
}

export interface Policy {
  groups: Map<string, string[]>;
  hosts: Map<string, Prefix>;
  tagOwners: Map<string, Alias[]>;
  /** null when the section is absent (absent acls and grants together mean allow-all). */
  acls: AclRule[] | null;
  grants: Grant[] | null;
  ssh: SshRule[] | null;
  autoApprovers: { routes: Array<{ prefix: Prefix; approvers: Alias[] }>; exitNode: Alias[] };
  nodeAttrs: NodeAttr[];
  tests: PolicyTest[];
  sshTests: SshTest[];
  randomizeClientPort: boolean;
}
