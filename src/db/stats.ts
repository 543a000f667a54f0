import { spam } from '../scoring/metrics.js';
import { DEFAULT_CHURN_HOURS, emptySummary, type Summary } from '../scoring/summary.js';
import { prepared, type Queryable } from './client.js';

/** account_stats as SQL returns it (bigint counters arrive as numbers). */
export type StatsRow = Record<string, number>;

export function summaryFromStats(row: StatsRow | undefined): Summary {
  if (!row) return emptySummary();
  const n = (c: string) => Number(row[c] ?? 0);
  return {
    followers: n('followers'),
    following: n('following'),
    mutual: n('mutual'),
    partnersEngaged: n('partners_engaged'),
    partnersEngaging: n('partners_engaging'),
    partnersMutual: n('partners_mutual'),
    exchangeMin: n('exchange_min'),
    interactionsSent: n('interactions_sent'),
    received: { like: n('received_like'), reply: n('received_reply'), mention: n('received_mention'), repost: n('received_repost') },
    engagedFollowers: n('engaged_followers'),
    conversationsReceived: n('conversations_received'),
    conversationsAnswered: n('conversations_answered'),
    posts: n('posts'),
    linkPosts: n('link_posts'),
    questionPosts: n('question_posts'),
    duplicatePosts: n('duplicate_posts'),
    follows: n('follows'),
    quickUnfollows: n('quick_unfollows'),
    peakDailyFollows: n('peak_daily_follows'),
    likedAccounts: n('liked_accounts'),
    likeForLikeAccounts: n('like_for_like_accounts'),
  };
}

/** Stores the all-time spam score (default churn_hours) of each row's account, for ranking; rows carry the stored `spam_score`. */
export async function storeSpamScores(tx: Queryable, workspaceId: number, rows: (StatsRow & { account: string })[]) {
  // Most counter changes leave the score as it was: only the rows whose score moved are written again.
  const changed = rows
    .map((r) => ({ account: r.account, score: spam(summaryFromStats(r)).spam_score, stored: Number(r.spam_score) }))
    .filter((r) => r.score !== r.stored);
  if (changed.length === 0) return;
  const sorted = changed.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  // As an upsert of rows that exist: the primary key finds each row whatever the planner's
  // statistics say, so the plan prepared once stays right however the table grows.
  await tx.query(
    prepared(`INSERT INTO account_stats AS s (workspace_id, account, spam_score)
     SELECT $1, u.* FROM unnest($2::text[], $3::float8[]) AS u
     ON CONFLICT (workspace_id, account) DO UPDATE SET spam_score = EXCLUDED.spam_score`),
    [workspaceId, sorted.map((r) => r.account), sorted.map((r) => r.score)],
  );
}

/** The all-time summary of an account: one row, plus the delay histogram when churn_hours is not the default. */
export async function allTimeSummary(db: Queryable, workspaceId: number, account: string, churnHours: number): Promise<Summary> {
  const rows = await db.query<StatsRow>('SELECT * FROM account_stats WHERE workspace_id = $1 AND account = $2', [workspaceId, account]);
  const summary = summaryFromStats(rows[0]);
  if (rows[0] && churnHours !== DEFAULT_CHURN_HOURS) {
    const quick = await db.query<{ n: number }>(
      `SELECT COALESCE(sum(follows), 0)::int8 AS n FROM unfollow_delays
        WHERE workspace_id = $1 AND account = $2 AND hours <= $3`,
      [workspaceId, account, churnHours],
    );
    summary.quickUnfollows = Number(quick[0]!.n);
  }
  return summary;
}
