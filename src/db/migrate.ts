import { MIGRATIONS_FOLDER, type Database } from './client.js';
import { distributeTables } from './distribution.js';

/** Any fixed 64-bit number; it names Rapport's migration lock among the database's advisory locks. */
const MIGRATION_LOCK = 7_345_226_001;

/**
 * Applies pending migrations, then, on a Citus coordinator, distributes the tables not yet
 * distributed. drizzle's migrator takes no lock, so processes starting together queue on a session
 * advisory lock and each then finds the work done.
 */
export async function migrate(db: Database): Promise<void> {
  await db.withConnection(async (conn) => {
    await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      // Each driver's migrator is loaded only when used: a command line on PostgreSQL never loads PGlite.
      if (conn.kind === 'postgres') {
        const [{ drizzle }, { migrate }] = await Promise.all([import('drizzle-orm/node-postgres'), import('drizzle-orm/node-postgres/migrator')]);
        await migrate(drizzle(conn.client), { migrationsFolder: MIGRATIONS_FOLDER });
        await distributeTables(conn);
      } else {
        const [{ drizzle }, { migrate }] = await Promise.all([import('drizzle-orm/pglite'), import('drizzle-orm/pglite/migrator')]);
        await migrate(drizzle(conn.client), { migrationsFolder: MIGRATIONS_FOLDER });
      }
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  });
}
