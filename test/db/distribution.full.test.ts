import { is } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import t from 'tap';
import { DISTRIBUTION, distributeTables } from '../../src/db/distribution.js';
import { migrate } from '../../src/db/migrate.js';
import * as schema from '../../src/db/schema.js';
import { citusSkip, testDatabase } from '../helpers.js';

t.test('every table of the schema has its place on Citus', async (t) => {
  const tables = (Object.values(schema) as unknown[])
    .filter((x): x is PgTable => is(x, PgTable))
    .map((x) => getTableConfig(x).name)
    .sort();
  t.same(DISTRIBUTION.map((d) => d.table).sort(), tables, 'a table added to schema.ts is added to DISTRIBUTION too');
});

const skip = await citusSkip();

t.test('on Citus, migrate distributes every table by workspace, co-located, and the small ones as reference tables', { skip }, async (t) => {
  const db = await testDatabase();
  const rows = await db.query<{ table: string; method: string; column: string | null; colocation: number }>(
    `SELECT logicalrelid::regclass::text AS table, partmethod AS method,
            column_to_column_name(logicalrelid, partkey) AS column, colocationid AS colocation
       FROM pg_dist_partition WHERE logicalrelid::regclass::text = ANY($1::text[])`,
    [DISTRIBUTION.map((d) => d.table)],
  );
  const byTable = new Map(rows.map((r) => [r.table, r]));
  const anchor = byTable.get('events')?.colocation;
  for (const { table, kind } of DISTRIBUTION) {
    const row = byTable.get(table);
    if (kind === 'reference') t.match(row, { method: 'n', column: null }, `${table} is a reference table`);
    else t.match(row, { method: 'h', column: 'workspace_id', colocation: anchor }, `${table} is distributed by workspace_id with events`);
  }
});

t.test('on Citus, migrating again distributes nothing more', { skip }, async (t) => {
  const db = await testDatabase();
  await migrate(db);
  t.same(await distributeTables(db), []);
});
