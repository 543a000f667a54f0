import fc from 'fast-check';
import t from 'tap';
import { bearer, newTenant, projected, testApp } from '../helpers.js';

/**
 * All-time scores come from counters the projector folds in TypeScript (scoring/pairs.ts); a
 * windowed read aggregates the window's events in SQL rendered from the same rules. A window that
 * holds every event must give exactly the all-time scores, whatever the events and churn_hours.
 */

const ACCOUNTS = ['a', 'b', 'c', 'd'];
const BASE = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;

const eventArb = fc
  .record({
    type: fc.constantFrom('follow', 'unfollow', 'like', 'reply', 'mention', 'repost', 'post', 'follow', 'unfollow'),
    actor: fc.constantFrom(...ACCOUNTS),
    target: fc.constantFrom(...ACCOUNTS),
    at: fc.oneof(
      fc.integer({ min: 0, max: 5 * 24 * 60 }).map((m) => m * 60_000),
      fc.constantFrom(0, 72 * HOUR, 72 * HOUR + 1, HOUR),
    ),
    text: fc.constantFrom(undefined, 'same text', 'a question?', 'https://link.example'),
  })
  .map((e) => ({
    type: e.type,
    actor: e.actor,
    occurred_at: new Date(BASE + e.at).toISOString(),
    ...(e.type === 'post' ? {} : { target: e.target }),
    ...(e.text !== undefined && ['post', 'reply', 'mention'].includes(e.type) ? { text: e.text } : {}),
  }));

t.test('a window holding every event scores exactly as all time, for every account and churn_hours', async (t) => {
  const { app, db } = await testApp(t);
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 50 }), fc.integer({ min: 1, max: 120 }), async (events, churn) => {
      const tenant = await newTenant(db);
      const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.key), payload: { events } });
      if (res.statusCode !== 200 || res.json().rejected.length > 0) throw new Error(res.body);
      await projected(db, tenant.workspace.id);
      for (const account of ACCOUNTS) {
        const read = async (query: string) => {
          const r = await app.inject({ method: 'GET', url: `/v1/accounts/${account}/scores?churn_hours=${churn}${query}`, headers: bearer(tenant.key) });
          const { window: _w, as_of: _a, ...scores } = r.json();
          return scores;
        };
        const allTime = await read('');
        const windowed = await read('&since=0001-01-01T00:00:00Z');
        if (JSON.stringify(windowed) !== JSON.stringify(allTime)) {
          throw new Error(`${account}, churn_hours ${churn}: window ${JSON.stringify(windowed)} ≠ all time ${JSON.stringify(allTime)}`);
        }
      }
      runs++;
    }),
    { numRuns: 25, seed: 20261129 },
  );
  t.equal(runs, 25);
});
