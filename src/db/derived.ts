import type { InteractionType, NormalizedEvent } from '../domain/events.js';
import { iso, type Queryable } from './client.js';

/** A follow/unfollow seen for one direction of a pair. */
interface FollowMark {
  at: string;
  micros: bigint;
  follows: boolean;
}

/** Later wins; on a tie, unfollow wins (SPEC §2). Commutative, so arrival order cannot matter. */
function laterMark(a: FollowMark | null, b: FollowMark): FollowMark {
  if (!a || b.micros > a.micros || (b.micros === a.micros && !b.follows)) return b;
  return a;
}

interface RowDelta {
  account: string;
  other: string;
  out: FollowMark | null;
  in: FollowMark | null;
  outCounts: Record<InteractionType, number>;
  inCounts: Record<InteractionType, number>;
}

const zero = (): Record<InteractionType, number> => ({ like: 0, reply: 0, mention: 0, repost: 0 });

/** Folds new events into one delta per (account, other) row, both orders of each pair. */
export function relationshipDeltas(events: readonly NormalizedEvent[]): RowDelta[] {
  const rows = new Map<string, RowDelta>();
  const row = (account: string, other: string) => {
    const key = JSON.stringify([account, other]);
    let r = rows.get(key);
    if (!r) {
      r = { account, other, out: null, in: null, outCounts: zero(), inCounts: zero() };
      rows.set(key, r);
    }
    return r;
  };
  for (const e of events) {
    if (e.target === null || e.target === e.actor) continue;
    const forward = row(e.actor, e.target);
    const backward = row(e.target, e.actor);
    if (e.type === 'follow' || e.type === 'unfollow') {
      const mark = { at: e.occurredAt, micros: e.occurredAtMicros, follows: e.type === 'follow' };
      forward.out = laterMark(forward.out, mark);
      backward.in = laterMark(backward.in, mark);
    } else if (e.type !== 'post') {
      forward.outCounts[e.type]++;
      backward.inCounts[e.type]++;
    }
  }
  // One global order for every writer, so concurrent batches take row locks in the same order.
  return [...rows.values()].sort((a, b) =>
    a.account < b.account ? -1 : a.account > b.account ? 1 : a.other < b.other ? -1 : a.other > b.other ? 1 : 0,
  );
}

const wins = (dir: 'out' | 'in') =>
  `(EXCLUDED.${dir}_follow_at IS NOT NULL AND (r.${dir}_follow_at IS NULL
     OR EXCLUDED.${dir}_follow_at > r.${dir}_follow_at
     OR (EXCLUDED.${dir}_follow_at = r.${dir}_follow_at AND NOT EXCLUDED.${dir}_follows)))`;

const COUNT_COLUMNS = ['like', 'reply', 'mention', 'repost'].flatMap((t) => [`out_${t}`, `in_${t}`]);

const UPSERT_RELATIONSHIPS = `
  INSERT INTO relationships AS r (workspace_id, account, other, out_follow_at, out_follows, in_follow_at, in_follows,
                                  ${COUNT_COLUMNS.join(', ')})
  SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::bool[], $6::timestamptz[], $7::bool[],
                             ${COUNT_COLUMNS.map((_, i) => `$${i + 8}::int[]`).join(', ')}) AS u
  ON CONFLICT (workspace_id, account, other) DO UPDATE SET
    out_follows = CASE WHEN ${wins('out')} THEN EXCLUDED.out_follows ELSE r.out_follows END,
    out_follow_at = CASE WHEN ${wins('out')} THEN EXCLUDED.out_follow_at ELSE r.out_follow_at END,
    in_follows = CASE WHEN ${wins('in')} THEN EXCLUDED.in_follows ELSE r.in_follows END,
    in_follow_at = CASE WHEN ${wins('in')} THEN EXCLUDED.in_follow_at ELSE r.in_follow_at END,
    ${COUNT_COLUMNS.map((c) => `${c} = r.${c} + EXCLUDED.${c}`).join(',\n    ')}`;

/** Brings the derived tables up to date with newly stored events (none of them stored before). */
export async function applyDerivedState(tx: Queryable, workspaceId: number, events: readonly NormalizedEvent[]) {
  const deltas = relationshipDeltas(events);
  if (deltas.length === 0) return;
  const counts = COUNT_COLUMNS.map((c) => {
    const [dir, type] = c.split('_') as ['out' | 'in', InteractionType];
    return deltas.map((d) => (dir === 'out' ? d.outCounts : d.inCounts)[type]);
  });
  await tx.query(UPSERT_RELATIONSHIPS, [
    workspaceId,
    deltas.map((d) => d.account),
    deltas.map((d) => d.other),
    deltas.map((d) => d.out?.at ?? null),
    deltas.map((d) => d.out?.follows ?? false),
    deltas.map((d) => d.in?.at ?? null),
    deltas.map((d) => d.in?.follows ?? false),
    ...counts,
  ]);
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
