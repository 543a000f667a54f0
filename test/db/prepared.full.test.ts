import t from 'tap';
import { openDatabase } from '../../src/db/client.js';
import { createWorkspace } from '../../src/db/workspaces.js';
import { ingestBatch } from '../../src/ingest/batch.js';
import { Projector } from '../../src/projection/projector.js';
import { at, TEST_DATABASE_URL, testDatabase, unique } from '../helpers.js';

t.test('ingest statements are prepared once per connection, and only upserts, whose plan cannot go stale', { skip: TEST_DATABASE_URL ? false : 'needs PostgreSQL' }, async (t) => {
  await testDatabase(); // migrated
  // One connection, so pg_prepared_statements (which is per connection) shows what ingest prepared on it.
  const db = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
  t.teardown(() => db.close());
  const { workspace } = await createWorkspace(db, unique('prepared'));
  const batch = (n: number) => [
    { id: `f${n}`, type: 'follow', actor: 'a', target: 'b', occurred_at: at(n) },
    { id: `r${n}`, type: 'reply', actor: 'b', target: 'a', occurred_at: at(n + 1), text: 'hi?' },
    { id: `p${n}`, type: 'post', actor: 'a', occurred_at: at(n + 2), text: 'same text' },
    { id: `u${n}`, type: 'unfollow', actor: 'a', target: 'b', occurred_at: at(n + 3) },
  ];
  const prepared = () => db.query<{ name: string; statement: string }>(`SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'rapport\\_%' ORDER BY name`);

  // Ingest appends; the projector folds: both on this one connection.
  const fold = () => new Projector(db, { batchEvents: 100, pollMs: 1_000, concurrency: 1 }).drain(workspace.id);
  const first = await ingestBatch(db, workspace.id, batch(0));
  t.equal(first.accepted, 4);
  await fold();
  const after1 = await prepared();
  // Statements rendered from the drizzle schema quote their names.
  const tables = after1.map((s) => /INSERT INTO "?(\w+)"?/.exec(s.statement)?.[1]).sort();
  // The relationships upsert is part of the fold's statement over the queued batch, planned at each call.
  t.same(tables, ['account_stats', 'account_stats', 'events', 'follow_days', 'post_fingerprints', 'unfollow_delays'], 'every other ingest upsert is prepared');
  // The append queues what it inserted in the same statement: an upsert in a data-modifying CTE.
  for (const s of after1) t.match(s.statement.trim(), /^(WITH \w+ AS \(\s*)?INSERT INTO "?\w+"? .*ON CONFLICT/s, `${s.name} is an upsert: no scan for a plan to choose`);

  const second = await ingestBatch(db, workspace.id, batch(10));
  t.equal(second.accepted, 4);
  await fold();
  t.same(await prepared(), after1, 'the next batch reuses them: nothing prepared again');
});
