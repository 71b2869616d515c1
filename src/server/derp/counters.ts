// The DERP server's counters and gauges, one mutable record shared by the server and its
// connections; DerpServer.counters hands out snapshots for tests and the metrics endpoint.

export interface DerpCounters {
  /** Connections handed to accept() (before the handshake). */
  connectionsAccepted: number;
  /** Connections past the handshake and admission, currently open (gauge). */
  connectionsCurrent: number;
  /** Distinct client keys currently connected (gauge). */
  clientKeysCurrent: number;
  /** Connections that joined a key already connected (Tailscale keeps both, newest active). */
  duplicateConnections: number;
  /** Handshakes that failed (bad ClientInfo, timeout, EOF) or were refused by verifyClient. */
  handshakeFailures: number;
  clientsRejected: number;
  /** SendPacket frames read and their packet bytes (without the key). */
  packetsReceived: number;
  bytesReceived: number;
  /** RecvPacket frames written to receivers and their packet bytes. */
  packetsSent: number;
  bytesSent: number;
  /** Every dropped packet, and the split by reason. */
  packetsDropped: number;
  dropsUnknownDest: number;
  dropsQueueFull: number;
  dropsGone: number;
  peerGoneDisconnectedSent: number;
  peerGoneNotHereSent: number;
  pingsReceived: number;
  pongsSent: number;
  keepAlivesSent: number;
  writeTimeouts: number;
  unknownFrames: number;
  rateLimitWaits: number;
}

export function newCounters(): DerpCounters {
  return {
    connectionsAccepted: 0,
    connectionsCurrent: 0,
    clientKeysCurrent: 0,
    duplicateConnections: 0,
    handshakeFailures: 0,
    clientsRejected: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    packetsSent: 0,
    bytesSent: 0,
    packetsDropped: 0,
    dropsUnknownDest: 0,
    dropsQueueFull: 0,
    dropsGone: 0,
    peerGoneDisconnectedSent: 0,
    peerGoneNotHereSent: 0,
    pingsReceived: 0,
    pongsSent: 0,
    keepAlivesSent: 0,
    writeTimeouts: 0,
    unknownFrames: 0,
    rateLimitWaits: 0,
  };
}
