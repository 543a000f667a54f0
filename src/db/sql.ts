import { sql, type AnyColumn, type SQL, type SQLWrapper } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';

/**
 * Statements name tables and columns through the drizzle schema (src/db/schema.ts), so renaming a
 * column fails to compile instead of failing at run time. They are written with drizzle's `sql`
 * template and rendered to text once, when their module loads: a call runs a ready string (which
 * `prepared()` can keep prepared), never a template.
 */

const dialect = new PgDialect();

/**
 * The text of a statement. Its parameters are positional ($1, $2, …) in the text and passed at
 * each call, as for every statement the Queryable runs; a value interpolated into the template
 * would become a parameter of its own and is refused.
 */
export function statement(query: SQL): string {
  const { sql: text, params } = dialect.sqlToQuery(query);
  if (params.length > 0) throw new Error(`a statement takes its parameters positionally, not interpolated: ${text}`);
  return text;
}

/**
 * A column by its bare name, where SQL allows no table before it: an INSERT's column list, an
 * ON CONFLICT target, the left side of SET, `EXCLUDED.…`, a name given to a result.
 */
export const bare = (column: { name: string }) => sql.identifier(column.name);

/** A timestamptz as RFC 3339 in UTC, whatever the session's DateStyle and TimeZone. */
export const isoOf = (column: AnyColumn | SQLWrapper) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
