import { iso, type Queryable } from './client.js';

/**
 * An account's follower changes, read from the event log rather than from the projected state, so
 * a follow and an unfollow between two reads are both there. Every statement names the workspace
 * in each of its subqueries, and every probe is one seek of an index:
 * - a page is a range of `events_target_follows` (target, type, occurred_at, actor) per type, merged,
 *   walked newest first from the cursor and stopped once the page is full or after SCAN_MARKS
 *   events, whichever comes first: marks that are no change (repeats, duplicates) are read and
 *   passed over, and however many there are, a page reads at most that many;
 * - what the ledger says around a mark (X's previous mark, X's latest follow, whether A followed X)
 *   is a `max(occurred_at)` or `LIMIT 1` of one pair and type in `events_pair_type_time`.
 * `unfollowers` pages over `relationships_unfollowers` instead: the projected state already knows
 * whose latest mark is an unfollow, which the log could only tell by reading every mark.
 */

export const FOLLOW_CHANGES = ['follow', 'unfollow'] as const;
export type FollowChange = (typeof FOLLOW_CHANGES)[number];

/** The most events a page of follower changes reads (by default). */
export const SCAN_MARKS = 5_000;

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

export interface ChangeRows {
  /** Up to `limit` changes, newest first, all at or after `scannedTo`. */
  rows: FollowerChangeRow[];
  /**
   * When the scan read SCAN_MARKS events before it found `limit` changes: the sort key
   * (at, account) of the last event read. Every change at or after it is in `rows`; what lies
   * beyond it is unread.
   */
  scannedTo: [string, string] | null;
}

// $1 workspace, $2 the account A, $3 since, $4 until, $5 and $6 the cursor's (at, account), $7 limit, $8 SCAN_MARKS.

/** The latest `type` mark of actor→target before (`<`) or at (`<=`) `t`, as a one-row `at` (null without one). */
const latestMark = (type: FollowChange, actor: string, target: string, cmp: '<' | '<=', t: string) =>
  `SELECT max(lm.occurred_at) AS at FROM events lm
    WHERE lm.workspace_id = $1 AND lm.actor = ${actor} AND lm.target = ${target} AND lm.type = '${type}' AND lm.occurred_at ${cmp} ${t}`;

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
 * A's events of `types` in the page's range, newest first: a range of events_target_follows per
 * type, merged. Within one instant and account an unfollow comes first, so that the first mark of
 * each (instant, account) is the one that counts.
 */
const scan = (types: readonly FollowChange[]) => {
  const range = (type: FollowChange) => `
    SELECT e.actor, e.target, e.type, e.occurred_at FROM events e
     WHERE e.workspace_id = $1 AND e.target = $2 AND e.type = '${type}' AND e.actor <> $2 AND ${inRange('e.occurred_at', 'e.actor')}`;
  if (types.length === 1) return `${range(types[0]!)} ORDER BY e.occurred_at DESC, e.actor DESC`;
  // Each range sorted and bounded on its own, so that PostgreSQL merges the two index scans (a
  // Merge Append) rather than sorting the whole of both.
  const sorted = (type: FollowChange) => `(${range(type)} ORDER BY e.occurred_at DESC, e.actor DESC, e.type DESC LIMIT $8)`;
  return `SELECT * FROM (${types.map(sorted).join(' UNION ALL ')}) e ORDER BY e.occurred_at DESC, e.actor DESC, e.type DESC`;
};

/**
 * A's marks of `types` that are changes, newest first, among the first SCAN_MARKS events of the
 * range: one per account and instant (several events of one type at one instant are one mark,
 * whichever is read, and an unfollow cancels a follow of the same instant), and only those that
 * differ from X's previous mark. A repeated follow or unfollow changes nothing; X's first mark
 * always counts, since the ledger may begin after X's earlier history (an unfollow with no follow
 * before it says X followed before the ledger began).
 */
const changesOf = (types: readonly FollowChange[]) => `
  SELECT mk.actor, mk.type, mk.occurred_at
    FROM (SELECT DISTINCT ON (r.occurred_at, r.actor) r.* FROM (${scan(types)} LIMIT $8) r
           ORDER BY r.occurred_at DESC, r.actor DESC${types.length > 1 ? ', r.type DESC' : ''}) mk
   WHERE ${types.length === 1 && types[0] === 'follow' ? `NOT ${cancelled('mk')} AND` : ''} ${previousMark('mk.actor', 'mk.occurred_at')} IS DISTINCT FROM mk.type::text
   ORDER BY mk.occurred_at DESC, mk.actor DESC
   LIMIT $7`;

/** The last event the scan read, when it read all SCAN_MARKS of them without filling the page. */
const scannedTo = (types: readonly FollowChange[]) => `
  SELECT s.occurred_at, s.actor FROM (${scan(types)}) s
   WHERE (SELECT count(*) FROM page) < $7
  OFFSET $8 - 1 LIMIT 1`;

/**
 * The answer's rows: what the ledger says around each mark of `page` (actor, type, occurred_at),
 * newest first, then (with `cut`) where the scan stopped short, if it did, marked `scanned_to`.
 */
const answer = (ctes: string, cut: boolean) => `
  WITH ${ctes}
  SELECT false AS scanned_to, page.actor AS account, page.type::text AS change, page.occurred_at AS sort_at, ${iso('page.occurred_at')} AS at,
         CASE WHEN page.type = 'unfollow' THEN (
           SELECT ${iso('m.occurred_at')} FROM events m
            WHERE m.workspace_id = $1 AND m.actor = page.actor AND m.target = $2 AND m.type = 'follow' AND m.occurred_at < page.occurred_at
              AND NOT ${cancelled('m')}
            ORDER BY m.occurred_at DESC LIMIT 1) END AS last_follow_at,
         (SELECT ${following('f.at', 'u.at')}
            FROM (${latestMark('follow', '$2', 'page.actor', '<=', 'page.occurred_at')}) f,
                 (${latestMark('unfollow', '$2', 'page.actor', '<=', 'page.occurred_at')}) u) AS followed_back
    FROM page
  ${cut ? `UNION ALL SELECT true, cut.actor, NULL, cut.occurred_at, ${iso('cut.occurred_at')}, NULL, NULL FROM cut` : ''}
   ORDER BY scanned_to, sort_at DESC, account DESC`;

const changesAnswer = (types: readonly FollowChange[]) => answer(`page AS (${changesOf(types)}), cut AS (${scannedTo(types)})`, true);

const FOLLOWER_CHANGES = { follow: changesAnswer(['follow']), unfollow: changesAnswer(['unfollow']), any: changesAnswer(FOLLOW_CHANGES) };

type AnswerRow = FollowerChangeRow & { scanned_to: boolean };

const split = (rows: AnswerRow[]): ChangeRows => {
  const cut = rows.find((r) => r.scanned_to);
  return {
    rows: rows.filter((r) => !r.scanned_to).map(({ account, change, at, last_follow_at, followed_back }) => ({ account, change, at, last_follow_at, followed_back })),
    scannedTo: cut ? [cut.at, cut.account] : null,
  };
};

/** The follows and unfollows of A that changed X's mark, newest first (ties by account, descending). */
export async function followerChanges(db: Queryable, workspaceId: number, account: string, r: ChangesRange, scanMarks = SCAN_MARKS): Promise<ChangeRows> {
  return split(await db.query<AnswerRow>(FOLLOWER_CHANGES[r.change ?? 'any'], [...params(workspaceId, account, r), scanMarks]));
}

const UNFOLLOWERS = answer(
  `page AS (
    SELECT r.other AS actor, 'unfollow'::event_type AS type, r.in_follow_at AS occurred_at
      FROM relationships r
     WHERE r.workspace_id = $1 AND r.account = $2 AND NOT r.in_follows AND r.in_follow_at IS NOT NULL
       AND ${inRange('r.in_follow_at', 'r.other')}
     ORDER BY r.in_follow_at DESC, r.other DESC
     LIMIT $7)`,
  false,
);

/** The accounts whose latest mark towards A is an unfollow, each with that unfollow, most recent first. */
export async function unfollowers(db: Queryable, workspaceId: number, account: string, r: Omit<ChangesRange, 'change'>): Promise<FollowerChangeRow[]> {
  return split(await db.query<AnswerRow>(UNFOLLOWERS, params(workspaceId, account, r))).rows;
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
