import { createHash } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { generateKey, hashSecret, KEY_ID_PATTERN, parseKey, secretMatches } from '../../src/domain/keys.js';
import { holds } from '../property.js';

/**
 * API keys (SPEC §5: prefixed so they are recognisable, stored only as a hash), with no database:
 * the format `rpk_<12 lower-case letters or digits>_<43 base64url characters>`.
 */

const ID = 'abcdefghij12';
const SECRET = 'A'.repeat(20) + 'z09_-'.repeat(4) + 'xyz'; // 43 base64url characters

t.test('a generated key reads rpk_, a 12-character key id, an underscore and a 43-character secret', async (t) => {
  const { key, keyId } = generateKey();
  t.match(key, /^rpk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
  t.equal(key.slice(4, 16), keyId);
  t.match(keyId, KEY_ID_PATTERN);
});

t.test('a generated key parses back into its key id and a secret that matches its stored hash', async (t) => {
  const { key, keyId, secretHash } = generateKey();
  const parsed = parseKey(key);
  t.equal(parsed?.keyId, keyId);
  t.equal(parsed?.secret, key.slice(17));
  t.ok(secretMatches(parsed!.secret, secretHash));
});

t.test('the stored hash is the SHA-256 of the secret, not of the whole key', async (t) => {
  const { key, secretHash } = generateKey();
  t.equal(secretHash.toString('hex'), createHash('sha256').update(key.slice(17)).digest('hex'));
});

t.test('a secret is hashed with SHA-256', async (t) => {
  // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  t.equal(hashSecret('abc').toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

t.test('generated keys differ in their key id and their secret', async (t) => {
  const keys = Array.from({ length: 200 }, () => generateKey());
  t.equal(new Set(keys.map((k) => k.keyId)).size, 200);
  t.equal(new Set(keys.map((k) => k.key.slice(17))).size, 200);
});

t.test('a well-formed key parses, underscores and hyphens in the secret included', async (t) => {
  t.strictSame(parseKey(`rpk_${ID}_${SECRET}`), { keyId: ID, secret: SECRET });
  t.strictSame(parseKey(`rpk_${ID}_${'_'.repeat(43)}`), { keyId: ID, secret: '_'.repeat(43) });
});

t.test('anything else is not a key', async (t) => {
  for (const key of [
    '',
    `${ID}_${SECRET}`, // no prefix
    `RPK_${ID}_${SECRET}`, // prefix in upper case
    `rk_${ID}_${SECRET}`,
    `rpk_${ID.toUpperCase()}_${SECRET}`, // key id in upper case
    `rpk_${ID.slice(1)}_${SECRET}`, // 11-character key id
    `rpk_${ID}a_${SECRET}`, // 13-character key id
    `rpk_${ID}_${SECRET.slice(1)}`, // 42-character secret
    `rpk_${ID}_${SECRET}A`, // 44-character secret
    `rpk_${ID}_${SECRET.slice(1)}+`, // base64, not base64url
    `rpk_${ID}_${SECRET.slice(1)}=`, // padding
    `rpk_${ID}-${SECRET}`,
    `rpk_${ID}_${SECRET}\n`, // trailing newline
    ` rpk_${ID}_${SECRET}`,
    `Bearer rpk_${ID}_${SECRET}`,
  ]) {
    t.equal(parseKey(key), null, JSON.stringify(key));
  }
});

t.test('another secret does not match a stored hash', async (t) => {
  const { secretHash } = generateKey();
  t.notOk(secretMatches(SECRET, secretHash));
  t.notOk(secretMatches('', secretHash));
});

t.test('a stored hash of the wrong length matches nothing and does not throw', async (t) => {
  t.notOk(secretMatches(SECRET, hashSecret(SECRET).subarray(0, 16)));
  t.notOk(secretMatches(SECRET, Buffer.alloc(0)));
});

t.test('any key id and secret of the right alphabets and lengths round-trip through a key', async (t) => {
  const idArb = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 12, maxLength: 12 });
  const secretArb = fc.string({
    unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
    minLength: 43,
    maxLength: 43,
  });
  holds(
    t,
    fc.property(idArb, secretArb, (keyId, secret) => {
      const parsed = parseKey(`rpk_${keyId}_${secret}`);
      return parsed?.keyId === keyId && parsed.secret === secret && secretMatches(secret, hashSecret(secret));
    }),
    { seed: 1561, numRuns: 300 },
  );
});
