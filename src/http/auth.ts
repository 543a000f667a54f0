import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/client.js';
import { findKey } from '../db/workspaces.js';
import { parseKey, secretMatches, type Scope } from '../domain/keys.js';
import { Problem } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one take the admin token or no credentials at all. */
    scope?: Scope;
    admin?: boolean;
  }
  interface FastifyRequest {
    /** The authenticated key's workspace; every query of the request is scoped by it. */
    workspaceId: number;
    keyId: string;
  }
}

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const m = header ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw new Problem('missing_credentials', 'send Authorization: Bearer <key>');
  return m[1]!;
}

/** Resolves the bearer key and checks the scope; the same answer for unknown and revoked keys. */
export async function authenticateKey(db: Database, request: FastifyRequest, scope: Scope) {
  const parsed = parseKey(bearer(request));
  const stored = parsed ? await findKey(db, parsed.keyId) : null;
  // The hash is compared even when the key id is unknown, so timing tells nothing about which part was wrong.
  const matches = secretMatches(parsed?.secret ?? '', stored?.secretHash ?? Buffer.alloc(32));
  if (!parsed || !stored || !matches || stored.revoked) throw new Problem('invalid_key', 'the key is unknown or revoked');
  if (!stored.scopes.includes(scope)) throw new Problem('insufficient_scope', `this operation needs the scope ${scope}`);
  request.workspaceId = stored.workspaceId;
  request.keyId = parsed.keyId;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function authenticateAdmin(adminToken: string, request: FastifyRequest) {
  if (!timingSafeEqual(digest(bearer(request)), digest(adminToken))) {
    throw new Problem('invalid_key', 'the admin token is not valid');
  }
}
