import fc from 'fast-check';
import t from 'tap';
import { windowOf } from '../../src/http/params.js';
import type { Database } from '../../src/db/client.js';
import { Cursors } from '../../src/http/cursors.js';
import { changesPage, type ChangesPage } from '../../src/service/follower-changes.js';
import { at, bearer, newTenant, testApp } from '../helpers.js';
import { markArb, marksToEvents, modelChanges } from '../reference/follower-changes.js';

/**
 * A page of follower changes reads at most a bounded number of events of each type, however many
 * of them are no change: these tests bound it to a handful so that pages are cut short by it.
 */

const OPEN = windowOf({ churn_hours: 72 });

/** Every page of an account's follower changes, read with `scanMarks` as the bound. */
async function pages(db: Database, workspaceId: number, account: string, limit: number, scanMarks: number, change: 'follow' | 'unfollow' | null = null) {
  const cursors = new Cursors(db);
  const out: ChangesPage[] = [];
  let cursor: string | undefined;
  do {
    const read = await changesPage(db, cursors, 'follower-changes', workspaceId, account, { change, window: OPEN, limit, cursor }, scanMarks);
    const page = await read();
    out.push(page);
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined && out.length < 1000);
  return out;
}

t.test('a page whose scan meets only repeats ends where the scan stopped, empty, and the next page goes on from there', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  // y follows at 0; x follows at 1 and again at 2, 3, …, 10 (repeats: no change).
  const events = [
    { type: 'follow', actor: 'y', target: 'ann', occurred_at: at(0) },
    ...Array.from({ length: 10 }, (_, i) => ({ type: 'follow', actor: 'x', target: 'ann', occurred_at: at(i + 1) })),
  ];
  t.equal((await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.key), payload: { events } })).json().accepted, 11);
  // Three events a page: 10, 9, 8 / 7, 6, 5 / 4, 3, 2 are repeats; then x's follow at 1 and y's at 0, and the scan ends short of its bound.
  const read = await pages(db, tenant.workspace.id, 'ann', 5, 3);
  t.strictSame(
    read.map((p) => p.items.map((i) => `${i.account}@${i.at.slice(11, 16)}`)),
    [[], [], [], ['x@00:01', 'y@00:00']],
  );
  t.strictSame(
    read.map((p) => p.next_cursor === null),
    [false, false, false, true],
  );
  t.strictSame(
    (await pages(db, tenant.workspace.id, 'ann', 5, 5000)).map((p) => p.items.length),
    [2],
    'one page under the default bound',
  );
});

t.test('pages cut short by any bound still concatenate to the whole list, for both types and for each alone', async (t) => {
  const { app, db } = await testApp(t);
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(markArb, { minLength: 10, maxLength: 40, size: 'max' }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 6 }),
      async (marks, limit, scanMarks) => {
        const tenant = await newTenant(db);
        const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.key), payload: { events: marksToEvents(marks) } });
        if (res.json().accepted !== marks.length) throw new Error(res.body);
        const whole = modelChanges(marks, 'a', 72);
        for (const change of [null, 'follow', 'unfollow'] as const) {
          const read = await pages(db, tenant.workspace.id, 'a', limit, scanMarks, change);
          t.strictSame(
            read.flatMap((p) => p.items),
            change ? whole.filter((c) => c.change === change) : whole,
            `${change ?? 'both'}, limit ${limit}, bound ${scanMarks}`,
          );
          t.ok(
            read.every((p) => p.items.length <= limit),
            'no page holds more than limit',
          );
        }
        runs++;
      },
    ),
    { numRuns: 12, seed: 1129 },
  );
  t.equal(runs, 12);
});
