import { INTERACTION_TYPES } from '../domain/events.js';
import { clampMicros, formatMicros } from '../domain/time.js';
import { PAIR_COUNTERS, PAIR_RULES, type PairCounter } from '../scoring/pairs.js';
import { compare, STATS_COUNTERS, type ContextEvent, type Deltas, type FingerprintCount, type Gap, type PairRange } from '../projection/deltas.js';
import { sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { pairRuleSql } from './rules.js';
import { statement } from './sql.js';
import { storeSpamScores, type StatsRow } from './stats.js';
import { iso, prepared, type Queryable } from './client.js';

/** The SQL half of a fold (src/projection/fold.ts): what it reads of the stored events, what it writes. */

/**
 * Each queued event's stored row, one primary-key probe per queue entry, whatever the planner's
 * statistics say (OFFSET 0 keeps the LATERAL subquery from being pulled up into a join that a
 * stale estimate could make a scan of every event). Statements that use it are planned at each
 * call, for the batch's own array of queue numbers, never prepared: a generic plan could go stale.
 * The workspace is the statement's $1, not the queue row's column, so that Citus routes it to one
 * shard group.
 */
export const EVENT_OF_QUEUED = `CROSS JOIN LATERAL (
      SELECT * FROM events e WHERE e.workspace_id = $1 AND e.event_id = p.event_id OFFSET 0) e`;

const wins = (dir: 'out' | 'in') =>
  `(EXCLUDED.${dir}_follow_at IS NOT NULL AND (r.${dir}_follow_at IS NULL
     OR EXCLUDED.${dir}_follow_at > r.${dir}_follow_at
     OR (EXCLUDED.${dir}_follow_at = r.${dir}_follow_at AND NOT EXCLUDED.${dir}_follows)))`;

const COUNT_COLUMNS = INTERACTION_TYPES.flatMap((t) => [`out_${t}`, `in_${t}`]);

// A pair's counters after the upsert, and before it: the follow flags the row had (prev_*) and the
// counts less what the batch added.
const after = (c: AnyPgColumn) => sql.raw(`up.${c.name}`);
const before = (c: AnyPgColumn) => sql.raw(c.name.endsWith('_follows') ? `up.prev_${c.name}` : `(up.${c.name} - added.${c.name})`);
const change = (k: PairCounter) => statement(sql`${pairRuleSql(PAIR_RULES[k], after)} - ${pairRuleSql(PAIR_RULES[k], before)}`);

/**
 * The relationships half of a fold, in one statement: the batch's pair events are grouped per
 * (account, other) row, both orders of each pair (the latest follow mark of each direction wins,
 * on a tie the unfollow, as SPEC §2 says; counts add up), upserted, and each account's counters
 * change by what its rows contribute after the upsert less what they contributed before
 * (PAIR_RULES, the rules reads and erasure use). Answers one row per account: those changes, and
 * the partners with whom the account had no row before (`fresh`: no event of the pair was
 * projected before), which the recounts need not look up.
 */
const FOLD_RELATIONSHIPS = `
  WITH batch AS (
    SELECT e.actor, e.target, e.type, e.occurred_at
      FROM pending_events p ${EVENT_OF_QUEUED}
     WHERE p.workspace_id = $1 AND p.seq = ANY($2::int8[]) AND e.target IS NOT NULL AND e.target <> e.actor AND e.type <> 'post'
  ), sides AS (
    SELECT actor AS account, target AS other, true AS out, type, occurred_at FROM batch
    UNION ALL
    SELECT target, actor, false, type, occurred_at FROM batch
  ), marks AS (
    SELECT DISTINCT ON (account, other, out) account, other, out, occurred_at AS at, type = 'follow' AS follows
      FROM sides WHERE type IN ('follow', 'unfollow')
     ORDER BY account, other, out, occurred_at DESC, type = 'unfollow' DESC
  ), added AS (
    SELECT account, other, ${INTERACTION_TYPES.flatMap((t) => [
      `(count(*) FILTER (WHERE out AND type = '${t}'))::int AS out_${t}`,
      `(count(*) FILTER (WHERE NOT out AND type = '${t}'))::int AS in_${t}`,
    ]).join(', ')},
           bool_or(type IN ('follow', 'unfollow', 'reply', 'mention')) AS recounted
      FROM sides GROUP BY account, other
  ), up AS (
    INSERT INTO relationships AS r (workspace_id, account, other, out_follow_at, out_follows, in_follow_at, in_follows,
                                    ${COUNT_COLUMNS.join(', ')})
    SELECT $1, a.account, a.other, o.at, COALESCE(o.follows, false), i.at, COALESCE(i.follows, false), ${COUNT_COLUMNS.map((c) => `a.${c}`).join(', ')}
      FROM added a
      LEFT JOIN marks o ON o.account = a.account AND o.other = a.other AND o.out
      LEFT JOIN marks i ON i.account = a.account AND i.other = a.other AND NOT i.out
     ORDER BY a.account, a.other
    ON CONFLICT (workspace_id, account, other) DO UPDATE SET
      prev_out_follows = r.out_follows,
      prev_in_follows = r.in_follows,
      out_follows = CASE WHEN ${wins('out')} THEN EXCLUDED.out_follows ELSE r.out_follows END,
      out_follow_at = CASE WHEN ${wins('out')} THEN EXCLUDED.out_follow_at ELSE r.out_follow_at END,
      in_follows = CASE WHEN ${wins('in')} THEN EXCLUDED.in_follows ELSE r.in_follows END,
      in_follow_at = CASE WHEN ${wins('in')} THEN EXCLUDED.in_follow_at ELSE r.in_follow_at END,
      ${COUNT_COLUMNS.map((c) => `${c} = r.${c} + EXCLUDED.${c}`).join(',\n      ')}
    RETURNING r.account, r.other, (r.xmax = 0) AS fresh, r.prev_out_follows, r.prev_in_follows, r.out_follows, r.in_follows,
              ${COUNT_COLUMNS.map((c) => `r.${c}`).join(', ')}
  )
  SELECT up.account, array_agg(up.other) FILTER (WHERE up.fresh AND added.recounted) AS fresh,
         ${PAIR_COUNTERS.map((k) => `sum(${change(k)})::int8 AS "${k}"`).join(',\n         ')}
    FROM up JOIN added ON added.account = up.account AND added.other = up.other
   GROUP BY up.account`;

/** An account's changes from the relationships half of a fold, and the partners it had no row with. */
export type RelationshipChange = Record<PairCounter, number> & { account: string; fresh: string[] | null };

/** Runs FOLD_RELATIONSHIPS over the queued events `seqs`. */
export function foldRelationships(tx: Queryable, workspaceId: number, seqs: readonly number[]): Promise<RelationshipChange[]> {
  return tx.query<RelationshipChange>(FOLD_RELATIONSHIPS, [workspaceId, seqs]);
}

const micros = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::int8::text`;

// Recounts compare the batch with what is already projected: events still queued for the
// projector (stored, but not yet folded in), the batch's own among them (they leave the queue at
// the end of its transaction), are left out of every context query; the batch comes from memory.
const PROJECTED = 'AND NOT EXISTS (SELECT 1 FROM pending_events q WHERE q.workspace_id = e.workspace_id AND q.event_id = e.event_id)';

const timestamp = (micros: bigint) => formatMicros(clampMicros(micros));

/**
 * Every stored reply and mention from actor to target with occurred_at in [lo, hi], for each range:
 * one index range scan per range, whatever the planner's statistics say (without OFFSET 0 the
 * planner pulls the LATERAL subquery up into a plain join, and with statistics that predate the
 * rows — a fresh table, an import under way, no autovacuum — it then reads every pair event of the
 * workspace for each batch).
 */
export async function storedConversations(tx: Queryable, workspaceId: number, ranges: readonly PairRange[]): Promise<ContextEvent[]> {
  if (ranges.length === 0) return [];
  const rows = await tx.query<{ event_id: string; type: string; actor: string; target: string; micros: string }>(
    `SELECT e.event_id, e.type::text AS type, e.actor, e.target, ${micros('e.occurred_at')} AS micros
       FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS p(actor, target, lo, hi)
       CROSS JOIN LATERAL (
         SELECT * FROM events e
          WHERE e.workspace_id = $1 AND e.actor = p.actor AND e.target = p.target
            AND e.occurred_at BETWEEN p.lo AND p.hi AND e.type IN ('reply', 'mention')
            ${PROJECTED}
         OFFSET 0
       ) e`,
    [workspaceId, ranges.map((r) => r.actor), ranges.map((r) => r.target), ranges.map((r) => timestamp(r.lo)), ranges.map((r) => timestamp(r.hi))],
  );
  return rows.map((r) => ({ id: r.event_id, type: r.type, actor: r.actor, target: r.target, at: BigInt(r.micros) }));
}

/** The stored unfollow of actor→target in each gap (projection/deltas.ts unfollowGaps), nearest its instant; undefined where none. */
export async function unfollowsInGaps(tx: Queryable, workspaceId: number, gaps: readonly Gap[], before: boolean): Promise<(bigint | undefined)[]> {
  const found = new Array<bigint | undefined>(gaps.length);
  if (gaps.length === 0) return found;
  const rows = await tx.query<{ i: string; micros: string }>(
    `SELECT p.i::text AS i, ${micros('e.occurred_at')} AS micros
       FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) WITH ORDINALITY AS p(actor, target, lo, hi, i)
       CROSS JOIN LATERAL (
         SELECT event_id, occurred_at FROM events e
          WHERE e.workspace_id = $1 AND e.actor = p.actor AND e.target = p.target AND e.type = 'unfollow'
            AND e.occurred_at > p.lo AND e.occurred_at <= p.hi
            ${PROJECTED}
          ORDER BY e.occurred_at ${before ? 'DESC' : ''} LIMIT 1
       ) e`,
    [workspaceId, gaps.map((g) => g.actor), gaps.map((g) => g.target), gaps.map((g) => g.lo), gaps.map((g) => g.hi)],
  );
  for (const r of rows) found[Number(r.i) - 1] = BigInt(r.micros);
  return found;
}

/** Every stored follow of actor→target with occurred_at in [lo, hi), for each range. */
export async function storedFollows(tx: Queryable, workspaceId: number, ranges: readonly PairRange[]) {
  if (ranges.length === 0) return [];
  const rows = await tx.query<{ actor: string; target: string; micros: string }>(
    `SELECT e.actor, e.target, ${micros('e.occurred_at')} AS micros
       FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS p(actor, target, lo, hi)
       CROSS JOIN LATERAL (
         SELECT actor, target, occurred_at FROM events e
          WHERE e.workspace_id = $1 AND e.actor = p.actor AND e.target = p.target AND e.type = 'follow'
            AND e.occurred_at >= p.lo AND e.occurred_at < p.hi
            ${PROJECTED}
         OFFSET 0
       ) e`,
    [workspaceId, ranges.map((r) => r.actor), ranges.map((r) => r.target), ranges.map((r) => timestamp(r.lo)), ranges.map((r) => timestamp(r.hi))],
  );
  return rows.map((r) => ({ actor: r.actor, target: r.target, at: BigInt(r.micros) }));
}

/** Adds follows per (account, UTC day); answers each day's new total. */
export function addFollowDays(tx: Queryable, workspaceId: number, days: readonly (readonly [string, string, number])[]) {
  if (days.length === 0) return Promise.resolve([]);
  return tx.query<{ account: string; follows: number }>(
    prepared(`INSERT INTO follow_days AS d (workspace_id, account, day, follows)
     SELECT $1, u.* FROM unnest($2::text[], $3::date[], $4::int[]) AS u
     ON CONFLICT (workspace_id, account, day) DO UPDATE SET follows = d.follows + EXCLUDED.follows
     RETURNING account, follows`),
    [workspaceId, days.map((e) => e[0]), days.map((e) => e[1]), days.map((e) => e[2])],
  );
}

/** Adds changes (account, hours, change) to the unfollow-delay histogram. */
export async function addUnfollowDelays(tx: Queryable, workspaceId: number, rows: readonly (readonly [string, number, number])[]) {
  if (rows.length === 0) return;
  await tx.query(
    prepared(`INSERT INTO unfollow_delays AS d (workspace_id, account, hours, follows)
     SELECT $1, u.* FROM unnest($2::text[], $3::int[], $4::int[]) AS u
     ON CONFLICT (workspace_id, account, hours) DO UPDATE SET follows = d.follows + EXCLUDED.follows`),
    [workspaceId, rows.map((f) => f[0]), rows.map((f) => f[1]), rows.map((f) => f[2])],
  );
}

/** Adds posts per (account, fingerprint); answers each one's new total. */
export function addFingerprints(tx: Queryable, workspaceId: number, list: readonly FingerprintCount[]) {
  if (list.length === 0) return Promise.resolve([]);
  return tx.query<{ account: string; fingerprint: Uint8Array; posts: number }>(
    prepared(`INSERT INTO post_fingerprints AS f (workspace_id, account, fingerprint, posts)
     SELECT $1, u.* FROM unnest($2::text[], $3::bytea[], $4::int[]) AS u
     ON CONFLICT (workspace_id, account, fingerprint) DO UPDATE SET posts = f.posts + EXCLUDED.posts
     RETURNING account, fingerprint, posts`),
    [workspaceId, list.map((f) => f.account), list.map((f) => f.fingerprint), list.map((f) => f.n)],
  );
}

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const STATS_COLUMNS = STATS_COUNTERS.map(snake);

const UPSERT_STATS = prepared(`
  INSERT INTO account_stats AS s (workspace_id, account, ${STATS_COLUMNS.join(', ')}, peak_daily_follows)
  SELECT $1, u.* FROM unnest($2::text[], ${STATS_COLUMNS.map((_, i) => `$${i + 3}::int8[]`).join(', ')},
                             $${STATS_COLUMNS.length + 3}::int8[]) AS u
  ON CONFLICT (workspace_id, account) DO UPDATE SET
    ${STATS_COLUMNS.map((c) => `${c} = s.${c} + EXCLUDED.${c}`).join(',\n    ')},
    peak_daily_follows = GREATEST(s.peak_daily_follows, EXCLUDED.peak_daily_follows)
  RETURNING account, ${STATS_COLUMNS.join(', ')}, peak_daily_follows, spam_score`);
// The rows an observed upsert is about to change, as they are before it: counters alone could be
// subtracted back, but peak_daily_follows is a maximum. Locked, so they are still what the upsert
// writes over. A separate statement, not a CTE beside the upsert: Citus runs an INSERT … SELECT
// FROM unnest as a subplan before the query around it, so a CTE read there sees the rows after.
const STATS_BEFORE = prepared(`
  SELECT account, ${STATS_COLUMNS.join(', ')}, peak_daily_follows, spam_score FROM account_stats
   WHERE workspace_id = $1 AND account = ANY($2::text[]) FOR UPDATE`);

/** An account's account_stats row before and after a batch (before undefined: the account is new). */
export interface StatsChange {
  account: string;
  before: StatsRow | undefined;
  after: StatsRow;
}

/**
 * Adds the batch's changes to account_stats and refreshes the stored spam score of every account
 * touched. With `observe`, answers each touched account's row before and after (what webhooks
 * compare); otherwise nothing, at no extra cost.
 */
export async function applyStats(tx: Queryable, workspaceId: number, deltas: Deltas, observe = false): Promise<StatsChange[]> {
  const accounts = [...new Set([...deltas.stats.keys(), ...deltas.peaks.keys()])].sort(compare);
  if (accounts.length === 0) return [];
  const columns = STATS_COUNTERS.map((k) => accounts.map((a) => deltas.stats.get(a)?.[k] ?? 0));
  const before = observe ? await tx.query<StatsRow & { account: string }>(STATS_BEFORE, [workspaceId, accounts]) : [];
  const rows = await tx.query<StatsRow & { account: string }>(UPSERT_STATS, [workspaceId, accounts, ...columns, accounts.map((a) => deltas.peaks.get(a) ?? 0)]);
  await storeSpamScores(tx, workspaceId, rows);
  if (!observe) return [];
  const old = new Map(before.map((r) => [r.account, r]));
  return rows.map((after) => ({ account: after.account, before: old.get(after.account), after }));
}

export interface FollowState {
  follows: boolean;
  since: string | null;
}

/** The current follow state of actor→target. */
export async function followState(db: Queryable, workspaceId: number, actor: string, target: string): Promise<FollowState> {
  const rows = await db.query<{ follows: boolean; since: string | null }>(
    `SELECT out_follows AS follows, ${iso('out_follow_at')} AS since FROM relationships
      WHERE workspace_id = $1 AND account = $2 AND other = $3`,
    [workspaceId, actor, target],
  );
  return rows[0] ?? { follows: false, since: null };
}
