import { generateKey, type Scope } from '../domain/keys.js';
import { sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Queryable } from './client.js';
import { apiKeys, workspaces } from './schema.js';
import { bare, isoOf, statement } from './sql.js';

const w = workspaces;
const k = alias(apiKeys, 'k');
const ws = alias(workspaces, 'w');

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

// Formatted outside the INSERT: Citus refuses non-immutable functions (to_char of a timestamptz)
// in the RETURNING of a write to a reference table.
const CREATE_WORKSPACE = statement(sql`
  WITH inserted AS (
    INSERT INTO ${w} (${bare(w.name)}) VALUES ($1) ON CONFLICT (${bare(w.name)}) DO NOTHING
    RETURNING ${w.id}, ${w.name}, ${w.createdAt})
  SELECT ${bare(w.id)}, ${bare(w.name)}, ${isoOf(bare(w.createdAt))} AS "createdAt" FROM inserted`);

const CREATE_KEY = statement(sql`
  WITH inserted AS (
    INSERT INTO ${apiKeys} (${bare(apiKeys.workspaceId)}, ${bare(apiKeys.keyId)}, ${bare(apiKeys.secretHash)}, ${bare(apiKeys.scopes)})
    VALUES ($1, $2, $3, $4) RETURNING ${apiKeys.createdAt})
  SELECT ${isoOf(bare(apiKeys.createdAt))} AS "createdAt" FROM inserted`);

const FIND_KEYS = statement(sql`
  SELECT ${apiKeys.keyId} AS "keyId", ${apiKeys.workspaceId} AS "workspaceId", ${apiKeys.secretHash} AS "secretHash", ${apiKeys.scopes},
         ${apiKeys.revokedAt} IS NOT NULL AS revoked
    FROM ${apiKeys} WHERE ${apiKeys.keyId} = ANY($1::text[])`);

/** Creates the workspace unless it exists; `created` tells which. */
export async function createWorkspace(db: Queryable, name: string): Promise<{ workspace: Workspace; created: boolean }> {
  const inserted = await db.query<Workspace>(CREATE_WORKSPACE, [name]);
  if (inserted[0]) return { workspace: inserted[0], created: true };
  const existing = await findWorkspace(db, name);
  if (!existing) throw new Error(`workspace ${name} vanished while being created`);
  return { workspace: existing, created: false };
}

export async function findWorkspace(db: Queryable, name: string): Promise<Workspace | null> {
  const rows = await db.query<Workspace>(statement(sql`SELECT ${w.id}, ${w.name}, ${isoOf(w.createdAt)} AS "createdAt" FROM ${w} WHERE ${w.name} = $1`), [name]);
  return rows[0] ?? null;
}

/** Issues a key; the returned `key` is the only time the secret exists outside the client. */
export async function createKey(db: Queryable, workspace: Workspace, scopes: readonly Scope[]): Promise<KeyInfo & { key: string }> {
  const { keyId, key, secretHash } = generateKey();
  const rows = await db.query<{ createdAt: string }>(CREATE_KEY, [workspace.id, keyId, secretHash, [...new Set(scopes)].sort()]);
  return { key, keyId, workspace: workspace.name, scopes: [...new Set(scopes)].sort(), createdAt: rows[0]!.createdAt, revokedAt: null };
}

export async function listKeys(db: Queryable, workspace: Workspace): Promise<KeyInfo[]> {
  return db.query<KeyInfo>(
    statement(sql`
      SELECT ${k.keyId} AS "keyId", ${ws.name} AS workspace, ${k.scopes}, ${isoOf(k.createdAt)} AS "createdAt", ${isoOf(k.revokedAt)} AS "revokedAt"
        FROM ${apiKeys} AS ${k} JOIN ${workspaces} AS ${ws} ON ${ws.id} = ${k.workspaceId}
       WHERE ${k.workspaceId} = $1 ORDER BY ${k.createdAt}, ${k.keyId}`),
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
    statement(sql`
      WITH revoked AS (
        UPDATE ${apiKeys} SET ${bare(apiKeys.revokedAt)} = now() WHERE ${apiKeys.keyId} = $1 AND ${apiKeys.revokedAt} IS NULL
        RETURNING ${apiKeys.keyId}, ${apiKeys.revokedAt})
      SELECT ${k.keyId} AS "keyId", ${ws.name} AS workspace, ${k.scopes}, ${isoOf(k.createdAt)} AS "createdAt",
             ${isoOf(sql`COALESCE(r.${bare(apiKeys.revokedAt)}, ${k.revokedAt})`)} AS "revokedAt"
        FROM ${apiKeys} AS ${k} JOIN ${workspaces} AS ${ws} ON ${ws.id} = ${k.workspaceId} LEFT JOIN revoked r ON r.${bare(apiKeys.keyId)} = ${k.keyId}
       WHERE ${k.keyId} = $1`),
    [keyId],
  );
  return rows[0] ?? null;
}

/** Several keys by id in one query (the key lookups of concurrent requests); unknown ids are absent. */
export async function findKeys(db: Queryable, keyIds: readonly string[]): Promise<Map<string, StoredKey>> {
  const rows = await db.query<StoredKey & { keyId: string }>(FIND_KEYS, [[...keyIds]]);
  return new Map(rows.map(({ keyId, ...row }) => [keyId, { ...row, secretHash: Buffer.from(row.secretHash) }]));
}
