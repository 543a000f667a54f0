import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../db/client.js';
import { findKeys, type StoredKey } from '../db/workspaces.js';
import { parseKey, secretMatches, type Scope } from '../domain/keys.js';
import { Problem } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs (any one of a list); routes without one take the admin token or no credentials at all. */
    scope?: Scope | readonly Scope[];
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

/** Key ids one lookup query asks for at most; more requests of the moment start another lookup. */
export const KEY_LOOKUP_MAX_IDS = 500;

interface Lookup {
  ids: Set<string>;
  result: Promise<Map<string, StoredKey>>;
}

/**
 * The key lookups of concurrent requests, coalesced into one query: a request joins the lookup
 * still being gathered, which is sent once the I/O callbacks of this turn of the event loop have
 * run (setImmediate), so it adds no wait of its own. Nothing is cached, and a request never joins
 * a lookup already sent: any request that arrives after a revocation committed is answered by a
 * query sent after it, so the revocation holds from the next request on.
 */
export class KeyLookups {
  private gathering: Lookup | undefined;

  constructor(private readonly db: Queryable) {}

  find(keyId: string): Promise<StoredKey | null> {
    let lookup = this.gathering;
    if (!lookup) {
      const ids = new Set<string>();
      const result = new Promise<Map<string, StoredKey>>((resolve, reject) => {
        setImmediate(() => {
          if (this.gathering === lookup) this.gathering = undefined;
          findKeys(this.db, [...ids]).then(resolve, reject);
        });
      });
      lookup = { ids, result };
      this.gathering = lookup;
    }
    lookup.ids.add(keyId);
    // Full: it is still sent as scheduled, but later requests gather the next one.
    if (lookup.ids.size >= KEY_LOOKUP_MAX_IDS) this.gathering = undefined;
    return lookup.result.then((keys) => keys.get(keyId) ?? null);
  }
}

// One coalescer per database (the app's pool, or a test's).
const lookups = new WeakMap<Queryable, KeyLookups>();

function keyLookups(db: Queryable): KeyLookups {
  let l = lookups.get(db);
  if (!l) {
    l = new KeyLookups(db);
    lookups.set(db, l);
  }
  return l;
}

/** Resolves the bearer key and checks the scope; the same answer for unknown and revoked keys. */
export async function authenticateKey(db: Queryable, request: FastifyRequest, scope: Scope | readonly Scope[]) {
  const parsed = parseKey(bearer(request));
  const stored = parsed ? await keyLookups(db).find(parsed.keyId) : null;
  // The hash is compared even when the key id is unknown, so timing tells nothing about which part was wrong.
  const matches = secretMatches(parsed?.secret ?? '', stored?.secretHash ?? Buffer.alloc(32));
  if (!parsed || !stored || !matches || stored.revoked) throw new Problem('invalid_key', 'the key is unknown or revoked');
  const anyOf: readonly Scope[] = typeof scope === 'string' ? [scope] : scope;
  if (!anyOf.some((s) => stored.scopes.includes(s))) {
    throw new Problem('insufficient_scope', `this operation needs the scope ${anyOf.join(' or ')}`);
  }
  request.workspaceId = stored.workspaceId;
  request.keyId = parsed.keyId;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function authenticateAdmin(adminToken: string, request: FastifyRequest) {
  if (!timingSafeEqual(digest(bearer(request)), digest(adminToken))) {
    throw new Problem('invalid_key', 'the admin token is not valid');
  }
}
