import { formatMicros, UnknownTimeZoneError } from '../domain/time.js';
import type { Window } from '../domain/window.js';
import { PAIR_COUNTERS, PAIR_RULES, type PairRule } from '../scoring/pairs.js';
import { FOLLOW_GRAPH, RESPONSE_WINDOW_HOURS, type Summary } from '../scoring/summary.js';
import { sql, type SQL } from 'drizzle-orm';
import { alias, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { INTERACTION_TYPES, type InteractionType } from '../domain/events.js';
import { FORMULAS, isRatioMetric, RANKING_METRICS, type Counter, type RankingMetric, type Terms } from '../scoring/metrics.js';
import type { Queryable } from './client.js';
import { accountStats, events, relationships } from './schema.js';
import { pairRuleSql } from './rules.js';
import { bare, isoOf, statement } from './sql.js';
import { summaryFromStats, type StatsRow } from './stats.js';

const e = events;
const capitalize = <T extends string>(t: T) => `${t[0]!.toUpperCase()}${t.slice(1)}` as Capitalize<T>;
const a = alias(events, 'a');
const u = alias(events, 'u');
const m = alias(events, 'm');
const r = alias(relationships, 'r');
const list = (values: readonly string[]) => sql.raw(`(${values.map((v) => `'${v}'`).join(', ')})`);
const INTERACTIONS = list(INTERACTION_TYPES);
const CONVERSATION = list(['reply', 'mention']);
const inWindow = (at: SQL | AnyPgColumn) => sql`($3::timestamptz IS NULL OR ${at} >= $3) AND ($4::timestamptz IS NULL OR ${at} < $4)`;

const PAIR_COUNTS = INTERACTION_TYPES.flatMap((type) =>
  (['out', 'in'] as const).map((dir) => {
    const key = `${dir}${capitalize(type)}` as const;
    return { dir, type, key, name: relationships[key].name as `${typeof dir}_${InteractionType}`, column: bare(relationships[key]) };
  }),
);

/** The pair counters a window changes: the follow graph is the current state whatever the window. */
const WINDOWED_PAIR_COUNTERS = PAIR_COUNTERS.filter((c) => !(FOLLOW_GRAPH as readonly string[]).includes(c));

/**
 * SPEC §3's activity metrics over [since, until), aggregated by PostgreSQL in one statement that
 * answers one row: a read's memory does not grow with the events in its window. The window's
 * events are counted per partner as a relationships row counts them, with the pair's current
 * follow state, and each per-pair rule is summed as PAIR_RULES defines it. Answers (response_rate)
 * and unfollows (quick_unfollows) may lie past `until`; each is one index probe of the pair's
 * events (events_pair_type_time).
 */
const WINDOW_SUMMARY = statement(sql`
  WITH mine AS (
    SELECT ${e.type}, ${e.target}, ${e.occurredAt}, ${e.hasLink}, ${e.isQuestion}, ${e.fingerprint} FROM ${e}
     WHERE ${e.workspaceId} = $1 AND ${e.actor} = $2 AND ${e.target} IS DISTINCT FROM $2 AND ${e.type} IN ('post', 'follow')
       AND ${inWindow(e.occurredAt)}
  ), partner AS (
    SELECT other, ${sql.join(
      PAIR_COUNTS.map((c) => sql`sum(${c.column})::int8 AS ${c.column}`),
      sql`, `,
    )}
      FROM (
        SELECT ${e.target} AS other,
               ${sql.join(
                 PAIR_COUNTS.map((c) => sql`${c.dir === 'out' ? sql`(${e.type} = ${sql.raw(`'${c.type}'`)})::int` : sql`0`} AS ${c.column}`),
                 sql`, `,
               )}
          FROM ${e}
         WHERE ${e.workspaceId} = $1 AND ${e.actor} = $2 AND ${e.target} <> $2 AND ${e.type} IN ${INTERACTIONS} AND ${inWindow(e.occurredAt)}
        UNION ALL
        SELECT ${e.actor}, ${sql.join(
          PAIR_COUNTS.map((c) => (c.dir === 'in' ? sql`(${e.type} = ${sql.raw(`'${c.type}'`)})::int` : sql`0`)),
          sql`, `,
        )}
          FROM ${e}
         WHERE ${e.workspaceId} = $1 AND ${e.target} = $2 AND ${e.actor} <> $2 AND ${e.type} IN ${INTERACTIONS} AND ${inWindow(e.occurredAt)}
      ) x
     GROUP BY other
  ), pair AS (
    SELECT p.*, COALESCE(${r.outFollows}, false) AS ${bare(relationships.outFollows)}, COALESCE(${r.inFollows}, false) AS ${bare(relationships.inFollows)}
      FROM partner p LEFT JOIN ${relationships} AS ${r} ON ${r.workspaceId} = $1 AND ${r.account} = $2 AND ${r.other} = p.other
  )
  SELECT * FROM
    (SELECT ${sql.join(
      WINDOWED_PAIR_COUNTERS.map((c) => sql`COALESCE(sum(${pairRuleSql(PAIR_RULES[c])}), 0)::int8 AS ${bare(accountStats[c])}`),
      sql`,
            `,
    )}
       FROM pair) pairs,
    (SELECT count(*) AS ${bare(accountStats.conversationsReceived)},
            count(*) FILTER (WHERE EXISTS (
              SELECT 1 FROM ${events} AS ${a}
               WHERE ${a.workspaceId} = $1 AND ${a.actor} = $2 AND ${a.target} = ${m.actor} AND ${a.type} IN ${CONVERSATION}
                 AND ${a.occurredAt} > ${m.occurredAt} AND ${a.occurredAt} <= ${m.occurredAt} + make_interval(hours => $6))) AS ${bare(accountStats.conversationsAnswered)}
       FROM ${events} AS ${m}
      WHERE ${m.workspaceId} = $1 AND ${m.target} = $2 AND ${m.actor} <> $2 AND ${m.type} IN ${CONVERSATION} AND ${inWindow(m.occurredAt)}) talk,
    (SELECT count(*) FILTER (WHERE type = 'post') AS ${bare(accountStats.posts)},
            count(*) FILTER (WHERE type = 'post' AND ${bare(e.hasLink)}) AS ${bare(accountStats.linkPosts)},
            count(*) FILTER (WHERE type = 'post' AND ${bare(e.isQuestion)}) AS ${bare(accountStats.questionPosts)},
            -- k equal posts make k − 1 duplicates: Σ (k − 1) = posts with a fingerprint − distinct fingerprints.
            count(${bare(e.fingerprint)}) FILTER (WHERE type = 'post') - count(DISTINCT ${bare(e.fingerprint)}) FILTER (WHERE type = 'post') AS ${bare(accountStats.duplicatePosts)},
            count(*) FILTER (WHERE type = 'follow') AS ${bare(accountStats.follows)},
            -- A quick unfollow (scoring/pairs.ts isQuickUnfollow): the first unfollow after the follow comes within churn_hours,
            -- i.e. some unfollow u has t < u ≤ t + churn_hours.
            count(*) FILTER (WHERE type = 'follow' AND EXISTS (
              SELECT 1 FROM ${events} AS ${u}
               WHERE ${u.workspaceId} = $1 AND ${u.actor} = $2 AND ${u.target} = f.target AND ${u.type} = 'unfollow'
                 AND ${u.occurredAt} > f.occurred_at AND ${u.occurredAt} <= f.occurred_at + make_interval(hours => $5))) AS ${bare(accountStats.quickUnfollows)},
            (SELECT COALESCE(max(n), 0) FROM (
               SELECT count(*) AS n FROM mine WHERE type = 'follow' GROUP BY (occurred_at AT TIME ZONE 'UTC')::date) d) AS ${bare(accountStats.peakDailyFollows)}
       FROM mine f) own`);

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

const ONE_WAY = {
  out: oneWayStatement('out'),
  in: oneWayStatement('in'),
};

function oneWayStatement(direction: 'out' | 'in'): string {
  const rel = relationships;
  const [mine, theirs, since] = direction === 'out' ? [rel.outFollows, rel.inFollows, rel.outFollowAt] : [rel.inFollows, rel.outFollows, rel.inFollowAt];
  return statement(sql`
    SELECT ${rel.other} AS account, ${isoOf(since)} AS followed_at
      FROM ${rel}
     WHERE ${rel.workspaceId} = $1 AND ${rel.account} = $2 AND ${mine} AND NOT ${theirs}
       AND ($3::timestamptz IS NULL OR (${since}, ${rel.other}) > ($3::timestamptz, $4::text))
     ORDER BY ${since}, ${rel.other}
     LIMIT $5`);
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
  return db.query<FollowEdge>(ONE_WAY[direction], [workspaceId, account, page.after?.[0] ?? null, page.after?.[1] ?? null, page.limit]);
}

export interface Partner {
  account: string;
  sent: { like: number; reply: number; mention: number; repost: number; total: number };
  received: { like: number; reply: number; mention: number; repost: number; total: number };
  exchange: number;
  follows: boolean;
  followed_by: boolean;
}

const SENT = PAIR_RULES.interactionsSent;
const RECEIVED: PairRule = { sum: INTERACTION_TYPES.map((t) => `in${capitalize(t)}` as const) };

/** The exchange (PAIR_RULES.exchangeMin) and volume of a pair, over the relationships row of the outer query. */
const PARTNERS = statement(sql`
  SELECT * FROM (
    SELECT ${sql.join([relationships.other, ...PAIR_COUNTS.map((c) => relationships[c.key]), relationships.outFollows, relationships.inFollows].map(bare), sql`, `)},
           ${pairRuleSql(PAIR_RULES.exchangeMin)} AS exchange, ${pairRuleSql(SENT)} + ${pairRuleSql(RECEIVED)} AS volume
      FROM ${relationships}
     WHERE ${relationships.workspaceId} = $1 AND ${relationships.account} = $2 AND ${pairRuleSql(SENT)} + ${pairRuleSql(RECEIVED)} > 0) p
   WHERE $3::int8 IS NULL OR (exchange, volume) < ($3::int8, $4::int8) OR ((exchange, volume) = ($3::int8, $4::int8) AND other > $5)
   ORDER BY exchange DESC, volume DESC, other
   LIMIT $6`);

type RelationshipCounts = Record<(typeof PAIR_COUNTS)[number]['name'], number>;

/** The accounts A exchanges interactions with, most exchange first: min(sent, received), then sent + received. */
export async function partners(db: Queryable, workspaceId: number, account: string, page: { limit: number; after: [number, number, string] | null }): Promise<Partner[]> {
  const rows = await db.query<RelationshipCounts & { other: string; out_follows: boolean; in_follows: boolean; exchange: number }>(PARTNERS, [
    workspaceId,
    account,
    page.after?.[0] ?? null,
    page.after?.[1] ?? null,
    page.after?.[2] ?? null,
    page.limit,
  ]);
  const side = (r: RelationshipCounts, dir: 'out' | 'in') => {
    const counts = Object.fromEntries(PAIR_COUNTS.filter((c) => c.dir === dir).map((c) => [c.type, Number(r[c.name])])) as Record<InteractionType, number>;
    return { ...counts, total: INTERACTION_TYPES.reduce((n, t) => n + counts[t], 0) };
  };
  return rows.map((r) => ({
    account: r.other,
    sent: side(r, 'out'),
    received: side(r, 'in'),
    exchange: Number(r.exchange),
    follows: Boolean(r.out_follows),
    followed_by: Boolean(r.in_follows),
  }));
}

const INTERACTIONS_BY_HOUR = statement(sql`
  SELECT extract(isodow FROM ${e.occurredAt} AT TIME ZONE $5)::int AS dow, extract(hour FROM ${e.occurredAt} AT TIME ZONE $5)::int AS hour,
         count(*)::int8 AS n
    FROM ${e}
   WHERE ${e.workspaceId} = $1 AND ${e.target} = $2 AND ${e.actor} <> $2 AND ${e.type} IN ${INTERACTIONS} AND ${inWindow(e.occurredAt)}
   GROUP BY 1, 2`);

/** Interactions received by A per (ISO weekday, hour) in the time zone `tz`, inside the window: 168 counts, Monday 00 first. */
export async function interactionsByHour(db: Queryable, workspaceId: number, account: string, tz: string, w: Pick<Window, 'since' | 'until'>): Promise<number[]> {
  const rows = await db
    .query<{ dow: number; hour: number; n: number }>(INTERACTIONS_BY_HOUR, [
      workspaceId,
      account,
      w.since === null ? null : formatMicros(w.since),
      w.until === null ? null : formatMicros(w.until),
      tz,
    ])
    .catch((err: Error & { code?: string }) => {
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

const sumSql = (terms: Terms): SQL =>
  sql.join(
    Object.entries(terms).map(([c, k]) => (k === 1 ? sql`${accountStats[c as Counter]}` : sql`${sql.raw(String(k))} * ${accountStats[c as Counter]}`)),
    sql` + `,
  );

/** A ranking metric over account_stats, rendered from its formula (scoring/metrics.ts FORMULAS). */
export function metricSql(metric: RankingMetric): SQL {
  if (metric === 'spam_score') return sql`${accountStats.spamScore}`;
  const f = FORMULAS[metric];
  if ('count' in f) return sumSql(f.count);
  return sql`CASE WHEN (${sumSql(f.denominator)}) = 0 THEN NULL ELSE (${sumSql(f.numerator)})::float8 / (${sumSql(f.denominator)}) END`;
}

/**
 * Ties are broken by the account name in the same direction, so that the (value, account) pair
 * orders the page and an index can serve it; a ratio with no data (null) sorts as −1, below every
 * real value. One statement per metric and order, rendered once.
 */
function rankingStatement(metric: RankingMetric, order: 'asc' | 'desc'): string {
  const s = accountStats;
  const value = metricSql(metric);
  const key = isRatioMetric(metric) ? sql`COALESCE(${value}, -1)` : value;
  const [cmp, dir] = order === 'desc' ? [sql.raw('<'), sql.raw('DESC')] : [sql.raw('>'), sql.raw('ASC')];
  return statement(sql`
    SELECT ${s.account}, (${value})::float8 AS value, ${s.followers}, ${s.following}, ${s.spamScore}
      FROM ${s}
     WHERE ${s.workspaceId} = $1 AND ${s.followers} >= $2
       AND ($3::float8 IS NULL OR (${key}, ${s.account}) ${cmp} ($3::float8, $4::text))
     ORDER BY ${key} ${dir}, ${s.account} ${dir}
     LIMIT $5`);
}

const RANKINGS = new Map(RANKING_METRICS.flatMap((m) => (['asc', 'desc'] as const).map((o) => [`${m} ${o}`, rankingStatement(m, o)])));

/** Accounts ranked by an all-time metric (see rankingStatement for the order). */
export async function rankAccounts(
  db: Queryable,
  workspaceId: number,
  q: { metric: RankingMetric; order: 'asc' | 'desc'; minFollowers: number; limit: number; after: [number, string] | null },
): Promise<RankedAccount[]> {
  const rows = await db.query<RankedAccount>(RANKINGS.get(`${q.metric} ${q.order}`)!, [workspaceId, q.minFollowers, q.after?.[0] ?? null, q.after?.[1] ?? null, q.limit]);
  return rows.map((r) => ({ ...r, value: r.value === null ? null : Number(r.value) }));
}
