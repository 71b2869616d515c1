// The JSON types Tailscale clients speak (package tailcfg), with field names and casing exactly
// as upstream. Only the fields Switchboard reads or writes are declared; unknown fields from
// clients are kept as they came (Hostinfo is stored and echoed whole).
// Delta rules (which zero values mean "unchanged") are in the comments of MapResponse.

export type NodeKeyText = string; // "nodekey:<hex>"
export type DiscoKeyText = string; // "discokey:<hex>"
export type MachineKeyText = string; // "mkey:<hex>"
export type Time = string; // RFC 3339; "0001-01-01T00:00:00Z" is Go's zero time

export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export interface NetInfo {
  PreferredDERP?: number;
  [key: string]: unknown;
}

export interface Service {
  Proto: string;
  Port: number;
  Description?: string;
}

export interface Hostinfo {
  Hostname?: string;
  OS?: string;
  OSVersion?: string;
  IPNVersion?: string;
  RoutableIPs?: string[];
  RequestTags?: string[];
  Services?: Service[];
  NetInfo?: NetInfo;
  [key: string]: unknown;
}

export interface RegisterRequest {
  Version: number;
  NodeKey: NodeKeyText;
  OldNodeKey?: NodeKeyText;
  Auth?: { AuthKey?: string } | null;
  Expiry?: Time;
  Followup?: string;
  Hostinfo?: Hostinfo | null;
  Ephemeral?: boolean;
}

export interface User {
  ID: number;
  DisplayName: string;
  ProfilePicURL: string;
  Created: Time;
}

export interface Login {
  ID: number;
  Provider: string;
  LoginName: string;
  DisplayName: string;
  ProfilePicURL: string;
}

export interface RegisterResponse {
  User: User;
  Login: Login;
  NodeKeyExpired: boolean;
  MachineAuthorized: boolean;
  AuthURL: string;
  Error?: string;
}

export interface MapRequest {
  Version: number;
  Compress?: string;
  KeepAlive?: boolean;
  NodeKey: NodeKeyText;
  DiscoKey?: DiscoKeyText;
  Stream?: boolean;
  OmitPeers?: boolean;
  Hostinfo?: Hostinfo | null;
  Endpoints?: string[] | null;
  EndpointTypes?: number[] | null;
  ReadOnly?: boolean;
}

/** One node as a client sees it: itself in MapResponse.Node, others in Peers/PeersChanged. */
export interface Node {
  ID: number;
  StableID: string;
  Name: string; // FQDN with trailing dot
  User: number;
  Key: NodeKeyText;
  KeyExpiry?: Time; // absent or zero: never expires
  Machine?: MachineKeyText;
  DiscoKey?: DiscoKeyText;
  Addresses: string[];
  AllowedIPs: string[];
  Endpoints?: string[];
  HomeDERP?: number;
  Hostinfo: Hostinfo;
  Created: Time;
  Cap?: number;
  Tags?: string[];
  PrimaryRoutes?: string[];
  LastSeen?: Time;
  Online?: boolean;
  MachineAuthorized?: boolean;
  CapMap?: Record<string, unknown[] | null>;
  Expired?: boolean;
}

export interface UserProfile {
  ID: number;
  LoginName: string;
  DisplayName: string;
  ProfilePicURL?: string;
}

export interface DERPNode {
  Name: string;
  RegionID: number;
  HostName: string;
  CertName?: string;
  IPv4?: string;
  IPv6?: string;
  STUNPort?: number;
  STUNOnly?: boolean;
  DERPPort?: number;
  CanPort80?: boolean;
  InsecureForTests?: boolean;
}

export interface DERPRegion {
  RegionID: number;
  RegionCode: string;
  RegionName: string;
  Latitude?: number;
  Longitude?: number;
  Avoid?: boolean;
  NoMeasureNoHome?: boolean;
  Nodes: DERPNode[];
}

export interface DERPMap {
  Regions: Record<string, DERPRegion>;
  HomeParams?: { RegionScore?: Record<string, number> };
  omitDefaultRegions?: boolean;
}

export interface Resolver {
  Addr: string;
}

export interface DNSRecord {
  Name: string;
  Type?: string;
  Value: string;
}

export interface DNSConfig {
  Resolvers?: Resolver[];
  FallbackResolvers?: Resolver[];
  Routes?: Record<string, Resolver[]>;
  Domains?: string[];
  Proxied?: boolean;
  ExtraRecords?: DNSRecord[];
}

export interface PortRange {
  First: number;
  Last: number;
}

export interface NetPortRange {
  IP: string;
  Ports: PortRange;
}

export interface FilterRule {
  SrcIPs: string[];
  DstPorts?: NetPortRange[];
  IPProto?: number[];
  CapGrant?: Array<{ Dsts: string[]; CapMap: Record<string, unknown[]> }>;
}

/** A small change to one peer; zero fields mean unchanged. */
export interface PeerChange {
  NodeID: number;
  DERPRegion?: number;
  Endpoints?: string[];
  Key?: NodeKeyText;
  DiscoKey?: DiscoKeyText;
  Online?: boolean;
  LastSeen?: Time;
  KeyExpiry?: Time;
  CapMap?: Record<string, unknown[] | null>;
}

/**
 * A message of the map stream. Absent fields mean "unchanged" on the client, except:
 * a non-empty Peers replaces the whole peer set (and the delta fields are then ignored); an
 * empty Peers is ignored; PacketFilter [] means deny all; DNSConfig and SSHPolicy replace
 * wholesale when present; UserProfiles are upserts.
 */
export interface MapResponse {
  KeepAlive?: boolean;
  Node?: Node;
  DERPMap?: DERPMap;
  Peers?: Node[];
  PeersChanged?: Node[];
  PeersRemoved?: number[];
  PeersChangedPatch?: PeerChange[];
  PeerSeenChange?: Record<string, boolean>;
  OnlineChange?: Record<string, boolean>;
  DNSConfig?: DNSConfig;
  Domain?: string;
  CollectServices?: boolean;
  PacketFilter?: FilterRule[];
  PacketFilters?: Record<string, FilterRule[] | null>;
  UserProfiles?: UserProfile[];
  SSHPolicy?: { rules: unknown[] };
  ControlTime?: Time;
  Debug?: { DisableLogTail?: boolean };
  Health?: string[];
}

export interface EarlyNoise {
  nodeKeyChallenge: string;
}

/** Oldest client capability version served: Tailscale v1.80. */
export const MIN_CAPABILITY_VERSION = 113;
