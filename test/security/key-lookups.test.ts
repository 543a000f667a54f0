import t from 'tap';
import type { Queryable } from '../../src/db/client.js';
import { KEY_LOOKUP_MAX_IDS, KeyLookups } from '../../src/http/auth.js';

/**
 * Key lookups of concurrent requests are coalesced into one query, never cached, and a request
 * never joins a lookup already sent (so a revocation holds from the next request on). The end to
 * end revocation tests under traffic are in test/http/group-commit.test.ts.
 */

interface Sent {
  ids: string[];
  answer(rows?: object[]): void;
  fail(err: unknown): void;
}

/** A database double whose every key lookup waits until the test answers it. */
function fakeDb() {
  const sent: Sent[] = [];
  const db: Queryable = {
    query: <R>(_text: string, params?: unknown[]) =>
      new Promise<R[]>((resolve, reject) => {
        const ids = params![0] as string[];
        sent.push({
          ids,
          answer: (rows) => resolve((rows ?? ids.map((keyId) => ({ keyId, workspaceId: 1, secretHash: Buffer.alloc(32), scopes: ['events:write'], revoked: false }))) as R[]),
          fail: reject,
        });
      }),
  };
  return { db, sent };
}

const turn = () => new Promise((r) => setImmediate(r));

t.test('the lookups of one turn of the event loop are one query, each id once; each caller gets its own key', async (t) => {
  const { db, sent } = fakeDb();
  const lookups = new KeyLookups(db);
  const finds = ['k1', 'k2', 'k1', 'zz'].map((id) => lookups.find(id));
  t.equal(sent.length, 0, 'nothing is sent before the turn ends');
  await turn();
  t.same(
    sent.map((s) => s.ids),
    [['k1', 'k2', 'zz']],
  );
  sent[0]!.answer([
    { keyId: 'k1', workspaceId: 1, secretHash: Buffer.alloc(32), scopes: [], revoked: false },
    { keyId: 'k2', workspaceId: 2, secretHash: Buffer.alloc(32), scopes: [], revoked: true },
  ]);
  const [a, b, c, z] = await Promise.all(finds);
  t.match(a, { workspaceId: 1, revoked: false });
  t.match(b, { workspaceId: 2, revoked: true });
  t.equal(c, a);
  t.equal(z, null, 'an unknown id is null');
});

t.test('a lookup already sent is never joined, and nothing is cached: the next request asks the database again', async (t) => {
  const { db, sent } = fakeDb();
  const lookups = new KeyLookups(db);
  const first = lookups.find('k1');
  await turn();
  t.equal(sent.length, 1, 'the first lookup is in flight');
  const second = lookups.find('k1');
  await turn();
  t.equal(sent.length, 2, 'a request arriving while it is in flight gets a query of its own');
  sent[1]!.answer([{ keyId: 'k1', workspaceId: 1, secretHash: Buffer.alloc(32), scopes: [], revoked: true }]);
  t.match(await second, { revoked: true }, 'answered by the later query (a revocation in between holds)');
  sent[0]!.answer();
  t.match(await first, { revoked: false });
  const third = lookups.find('k1');
  await turn();
  t.equal(sent.length, 3, 'and once both are answered, the next request is a query again');
  sent[2]!.answer([]);
  t.equal(await third, null);
});

t.test('a failed lookup fails each of its callers with its error, and the next one is sent afresh', async (t) => {
  const { db, sent } = fakeDb();
  const lookups = new KeyLookups(db);
  const finds = ['k1', 'k2'].map((id) => lookups.find(id).catch((e: unknown) => e));
  await turn();
  const down = Object.assign(new Error('connection terminated'), { code: '57P01' });
  sent[0]!.fail(down);
  t.same(await Promise.all(finds), [down, down]);
  const next = lookups.find('k1');
  await turn();
  sent[1]!.answer();
  t.match(await next, { workspaceId: 1 });
});

t.test(`a lookup asks for at most ${KEY_LOOKUP_MAX_IDS} ids; more in the same turn go in the next query`, async (t) => {
  const { db, sent } = fakeDb();
  const lookups = new KeyLookups(db);
  const ids = Array.from({ length: KEY_LOOKUP_MAX_IDS + 3 }, (_, i) => `k${i}`);
  const finds = ids.map((id) => lookups.find(id));
  await turn();
  t.same(
    sent.map((s) => s.ids.length),
    [KEY_LOOKUP_MAX_IDS, 3],
  );
  for (const s of sent) s.answer();
  t.ok((await Promise.all(finds)).every((k) => k !== null));
});
