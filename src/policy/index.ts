// The policy engine's face: parse (HuJSON → validated Policy), compile against a topology,
// and per-node views. Pure functions; callers do the I/O.

export { PolicyError, type PolicyErrorCode } from './errors.js';
export { parseHuJSON, type HuJSONDocument } from './hujson.js';
export { parsePolicy } from './parse.js';
export type { Policy, Alias, Grant, AclRule, SshRule, PolicyTest, SshTest, NodeAttr, IPCap } from './model.js';
export { compilePolicy, CompiledPolicy, FILTER_ALLOW_ALL, type CompileOptions } from './compiled.js';
export type { PolicyUser, PolicyNode, Topology } from './topology.js';
export type { SSHPolicy, SSHRule, SSHPrincipal, SSHAction, NodeCapMap } from './wire.js';
export type { TestFailure } from './policy-tests.js';
export { compileForTopology, topologyFromJson } from './compile-command.js';
export { tagsNotOwned, type TagUser } from './tag-owners.js';
