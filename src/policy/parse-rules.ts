// Owns reading the network rule sections: `acls` entries (action, src, proto, dst host:ports)
// and `grants` entries (src, dst, ip, app, via), with their own validation texts.

import { AliasError, checkProtoPorts, isTailscaleCapAllowed, parseAlias, parseIPCap, parsePorts, parseProto, splitHostPort } from './alias.js';
import type { AclRule, Alias, Grant } from './model.js';
import { type AliasFn, type Obj, type Reader } from './reader.js';

export function readAcl(r: Reader, v: unknown, i: number, alias: AliasFn): AclRule | null {
  const f = r.fields(v, ['action', 'src', 'dst', 'proto'], `acls[${i}]`, true);
  if (!f) return null;
  const action = f.get('action');
  if (action !== 'accept') {
    r.err('ERR_POLICY_INVALID', `action=${JSON.stringify(typeof action === 'string' ? action : '')} is not supported`, f.obj, f.has('action') ? r.keyOf(f.obj, 'action') : undefined);
  }
  const srcRaw = f.get('src');
  const src = r.strings(srcRaw, f.obj, r.keyOf(f.obj, 'src'), 'src').map((s, j) => alias(s, srcRaw, j, 'acl-src')).filter((a): a is Alias => a !== null);
  let proto: number[] | undefined;
  const protoText = r.string(f.get('proto'), f.obj, r.keyOf(f.obj, 'proto'), 'proto') ?? '';
  try {
    proto = parseProto(protoText);
  } catch (e) {
    r.err('ERR_POLICY_PROTO', (e as Error).message, f.obj, r.keyOf(f.obj, 'proto'));
  }
  const dstRaw = f.get('dst');
  const dst: AclRule['dst'] = [];
  r.strings(dstRaw, f.obj, r.keyOf(f.obj, 'dst'), 'dst').forEach((d, j) => {
    try {
      const { host, ports: portText } = splitHostPort(d);
      let a: Alias;
      try {
        a = parseAlias(host);
      } catch (e) {
        throw new AliasError(`dst=${JSON.stringify(d)}: ${(e as Error).message}`);
      }
      let ports;
      try {
        ports = parsePorts(portText);
        checkProtoPorts(protoText, proto, ports);
      } catch (e) {
        throw new AliasError(`dst=${JSON.stringify(d)}: ${(e as Error).message}`);
      }
      dst.push({ alias: a, ports });
      alias(host, dstRaw, j, 'acl-dst');
    } catch (e) {
      r.err('ERR_POLICY_PORTS', (e as Error).message.startsWith('dst=') ? (e as Error).message : `dst=${JSON.stringify(d)}: ${(e as Error).message}`, dstRaw, j);
    }
  });
  return { src, dst, proto };
}

export function readGrant(r: Reader, v: unknown, i: number, alias: AliasFn): Grant | null {
  const f = r.fields(v, ['src', 'dst', 'ip', 'app', 'via'], `grants[${i}]`);
  if (!f) return null;
  const srcRaw = f.get('src');
  const dstRaw = f.get('dst');
  const src = r.strings(srcRaw, f.obj, r.keyOf(f.obj, 'src'), 'src').map((s, j) => alias(s, srcRaw, j, 'acl-src')).filter((a): a is Alias => a !== null);
  const dst = r.strings(dstRaw, f.obj, r.keyOf(f.obj, 'dst'), 'dst').map((s, j) => alias(s, dstRaw, j)).filter((a): a is Alias => a !== null);
  const ipRaw = f.get('ip');
  let ipErrors = 0;
  const ip = r.strings(ipRaw, f.obj, r.keyOf(f.obj, 'ip'), 'ip').flatMap((s, j) => {
    try {
      return [parseIPCap(s)];
    } catch (e) {
      ipErrors++;
      r.err('ERR_POLICY_PORTS', (e as Error).message, ipRaw, j);
      return [];
    }
  });
  let app: Record<string, unknown[]> | null = null;
  const appRaw = f.get('app');
  if (appRaw !== undefined && appRaw !== null) {
    if (typeof appRaw !== 'object' || Array.isArray(appRaw)) {
      r.err('ERR_POLICY_INVALID', 'app: expected an object', f.obj, r.keyOf(f.obj, 'app'));
    } else {
      app = {};
      for (const [name, val] of Object.entries(appRaw as Obj)) {
        if (name.includes('://') || !/^[^/]+\.[^/]+\/.+/.test(name)) r.err('ERR_POLICY_INVALID', 'capability name must have the form {domain}/{path}', appRaw, name);
        else if (name.startsWith('tailscale.com/') && !isTailscaleCapAllowed(name)) r.err('ERR_POLICY_INVALID', 'capability name must not be in the tailscale.com domain', appRaw, name);
        else if (!Array.isArray(val)) r.err('ERR_POLICY_INVALID', `app[${JSON.stringify(name)}]: expected an array`, appRaw, name);
        else app[name] = val;
      }
    }
  }
  if (ip.length === 0 && ipErrors === 0 && (app === null || Object.keys(app).length === 0)) {
    r.err('ERR_POLICY_INVALID', 'ip and app can not both be empty', v);
  }
  const viaRaw = f.get('via');
  const via: string[] = [];
  r.strings(viaRaw, f.obj, r.keyOf(f.obj, 'via'), 'via').forEach((s, j) => {
    const t = s.trim();
    if (!t.startsWith('tag:')) r.err('ERR_POLICY_INVALID', 'via can only be a tag', viaRaw, j);
    else via.push(t);
  });
  for (const [j, d] of dst.entries()) {
    if (app && d.kind === 'autogroup' && d.name === 'internet') r.err('ERR_POLICY_INVALID', 'cannot use app grants with autogroup:internet', dstRaw, j);
    if (d.kind === 'prefix' && d.prefix.bits === 0) r.err('ERR_POLICY_INVALID', `dst ${JSON.stringify(d.text)}: to allow all IP addresses, use "*" or "autogroup:internet"`, dstRaw, j);
  }
  checkSelf(r, src, dst.some((d) => d.kind === 'autogroup' && d.name === 'self'), false, f.obj);
  return { src, dst, ip, app, via };
}

/** Sources allowed with an autogroup:self destination (grants also reject `*`). */
export function checkSelf(r: Reader, src: Alias[], hasSelf: boolean, allowWildcard: boolean, where: unknown): void {
  if (!hasSelf) return;
  const ok = src.every((s) => s.kind === 'user' || s.kind === 'group' || (s.kind === 'autogroup' && s.name === 'member') || (allowWildcard && s.kind === 'wildcard'));
  if (!ok) r.err('ERR_POLICY_INVALID', 'autogroup:self can only be used with users, groups, or supported autogroups', where);
}

