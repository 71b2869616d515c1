// The DERP map clients receive: the embedded region (when `derp.server.enabled` and
// `automatically_add_embedded_derp_region`) merged with regions from `derp.paths` files. The
// embedded region wins on an ID collision. A self-signed certificate is pinned with
// CertName "sha256-raw:<hex>" so unmodified clients accept it.

import fs from 'node:fs';
import { parse } from 'yaml';
import type { DERPMap, DERPNode, DERPRegion } from '../tailcfg/types.js';
import { SwitchboardError, describeError } from '../lib/errors.js';

export interface EmbeddedRegion {
  regionId: number;
  regionCode: string;
  regionName: string;
  hostName: string;
  ipv4: string;
  ipv6: string;
  derpPort: number;
  stunPort: number;
  /** "sha256-raw:<hex>" for a self-signed certificate; undefined for a CA-issued one. */
  certName: string | undefined;
}

export function embeddedRegion(e: EmbeddedRegion): DERPRegion {
  const node: DERPNode = {
    Name: `${e.regionId}a`,
    RegionID: e.regionId,
    HostName: e.hostName,
    DERPPort: e.derpPort,
    STUNPort: e.stunPort > 0 ? e.stunPort : -1,
  };
  if (e.ipv4) node.IPv4 = e.ipv4;
  if (e.ipv6) node.IPv6 = e.ipv6;
  if (e.certName) node.CertName = e.certName;
  return { RegionID: e.regionId, RegionCode: e.regionCode, RegionName: e.regionName, Nodes: [node] };
}

/** Reads a derp.paths file (YAML or JSON; keys case-insensitive); a null region removes it. */
export function readDerpFile(path: string): Record<string, DERPRegion | null> {
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    throw new SwitchboardError('ERR_CONFIG_INVALID', `cannot read DERP map ${path}: ${describeError(err)}`, { cause: err });
  }
  const regions = (lowerKeys(doc) as { regions?: Record<string, unknown> } | null)?.regions;
  if (!regions || typeof regions !== 'object') throw new SwitchboardError('ERR_CONFIG_INVALID', `DERP map ${path} has no "regions"`);
  const out: Record<string, DERPRegion | null> = {};
  for (const [id, r] of Object.entries(regions)) out[id] = r === null ? null : toRegion(r as Record<string, unknown>, path, id);
  return out;
}

function lowerKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(lowerKeys);
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.toLowerCase(), lowerKeys(x)]));
}

function toRegion(r: Record<string, unknown>, path: string, id: string): DERPRegion {
  const regionId = Number(r.regionid ?? id);
  if (!Number.isInteger(regionId) || regionId <= 0) throw new SwitchboardError('ERR_CONFIG_INVALID', `DERP map ${path}: region ${id} has no valid regionid`);
  const nodes = Array.isArray(r.nodes) ? (r.nodes as Array<Record<string, unknown>>) : [];
  return {
    RegionID: regionId,
    RegionCode: String(r.regioncode ?? ''),
    RegionName: String(r.regionname ?? ''),
    Nodes: nodes.map((n) => {
      const node: DERPNode = { Name: String(n.name ?? ''), RegionID: Number(n.regionid ?? regionId), HostName: String(n.hostname ?? '') };
      if (n.ipv4 !== undefined) node.IPv4 = String(n.ipv4);
      if (n.ipv6 !== undefined) node.IPv6 = String(n.ipv6);
      if (n.stunport !== undefined) node.STUNPort = Number(n.stunport);
      if (n.stunonly !== undefined) node.STUNOnly = Boolean(n.stunonly);
      if (n.derpport !== undefined) node.DERPPort = Number(n.derpport);
      if (n.certname !== undefined) node.CertName = String(n.certname);
      if (n.insecurefortests !== undefined) node.InsecureForTests = Boolean(n.insecurefortests);
      return node;
    }),
  };
}

/** Merges sources in order; later ones override earlier regions, the embedded region last. */
export function mergeDerpMaps(sources: Array<Record<string, DERPRegion | null>>, embedded: DERPRegion | undefined): DERPMap {
  const regions: Record<string, DERPRegion> = {};
  for (const src of sources) {
    for (const [id, r] of Object.entries(src)) {
      if (r === null) delete regions[id];
      else regions[String(r.RegionID)] = r;
    }
  }
  if (embedded) regions[String(embedded.RegionID)] = embedded;
  return { Regions: regions };
}
