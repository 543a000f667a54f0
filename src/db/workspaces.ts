import { generateKey, type Scope } from '../domain/keys.js';
import { iso, type Queryable } from './client.js';

export interface Workspace {
  id: number;
  name: string;
  createdAt: string;
}

export interface KeyInfo {
  keyId: string;
  workspace: string;
  scopes: Scope[];
  createdAt: string;
  revokedAt: string | null;
}

export interface StoredKey {
  workspaceId: number;
  secretHash: Buffer;
  scopes: Scope[];
  revoked: boolean;
}

/** Creates the workspace unless it exists; `created` tells which. */
export async function createWorkspace(db: Queryable, name: string): Promise<{ workspace: Workspace; created: boolean }> {
  // Formatted outside the INSERT: Citus refuses non-immutable functions (to_char of a timestamptz)
  // in the RETURNING of a write to a reference table.
  const inserted = await db.query<Workspace>(
    `WITH inserted AS (INSERT INTO workspaces (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id, name, created_at)
     SELECT id, name, ${iso('created_at')} AS "createdAt" FROM inserted`,
    [name],
  );
  if (inserted[0]) return { workspace: inserted[0], created: true };
  const existing = await findWorkspace(db, name);
  if (!existing) throw new Error(`workspace ${name} vanished while being created`);
  return { workspace: existing, created: false };
}

export async function findWorkspace(db: Queryable, name: string): Promise<Workspace | null> {
  const rows = await db.query<Workspace>(
    `SELECT id, name, ${iso('created_at')} AS "createdAt" FROM workspaces WHERE name = $1`,
    [name],
  );
  return rows[0] ?? null;
}

/** Issues a key; the returned `key` is the only time the secret exists outside the client. */
export async function createKey(
  db: Queryable,
  workspace: Workspace,
  scopes: readonly Scope[],
): Promise<KeyInfo & { key: string }> {
  const { keyId, key, secretHash } = generateKey();
  const rows = await db.query<{ createdAt: string }>(
    `WITH inserted AS (INSERT INTO api_keys (workspace_id, key_id, secret_hash, scopes) VALUES ($1, $2, $3, $4) RETURNING created_at)
     SELECT ${iso('created_at')} AS "createdAt" FROM inserted`,
    [workspace.id, keyId, secretHash, [...new Set(scopes)].sort()],
  );
  return { key, keyId, workspace: workspace.name, scopes: [...new Set(scopes)].sort(), createdAt: rows[0]!.createdAt, revokedAt: null };
}

export async function listKeys(db: Queryable, workspace: Workspace): Promise<KeyInfo[]> {
  return db.query<KeyInfo>(
    `SELECT k.key_id AS "keyId", w.name AS workspace, k.scopes, ${iso('k.created_at')} AS "createdAt", ${iso('k.revoked_at')} AS "revokedAt"
       FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
      WHERE k.workspace_id = $1 ORDER BY k.created_at, k.key_id`,
    [workspace.id],
  );
}

/** Revokes a key; revoking a revoked key is a no-op that still answers with the key; null when no key has the id. */
export async function revokeKey(db: Queryable, keyId: string): Promise<KeyInfo | null> {
  // The first revocation stands: a revoked key is left alone rather than its instant coalesced,
  // and the answer is formatted over the CTE, as Citus allows no non-immutable function in a
  // CASE/COALESCE or the RETURNING of a write to a reference table. The outer SELECT sees the
  // table as it was before the UPDATE, hence the instant taken from the CTE when it revoked.
  const rows = await db.query<KeyInfo>(
    `WITH revoked AS (UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL RETURNING key_id, revoked_at)
     SELECT k.key_id AS "keyId", w.name AS workspace, k.scopes, ${iso('k.created_at')} AS "createdAt",
            ${iso('COALESCE(r.revoked_at, k.revoked_at)')} AS "revokedAt"
       FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id LEFT JOIN revoked r ON r.key_id = k.key_id
      WHERE k.key_id = $1`,
    [keyId],
  );
  return rows[0] ?? null;
}

/** Several keys by id in one query (the key lookups of concurrent requests); unknown ids are absent. */
export async function findKeys(db: Queryable, keyIds: readonly string[]): Promise<Map<string, StoredKey>> {
  const rows = await db.query<StoredKey & { keyId: string }>(
    `SELECT key_id AS "keyId", workspace_id AS "workspaceId", secret_hash AS "secretHash", scopes, revoked_at IS NOT NULL AS revoked
       FROM api_keys WHERE key_id = ANY($1::text[])`,
    [[...keyIds]],
  );
  return new Map(
    rows.map(({ keyId, ...row }) => [keyId, { ...row, secretHash: Buffer.from(row.secretHash) }]),
  );
}
