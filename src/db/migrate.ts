import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { MIGRATIONS_FOLDER, type Database } from './client.js';

/** Any fixed 64-bit number; it names Rapport's migration lock among the database's advisory locks. */
const MIGRATION_LOCK = 7_345_226_001;

/**
 * Applies pending migrations. drizzle's migrator takes no lock, so processes starting together
 * queue on a session advisory lock and each then finds the work done.
 */
export async function migrate(db: Database): Promise<void> {
  await db.withConnection(async (conn) => {
    await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      if (conn.kind === 'postgres') {
        await migratePg(drizzlePg(conn.client), { migrationsFolder: MIGRATIONS_FOLDER });
      } else {
        await migratePglite(drizzlePglite(conn.client), { migrationsFolder: MIGRATIONS_FOLDER });
      }
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  });
}
