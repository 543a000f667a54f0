import type { Queryable } from '../db/client.js';
import { describeWindow, type Window } from '../domain/window.js';
import { followerChanges, SCAN_MARKS, unfollowers, type FollowChange, type FollowerChangeRow } from '../db/follower-changes.js';
import { parseRfc3339 } from '../domain/time.js';
import type { CursorQuery, Cursors } from '../http/cursors.js';
import { isTimeCursor } from '../http/params.js';
import { delayBucket, isQuickUnfollow } from '../scoring/pairs.js';

/**
 * SPEC §8, follower changes and unfollowers, as pages that `GET /v1/accounts/{account}/follower-changes`,
 * `…/unfollowers` and the `rapport` commands of the same names answer alike: a cursor of one works on
 * the other.
 */

export type ChangeList = 'follower-changes' | 'unfollowers';

export interface FollowerChange {
  account: string;
  change: FollowChange;
  at: string;
  followed_for_seconds: number | null;
  followed_back: boolean;
  quick: boolean;
}

export interface ChangesQuery {
  /** `follower-changes` only: one kind of change, or both (null). */
  change: FollowChange | null;
  /** `since`/`until` select changes by their instant; `churnHours` decides `quick`. */
  window: Window;
  limit: number;
  cursor: string | undefined;
}

export interface ChangesPage {
  account: string;
  window: ReturnType<typeof describeWindow>;
  items: FollowerChange[];
  next_cursor: string | null;
}

const micros = (instant: string) => parseRfc3339(instant)!.micros;

/**
 * An unfollow is quick when it lies within churn_hours after X's latest follow (t < u ≤ t + H
 * hours), by the rule `quick_unfollows` counts with (SPEC §3). The follow always precedes the unfollow here.
 */
function item(row: FollowerChangeRow, churnHours: number): FollowerChange {
  const followedFor = row.last_follow_at === null ? null : micros(row.at) - micros(row.last_follow_at);
  return {
    account: row.account,
    change: row.change,
    at: row.at,
    followed_for_seconds: followedFor === null ? null : Number(followedFor) / 1e6,
    followed_back: row.followed_back,
    quick: followedFor !== null && isQuickUnfollow(delayBucket(followedFor), churnHours),
  };
}

/**
 * Checks the cursor against the query it must have been issued for (400 `invalid_cursor` otherwise),
 * then gives the read of the page, for the caller to run at the consistency it asks for. The cursor
 * is bound to everything that decides which items come and in what order; churn_hours only marks them.
 */
export async function changesPage(
  db: Queryable,
  cursors: Cursors,
  list: ChangeList,
  workspaceId: number,
  account: string,
  q: ChangesQuery,
  scanMarks = SCAN_MARKS,
): Promise<() => Promise<ChangesPage>> {
  const window = describeWindow(q.window);
  const bound: CursorQuery = [list, workspaceId, account, q.change ?? '', window.since ?? '', window.until ?? ''];
  const cursor = await cursors.read(bound, q.cursor, isTimeCursor);
  // The cursor's time goes to SQL in canonical form: RFC 3339 allows offsets PostgreSQL does not.
  const after: [string, string] | null = cursor && [parseRfc3339(cursor[0])!.canonical, cursor[1]];
  const range = { since: window.since, until: window.until, after, limit: q.limit + 1 };
  return async () => {
    const { rows, scannedTo } =
      list === 'unfollowers'
        ? { rows: await unfollowers(db, workspaceId, account, range), scannedTo: null }
        : await followerChanges(db, workspaceId, account, { ...range, change: q.change }, scanMarks);
    const items = rows.slice(0, q.limit).map((r) => item(r, q.window.churnHours));
    const last = items[items.length - 1];
    // A page cut short by the scan's bound goes on from where the scan stopped: it may hold fewer
    // than `limit` items, even none, and still have a next page.
    const next = rows.length > q.limit && last ? [last.at, last.account] : scannedTo;
    return { account, window, items, next_cursor: next && (await cursors.issue(bound, next)) };
  };
}
