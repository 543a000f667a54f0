import type { Queryable } from '../db/client.js';
import { findWorkspace, revokeKey, type KeyInfo, type Workspace } from '../db/workspaces.js';
import { Problem } from '../errors.js';

/** The workspace of that name, or the problem the API and the CLI report when there is none. */
export async function requireWorkspace(db: Queryable, name: string): Promise<Workspace> {
  const ws = await findWorkspace(db, name);
  if (!ws) throw new Problem('workspace_not_found', `no workspace is named ${JSON.stringify(name)}`);
  return ws;
}

/** Revokes a key; revoking a revoked key is a no-op that still answers with the key. */
export async function revokeKnownKey(db: Queryable, keyId: string): Promise<KeyInfo> {
  const revoked = await revokeKey(db, keyId);
  if (!revoked) throw new Problem('key_not_found', `no key has the id ${JSON.stringify(keyId)}`);
  return revoked;
}
