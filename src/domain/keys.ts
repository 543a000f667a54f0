import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCOPES = ['events:write', 'scores:read', 'webhooks:manage'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * What a key may do when its creator does not say: ingest and read. Managing webhooks (choosing
 * where the workspace's findings are sent, reading the delivery log) is asked for explicitly, so
 * a key handed to an ingest job or a dashboard cannot redirect them.
 */
export const DEFAULT_SCOPES: readonly Scope[] = ['events:write', 'scores:read'];

/**
 * A key reads `rpk_<key id>_<secret>`: the prefix makes it recognisable (secret scanners, logs),
 * the key id finds the stored hash without scanning, and the secret carries 256 random bits.
 */
const KEY_PREFIX = 'rpk_';
const KEY_ID_LENGTH = 12;
export const KEY_PATTERN = /^rpk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
export const KEY_ID_PATTERN = /^[a-z0-9]{12}$/;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomKeyId(): string {
  // 36 does not divide 256: bytes at or above 252 would bias the alphabet, so they are skipped.
  let id = '';
  while (id.length < KEY_ID_LENGTH) {
    for (const b of randomBytes(KEY_ID_LENGTH * 2)) {
      if (b < 252 && id.length < KEY_ID_LENGTH) id += ALPHABET[b % 36];
    }
  }
  return id;
}

export interface NewKey {
  keyId: string;
  key: string;
  secretHash: Buffer;
}

export function generateKey(): NewKey {
  const keyId = randomKeyId();
  const secret = randomBytes(32).toString('base64url');
  return { keyId, key: `${KEY_PREFIX}${keyId}_${secret}`, secretHash: hashSecret(secret) };
}

// A plain SHA-256 is enough: the secret is 256 random bits, so there is nothing to brute-force.
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function parseKey(key: string): { keyId: string; secret: string } | null {
  const m = KEY_PATTERN.exec(key);
  return m ? { keyId: m[1]!, secret: m[2]! } : null;
}

export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const presented = hashSecret(secret);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}

/** A key as clients see it, over HTTP and from `rapport keys list --json`: snake_case, never the secret. */
export const keyJson = (k: { keyId: string; workspace: string; scopes: readonly string[]; createdAt: string; revokedAt: string | null }) => ({
  key_id: k.keyId,
  workspace: k.workspace,
  scopes: [...k.scopes] as Scope[],
  created_at: k.createdAt,
  revoked_at: k.revokedAt,
});
