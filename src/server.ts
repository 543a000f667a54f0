import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { openDatabase } from './db/client.js';
import { migrate } from './db/migrate.js';

/**
 * Runs the API until SIGTERM or SIGINT: then it stops accepting connections, lets in-flight
 * requests finish (every acknowledged event is committed before its answer is sent), and closes
 * the pool.
 */
export async function serve(config: Config) {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  });
  await migrate(db);
  const app = await buildApp({ config, db });
  app.addHook('onClose', () => db.close());
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an uncaught error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  app.log.info({ database: db.kind === 'postgres' ? 'postgresql' : `pglite in ${config.DATA_DIR}` }, 'rapport is serving');
  return app;
}
