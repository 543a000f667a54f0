import type { Queryable } from './client.js';

/**
 * How each table is laid out on Citus, the one list `migrate` applies. `workspaces` and `api_keys`
 * are reference tables (a copy on every node): auth looks keys up by key id alone, and api_keys'
 * unique key_id index lacks workspace_id, which a distributed table cannot have. Every other table
 * is distributed by workspace_id and co-located with `events`, so a request of one workspace reads
 * and writes one shard group, on one worker, in one transaction. Order matters: a reference table
 * after the ones its foreign keys point to; `events` before the tables co-located with it.
 * A migration that adds a table adds it here too (test/db/distribution.test.ts checks the schema).
 */
export const DISTRIBUTION = [
  { table: 'workspaces', kind: 'reference' },
  { table: 'api_keys', kind: 'reference' },
  // The cursor-signing key every process shares; not a workspace's.
  { table: 'service_secrets', kind: 'reference' },
  { table: 'events', kind: 'by_workspace' },
  { table: 'relationships', kind: 'by_workspace' },
  { table: 'account_stats', kind: 'by_workspace' },
  { table: 'post_fingerprints', kind: 'by_workspace' },
  { table: 'follow_days', kind: 'by_workspace' },
  { table: 'unfollow_delays', kind: 'by_workspace' },
  { table: 'pending_events', kind: 'by_workspace' },
  { table: 'projections', kind: 'by_workspace' },
  { table: 'webhooks', kind: 'by_workspace' },
  { table: 'webhook_deliveries', kind: 'by_workspace' },
  { table: 'webhook_attempts', kind: 'by_workspace' },
] as const satisfies readonly { table: string; kind: 'reference' | 'by_workspace' }[];

/** The table every distributed table is co-located with. */
const ANCHOR = 'events';

/** Whether this database is a Citus coordinator (or any node with the extension). */
export async function hasCitus(db: Queryable): Promise<boolean> {
  const rows = await db.query("SELECT 1 FROM pg_extension WHERE extname = 'citus'");
  return rows.length > 0;
}

/**
 * On a database with the citus extension, distributes every table of DISTRIBUTION not yet
 * distributed; elsewhere does nothing. Run by `migrate` after the migrations, under its lock, so it
 * is idempotent and a table a later migration adds is distributed by the same run. A table that
 * already holds rows (a single-node database turned into a coordinator) has them copied into its
 * shards by Citus.
 */
export async function distributeTables(db: Queryable): Promise<string[]> {
  if (!(await hasCitus(db))) return [];
  const done = new Set((await db.query<{ table: string }>('SELECT logicalrelid::regclass::text AS table FROM pg_dist_partition')).map((r) => r.table));
  const distributed: string[] = [];
  for (const { table, kind } of DISTRIBUTION) {
    if (done.has(table)) continue;
    if (kind === 'reference') await db.query('SELECT create_reference_table($1)', [table]);
    else if (table === ANCHOR) await db.query("SELECT create_distributed_table($1, 'workspace_id')", [table]);
    else await db.query("SELECT create_distributed_table($1, 'workspace_id', colocate_with => $2)", [table, ANCHOR]);
    distributed.push(table);
  }
  return distributed;
}
