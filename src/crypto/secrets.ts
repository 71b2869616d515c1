// Admin-issued secrets: pre-auth keys "hskey-auth-<prefix>-<secret>" and API keys
// "hskey-api-<prefix>-<secret>" (12-character prefix, 64-character secret, URL-safe alphabet),
// as headscale 0.28+ writes them. Only the prefix and a bcrypt hash of the secret are stored;
// bcrypt's comparison takes the same time wherever the secret differs. A secret that has
// verified once is remembered as its SHA-256 (keyed by the stored hash), so a reusable key
// presented by a thousand registering nodes costs one bcrypt, not a thousand; a wrong secret is
// never remembered and always pays the full bcrypt.

import crypto from 'node:crypto';
import bcrypt from 'bcryptjs';

export type SecretKind = 'auth' | 'api';

export const PREFIX_LENGTH = 12;
export const SECRET_LENGTH = 64;
const BCRYPT_COST = 10;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const URL_SAFE = /^[A-Za-z0-9_-]+$/;

export interface IssuedSecret {
  /** The whole key, to show the admin once. */
  full: string;
  prefix: string;
  secret: string;
}

function randomString(length: number): string {
  // Rejection sampling keeps every character equally likely.
  const out: string[] = [];
  while (out.length < length) {
    for (const b of crypto.randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out.push(ALPHABET[b % 62] as string);
    }
  }
  return out.join('');
}

export function issueSecret(kind: SecretKind): IssuedSecret {
  const prefix = randomString(PREFIX_LENGTH);
  const secret = randomString(SECRET_LENGTH);
  return { full: `hskey-${kind}-${prefix}-${secret}`, prefix, secret };
}

/** Splits a presented key into prefix and secret; undefined when it is not well formed. */
export function parseSecret(kind: SecretKind, text: string): { prefix: string; secret: string } | undefined {
  const head = `hskey-${kind}-`;
  if (!text.startsWith(head)) return undefined;
  const rest = text.slice(head.length);
  if (rest.length !== PREFIX_LENGTH + 1 + SECRET_LENGTH || rest[PREFIX_LENGTH] !== '-') return undefined;
  const prefix = rest.slice(0, PREFIX_LENGTH);
  const secret = rest.slice(PREFIX_LENGTH + 1);
  if (!URL_SAFE.test(prefix) || !URL_SAFE.test(secret)) return undefined;
  return { prefix, secret };
}

export async function hashSecret(secret: string): Promise<Buffer> {
  return Buffer.from(await bcrypt.hash(secret, BCRYPT_COST), 'utf8');
}

const VERIFIED_LIMIT = 4096;
const verified = new Map<string, Buffer>(); // stored bcrypt hash -> sha256 of its secret

function sha256(text: string): Buffer {
  return crypto.createHash('sha256').update(text).digest();
}

const inFlight = new Map<string, Promise<boolean>>(); // stored hash + sha256(secret) -> bcrypt running

export async function secretMatches(secret: string, hash: Buffer): Promise<boolean> {
  if (hash.length === 0) return false;
  const stored = hash.toString('utf8');
  const digest = sha256(secret);
  const known = verified.get(stored);
  if (known) return crypto.timingSafeEqual(known, digest);
  // Many nodes presenting one new key at once share one bcrypt.
  const flight = `${stored}\0${digest.toString('hex')}`;
  let check = inFlight.get(flight);
  if (!check) {
    check = bcrypt.compare(secret, stored).finally(() => inFlight.delete(flight));
    inFlight.set(flight, check);
  }
  if (!(await check)) return false;
  if (verified.size >= VERIFIED_LIMIT) verified.delete(verified.keys().next().value!);
  verified.set(stored, digest);
  return true;
}

/** Constant-time equality of two strings (for legacy plaintext keys). */
export function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}
