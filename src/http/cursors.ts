import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/client.js';
import { serviceSecret } from '../db/secrets.js';
import { Problem } from '../errors.js';

/**
 * Keyset pagination cursors, bound to the query that issued them.
 *
 * A cursor is `<payload>.<mac>`: the payload is the sort key of the last item (base64url JSON), the
 * MAC an HMAC-SHA256 over the query it belongs to (operation, workspace, account, sort, order,
 * min_followers) and the payload. The HMAC key is a random secret stored in the database
 * (`service_secrets`), so every process of a deployment accepts every other's cursors while a
 * client can neither forge one nor move one to another query: a cursor from `sort=spam_score` on
 * `sort=followers`, from one account's `/fans` on another's, or made by hand, is 400 `invalid_cursor`.
 */

/** What a cursor is bound to: everything that decides the order and the set of items, and the workspace. */
export type CursorQuery = readonly (string | number)[];

const encode = (s: Buffer | string) => Buffer.from(s).toString('base64url');

export class Cursors {
  #secret: Promise<Buffer> | undefined;

  constructor(private readonly db: Queryable) {}

  /** The key, read once per process; a failed read (database down) is retried on the next request. */
  private secret(): Promise<Buffer> {
    this.#secret ??= serviceSecret(this.db, 'cursor').catch((err: unknown) => {
      this.#secret = undefined;
      throw err;
    });
    return this.#secret;
  }

  private mac(secret: Buffer, query: CursorQuery, payload: string) {
    return createHmac('sha256', secret).update(JSON.stringify(query)).update('\n').update(payload).digest();
  }

  async issue(query: CursorQuery, key: unknown[]): Promise<string> {
    const payload = encode(JSON.stringify(key));
    return `${payload}.${encode(this.mac(await this.secret(), query, payload))}`;
  }

  /** The sort key of a cursor issued for this very query, or a 400 `invalid_cursor`; null without a cursor. */
  async read<T extends unknown[]>(query: CursorQuery, cursor: string | undefined, valid: (v: unknown[]) => v is T): Promise<T | null> {
    if (cursor === undefined) return null;
    const [payload, mac, extra] = cursor.split('.');
    if (payload && mac && extra === undefined) {
      const expected = this.mac(await this.secret(), query, payload);
      const given = Buffer.from(mac, 'base64url');
      if (given.length === expected.length && timingSafeEqual(given, expected)) {
        const key = parse(payload);
        // Signed by us, so well-formed; checked all the same, as everything that reaches SQL is.
        if (key && valid(key)) return key;
      }
    }
    throw new Problem('invalid_cursor', 'the cursor was not issued for this query: pass `next_cursor` back with the same parameters', {
      errors: [{ field: 'querystring.cursor', message: 'not a cursor issued for this query' }],
    });
  }
}

function parse(payload: string): unknown[] | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}
