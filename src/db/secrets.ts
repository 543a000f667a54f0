import { randomBytes } from 'node:crypto';
import type { Queryable } from './client.js';

/**
 * The named secret, created on first use: the first process to ask stores a random one and every
 * other process (concurrently or later) reads the same row, so no configuration has to agree.
 */
export async function serviceSecret(db: Queryable, name: string): Promise<Buffer> {
  await db.query(`INSERT INTO service_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, randomBytes(32)]);
  const rows = await db.query<{ secret: Uint8Array }>(`SELECT secret FROM service_secrets WHERE name = $1`, [name]);
  return Buffer.from(rows[0]!.secret);
}
