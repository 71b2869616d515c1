// Owns the Tailscale SSH policy wire types (tailcfg.SSHPolicy and friends). Unlike
// FilterRule these JSON keys are lower camelCase, exactly as tailcfg writes them.

export interface SSHPrincipal {
  node?: string;
  nodeIP?: string;
  userLogin?: string;
  any?: boolean;
}

export interface SSHAction {
  message?: string;
  reject?: boolean;
  accept?: boolean;
  /** Nanoseconds. */
  sessionDuration?: number;
  allowAgentForwarding?: boolean;
  holdAndDelegate?: string;
  allowLocalPortForwarding?: boolean;
  allowRemotePortForwarding?: boolean;
  recorders?: string[];
  onRecordingFailure?: unknown;
}

export interface SSHRule {
  ruleExpires?: string;
  principals: SSHPrincipal[];
  sshUsers: Record<string, string>;
  action: SSHAction;
  acceptEnv?: string[];
}

export interface SSHPolicy {
  /** Go encodes a policy with no rules as `null`; we send `[]`, which clients treat the same. */
  rules: SSHRule[];
}

/** tailcfg.NodeCapMap: capability → values (null when the cap carries no data). */
export type NodeCapMap = Record<string, unknown[] | null>;
