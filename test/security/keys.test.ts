import { createHash } from 'node:crypto';
import * as crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import t, { type Test } from 'tap';
import type { Queryable } from '../../src/db/client.js';
import { newTenant, secretOf, testDatabase } from '../helpers.js';

t.test('a key is stored only as the SHA-256 of its secret, never as itself', async (t) => {
  const db = await testDatabase();
  const tenant = await newTenant(db);
  const [, keyId, secret] = /^rpk_([a-z0-9]{12})_(.+)$/.exec(tenant.key)!;
  const rows = await db.query<{ secret_hash: Uint8Array; everything: string }>('SELECT secret_hash, row_to_json(k)::text AS everything FROM api_keys k WHERE key_id = $1', [keyId]);
  t.equal(rows.length, 1);
  t.same(Buffer.from(rows[0]!.secret_hash), createHash('sha256').update(secret!).digest());
  t.notOk(rows[0]!.everything.includes(secret!), 'no column holds the secret');
  t.equal(Buffer.from(secret!, 'base64url').length, 32, '256 random bits');
});

t.test('secrets are compared with timingSafeEqual', async (t) => {
  let comparisons = 0;
  const keys = await t.mockImport<typeof import('../../src/domain/keys.js')>('../../src/domain/keys.js', {
    'node:crypto': {
      ...crypto,
      timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
        comparisons++;
        return crypto.timingSafeEqual(a, b);
      },
    },
  });
  const { key, secretHash } = keys.generateKey();
  const secret = keys.parseKey(key)!.secret;
  t.equal(keys.secretMatches(secret, secretHash), true);
  t.equal(keys.secretMatches(`${secret.slice(0, -1)}x`, secretHash), false);
  t.equal(comparisons, 2);
});

/** authenticateKey with every secret comparison counted. */
async function countingAuth(t: Test) {
  const real = await import('../../src/domain/keys.js');
  const counter = { comparisons: 0 };
  const { authenticateKey } = await t.mockImport<typeof import('../../src/http/auth.js')>('../../src/http/auth.js', {
    '../../src/domain/keys.js': {
      ...real,
      secretMatches: (secret: string, hash: Buffer) => {
        counter.comparisons++;
        return real.secretMatches(secret, hash);
      },
    },
  });
  return { authenticateKey, counter };
}

const request = (key: string) => ({ headers: { authorization: `Bearer ${key}` } }) as unknown as FastifyRequest;
const outcomeOf = (p: Promise<void>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );

t.test('every key check compares a secret, whether the key id exists or not', async (t) => {
  const db = await testDatabase();
  const tenant = await newTenant(db);
  const { authenticateKey, counter } = await countingAuth(t);
  const attempt = async (key: string) => {
    const before = counter.comparisons;
    const outcome = await outcomeOf(authenticateKey(db, request(key), 'events:write'));
    return { outcome, comparisons: counter.comparisons - before };
  };
  const secret = secretOf(tenant.key);
  t.same(await attempt(tenant.key), { outcome: 'ok', comparisons: 1 });
  t.same(await attempt(`${tenant.key.slice(0, -1)}${tenant.key.endsWith('A') ? 'B' : 'A'}`), { outcome: 'invalid_key', comparisons: 1 });
  t.same(await attempt(`rpk_000000000000_${secret}`), { outcome: 'invalid_key', comparisons: 1 }, 'unknown key id: still one comparison');
});

t.test('key checks sharing one lookup still compare a secret each, in constant time', async (t) => {
  const db = await testDatabase();
  const tenant = await newTenant(db);
  const { authenticateKey, counter } = await countingAuth(t);
  let queries = 0;
  const counting: Queryable = {
    query: (text, params) => {
      queries++;
      return db.query(text, params);
    },
  };
  const wrongSecret = `${tenant.key.slice(0, -1)}${tenant.key.endsWith('A') ? 'B' : 'A'}`;
  const keys = [tenant.key, tenant.writeKey, wrongSecret, tenant.readKey, tenant.key, 'rpk_000000000000_' + 'x'.repeat(43)];
  const outcomes = await Promise.all(keys.map((key) => outcomeOf(authenticateKey(counting, request(key), 'events:write'))));
  t.same(outcomes, ['ok', 'ok', 'invalid_key', 'insufficient_scope', 'ok', 'invalid_key']);
  t.equal(queries, 1, 'one query for the six checks (coalesced lookups)');
  t.equal(counter.comparisons, keys.length, 'one secret comparison per request');
});
