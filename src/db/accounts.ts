import type { EventType } from '../domain/events.js';
import { clampMicros, formatMicros, parseRfc3339 } from '../domain/time.js';
import { Problem } from '../errors.js';
import { HOUR_MICROS, RESPONSE_WINDOW_HOURS, type Summary } from '../scoring/summary.js';
import { windowSummary, type WindowEvent } from '../scoring/window.js';
import { engagement, RANKING_SQL, reciprocity, spam, type RankingMetric } from '../scoring/metrics.js';
import { iso, type Queryable } from './client.js';
import { allTimeSummary } from './stats.js';

export interface Window {
  /** Microseconds; null for an open end. */
  since: bigint | null;
  until: bigint | null;
  churnHours: number;
}

const micros = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::int8::text`;

interface LoadedEvent {
  type: EventType;
  other: string | null;
  micros: string;
  has_link: boolean;
  is_question: boolean;
  fingerprint: Uint8Array | null;
}

const toWindowEvent = (r: LoadedEvent): WindowEvent => ({
  type: r.type,
  other: r.other,
  at: BigInt(r.micros),
  hasLink: r.has_link,
  isQuestion: r.is_question,
  fingerprint: r.fingerprint ? Buffer.from(r.fingerprint).toString('hex') : null,
});

/**
 * An account's summary: the stored all-time counters, or, for a window, one computed from the
 * account's events in it (its cost grows with the events inside the window, not with history).
 */
export async function accountSummary(db: Queryable, workspaceId: number, account: string, w: Window): Promise<Summary> {
  const allTime = await allTimeSummary(db, workspaceId, account, w.churnHours);
  if (w.since === null && w.until === null) return allTime;
  const since = w.since === null ? null : formatMicros(w.since);
  const until = w.until === null ? null : formatMicros(w.until);
  // A's own answers and unfollows count past `until`, up to the longer of the two horizons.
  const horizon = BigInt(Math.max(RESPONSE_WINDOW_HOURS, w.churnHours)) * HOUR_MICROS;
  const outUntil = w.until === null ? null : formatMicros(clampMicros(w.until + horizon));
  const [outgoing, incoming] = await Promise.all([
    db.query<LoadedEvent>(
      `SELECT type::text AS type, target AS other, ${micros('occurred_at')} AS micros, has_link, is_question, fingerprint
         FROM events
        WHERE workspace_id = $1 AND actor = $2 AND target IS DISTINCT FROM $2
          AND ($3::timestamptz IS NULL OR occurred_at >= $3) AND ($4::timestamptz IS NULL OR occurred_at < $4)`,
      [workspaceId, account, since, outUntil],
    ),
    db.query<LoadedEvent>(
      `SELECT type::text AS type, actor AS other, ${micros('occurred_at')} AS micros, has_link, is_question, fingerprint
         FROM events
        WHERE workspace_id = $1 AND target = $2 AND actor <> $2
          AND ($3::timestamptz IS NULL OR occurred_at >= $3) AND ($4::timestamptz IS NULL OR occurred_at < $4)`,
      [workspaceId, account, since, until],
    ),
  ]);
  const actors = [...new Set(incoming.map((e) => e.other!))];
  const followers = new Set(
    actors.length === 0
      ? []
      : (
          await db.query<{ other: string }>(
            `SELECT other FROM relationships
              WHERE workspace_id = $1 AND account = $2 AND in_follows AND other = ANY($3::text[])`,
            [workspaceId, account, actors],
          )
        ).map((r) => r.other),
  );
  return windowSummary({
    since: w.since,
    until: w.until,
    churnHours: w.churnHours,
    outgoing: outgoing.map(toWindowEvent),
    incoming: incoming.map(toWindowEvent),
    graph: { followers: allTime.followers, following: allTime.following, mutual: allTime.mutual },
    isFollower: (x) => followers.has(x),
  });
}

/** A window from query strings or a body (already checked to be RFC 3339); `where` prefixes the field an error names. */
export function windowOf(
  q: { since?: string | undefined; until?: string | undefined; churn_hours: number },
  where: 'querystring.' | '' = 'querystring.',
): Window {
  const since = q.since === undefined ? null : parseRfc3339(q.since)!.micros;
  const until = q.until === undefined ? null : parseRfc3339(q.until)!.micros;
  if (since !== null && until !== null && until <= since) {
    throw new Problem('validation_failed', 'until must be later than since', {
      errors: [{ field: `${where}until`, message: 'must be later than since' }],
    });
  }
  return { since, until, churnHours: q.churn_hours };
}

export const describeWindow = (w: Window) => ({
  since: w.since === null ? null : formatMicros(w.since),
  until: w.until === null ? null : formatMicros(w.until),
  churn_hours: w.churnHours,
});

/** The whole scores document of an account, as `GET /v1/accounts/{account}/scores` and `rapport scores` print it. */
export async function accountScores(db: Queryable, workspaceId: number, account: string, w: Window) {
  const s = await accountSummary(db, workspaceId, account, w);
  return { account, window: describeWindow(w), reciprocity: reciprocity(s), engagement: engagement(s), spam: spam(s) };
}

export interface FollowEdge {
  account: string;
  followed_at: string;
}

/**
 * Accounts A follows that do not follow A back (`direction` out), or followers A does not follow
 * back (`direction` in): oldest follow first.
 */
export async function oneWayFollows(
  db: Queryable,
  workspaceId: number,
  account: string,
  direction: 'out' | 'in',
  page: { limit: number; after: [string, string] | null },
): Promise<FollowEdge[]> {
  const [mine, theirs] = direction === 'out' ? ['out', 'in'] : ['in', 'out'];
  return db.query<FollowEdge>(
    `SELECT other AS account, ${iso(`${mine}_follow_at`)} AS followed_at
       FROM relationships
      WHERE workspace_id = $1 AND account = $2 AND ${mine}_follows AND NOT ${theirs}_follows
        AND ($3::timestamptz IS NULL OR (${mine}_follow_at, other) > ($3::timestamptz, $4::text))
      ORDER BY ${mine}_follow_at, other
      LIMIT $5`,
    [workspaceId, account, page.after?.[0] ?? null, page.after?.[1] ?? null, page.limit],
  );
}

export interface Partner {
  account: string;
  sent: { like: number; reply: number; mention: number; repost: number; total: number };
  received: { like: number; reply: number; mention: number; repost: number; total: number };
  exchange: number;
  follows: boolean;
  followed_by: boolean;
}

const total = (p: string) => `(${p}_like + ${p}_reply + ${p}_mention + ${p}_repost)`;

/** The accounts A exchanges interactions with, most exchange first: min(sent, received), then sent + received. */
export async function partners(
  db: Queryable,
  workspaceId: number,
  account: string,
  page: { limit: number; after: [number, number, string] | null },
): Promise<Partner[]> {
  const rows = await db.query<Record<string, number | string | boolean>>(
    `SELECT * FROM (
       SELECT other, out_like, out_reply, out_mention, out_repost, in_like, in_reply, in_mention, in_repost,
              out_follows, in_follows,
              LEAST(${total('out')}, ${total('in')}) AS exchange, ${total('out')} + ${total('in')} AS volume
         FROM relationships
        WHERE workspace_id = $1 AND account = $2 AND ${total('out')} + ${total('in')} > 0) p
      WHERE $3::int8 IS NULL OR (exchange, volume) < ($3::int8, $4::int8) OR ((exchange, volume) = ($3::int8, $4::int8) AND other > $5)
      ORDER BY exchange DESC, volume DESC, other
      LIMIT $6`,
    [workspaceId, account, page.after?.[0] ?? null, page.after?.[1] ?? null, page.after?.[2] ?? null, page.limit],
  );
  const side = (r: Record<string, number | string | boolean>, p: 'out' | 'in') => {
    const c = { like: Number(r[`${p}_like`]), reply: Number(r[`${p}_reply`]), mention: Number(r[`${p}_mention`]), repost: Number(r[`${p}_repost`]) };
    return { ...c, total: c.like + c.reply + c.mention + c.repost };
  };
  return rows.map((r) => ({
    account: String(r.other),
    sent: side(r, 'out'),
    received: side(r, 'in'),
    exchange: Number(r.exchange),
    follows: Boolean(r.out_follows),
    followed_by: Boolean(r.in_follows),
  }));
}

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/** Interactions received by A per (ISO weekday, hour) in the time zone `tz`, inside the window. */
export async function interactionsByHour(
  db: Queryable,
  workspaceId: number,
  account: string,
  tz: string,
  w: Pick<Window, 'since' | 'until'>,
): Promise<number[]> {
  const rows = await db
    .query<{ dow: number; hour: number; n: number }>(
    `SELECT extract(isodow FROM occurred_at AT TIME ZONE $3)::int AS dow, extract(hour FROM occurred_at AT TIME ZONE $3)::int AS hour,
            count(*)::int8 AS n
       FROM events
      WHERE workspace_id = $1 AND target = $2 AND actor <> $2 AND type IN ('like', 'reply', 'mention', 'repost')
        AND ($4::timestamptz IS NULL OR occurred_at >= $4) AND ($5::timestamptz IS NULL OR occurred_at < $5)
      GROUP BY 1, 2`,
    [workspaceId, account, tz, w.since === null ? null : formatMicros(w.since), w.until === null ? null : formatMicros(w.until)],
  )
    .catch((err: { code?: string }) => {
      // A zone the runtime knows but the database's zone data does not (old aliases such as US/Pacific-New).
      if (err.code === '22023') {
        throw new Problem('validation_failed', `the database does not know the time zone ${JSON.stringify(tz)}`, {
          errors: [{ field: 'querystring.tz', message: 'unknown time zone' }],
        });
      }
      throw err;
    });
  const grid = new Array<number>(7 * 24).fill(0);
  for (const r of rows) grid[(Number(r.dow) - 1) * 24 + Number(r.hour)] = Number(r.n);
  return grid;
}


export interface RankedAccount {
  account: string;
  value: number | null;
  followers: number;
  following: number;
  spam_score: number;
}

/**
 * Accounts ranked by an all-time metric. Ties are broken by the account name in the same
 * direction, so that the (value, account) pair orders the page and an index can serve it; a
 * ratio with no data (null) sorts as −1, below every real value.
 */
export async function rankAccounts(
  db: Queryable,
  workspaceId: number,
  q: { metric: RankingMetric; order: 'asc' | 'desc'; minFollowers: number; limit: number; after: [number, string] | null },
): Promise<RankedAccount[]> {
  const expr = RANKING_SQL[q.metric];
  const key = expr.startsWith('CASE') ? `COALESCE(${expr}, -1)` : expr;
  const cmp = q.order === 'desc' ? '<' : '>';
  const dir = q.order === 'desc' ? 'DESC' : 'ASC';
  const rows = await db.query<RankedAccount>(
    `SELECT account, (${expr})::float8 AS value, followers, following, spam_score
       FROM account_stats
      WHERE workspace_id = $1 AND followers >= $2
        AND ($3::float8 IS NULL OR (${key}, account) ${cmp} ($3::float8, $4::text))
      ORDER BY ${key} ${dir}, account ${dir}
      LIMIT $5`,
    [workspaceId, q.minFollowers, q.after?.[0] ?? null, q.after?.[1] ?? null, q.limit],
  );
  return rows.map((r) => ({ ...r, value: r.value === null ? null : Number(r.value) }));
}

/** The sort key of a ranked row, as the next page's cursor holds it. */
export const rankKey = (metric: RankingMetric, r: RankedAccount): [number, string] => [
  r.value ?? (RANKING_SQL[metric].startsWith('CASE') ? -1 : 0),
  r.account,
];
