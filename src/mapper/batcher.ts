// Fans changes out to connected map sessions. Change values from the state are merged over a
// window, then each session gets one message with only what concerns it. A session whose node
// was deleted is ended. Endpoint, disco key and home DERP changes (what peers need to reach a
// node) go out after a short window; the rest (joins, online flags, renames, policy) may wait
// longer on a large tailnet, so that a join storm costs every stream a message a second, not
// one per join.

import { performance } from 'node:perf_hooks';
import type { Change } from '../domain/change.js';
import type { State } from '../state/index.js';
import type { ChangeSet, Mapper } from './mapper.js';
import { FrameMemo } from './frames.js';

/** What the batcher needs from a live map stream. */
export interface MapSink {
  readonly nodeId: number;
  /** Whether the stream wants zstd frames. */
  readonly zstd: boolean;
  /** Writes one already framed MapResponse (shared bytes: never modified). */
  sendFrame(frame: Buffer): void;
  end(): void;
}

/** Nodes whose deltas are built and written per turn of the event loop. */
const FANOUT_CHUNK = 256;
/** The longest a change waits before its fan-out starts (after a running fan-out ends). */
const MAX_WINDOW_MS = 1000;

function emptySet(): ChangeSet {
  return { changed: new Set(), removed: new Set(), online: new Map(), patched: new Map(), users: new Set(), dnsChanged: false, derpChanged: false, policyChanged: false, at: '' };
}

export class Batcher {
  readonly #mapper: Mapper;
  readonly #windowMs: number;
  readonly #sinks = new Map<number, Set<MapSink>>();
  #pending = emptySet();
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now() time). */
  #dueAt = 0;
  /** Whether the pending batch holds a change peers need to stay reachable. */
  #urgent = false;
  /** The running fan-out's next chunk (null while a chunk runs), undefined when idle. */
  #fanout: NodeJS.Immediate | null | undefined;
  #dirty = false;
  #lastFanoutMs = 0;
  readonly #idleWaiters: Array<() => void> = [];
  readonly #unsubscribe: () => void;

  constructor(state: State, mapper: Mapper, windowMs: number) {
    this.#mapper = mapper;
    this.#windowMs = windowMs;
    this.#unsubscribe = state.changes.subscribe((c) => this.#collect(c));
  }

  add(sink: MapSink): void {
    let set = this.#sinks.get(sink.nodeId);
    if (!set) this.#sinks.set(sink.nodeId, (set = new Set()));
    set.add(sink);
  }

  /** Removes a sink; returns how many sinks its node still has. */
  remove(sink: MapSink): number {
    const set = this.#sinks.get(sink.nodeId);
    if (!set) return 0;
    set.delete(sink);
    if (set.size === 0) {
      this.#sinks.delete(sink.nodeId);
      this.#mapper.forgetViewer(sink.nodeId);
    }
    return set.size;
  }

  sessionCount(nodeId: number): number {
    return this.#sinks.get(nodeId)?.size ?? 0;
  }

  /** Announces a configuration-level change (DNS, DERP map) to every node. */
  broadcast(what: { dns?: boolean; derp?: boolean }): void {
    if (what.dns) this.#pending.dnsChanged = true;
    if (what.derp) this.#pending.derpChanged = true;
    this.#schedule(false);
  }

  #collect(c: Change): void {
    const p = this.#pending;
    switch (c.type) {
      case 'node-added':
      case 'node-changed':
        p.changed.add(c.nodeId);
        this.#mapper.forget(c.nodeId);
        break;
      case 'node-removed':
        p.removed.add(c.nodeId);
        p.changed.delete(c.nodeId);
        p.patched.delete(c.nodeId);
        this.#mapper.forget(c.nodeId);
        break;
      case 'node-patched': {
        this.#mapper.forget(c.nodeId);
        const patch = p.patched.get(c.nodeId) ?? { NodeID: c.nodeId };
        if (c.endpoints) patch.Endpoints = c.endpoints;
        if (c.discoKey) patch.DiscoKey = c.discoKey;
        if (c.homeDerp) patch.DERPRegion = c.homeDerp;
        p.patched.set(c.nodeId, patch);
        break;
      }
      case 'node-online':
        this.#mapper.onlineChanged(c.nodeId);
        p.online.set(c.nodeId, c.online);
        break;
      case 'policy-changed':
        p.policyChanged = true;
        break;
      case 'user-changed':
        p.users.add(c.userId);
        break;
      case 'user-removed':
        break;
    }
    this.#schedule(c.type === 'node-patched');
  }

  /**
   * The next batch waits the base window, stretched with the last fan-out's duration F (at
   * most a second): F/4 when it holds an urgent change, 4F otherwise. With thousands of streams
   * a fan-out takes a while; merging what arrives meanwhile into one batch keeps fan-out from
   * taking the CPU that registrations and full maps need (at most a fifth of it for joins).
   */
  #schedule(urgent: boolean): void {
    this.#dirty = true;
    this.#urgent ||= urgent;
    if (this.#fanout !== undefined) return; // rescheduled when the running fan-out ends
    const stretch = this.#urgent ? this.#lastFanoutMs / 4 : this.#lastFanoutMs * 4;
    const delay = Math.max(this.#windowMs, Math.min(stretch, MAX_WINDOW_MS));
    const dueAt = performance.now() + delay;
    if (this.#timer !== undefined && this.#dueAt <= dueAt) return;
    clearTimeout(this.#timer);
    this.#dueAt = dueAt;
    this.#timer = setTimeout(() => this.flush(), delay);
  }

  /**
   * Sends the pending batch: the first FANOUT_CHUNK nodes now, the rest in later turns of the
   * event loop, so requests (registrations, full maps) are served between chunks. Nodes whose
   * stream started meanwhile already got a full map with these changes and are skipped.
   */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#fanout !== undefined) return;
    const started = performance.now();
    const set = this.#pending;
    this.#pending = emptySet();
    this.#dirty = false;
    this.#urgent = false;
    set.at = new Date().toISOString(); // one ControlTime per batch, so equal deltas are equal text
    const frames = new FrameMemo();
    const viewers = [...this.#sinks.keys()];
    let next = 0;
    const step = (): void => {
      const end = Math.min(viewers.length, next + FANOUT_CHUNK);
      try {
        for (; next < end; next++) this.#deliver(viewers[next]!, set, frames);
      } catch (err) {
        this.#fanout = undefined;
        throw err;
      }
      if (next < viewers.length) {
        this.#fanout = setImmediate(step);
        return;
      }
      this.#fanout = undefined;
      this.#lastFanoutMs = performance.now() - started;
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
      if (this.#dirty) this.#schedule(this.#urgent);
    };
    this.#fanout = null;
    step();
  }

  #deliver(nodeId: number, set: ChangeSet, frames: FrameMemo): void {
    const sinks = this.#sinks.get(nodeId);
    if (!sinks) return;
    if (set.removed.has(nodeId)) {
      for (const s of [...sinks]) s.end();
      return;
    }
    const json = this.#mapper.delta(nodeId, set);
    if (json) for (const s of sinks) s.sendFrame(frames.frame(json, s.zstd));
  }

  /** Resolves once no fan-out is running (for benchmarks and tests). */
  idle(): Promise<void> {
    return this.#fanout === undefined ? Promise.resolve() : new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): void {
    clearTimeout(this.#timer);
    if (this.#fanout) clearImmediate(this.#fanout);
    this.#fanout = undefined;
    this.#unsubscribe();
    for (const sinks of this.#sinks.values()) for (const s of [...sinks]) s.end();
    this.#sinks.clear();
  }
}
