// Interactive registrations waiting for an admin: a client without an auth key gets an AuthURL
// "<server_url>/register/<auth id>", then long-polls with Followup set to it. The admin's
// `switchboard auth register --auth-id ID --user USER` completes the entry and wakes the poll.
// Entries live 15 minutes (`tuning.register_cache_expiration`), at most 1024 of them.

import crypto from 'node:crypto';
import type { Hostinfo } from '../tailcfg/types.js';

export const AUTH_ID_PREFIX = 'hskey-authreq-';
const AUTH_ID = /^hskey-authreq-[A-Za-z0-9]{24}$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface PendingRegistration {
  authId: string;
  machineKey: string;
  nodeKey: string;
  oldNodeKey: string | null;
  hostinfo: Hostinfo | null;
  expiry: Date | null;
  ephemeral: boolean;
  createdAt: number;
}

export type Outcome = { nodeId: number } | { rejected: string };

interface Entry {
  pending: PendingRegistration;
  outcome?: Outcome;
  waiters: Set<(o: Outcome | undefined) => void>;
}

export function isAuthId(text: string): boolean {
  return AUTH_ID.test(text);
}

export function newAuthId(): string {
  let s = '';
  while (s.length < 24) {
    for (const b of crypto.randomBytes(32)) if (b < 248 && s.length < 24) s += ALPHABET[b % 62];
  }
  return AUTH_ID_PREFIX + s;
}

export class PendingRegistrations {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(ttlMs = 15 * 60_000, maxEntries = 1024) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /** Adds an entry under a fresh auth ID, or under `authId` (admin debug entries choose theirs). */
  add(p: Omit<PendingRegistration, 'authId' | 'createdAt'>, authId = newAuthId()): PendingRegistration {
    this.#sweep();
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#finish(oldest, undefined);
    }
    if (this.#entries.has(authId)) this.#finish(authId, undefined);
    const pending = { ...p, authId, createdAt: Date.now() };
    this.#entries.set(pending.authId, { pending, waiters: new Set() });
    return pending;
  }

  get(authId: string): PendingRegistration | undefined {
    this.#sweep();
    const e = this.#entries.get(authId);
    return e && !e.outcome ? e.pending : undefined;
  }

  /** Completes an entry; every poll waiting on it wakes with the outcome. */
  complete(authId: string, outcome: Outcome): void {
    const e = this.#entries.get(authId);
    if (!e) return;
    e.outcome = outcome;
    for (const w of e.waiters) w(outcome);
    e.waiters.clear();
    // Keep the outcome briefly for a poll that reconnects right after.
    setTimeout(() => this.#entries.delete(authId), 60_000).unref();
  }

  /**
   * Waits for the entry's outcome; undefined when it is unknown or expired (the client then
   * gets a fresh AuthURL) or the signal aborts.
   */
  wait(authId: string, signal?: AbortSignal): Promise<Outcome | undefined> {
    this.#sweep();
    const e = this.#entries.get(authId);
    if (!e) return Promise.resolve(undefined);
    if (e.outcome) return Promise.resolve(e.outcome);
    return new Promise((resolve) => {
      const done = (o: Outcome | undefined) => {
        e.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve(o);
      };
      const onAbort = () => done(undefined);
      e.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #finish(authId: string, outcome: Outcome | undefined): void {
    const e = this.#entries.get(authId);
    if (!e) return;
    this.#entries.delete(authId);
    for (const w of e.waiters) w(outcome);
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#ttlMs;
    for (const [id, e] of this.#entries) {
      if (e.pending.createdAt >= cutoff) break; // insertion order is age order
      if (!e.outcome) this.#finish(id, undefined);
    }
  }
}
