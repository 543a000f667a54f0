import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { isoOf, statement } from './sql.js';

/** Where the drizzle-kit migrations live, from src/db or dist/db alike. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Anything that runs SQL: the database itself, or one transaction. */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
}

/** isoOf (db/sql.ts) for a column named in text, as statements not yet written through the schema name it. */
export const iso = (column: string) => statement(isoOf(sql.raw(column)));

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction; retried on deadlock or serialization failure, so `fn` must be re-runnable. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs `fn` on one dedicated connection (advisory locks, COPY). */
  withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T>;
  poolStats(): PoolStats;
  close(): Promise<void>;
}

export type Connection = { kind: 'postgres'; client: pg.PoolClient; query: Queryable['query'] } | { kind: 'pglite'; client: PGlite; query: Queryable['query'] };

// Timestamps stay strings (microseconds survive; JavaScript dates keep only milliseconds);
// bigint counts become numbers (counts here stay far below 2^53).
const TIMESTAMPTZ_OID = 1184;
const INT8_OID = 20;
const parsers: Record<number, (v: string) => unknown> = {
  [TIMESTAMPTZ_OID]: (v) => v,
  [INT8_OID]: (v) => Number(v),
};

const preparedNames = new Map<string, string>();

/**
 * Marks a statement the ingest path runs over and over: on PostgreSQL it is parsed and planned once
 * per connection instead of on every call, which for a transaction of a few events is a large part
 * of its time. Only for fixed texts (each distinct text stays prepared on every connection for the
 * connection's life), and only for plans with no choice in them: PostgreSQL settles on a generic
 * plan and keeps it while the table grows, so a plan made on an empty table (a sequential scan)
 * would outlive it. The ingest upserts (`INSERT … SELECT FROM unnest … ON CONFLICT`) qualify: they
 * read nothing but their arrays, and the conflict index finds each row.
 */
export function prepared(text: string): string {
  if (!preparedNames.has(text)) preparedNames.set(text, `rapport_${preparedNames.size + 1}`);
  return text;
}

const RETRYABLE_TX = new Set(['40P01', '40001']);
const MAX_TX_ATTEMPTS = 5;

async function retrying<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (i >= MAX_TX_ATTEMPTS || !code || !RETRYABLE_TX.has(code)) throw err;
      await new Promise((r) => setTimeout(r, 5 * i * Math.random()));
    }
  }
}

function postgres(url: string, poolSize: number, statementTimeoutMs: number): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // A runaway query gives its connection back instead of holding it forever (0: no limit).
    statement_timeout: statementTimeoutMs,
    connectionTimeoutMillis: 5_000,
    types: {
      getTypeParser: ((oid: number, format?: string) => parsers[oid] ?? (pg.types.getTypeParser(oid, format as 'text') as (v: string) => unknown)) as typeof pg.types.getTypeParser,
    },
  });
  // A connection dropping (restart, failover, network) must not crash the process: pg-pool listens
  // for errors of idle clients only, so every client gets a listener of its own. The query in flight
  // still fails (and answers 503), and pg-pool discards the dead client when it is released.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const on =
    (c: pg.Pool | pg.PoolClient): Queryable['query'] =>
    async (text, params) => {
      const name = preparedNames.get(text);
      return (await c.query(name ? { name, text, values: params as unknown[] } : { text, values: params as unknown[] })).rows as never;
    };
  return {
    kind: 'postgres',
    query: on(pool),
    async withConnection(fn) {
      const client = await pool.connect();
      try {
        return await fn({ kind: 'postgres', client, query: on(client) });
      } finally {
        client.release();
      }
    },
    transaction(fn) {
      return retrying(async () => {
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query('BEGIN');
          const result = await fn({ query: on(client) });
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
          throw err;
        } finally {
          client.release(broken);
        }
      });
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: poolSize }),
    close: () => pool.end(),
  };
}

export class DatabaseInUseError extends Error {}

/**
 * PGlite keeps no lock of its own, and two processes writing one folder corrupt it: a lock file
 * with the owner's pid makes the second process stop with a clear message instead.
 */
function lockDataDir(dataDir: string): () => void {
  const lock = join(dataDir, 'rapport.lock');
  try {
    const owner = Number(readFileSync(lock, 'utf8'));
    if (owner && owner !== process.pid && isAlive(owner)) {
      throw new DatabaseInUseError(`the embedded database in ${dataDir} is in use by process ${owner} (a running \`rapport serve\`?): stop it first, or use the admin API`);
    }
  } catch (err) {
    if (err instanceof DatabaseInUseError) throw err;
  }
  writeFileSync(lock, String(process.pid));
  return () => rmSync(lock, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function pglite(dataDir: string | undefined, dump: Blob | undefined): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  let unlock = () => {};
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  const db = await PGlite.create(dataDir, { parsers, ...(dump && { loadDataDir: dump }) });
  const on =
    (c: Pick<PGlite, 'query'>): Queryable['query'] =>
    async (text, params) =>
      (await c.query(text, params as unknown[])).rows as never;
  return {
    kind: 'pglite',
    query: on(db),
    withConnection: (fn) => fn({ kind: 'pglite', client: db, query: on(db) }),
    transaction: (fn) => retrying(() => db.transaction((tx) => fn({ query: on(tx) }))),
    poolStats: () => ({ total: 1, idle: 1, waiting: 0, max: 1 }),
    close: async () => {
      await db.close();
      unlock();
    },
  };
}

export interface DatabaseOptions {
  /** PostgreSQL when set; embedded PGlite otherwise. */
  url?: string | undefined;
  /** PGlite's folder; in memory when undefined. */
  dataDir?: string | undefined;
  /** PGlite only: start from this dump of a data folder (PGlite's dumpDataDir) rather than from initdb. */
  pgliteDump?: Blob | undefined;
  poolSize?: number;
  statementTimeoutMs?: number;
}

export function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.url ? Promise.resolve(postgres(opts.url, opts.poolSize ?? 10, opts.statementTimeoutMs ?? 60_000)) : pglite(opts.dataDir, opts.pgliteDump);
}
