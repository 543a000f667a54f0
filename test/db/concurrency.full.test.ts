import t from 'tap';
import { bearer, tenantApp } from '../helpers.js';
import { referenceMetrics, type RefEvent } from '../reference/naive.js';

/**
 * Batches racing on the same pairs: concurrent transactions must leave exactly the counters that
 * one sequential ingest would (mutual follows from both sides at once, answers racing the messages
 * they answer, duplicates sent by both writers).
 */
t.test('concurrent overlapping batches store each event once and keep every counter exact', async (t) => {
  const { app, db, tenant } = await tenantApp(t);
  const accounts = Array.from({ length: 12 }, (_, i) => `u${i}`);
  const T0 = Date.parse('2026-02-01T00:00:00Z');
  const types = ['follow', 'follow', 'unfollow', 'like', 'reply', 'mention', 'repost'];
  let seed = 17;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const events = Array.from({ length: 1_200 }, (_, i) => {
    const actor = accounts[rand(accounts.length)]!;
    let target = accounts[rand(accounts.length)]!;
    if (target === actor) target = accounts[(accounts.indexOf(actor) + 1) % accounts.length]!;
    return { id: `c${i}`, type: types[rand(types.length)]!, actor, target, occurred_at: new Date(T0 + rand(96) * 3_600_000).toISOString() };
  });
  // Two writers each send two thirds of the events, so a third is sent by both, in opposite orders.
  const first = events.slice(0, 800);
  const second = events.slice(400).reverse();
  const send = async (list: typeof events) => {
    for (let i = 0; i < list.length; i += 50) {
      const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.writeKey), payload: { events: list.slice(i, i + 50) } });
      t.equal(res.statusCode, 200);
    }
  };
  await Promise.all([send(first), send(second), send(events.slice(300, 900))]);
  const stored = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE workspace_id = $1', [tenant.workspace.id]);
  t.equal(stored[0]!.n, 1_200, 'each event stored once');
  const refs: RefEvent[] = events.map((e) => ({ ...e, type: e.type as RefEvent['type'], occurredAt: e.occurred_at }));
  for (const account of accounts) {
    const res = await app.inject({ method: 'GET', url: `/v1/accounts/${account}/scores`, headers: bearer(tenant.readKey) });
    const { spam_score: _s, signals: _g, flags: _f, ...spam } = res.json().spam;
    t.same({ reciprocity: res.json().reciprocity, engagement: res.json().engagement, spam }, referenceMetrics(refs, account), account);
  }
});
