import { z } from 'zod';
import { parseRfc3339 } from '../domain/time.js';
import { EmptyWindowError, parseWindow, type Window } from '../domain/window.js';
import { Problem } from '../errors.js';
import { DEFAULT_CHURN_HOURS, MAX_CHURN_HOURS } from '../scoring/summary.js';
import { consistencyParam } from './schemas.js';

/** Query parameters several read routes share, defined once so they are checked and documented alike. */

/** An instant as a query parameter: RFC 3339 with an offset. */
export const instant = z
  .string()
  .max(64)
  .refine((s) => parseRfc3339(s) !== null, 'must be an RFC 3339 date-time with an offset')
  .meta({ format: 'date-time', examples: ['2026-11-01T00:00:00Z'] });

export const churnHours = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_CHURN_HOURS)
  .default(DEFAULT_CHURN_HOURS)
  .describe('How soon an unfollow must follow a follow to count as a quick unfollow.')
  .meta({ examples: [48] });

/** The largest page a list answers. */
export const MAX_PAGE_ITEMS = 1000;

/** `limit`, `cursor` and `consistency` of every paginated list. */
export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_ITEMS)
    .default(100)
    .describe('Items per page.')
    .meta({ examples: [100] }),
  cursor: z.string().max(2000).optional().describe('`next_cursor` of the previous page, with the same other parameters.'),
  consistency: consistencyParam,
};

/** A string PostgreSQL can hold as text (no NUL), as every cursor's account is. */
export const isText = (v: unknown): v is string => typeof v === 'string' && !v.includes('\u0000') && v.length <= 1024;

/** A cursor of an (instant, account) sort key. */
export const isTimeCursor = (v: unknown[]): v is [string, string] => v.length === 2 && isText(v[0]) && parseRfc3339(v[0]) !== null && isText(v[1]);

/** The window of a query or a body; `where` prefixes the field an error names, as validation errors name it. */
export function windowOf(q: { since?: string | undefined; until?: string | undefined; churn_hours: number }, where: 'querystring.' | '' = 'querystring.'): Window {
  try {
    return parseWindow({ since: q.since, until: q.until, churnHours: q.churn_hours });
  } catch (e) {
    if (!(e instanceof EmptyWindowError)) throw e;
    throw new Problem('validation_failed', `${e.field} ${e.message}`, { errors: [{ field: `${where}${e.field}`, message: e.message }] });
  }
}
