import { randomBytes } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { openDatabase } from '../../src/db/client.js';
import { autovacuumRuns, maintainTables } from '../../src/db/maintenance.js';
import { migrate } from '../../src/db/migrate.js';
import { createWorkspace } from '../../src/db/workspaces.js';
import { ingestBatch } from '../../src/ingest/batch.js';
import { Projector } from '../../src/projection/projector.js';
import { at, citusSkip, TEST_DATABASE_URL, testDatabase, unique } from '../helpers.js';

t.test('on PGlite there is nothing to maintain', { skip: TEST_DATABASE_URL ? 'runs on PGlite only' : false }, async (t) => {
  const db = await testDatabase();
  t.equal(await autovacuumRuns(db), true);
  t.same(await maintainTables(db), { analyzed: [], vacuumed: [] });
});

t.test('tables past the thresholds are analyzed once, by one process at a time', { skip: TEST_DATABASE_URL ? false : 'needs PostgreSQL' }, async (t) => {
  // A database of its own (on a Citus coordinator, a plain one: the extension is per database): the counters must not depend on what other test files wrote.
  const name = `rapport_maint_${randomBytes(4).toString('hex')}`;
  const url = new URL(TEST_DATABASE_URL!);
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString(), poolSize: 4 });
  t.teardown(async () => {
    await db.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  await migrate(db);
  // Both settings are per database cluster; this test only needs them to be readable.
  t.type(await autovacuumRuns(db), 'boolean');

  const { workspace } = await createWorkspace(db, 'w');
  // 200 follows among 40 accounts: well past 50 + 10 % of rows for events, relationships and account_stats.
  const events = Array.from({ length: 200 }, (_, i) => ({
    id: `e${i}`,
    type: 'follow',
    actor: `a${i % 40}`,
    target: `a${(i * 7 + 1) % 40}`,
    occurred_at: at(i),
  }));
  const result = await ingestBatch(db, workspace.id, events);
  t.equal(result.rejected.length, 0);
  // The derived tables change when the projector folds the events in.
  await new Projector(db, { batchEvents: 1_000, pollMs: 1_000, concurrency: 1 }).drain(workspace.id);

  // Backends report their row counts to the statistics collector a moment after they commit.
  for (let i = 0; i < 100; i++) {
    const [events] = await db.query<{ n: number }>("SELECT coalesce(sum(n_mod_since_analyze), 0)::int8 AS n FROM pg_stat_user_tables WHERE relname = 'events'");
    if (Number(events!.n) >= 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const [first, second] = await Promise.all([maintainTables(db), maintainTables(db)]);
  const reports = [first, second];
  const worked = reports.filter((r) => r.analyzed.length > 0);
  t.equal(worked.length, 1, 'one of two concurrent passes does the work, the other finds the lock taken');
  t.ok(worked[0]!.analyzed.includes('events'));
  t.ok(worked[0]!.analyzed.includes('relationships'));
  t.ok(worked[0]!.analyzed.includes('account_stats'));

  const stats = await db.query<{ relname: string; analyzed: boolean }>(
    `SELECT relname, last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE relname = ANY($1::text[])`,
    [['events', 'relationships', 'account_stats']],
  );
  t.same(
    stats.map((s) => s.analyzed),
    [true, true, true],
  );
  t.same(await maintainTables(db), { analyzed: [], vacuumed: [] }, 'nothing changed since: nothing to do');
});

t.test('on Citus the shards are what is counted and analyzed', { skip: await citusSkip() }, async (t) => {
  const db = await testDatabase();
  t.equal(await autovacuumRuns(db), true, "the workers' autovacuum is on in the test cluster");
  const shardStats = (table: string) =>
    db.query<{ result: string }>(`SELECT result FROM run_command_on_shards($1, $2) ORDER BY shardid`, [
      table,
      "SELECT coalesce(last_analyze::text, 'never') || ',' || n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = '%s'::regclass",
    ]);
  const { workspace } = await createWorkspace(db, unique('maint'));
  // Past autovacuum's threshold (50 + 10 % of the rows) whatever other tests left in the cluster.
  const [{ rows }] = (await db.query<{ rows: number }>('SELECT count(*)::int8 AS rows FROM events')) as [{ rows: number }];
  const n = Math.max(200, Math.ceil(Number(rows) * 0.15) + 100);
  const events = Array.from({ length: n }, (_, i) => ({ id: `e${i}`, type: 'follow', actor: `a${i % 40}`, target: `a${(i * 7 + 1) % 40}`, occurred_at: at(i) }));
  t.equal((await ingestBatch(db, workspace.id, events)).rejected.length, 0);
  await new Projector(db, { batchEvents: 1_000, pollMs: 1_000, concurrency: 1 }).drain(workspace.id);
  // The workers report row counts to their statistics collectors a moment after the commit.
  const changed = async () => (await shardStats('events')).reduce((sum, r) => sum + Number(r.result.split(',')[1]), 0);
  for (let i = 0; i < 100 && (await changed()) < n; i++) await new Promise((r) => setTimeout(r, 100));
  const [{ now }] = (await db.query<{ now: string }>('SELECT clock_timestamp()::text AS now')) as [{ now: string }];

  const report = await maintainTables(db);
  for (const table of ['events', 'relationships', 'account_stats']) {
    t.ok(report.analyzed.includes(table), `${table} analyzed`);
    const stale = (await shardStats(table)).filter((r) => r.result.startsWith('never') || r.result.split(',')[0]! < now);
    t.same(stale, [], `every shard of ${table} analyzed`);
  }
});
