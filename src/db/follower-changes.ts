import { iso, type Queryable } from './client.js';

/**
 * An account's follower changes, read from the event log rather than from the projected state, so
 * a follow and an unfollow between two reads are both there. Every statement names the workspace
 * in each of its subqueries, and every probe is one seek of an index:
 * - a page is a range of `events_target_follows` (target, type, occurred_at, actor), walked newest
 *   first from the cursor and stopped at the page's size, one range per type;
 * - what the ledger says around a mark (X's previous mark, X's latest follow, whether A followed X)
 *   is a `max(occurred_at)` or `LIMIT 1` of one pair and type in `events_pair_type_time`.
 * `unfollowers` pages over `relationships_unfollowers` instead: the projected state already knows
 * whose latest mark is an unfollow, which the log could only tell by reading every mark.
 */

export const FOLLOW_CHANGES = ['follow', 'unfollow'] as const;
export type FollowChange = (typeof FOLLOW_CHANGES)[number];

export interface FollowerChangeRow {
  /** X, the account that followed or unfollowed. */
  account: string;
  change: FollowChange;
  at: string;
  /** For an unfollow: X's latest follow before it that no unfollow of the same instant cancelled; null for a follow. */
  last_follow_at: string | null;
  /** Whether A followed X at `at`. */
  followed_back: boolean;
}

export interface ChangesRange {
  change: FollowChange | null;
  /** RFC 3339, canonical; null for an open end. */
  since: string | null;
  until: string | null;
  /** The sort key (at, account) of the last item of the previous page. */
  after: [string, string] | null;
  limit: number;
}

// $1 workspace, $2 the account A, $3 since, $4 until, $5 and $6 the cursor's (at, account), $7 limit.

/** The latest `type` mark of actor→target before (`<`) or at (`<=`) `t`, as a one-row `at` (null without one). */
const latestMark = (type: FollowChange, actor: string, target: string, cmp: '<' | '<=', t: string) =>
  `SELECT max(m.occurred_at) AS at FROM events m
    WHERE m.workspace_id = $1 AND m.actor = ${actor} AND m.target = ${target} AND m.type = '${type}' AND m.occurred_at ${cmp} ${t}`;

/** The follow state of a pair from its latest follow and latest unfollow: the later decides, an unfollow wins a tie (SPEC §2). */
const following = (followAt: string, unfollowAt: string) => `(${followAt} IS NOT NULL AND (${unfollowAt} IS NULL OR ${followAt} > ${unfollowAt}))`;

/** X's mark just before `t` ('follow', 'unfollow' or null without one), with the tie rule of the follow state. */
const previousMark = (actor: string, t: string) =>
  `(SELECT CASE WHEN f.at IS NULL AND u.at IS NULL THEN NULL WHEN ${following('f.at', 'u.at')} THEN 'follow' ELSE 'unfollow' END
      FROM (${latestMark('follow', actor, '$2', '<', t)}) f, (${latestMark('unfollow', actor, '$2', '<', t)}) u)`;

/** A follow at an instant that also holds an unfollow of the same pair does not count. */
const cancelled = (e: string) =>
  `EXISTS (SELECT 1 FROM events c WHERE c.workspace_id = $1 AND c.actor = ${e}.actor AND c.target = ${e}.target
                                    AND c.type = 'unfollow' AND c.occurred_at = ${e}.occurred_at)`;

const inRange = (at: string, key: string) => `($3::timestamptz IS NULL OR ${at} >= $3) AND ($4::timestamptz IS NULL OR ${at} < $4)
     AND ($5::timestamptz IS NULL OR (${at}, ${key}) < ($5::timestamptz, $6::text))`;

/**
 * The `type` marks of A that are changes, newest first: one per account and instant (several
 * events of one type at one instant are one mark; a follow cancelled by an unfollow of the same
 * instant is none), and only those that differ from X's previous mark. A repeated follow or
 * unfollow changes nothing; X's first mark always counts, since the ledger may begin after X's
 * earlier history (an unfollow with no follow before it says X followed before the ledger began).
 */
const changesOf = (type: FollowChange) => `
  SELECT e.actor, e.type, e.occurred_at
    FROM events e
   WHERE e.workspace_id = $1 AND e.target = $2 AND e.type = '${type}' AND e.actor <> $2
     AND ${inRange('e.occurred_at', 'e.actor')}
     AND NOT EXISTS (SELECT 1 FROM events d WHERE d.workspace_id = $1 AND d.actor = e.actor AND d.target = e.target
                                              AND d.type = e.type AND d.occurred_at = e.occurred_at AND d.event_id < e.event_id)
     ${type === 'follow' ? `AND NOT ${cancelled('e')}` : ''}
     AND ${previousMark('e.actor', 'e.occurred_at')} IS DISTINCT FROM '${type}'
   ORDER BY e.occurred_at DESC, e.actor DESC
   LIMIT $7`;

/** What the ledger says around each mark of a page (`page`: actor, type, occurred_at), in the page's order. */
const describe = (page: string) => `
  WITH page AS (${page})
  SELECT page.actor AS account, page.type::text AS change, ${iso('page.occurred_at')} AS at,
         CASE WHEN page.type = 'unfollow' THEN (
           SELECT ${iso('m.occurred_at')} FROM events m
            WHERE m.workspace_id = $1 AND m.actor = page.actor AND m.target = $2 AND m.type = 'follow' AND m.occurred_at < page.occurred_at
              AND NOT ${cancelled('m')}
            ORDER BY m.occurred_at DESC LIMIT 1) END AS last_follow_at,
         (SELECT ${following('f.at', 'u.at')}
            FROM (${latestMark('follow', '$2', 'page.actor', '<=', 'page.occurred_at')}) f,
                 (${latestMark('unfollow', '$2', 'page.actor', '<=', 'page.occurred_at')}) u) AS followed_back
    FROM page
   ORDER BY page.occurred_at DESC, page.actor DESC`;

const FOLLOWER_CHANGES = {
  follow: describe(changesOf('follow')),
  unfollow: describe(changesOf('unfollow')),
  // Each type's range is walked only as far as the page needs; the merge keeps the newest.
  any: describe(`SELECT * FROM ((${changesOf('follow')}) UNION ALL (${changesOf('unfollow')})) c ORDER BY occurred_at DESC, actor DESC LIMIT $7`),
};

/** The follows and unfollows of A that changed X's mark, newest first (ties by account, descending). */
export function followerChanges(db: Queryable, workspaceId: number, account: string, r: ChangesRange): Promise<FollowerChangeRow[]> {
  return db.query<FollowerChangeRow>(FOLLOWER_CHANGES[r.change ?? 'any'], params(workspaceId, account, r));
}

const UNFOLLOWERS = describe(`
  SELECT r.other AS actor, 'unfollow'::event_type AS type, r.in_follow_at AS occurred_at
    FROM relationships r
   WHERE r.workspace_id = $1 AND r.account = $2 AND NOT r.in_follows AND r.in_follow_at IS NOT NULL
     AND ${inRange('r.in_follow_at', 'r.other')}
   ORDER BY r.in_follow_at DESC, r.other DESC
   LIMIT $7`);

/** The accounts whose latest mark towards A is an unfollow, each with that unfollow, most recent first. */
export function unfollowers(db: Queryable, workspaceId: number, account: string, r: Omit<ChangesRange, 'change'>): Promise<FollowerChangeRow[]> {
  return db.query<FollowerChangeRow>(UNFOLLOWERS, params(workspaceId, account, r));
}

const params = (workspaceId: number, account: string, r: Omit<ChangesRange, 'change'>) => [
  workspaceId,
  account,
  r.since,
  r.until,
  r.after?.[0] ?? null,
  r.after?.[1] ?? null,
  r.limit,
];
