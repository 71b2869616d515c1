// Pre-auth keys and API keys as stored: a public prefix to find the row and a bcrypt hash of the
// secret, never the secret itself.

export interface PreAuthKey {
  id: number;
  prefix: string;
  hash: Buffer;
  /** A legacy plaintext key taken over from an older database; empty for hashed keys. */
  legacyKey: string;
  userId: number | null;
  reusable: boolean;
  ephemeral: boolean;
  used: boolean;
  tags: string[];
  expiration: Date | null;
  createdAt: Date;
}

export interface ApiKey {
  id: number;
  prefix: string;
  hash: Buffer;
  expiration: Date | null;
  lastSeen: Date | null;
  createdAt: Date;
}

export function isKeyExpired(key: { expiration: Date | null }, now = new Date()): boolean {
  return key.expiration !== null && key.expiration.getTime() <= now.getTime();
}
