import { answeredCount, churnBuckets, isQuickUnfollow, pairContribution, PAIR_COUNTERS } from '../scoring/pairs.js';
import { DEFAULT_CHURN_HOURS } from '../scoring/summary.js';
import type { Queryable } from './client.js';
import { compare, Deltas, groupBy } from '../projection/deltas.js';
import { applyStats } from './derived.js';
import { lockProjection } from './projection.js';
import { storeSpamScores, type StatsRow } from './stats.js';

interface PairRow {
  other: string;
  out_follows: boolean;
  in_follows: boolean;
  [count: string]: unknown;
}

interface TimedRow {
  actor: string;
  target: string;
  type: string;
  micros: string;
  day: string;
}

const n = (v: unknown) => Number(v);

/**
 * Erases every event naming the account (as actor or target) and everything derived from them:
 * its own derived rows go, and each partner's counters lose exactly what the pair contributed,
 * so every score in the workspace is as if those events had never been sent. It holds the
 * workspace's projection lock: events still queued for the projector were never added, so they
 * are dropped from the queue and not subtracted.
 */
export async function eraseAccount(tx: Queryable, workspaceId: number, account: string): Promise<{ events: number }> {
  await lockProjection(tx, workspaceId);
  const pairs = await tx.query<PairRow>('SELECT * FROM relationships WHERE workspace_id = $1 AND account = $2 ORDER BY other FOR UPDATE', [workspaceId, account]);
  const deltas = new Deltas();
  for (const p of pairs) {
    // The partner's row mirrors the account's: its out is the account's in.
    const theirs = pairContribution({
      outFollows: p.in_follows,
      inFollows: p.out_follows,
      out: { like: n(p.in_like), reply: n(p.in_reply), mention: n(p.in_mention), repost: n(p.in_repost) },
      in: { like: n(p.out_like), reply: n(p.out_reply), mention: n(p.out_mention), repost: n(p.out_repost) },
    });
    deltas.add(p.other, Object.fromEntries(PAIR_COUNTERS.map((k) => [k, -theirs[k]])));
  }

  const timed = await tx.query<TimedRow>(
    `SELECT actor, target, type::text AS type, (extract(epoch FROM occurred_at) * 1000000)::int8::text AS micros,
            to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
       FROM events
      WHERE workspace_id = $1 AND type IN ('reply', 'mention', 'follow', 'unfollow')
        AND ((actor = $2 AND target <> $2) OR (target = $2 AND actor <> $2))
        AND NOT EXISTS (SELECT 1 FROM pending_events q WHERE q.workspace_id = events.workspace_id AND q.event_id = events.event_id)`,
    [workspaceId, account],
  );
  const partnerOf = (r: TimedRow) => (r.actor === account ? r.target : r.actor);
  const days = new Map<string, Map<string, number>>();
  const delays = new Map<string, Map<number, number>>();
  for (const [partner, rows] of groupBy(timed, partnerOf)) {
    const times = (actor: string, ...types: string[]) => rows.filter((r) => r.actor === actor && types.includes(r.type)).map((r) => BigInt(r.micros));
    const toPartner = times(account, 'reply', 'mention');
    deltas.add(partner, {
      conversationsReceived: -toPartner.length,
      conversationsAnswered: -answeredCount(toPartner, times(partner, 'reply', 'mention')),
    });
    const follows = rows.filter((r) => r.actor === partner && r.type === 'follow');
    if (follows.length === 0) continue;
    const buckets = churnBuckets(
      follows.map((f) => BigInt(f.micros)),
      times(partner, 'unfollow'),
    );
    deltas.add(partner, {
      follows: -follows.length,
      quickUnfollows: -buckets.filter((b) => isQuickUnfollow(b, DEFAULT_CHURN_HOURS)).length,
    });
    const perDay = days.get(partner) ?? new Map<string, number>();
    for (const f of follows) perDay.set(f.day, (perDay.get(f.day) ?? 0) + 1);
    days.set(partner, perDay);
    const histogram = delays.get(partner) ?? new Map<number, number>();
    for (const b of buckets) if (b !== null) histogram.set(b, (histogram.get(b) ?? 0) + 1);
    delays.set(partner, histogram);
  }

  const erased = await tx.query<{ n: number }>(
    `WITH gone AS (DELETE FROM events WHERE workspace_id = $1 AND (actor = $2 OR target = $2) RETURNING event_id),
          unqueued AS (DELETE FROM pending_events q USING gone WHERE q.workspace_id = $1 AND q.event_id = gone.event_id)
     SELECT count(*)::int8 AS n FROM gone`,
    [workspaceId, account],
  );
  await tx.query('DELETE FROM relationships WHERE workspace_id = $1 AND (account = $2 OR other = $2)', [workspaceId, account]);
  for (const table of ['account_stats', 'post_fingerprints', 'follow_days', 'unfollow_delays']) {
    await tx.query(`DELETE FROM ${table} WHERE workspace_id = $1 AND account = $2`, [workspaceId, account]);
  }

  await subtract(tx, workspaceId, 'follow_days', 'day', 'date', days);
  await subtract(tx, workspaceId, 'unfollow_delays', 'hours', 'int', delays);
  await applyStats(tx, workspaceId, deltas);
  // A maximum cannot be decremented: the partners' peaks are taken again from what remains. The
  // subquery names the workspace itself: correlated through s.workspace_id alone, Citus would send
  // the UPDATE to every shard.
  const partners = [...days.keys()].sort(compare);
  if (partners.length > 0) {
    const rows = await tx.query<StatsRow & { account: string }>(
      `UPDATE account_stats s SET peak_daily_follows = COALESCE(
          (SELECT max(d.follows) FROM follow_days d WHERE d.workspace_id = $1 AND d.account = s.account), 0)
        WHERE s.workspace_id = $1 AND s.account = ANY($2::text[])
        RETURNING s.*`,
      [workspaceId, partners],
    );
    await storeSpamScores(tx, workspaceId, rows);
  }
  // A partner that no remaining event names no longer exists, as if it had never been seen.
  await tx.query(
    `DELETE FROM account_stats s
      WHERE s.workspace_id = $1 AND s.account = ANY($2::text[])
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.workspace_id = s.workspace_id AND e.actor = s.account)
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.workspace_id = s.workspace_id AND e.target = s.account)`,
    [workspaceId, [...deltas.stats.keys()]],
  );
  return { events: Number(erased[0]!.n) };
}

/** Takes per-account counts away from a (workspace, account, key) → follows table, dropping rows that reach 0. */
async function subtract<K extends string | number>(
  tx: Queryable,
  workspaceId: number,
  table: 'follow_days' | 'unfollow_delays',
  keyColumn: string,
  keyType: string,
  amounts: Map<string, Map<K, number>>,
) {
  const flat = [...amounts.entries()].sort(([a], [b]) => compare(a, b)).flatMap(([account, m]) => [...m.entries()].map(([k, v]) => [account, k, v] as const));
  if (flat.length === 0) return;
  await tx.query(
    `UPDATE ${table} t SET follows = t.follows - u.n
       FROM unnest($2::text[], $3::${keyType}[], $4::int[]) AS u(account, k, n)
      WHERE t.workspace_id = $1 AND t.account = u.account AND t.${keyColumn} = u.k`,
    [workspaceId, flat.map((f) => f[0]), flat.map((f) => f[1]), flat.map((f) => f[2])],
  );
  await tx.query(`DELETE FROM ${table} WHERE workspace_id = $1 AND account = ANY($2::text[]) AND follows <= 0`, [workspaceId, [...amounts.keys()]]);
}
