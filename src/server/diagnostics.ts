// Every diagnostics_channel Switchboard publishes, in one place. Tests and operators subscribe
// to observe the server without changing it; publishing costs nothing when nobody listens.

import diagnostics from 'node:diagnostics_channel';

export interface HttpRequestEvent {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  remoteAddress: string | undefined;
}

/** Each request the main listener receives, before it is routed (upgrades included). */
export const httpRequestChannel = diagnostics.channel('switchboard:http:request');

export function publishHttpRequest(event: HttpRequestEvent): void {
  if (httpRequestChannel.hasSubscribers) httpRequestChannel.publish(event);
}
