// The messages between the load-generator coordinator (fleet.ts) and its worker processes.

export interface JoinRecord {
  index: number;
  start: number;
  registered: number;
  mapOpened: number;
  error: string;
}

export interface MarkerReport {
  marker: string;
  /** When each node that saw the marker saw it (shared clock, ms). */
  seen: number[];
  /** The node indices, in the same order as `seen`. */
  seenBy: number[];
  missing: number;
}

export type ToWorker =
  | { op: 'init'; id: number; host: string; port: number; serverKey: string; indices: number[]; sampleEvery: number }
  | { op: 'join'; id: number; authKey: string; concurrency: number }
  | { op: 'watch'; id: number; markers: string[] }
  | { op: 'endpoint'; id: number; index: number; endpoint: string }
  | { op: 'collect'; id: number; markers: string[]; peek: boolean }
  | { op: 'status'; id: number }
  | { op: 'resetReconnects'; id: number }
  | { op: 'stop'; id: number };

export interface WorkerStatus {
  connected: number;
  withMap: number;
  /** TCP bytes the nodes have read from the server. */
  bytesRead: number;
  reconnectedAt: number[];
  lostAt: number[];
  lastFirstMap: number;
  /** Peer counts of the sampled nodes' first full maps. */
  samplePeers: number[];
  rss: number;
  cpu: { user: number; system: number };
}

export type FromWorker =
  | { op: 'ok'; id: number }
  | { op: 'error'; id: number; message: string }
  | { op: 'joined'; id: number; records: JoinRecord[] }
  | { op: 'endpointSent'; id: number; sent: number }
  | { op: 'markers'; id: number; reports: MarkerReport[] }
  | ({ op: 'status'; id: number } & WorkerStatus);
