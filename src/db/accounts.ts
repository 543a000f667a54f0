import { formatMicros, UnknownTimeZoneError } from '../domain/time.js';
import type { Window } from '../domain/window.js';
import { RESPONSE_WINDOW_HOURS, type Summary } from '../scoring/summary.js';
import { isRatioMetric, RANKING_SQL, type RankingMetric } from '../scoring/metrics.js';
import { iso, type Queryable } from './client.js';
import { summaryFromStats, type StatsRow } from './stats.js';

const INTERACTIONS = `('like', 'reply', 'mention', 'repost')`;

/**
 * SPEC §3's activity metrics over [since, until), aggregated by PostgreSQL in one statement that
 * answers one row: a read's memory does not grow with the events in its window. Answers
 * (response_rate) and unfollows (quick_unfollows) may lie past `until`; each is one index probe of
 * the pair's events (events_pair_time).
 */
const WINDOW_SUMMARY = `
  WITH mine AS (
    SELECT type, target, occurred_at, has_link, is_question, fingerprint FROM events
     WHERE workspace_id = $1 AND actor = $2 AND target IS DISTINCT FROM $2 AND type IN ('post', 'follow')
       AND ($3::timestamptz IS NULL OR occurred_at >= $3) AND ($4::timestamptz IS NULL OR occurred_at < $4)
  ), partner AS (
    SELECT other, sum(sent)::int8 AS sent, sum(got)::int8 AS got, sum(out_like)::int8 AS out_like, sum(in_like)::int8 AS in_like,
           sum(talk)::int8 AS talk, sum(in_reply)::int8 AS in_reply, sum(in_mention)::int8 AS in_mention, sum(in_repost)::int8 AS in_repost
      FROM (
        SELECT target AS other, 1 AS sent, 0 AS got, (type = 'like')::int AS out_like, 0 AS in_like,
               (type IN ('reply', 'mention'))::int AS talk, 0 AS in_reply, 0 AS in_mention, 0 AS in_repost
          FROM events
         WHERE workspace_id = $1 AND actor = $2 AND target <> $2 AND type IN ${INTERACTIONS}
           AND ($3::timestamptz IS NULL OR occurred_at >= $3) AND ($4::timestamptz IS NULL OR occurred_at < $4)
        UNION ALL
        SELECT actor, 0, 1, 0, (type = 'like')::int, (type IN ('reply', 'mention'))::int,
               (type = 'reply')::int, (type = 'mention')::int, (type = 'repost')::int
          FROM events
         WHERE workspace_id = $1 AND target = $2 AND actor <> $2 AND type IN ${INTERACTIONS}
           AND ($3::timestamptz IS NULL OR occurred_at >= $3) AND ($4::timestamptz IS NULL OR occurred_at < $4)
      ) e
     GROUP BY other
  )
  SELECT * FROM
    (SELECT count(*) FILTER (WHERE sent > 0) AS partners_engaged,
            count(*) FILTER (WHERE got > 0) AS partners_engaging,
            count(*) FILTER (WHERE sent > 0 AND got > 0) AS partners_mutual,
            COALESCE(sum(LEAST(sent, got)), 0)::int8 AS exchange_min,
            COALESCE(sum(sent), 0)::int8 AS interactions_sent,
            COALESCE(sum(in_like), 0)::int8 AS received_like,
            COALESCE(sum(in_reply), 0)::int8 AS received_reply,
            COALESCE(sum(in_mention), 0)::int8 AS received_mention,
            COALESCE(sum(in_repost), 0)::int8 AS received_repost,
            count(*) FILTER (WHERE got > 0 AND EXISTS (
              SELECT 1 FROM relationships r
               WHERE r.workspace_id = $1 AND r.account = $2 AND r.other = p.other AND r.in_follows)) AS engaged_followers,
            count(*) FILTER (WHERE out_like > 0) AS liked_accounts,
            count(*) FILTER (WHERE out_like > 0 AND in_like > 0 AND talk = 0) AS like_for_like_accounts
       FROM partner p) pairs,
    (SELECT count(*) AS conversations_received,
            count(*) FILTER (WHERE EXISTS (
              SELECT 1 FROM events a
               WHERE a.workspace_id = $1 AND a.actor = $2 AND a.target = m.actor AND a.type IN ('reply', 'mention')
                 AND a.occurred_at > m.occurred_at AND a.occurred_at <= m.occurred_at + make_interval(hours => $6))) AS conversations_answered
       FROM events m
      WHERE m.workspace_id = $1 AND m.target = $2 AND m.actor <> $2 AND m.type IN ('reply', 'mention')
        AND ($3::timestamptz IS NULL OR m.occurred_at >= $3) AND ($4::timestamptz IS NULL OR m.occurred_at < $4)) talk,
    (SELECT count(*) FILTER (WHERE type = 'post') AS posts,
            count(*) FILTER (WHERE type = 'post' AND has_link) AS link_posts,
            count(*) FILTER (WHERE type = 'post' AND is_question) AS question_posts,
            -- k equal posts make k − 1 duplicates: Σ (k − 1) = posts with a fingerprint − distinct fingerprints.
            count(fingerprint) FILTER (WHERE type = 'post') - count(DISTINCT fingerprint) FILTER (WHERE type = 'post') AS duplicate_posts,
            count(*) FILTER (WHERE type = 'follow') AS follows,
            count(*) FILTER (WHERE type = 'follow' AND EXISTS (
              SELECT 1 FROM events u
               WHERE u.workspace_id = $1 AND u.actor = $2 AND u.target = f.target AND u.type = 'unfollow'
                 AND u.occurred_at > f.occurred_at AND u.occurred_at <= f.occurred_at + make_interval(hours => $5))) AS quick_unfollows,
            (SELECT COALESCE(max(n), 0) FROM (
               SELECT count(*) AS n FROM mine WHERE type = 'follow' GROUP BY (occurred_at AT TIME ZONE 'UTC')::date) d) AS peak_daily_follows
       FROM mine f) own`;

/**
 * SPEC §3's activity metrics of an account over a window that has at least one bound. The follow
 * graph is not windowed: its counters are left at 0 for the caller to take from the stored ones.
 */
export async function windowSummary(db: Queryable, workspaceId: number, account: string, w: Window): Promise<Summary> {
  const [row] = await db.query<StatsRow>(WINDOW_SUMMARY, [
    workspaceId,
    account,
    w.since === null ? null : formatMicros(w.since),
    w.until === null ? null : formatMicros(w.until),
    w.churnHours,
    RESPONSE_WINDOW_HOURS,
  ]);
  return summaryFromStats(row);
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

/** Interactions received by A per (ISO weekday, hour) in the time zone `tz`, inside the window: 168 counts, Monday 00 first. */
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
      throw err.code === '22023' ? new UnknownTimeZoneError(tz) : err;
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
  const key = isRatioMetric(q.metric) ? `COALESCE(${expr}, -1)` : expr;
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
