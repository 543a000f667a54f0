import fc from 'fast-check';
import t from 'tap';
import { accountSummary } from '../../src/service/scores.js';
import type { Queryable } from '../../src/db/client.js';
import { foldBatch } from '../../src/projection/fold.js';
import { appendEvents } from '../../src/db/events.js';
import { takePending } from '../../src/db/projection.js';
import { parseEvent } from '../../src/domain/validate.js';
import type { NormalizedEvent } from '../../src/domain/events.js';
import { referenceMetrics, type RefEvent } from '../reference/naive.js';
import { bearer, newTenant, testApp } from '../helpers.js';

/** The cost of a read or a write stays bounded whatever the history behind it. */

const HOUR = 3_600_000;
const BASE = Date.parse('2024-01-01T00:00:00Z');

/** A Queryable that counts the rows every statement sends back. */
function counting(db: Queryable) {
  const counter = {
    rows: 0,
    query: (async (text, params) => {
      const rows = await db.query(text, params);
      counter.rows += rows.length;
      return rows;
    }) as Queryable['query'],
  };
  return counter;
}

const normalized = (input: object): NormalizedEvent => {
  const r = parseEvent(input, Date.now());
  if (!r.ok) throw new Error(r.rejection.message);
  return r.event;
};

t.test('one more follow of a pair with thousands of follows and unfollows reads a handful of rows, not its history', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  const history = Array.from({ length: 3_000 }, (_, i) => ({
    type: i % 2 === 0 ? 'follow' : 'unfollow',
    actor: 'churner',
    target: 'victim',
    occurred_at: new Date(BASE + i * HOUR).toISOString(),
  }));
  for (let i = 0; i < history.length; i += 1_000) {
    const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.key), payload: { events: history.slice(i, i + 1_000) } });
    t.equal(res.json().accepted, 1_000);
  }
  // A default read waits for the projector: after it, the whole history is folded in.
  t.equal((await app.inject({ method: 'GET', url: '/v1/accounts/churner/spam', headers: bearer(tenant.key) })).statusCode, 200);
  for (const [what, at] of [
    ['after the history', BASE + 3_000 * HOUR + 1],
    ['in the middle of it', BASE + 1_500 * HOUR + 30 * 60_000],
  ] as const) {
    for (const type of ['follow', 'unfollow']) {
      const event = normalized({ type, actor: 'churner', target: 'victim', occurred_at: new Date(at).toISOString() });
      // Appended and folded in one transaction the app's own projector cannot see into; then undone.
      let rows = 0;
      await db
        .transaction(async (tx) => {
          await appendEvents(tx, tenant.workspace.id, [event]);
          // The app's projector may hold the workspace a moment longer after catching up.
          let batch = await takePending(tx, tenant.workspace.id, 10);
          while (!batch) {
            await new Promise((r) => setTimeout(r, 10));
            batch = await takePending(tx, tenant.workspace.id, 10);
          }
          const c = counting(tx);
          t.equal(batch?.events.length, 1, 'the event is the only one queued');
          await foldBatch(c, tenant.workspace.id, batch.seqs, batch.events);
          rows = c.rows;
          throw new Error('undo');
        })
        .catch((err: Error) => {
          if (err.message !== 'undo') throw err;
        });
      t.ok(rows <= 12, `a ${type} ${what}: ${rows} rows read`);
    }
  }
});

t.test('a batch of thousands of follows and unfollows of one pair with history reads rows in proportion to the batch', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  const pairEvents = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      type: (from + i) % 2 === 0 ? 'follow' : 'unfollow',
      actor: 'churner',
      target: 'victim',
      occurred_at: new Date(BASE + (from + i) * HOUR).toISOString(),
    }));
  await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.key), payload: { events: pairEvents(0, 1_000) } });
  t.equal((await app.inject({ method: 'GET', url: '/v1/accounts/churner/spam', headers: bearer(tenant.key) })).statusCode, 200);
  const batch = pairEvents(1_000, 2_000).map(normalized);
  let rows = 0;
  await db
    .transaction(async (tx) => {
      await appendEvents(tx, tenant.workspace.id, batch);
      let pending = await takePending(tx, tenant.workspace.id, 5_000);
      while (!pending) {
        await new Promise((r) => setTimeout(r, 10));
        pending = await takePending(tx, tenant.workspace.id, 5_000);
      }
      const c = counting(tx);
      await foldBatch(c, tenant.workspace.id, pending.seqs, pending.events);
      rows = c.rows;
      throw new Error('undo');
    })
    .catch((err: Error) => {
      if (err.message !== 'undo') throw err;
    });
  t.ok(rows <= 3 * batch.length, `${rows} rows read to fold 2,000 events of one pair`);
});

t.test('quick unfollows stay exact when a pair’s history spans years, whatever the arrival order and batching', async (t) => {
  const ctx = await testApp(t);
  // Times across three years, clustered so that some delays fall just inside and outside a year and 72 hours.
  const time = fc.oneof(
    fc.integer({ min: 0, max: 3 * 8_760 }).map((h) => h * HOUR),
    fc.constantFrom(0, 72 * HOUR, 72 * HOUR + 1, 8_760 * HOUR, 8_760 * HOUR + 1, 8_761 * HOUR, 2 * 8_760 * HOUR),
  );
  const eventArb = fc.record({ type: fc.constantFrom('follow', 'unfollow'), target: fc.constantFrom('x', 'y'), at: time });
  await fc.assert(
    fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 7 }), fc.integer(), async (raw, batch, seed) => {
      const tenant = await newTenant(ctx.db);
      const events = raw.map((e) => ({ type: e.type, actor: 'a', target: e.target, occurred_at: new Date(BASE + e.at).toISOString() }));
      const order = fc.sample(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), { seed, numRuns: 1 })[0]!;
      for (let i = 0; i < order.length; i += batch) {
        await ctx.app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.key), payload: { events: order.slice(i, i + batch) } });
      }
      const refs: RefEvent[] = events.map((e) => ({ type: e.type, actor: e.actor, target: e.target, occurredAt: e.occurred_at }));
      for (const churn of [1, 72, 8_760]) {
        const res = await ctx.app.inject({ method: 'GET', url: `/v1/accounts/a/spam?churn_hours=${churn}`, headers: bearer(tenant.key) });
        const expected = referenceMetrics(refs, 'a', { churnHours: churn });
        if (res.json().spam.quick_unfollows !== expected.spam.quick_unfollows) return false;
      }
      return true;
    }),
    { numRuns: 60, seed: 20261129 },
  );
  t.pass('60 random histories agree with the naive reference');
});

t.test('a windowed read answers from aggregates: one row whatever the number of events in its window', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  const types = ['like', 'reply', 'mention', 'repost', 'follow', 'unfollow', 'post'];
  const events = Array.from({ length: 4_000 }, (_, i) => {
    const type = types[i % types.length]!;
    const inbound = i % 3 === 0;
    return {
      type,
      actor: type === 'post' || !inbound ? 'hub' : `fan${i % 500}`,
      ...(type === 'post' ? { text: `post ${i % 40} https://x.example` } : { target: inbound ? 'hub' : `fan${i % 500}` }),
      occurred_at: new Date(BASE + i * 60_000).toISOString(),
    };
  });
  const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.key), payload: { events } });
  t.equal(res.json().accepted, 4_000);
  const c = counting(db);
  await accountSummary(c, tenant.workspace.id, 'hub', { since: BigInt(BASE) * 1000n, until: BigInt(BASE + 4_000 * 60_000) * 1000n, churnHours: 72 });
  t.ok(c.rows <= 2, `${c.rows} rows for a window of 4,000 events (the stored counters and the window's aggregate)`);
});
