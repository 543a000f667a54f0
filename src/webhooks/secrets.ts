import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/client.js';
import { serviceSecret } from '../db/secrets.js';

/**
 * Signing secrets of webhook subscriptions. The service signs with them, so they cannot be hashed
 * like API keys: they are stored encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from
 * WEBHOOK_ENCRYPTION_KEY when the operator sets one, else from a random key the service generates
 * into its own database (`service_secrets`, as the cursor key is). The first keeps a copy of the
 * table alone (a backup, a replica, a leaked dump of one table) from revealing any secret; the
 * second protects against a leak of the webhooks table without the rest. Each ciphertext records
 * which key made it, and is bound to its subscription (the AAD), so it cannot be moved to another.
 */

/** `whsec_` and 256 random bits: recognisable by secret scanners, nothing to guess. */
export const generateSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
export const SECRET_PATTERN = /^whsec_[A-Za-z0-9_-]{43}$/;

const KEY_SOURCE = { database: 0, environment: 1 } as const;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  #databaseKey: Promise<Buffer> | undefined;
  readonly #environmentKey: Buffer | undefined;

  constructor(
    private readonly db: Queryable,
    environmentKey: string | undefined,
  ) {
    this.#environmentKey = environmentKey === undefined ? undefined : derive(Buffer.from(environmentKey, 'utf8'));
  }

  private key(source: number): Promise<Buffer> {
    if (source === KEY_SOURCE.environment) {
      if (!this.#environmentKey) return Promise.reject(new Error('this secret was encrypted with WEBHOOK_ENCRYPTION_KEY, which is not set'));
      return Promise.resolve(this.#environmentKey);
    }
    this.#databaseKey ??= serviceSecret(this.db, 'webhook-secrets')
      .then(derive)
      .catch((err: unknown) => {
        this.#databaseKey = undefined;
        throw err;
      });
    return this.#databaseKey;
  }

  /** source byte ‖ IV ‖ GCM tag ‖ ciphertext. */
  async seal(secret: string, workspaceId: number, webhookId: string): Promise<Buffer> {
    const source = this.#environmentKey ? KEY_SOURCE.environment : KEY_SOURCE.database;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', await this.key(source), iv);
    cipher.setAAD(aad(workspaceId, webhookId));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(source), iv, cipher.getAuthTag(), body]);
  }

  async open(sealed: Uint8Array, workspaceId: number, webhookId: string): Promise<string> {
    const box = Buffer.from(sealed);
    const iv = box.subarray(1, 1 + IV_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', await this.key(box[0]!), iv);
    decipher.setAAD(aad(workspaceId, webhookId));
    decipher.setAuthTag(box.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(box.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}

const derive = (ikm: Buffer) => Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'rapport webhook signing secrets v1', 32));
const aad = (workspaceId: number, webhookId: string) => Buffer.from(`${workspaceId}\n${webhookId}`, 'utf8');

/**
 * `Rapport-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, one v1 per secret
 * that signs (during a rotation's grace period, the new one first, then the previous one).
 */
export function signatureHeader(secrets: readonly string[], body: string, unixSeconds: number): string {
  const v1 = secrets.map((s) => `v1=${createHmac('sha256', s).update(`${unixSeconds}.${body}`).digest('hex')}`);
  return [`t=${unixSeconds}`, ...v1].join(',');
}
