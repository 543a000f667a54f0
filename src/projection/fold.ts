import type { NormalizedEvent } from '../domain/events.js';
import { formatMicros } from '../domain/time.js';
import { PAIR_COUNTERS } from '../scoring/pairs.js';
import {
  addFingerprints,
  addFollowDays,
  addUnfollowDelays,
  applyStats,
  foldRelationships,
  storedConversations,
  storedFollows,
  unfollowsInGaps,
  type StatsChange,
} from '../db/derived.js';
import type { Queryable } from '../db/client.js';
import {
  addChurn,
  addConversations,
  addDuplicates,
  addFollows,
  addPosts,
  addStoredFollow,
  churnRanges,
  conversationRanges,
  Deltas,
  followMarks,
  nearestUnfollows,
  pairKey,
  unfollowGaps,
  type ContextEvent,
} from './deltas.js';

/**
 * Folds the queued events `seqs` (none of them folded in before) into every derived table, in the
 * caller's transaction. `events` are those of them the recounts need in memory (RECOUNTED_TYPES,
 * and events that name one account only); the rest are folded in by SQL alone. Reads the stored
 * events the changes depend on and writes the changes through db/derived.ts; what changes is
 * computed by projection/deltas.ts. With `observe`, answers the account_stats rows of the accounts
 * the batch touched, before and after.
 */
export async function foldBatch(tx: Queryable, workspaceId: number, seqs: readonly number[], events: readonly NormalizedEvent[], observe = false): Promise<StatsChange[]> {
  if (seqs.length === 0) return [];
  const deltas = new Deltas();
  // Every account an event names has a row, so the ranking lists exactly the accounts that exist:
  // those of pair events come back from the relationships fold, the others are here.
  for (const e of events) {
    deltas.of(e.actor);
    if (e.target !== null) deltas.of(e.target);
  }

  // Pairs with no row before this batch have no stored event: the recounts need not look them up.
  const fresh = new Set<string>();
  for (const row of await foldRelationships(tx, workspaceId, seqs)) {
    const d = deltas.of(row.account);
    for (const k of PAIR_COUNTERS) d[k] += Number(row[k]);
    for (const other of row.fresh ?? []) fresh.add(pairKey(row.account, other));
  }
  const stored = (e: { actor: string; target: string }) => !fresh.has(pairKey(e.actor, e.target));

  const newIds = new Set(events.map((e) => e.id));
  const { talk, ranges } = conversationRanges(events);
  const context: ContextEvent[] = talk.map((e) => ({ id: e.id, type: e.type, actor: e.actor, target: e.target, at: e.occurredAtMicros }));
  context.push(...(await storedConversations(tx, workspaceId, ranges.filter(stored))));
  addConversations(deltas, talk, context, newIds);

  const marks = followMarks(events);
  for (const r of await addFollowDays(tx, workspaceId, addFollows(deltas, marks))) {
    deltas.peaks.set(r.account, Math.max(deltas.peaks.get(r.account) ?? 0, r.follows));
  }
  const withHistory = marks.filter(stored);
  const nearest = async (instants: typeof marks, before: boolean) => {
    const gaps = unfollowGaps(instants, before, formatMicros);
    return nearestUnfollows(gaps, await unfollowsInGaps(tx, workspaceId, gaps, before), before);
  };
  const after = await nearest(withHistory, false);
  const before = await nearest(
    withHistory.filter((e) => e.type === 'unfollow'),
    true,
  );
  const churn = churnRanges(withHistory, after, before);
  for (const f of await storedFollows(tx, workspaceId, churn.ranges)) addStoredFollow(churn.context, f.actor, f.target, f.at);
  addChurn(deltas, marks, churn.context);
  await addUnfollowDelays(tx, workspaceId, deltas.delayRows());

  const fingerprints = addPosts(deltas, events);
  const added = new Map(fingerprints.map((f) => [pairKey(f.account, f.fingerprint.toString('hex')), f.n]));
  for (const r of await addFingerprints(tx, workspaceId, fingerprints)) {
    addDuplicates(deltas, r.account, r.posts, added.get(pairKey(r.account, Buffer.from(r.fingerprint).toString('hex')))!);
  }

  return applyStats(tx, workspaceId, deltas, observe);
}
