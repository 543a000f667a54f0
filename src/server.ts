import { readFileSync } from 'node:fs';
import closeWithGrace from 'close-with-grace';
import type { FastifyBaseLogger } from 'fastify';
import { buildApp } from './app.js';
import { connectionCap, openFileLimit } from './http/connections.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/client.js';
import { autovacuumRuns, maintainTables } from './db/maintenance.js';
import { migrate } from './db/migrate.js';

/** How often the tables are looked at when PostgreSQL's autovacuum is off. */
export const MAINTENANCE_INTERVAL_MS = 30_000;

/** Analyzes and vacuums the tables every interval; returns how to stop (waiting for a pass under way). */
function keepTablesMaintained(db: Database, log: FastifyBaseLogger): () => Promise<void> {
  let pass = Promise.resolve();
  const timer = setInterval(() => {
    pass = pass.then(async () => {
      try {
        const report = await maintainTables(db);
        if (report.analyzed.length > 0) log.info(report, 'tables analyzed');
      } catch (err) {
        log.warn({ err }, 'table maintenance failed; it is tried again at the next interval');
      }
    });
  }, MAINTENANCE_INTERVAL_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await pass;
  };
}

function readOpenFileLimit(): number | null {
  try {
    return openFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null; // not Linux: the configured cap stands
  }
}

/**
 * Runs the API until SIGTERM or SIGINT: then it stops accepting connections, lets in-flight
 * requests finish (every acknowledged event is committed before its answer is sent), and closes
 * the pool. Where PostgreSQL's autovacuum is off, it keeps the tables analyzed and vacuumed itself.
 */
export async function serve(config: Config) {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  });
  await migrate(db);
  const fileLimit = readOpenFileLimit();
  const maxConnections = connectionCap(config.MAX_CONNECTIONS, fileLimit);
  const app = await buildApp({ config: { ...config, MAX_CONNECTIONS: maxConnections }, db });
  if (maxConnections < config.MAX_CONNECTIONS) {
    app.log.warn({ fileLimit, maxConnections }, `MAX_CONNECTIONS lowered to ${maxConnections}: the process may open only ${fileLimit} files (raise ulimit -n to allow more)`);
  }
  let stopMaintenance = async () => {};
  if (!(await autovacuumRuns(db))) {
    app.log.warn(`PostgreSQL's autovacuum is off: Rapport analyzes and vacuums its own tables every ${MAINTENANCE_INTERVAL_MS / 1000} s`);
    stopMaintenance = keepTablesMaintained(db, app.log);
  }
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an uncaught error');
    else app.log.info({ signal }, 'shutting down');
    // The pool closes last, after every hook of the app (queued single events among them) is done.
    await app.close();
    await stopMaintenance();
    await db.close();
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  app.log.info({ database: db.kind === 'postgres' ? 'postgresql' : `pglite in ${config.DATA_DIR}` }, 'rapport is serving');
  return app;
}
