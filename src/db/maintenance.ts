import type { Database, Queryable } from './client.js';
import { DISTRIBUTION, hasCitus } from './distribution.js';

/**
 * Rapport's plans depend on planner statistics (the ranking index, the pair recounts), and its
 * derived tables are updated in place, leaving dead rows behind. PostgreSQL's autovacuum takes
 * care of both; where it is turned off, Rapport does the same work itself, with autovacuum's
 * default thresholds, so a database that only ever grew does not end up planned as if empty.
 * The tables that grow with the events are the ones kept per workspace.
 */
export const MAINTAINED_TABLES: readonly string[] = DISTRIBUTION.filter((d) => d.kind === 'by_workspace').map((d) => d.table);

/** autovacuum's defaults: act when more than threshold + scale × rows changed. */
const ANALYZE = { threshold: 50, scale: 0.1 };
const VACUUM = { threshold: 50, scale: 0.2 };

// One maintainer at a time across processes sharing the database.
const MAINTENANCE_LOCK = 0x52415050_4d41494en; // "RAPPMAIN"

export interface MaintenanceReport {
  analyzed: string[];
  vacuumed: string[];
}

const AUTOVACUUM_ON = "SELECT current_setting('autovacuum') = 'on' AND current_setting('track_counts') = 'on' AS on";

/**
 * Whether PostgreSQL's autovacuum is running for this database (it needs track_counts too). On
 * Citus the rows live in the workers' shards, so the workers' settings are the ones that count.
 */
export async function autovacuumRuns(db: Database): Promise<boolean> {
  if (db.kind !== 'postgres') return true;
  if (await hasCitus(db)) {
    const workers = await db.query<{ result: string }>('SELECT result FROM run_command_on_workers($1)', [AUTOVACUUM_ON]);
    return workers.every((w) => w.result === 't');
  }
  const [row] = await db.query<{ on: boolean }>(AUTOVACUUM_ON);
  return Boolean(row?.on);
}

interface TableActivity {
  table: string;
  rows: number;
  changed: number;
  dead: number;
}

/** Row counts and changes since the last ANALYZE, from the statistics collector. */
async function activity(conn: Queryable): Promise<TableActivity[]> {
  if (!(await hasCitus(conn))) {
    return conn.query<TableActivity>(
      `SELECT s.relname AS table, greatest(c.reltuples, 0)::float8 AS rows,
              s.n_mod_since_analyze::float8 AS changed, s.n_dead_tup::float8 AS dead
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
        WHERE s.schemaname = current_schema() AND s.relname = ANY($1::text[])`,
      [[...MAINTAINED_TABLES]],
    );
  }
  // On Citus the coordinator's tables are empty shells: the counts are the shards', summed per
  // table, as autovacuum would see the table were it on one node.
  const tables: TableActivity[] = [];
  for (const table of MAINTAINED_TABLES) {
    const [sum] = await conn.query<TableActivity>(
      `SELECT $1::text AS table, coalesce(sum(split_part(result, ',', 1)::float8), 0) AS rows,
              coalesce(sum(split_part(result, ',', 2)::float8), 0) AS changed, coalesce(sum(split_part(result, ',', 3)::float8), 0) AS dead
         FROM run_command_on_shards($1, $2) WHERE success`,
      [
        table,
        `SELECT greatest(c.reltuples, 0) || ',' || s.n_mod_since_analyze || ',' || s.n_dead_tup
           FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relid = '%s'::regclass`,
      ],
    );
    tables.push(sum!);
  }
  return tables;
}

/**
 * Analyzes (and vacuums) the tables that changed past autovacuum's thresholds since their last
 * pass. Another process already doing it makes this a no-op.
 */
export async function maintainTables(db: Database): Promise<MaintenanceReport> {
  const report: MaintenanceReport = { analyzed: [], vacuumed: [] };
  if (db.kind !== 'postgres') return report;
  return db.withConnection(async (conn) => {
    const [lock] = await conn.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1::int8) AS got', [MAINTENANCE_LOCK.toString()]);
    if (!lock?.got) return report;
    try {
      const tables = await activity(conn);
      // A big table can take longer than a request may; this connection alone waits for it.
      await conn.query('SET statement_timeout = 0');
      for (const t of tables) {
        const vacuum = t.dead > VACUUM.threshold + VACUUM.scale * t.rows;
        const analyze = t.changed > ANALYZE.threshold + ANALYZE.scale * t.rows;
        if (!vacuum && !analyze) continue;
        // The name comes from MAINTAINED_TABLES, through the catalogue: never from a request. On
        // Citus, VACUUM and ANALYZE of a distributed table run on each of its shards.
        await conn.query(vacuum ? `VACUUM (ANALYZE) ${t.table}` : `ANALYZE ${t.table}`);
        report.analyzed.push(t.table);
        if (vacuum) report.vacuumed.push(t.table);
      }
      return report;
    } finally {
      await conn.query('RESET statement_timeout').catch(() => {});
      await conn.query('SELECT pg_advisory_unlock($1::int8)', [MAINTENANCE_LOCK.toString()]).catch(() => {});
    }
  });
}
