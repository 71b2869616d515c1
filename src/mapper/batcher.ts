// Fans changes out to connected map sessions. Change values from the state are merged over a
// window into a batch; each node then gets one message with only what concerns it. A node
// whose stream was deleted is ended. Endpoint, disco key and home DERP changes (what peers need
// to reach a node), policy changes and removals (what they may no longer reach) go out after a
// short window; the rest (joins, online flags, renames) may wait longer on a large tailnet, so
// that a join storm costs every stream a message a second, not one per join. A joining node's
// first endpoints are no more urgent than its join: no peer could reach it directly before.
//
// A fan-out over thousands of streams spans many turns of the event loop. An urgent change that
// arrives meanwhile is sealed into the next batch at once: the nodes the fan-out has not reached
// yet get both batches in one message, and those it passed are queued again behind them. So a
// change waits for at most one pass, not for the rest of the running one and then its own.

import { performance } from 'node:perf_hooks';
import type { Change } from '../domain/change.js';
import type { State } from '../state/index.js';
import type { ChangeSet, Mapper } from './mapper.js';
import { FrameMemo } from './frames.js';
import { emptyChangeSet, mergeChangeSets } from './change-sets.js';

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

export class Batcher {
  readonly #mapper: Mapper;
  readonly #windowMs: number;
  readonly #sinks = new Map<number, Set<MapSink>>();
  #pending = emptyChangeSet();
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now() time). */
  #dueAt = 0;
  /** Whether the pending batch holds a change peers need to stay reachable, and since when. */
  #urgent = false;
  #urgentSince = 0;
  #dirty = false;
  /** Sealed batches some node may still lack: epochs #firstEpoch … #epoch, oldest first. */
  #batches: ChangeSet[] = [];
  #firstEpoch = 1;
  #epoch = 0;
  /** Per node with streams: the last epoch it has (a new stream's full map has all sealed ones). */
  readonly #delivered = new Map<number, number>();
  /** Nodes still to visit, in order. */
  readonly #todo = new Set<number>();
  /** What a node that has every epoch up to the key gets, for the current #epoch. */
  readonly #since = new Map<number, { set: ChangeSet; frames: FrameMemo }>();
  /** The running fan-out's next chunk (null while a chunk runs), undefined when idle. */
  #fanout: NodeJS.Immediate | null | undefined;
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
    if (!set) {
      this.#sinks.set(sink.nodeId, (set = new Set()));
      this.#delivered.set(sink.nodeId, this.#epoch);
    }
    set.add(sink);
  }

  /** Removes a sink; returns how many sinks its node still has. */
  remove(sink: MapSink): number {
    const set = this.#sinks.get(sink.nodeId);
    if (!set) return 0;
    set.delete(sink);
    if (set.size === 0) {
      this.#sinks.delete(sink.nodeId);
      this.#delivered.delete(sink.nodeId);
      this.#todo.delete(sink.nodeId);
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
    this.#schedule((c.type === 'node-patched' && !c.firstEndpoints) || c.type === 'policy-changed' || c.type === 'node-removed');
  }

  /**
   * The next batch waits the base window, stretched with the last fan-out's duration F (at
   * most a second): F/4 when it holds an urgent change, 4F otherwise. With thousands of streams
   * a fan-out takes a while; merging what arrives meanwhile into one batch keeps fan-out from
   * taking the CPU that registrations and full maps need (at most a fifth of it for joins).
   * During a fan-out an urgent change is sealed by the fan-out itself (see `flush`).
   */
  #schedule(urgent: boolean): void {
    this.#dirty = true;
    if (urgent && !this.#urgent) this.#urgentSince = performance.now();
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
   * Seals the pending batch and sends it: the first FANOUT_CHUNK nodes now, the rest in later
   * turns of the event loop, so requests (registrations, full maps) are served between chunks.
   * Nodes whose stream started after the seal already got a full map with these changes.
   */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#seal();
    if (this.#fanout !== undefined) return; // the running fan-out takes the new batch along
    const started = performance.now();
    let visits = 0;
    const step = (): void => {
      this.#fanout = null;
      if (this.#dirty && this.#urgent && performance.now() - this.#urgentSince >= this.#windowMs) this.#seal();
      try {
        for (const nodeId of this.#todo) {
          this.#todo.delete(nodeId);
          this.#visit(nodeId);
          if (++visits % FANOUT_CHUNK === 0) break;
        }
      } catch (err) {
        this.#fanout = undefined;
        throw err;
      }
      if (this.#todo.size > 0) {
        this.#fanout = setImmediate(step);
        return;
      }
      this.#fanout = undefined;
      this.#batches = [];
      this.#firstEpoch = this.#epoch + 1;
      this.#since.clear();
      // what one pass over every stream takes, however many batches this run carried
      this.#lastFanoutMs = ((performance.now() - started) / Math.max(1, visits)) * this.#sinks.size;
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
      if (this.#dirty) this.#schedule(this.#urgent);
    };
    step();
  }

  /** Makes the pending changes the next epoch and queues every node with a stream for it. */
  #seal(): void {
    const set = this.#pending;
    this.#pending = emptyChangeSet();
    this.#dirty = false;
    this.#urgent = false;
    set.at = new Date().toISOString(); // one ControlTime per batch, so equal deltas are equal text
    this.#batches.push(set);
    this.#epoch++;
    this.#since.clear();
    let oldest = this.#epoch;
    for (const [nodeId, have] of this.#delivered) {
      this.#todo.add(nodeId); // a node already queued keeps its place
      if (have < oldest) oldest = have;
    }
    const everyoneHas = Math.max(0, oldest + 1 - this.#firstEpoch);
    this.#batches.splice(0, everyoneHas);
    this.#firstEpoch += everyoneHas;
  }

  /** Sends one node every sealed batch it lacks, merged into one (see `Mapper.delta`). */
  #visit(nodeId: number): void {
    const sinks = this.#sinks.get(nodeId);
    const have = this.#delivered.get(nodeId);
    if (!sinks || have === undefined || have >= this.#epoch) return;
    this.#delivered.set(nodeId, this.#epoch);
    let since = this.#since.get(have);
    if (!since) {
      const sets = this.#batches.slice(have + 1 - this.#firstEpoch);
      since = { set: sets.length === 1 ? sets[0]! : mergeChangeSets(sets), frames: new FrameMemo() };
      this.#since.set(have, since);
    }
    if (since.set.removed.has(nodeId)) {
      for (const s of [...sinks]) s.end();
      return;
    }
    for (const json of this.#mapper.delta(nodeId, since.set)) for (const s of sinks) s.sendFrame(since.frames.frame(json, s.zstd));
  }

  /** Resolves once no fan-out is running (for benchmarks and tests). */
  idle(): Promise<void> {
    return this.#fanout === undefined ? Promise.resolve() : new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): void {
    clearTimeout(this.#timer);
    if (this.#fanout) clearImmediate(this.#fanout);
    this.#fanout = undefined;
    this.#todo.clear();
    this.#batches = [];
    this.#unsubscribe();
    for (const sinks of this.#sinks.values()) for (const s of [...sinks]) s.end();
    this.#sinks.clear();
  }
}
