import { sql } from 'drizzle-orm';
import { spam } from '../scoring/metrics.js';
import { DEFAULT_CHURN_HOURS, emptySummary, type Summary } from '../scoring/summary.js';
import { prepared, type Queryable } from './client.js';
import { accountStats, unfollowDelays } from './schema.js';
import { bare, statement } from './sql.js';

const s = accountStats;

/** account_stats as SQL returns it (bigint counters arrive as numbers). */
export type StatsRow = Record<string, number>;

export function summaryFromStats(row: StatsRow | undefined): Summary {
  if (!row) return emptySummary();
  const n = (c: { name: string }) => Number(row[c.name] ?? 0);
  return {
    followers: n(s.followers),
    following: n(s.following),
    mutual: n(s.mutual),
    partnersEngaged: n(s.partnersEngaged),
    partnersEngaging: n(s.partnersEngaging),
    partnersMutual: n(s.partnersMutual),
    exchangeMin: n(s.exchangeMin),
    interactionsSent: n(s.interactionsSent),
    received: { like: n(s.receivedLike), reply: n(s.receivedReply), mention: n(s.receivedMention), repost: n(s.receivedRepost) },
    engagedFollowers: n(s.engagedFollowers),
    conversationsReceived: n(s.conversationsReceived),
    conversationsAnswered: n(s.conversationsAnswered),
    posts: n(s.posts),
    linkPosts: n(s.linkPosts),
    questionPosts: n(s.questionPosts),
    duplicatePosts: n(s.duplicatePosts),
    follows: n(s.follows),
    quickUnfollows: n(s.quickUnfollows),
    peakDailyFollows: n(s.peakDailyFollows),
    likedAccounts: n(s.likedAccounts),
    likeForLikeAccounts: n(s.likeForLikeAccounts),
  };
}

const STORE_SPAM_SCORES = prepared(
  statement(sql`
    INSERT INTO ${s} (${bare(s.workspaceId)}, ${bare(s.account)}, ${bare(s.spamScore)})
    SELECT $1, u.* FROM unnest($2::text[], $3::float8[]) AS u
    ON CONFLICT (${bare(s.workspaceId)}, ${bare(s.account)}) DO UPDATE SET ${bare(s.spamScore)} = EXCLUDED.${bare(s.spamScore)}`),
);

/** Stores the all-time spam score (default churn_hours) of each row's account, for ranking; rows carry the stored `spam_score`. */
export async function storeSpamScores(tx: Queryable, workspaceId: number, rows: (StatsRow & { account: string })[]) {
  // Most counter changes leave the score as it was: only the rows whose score moved are written again.
  const changed = rows.map((r) => ({ account: r.account, score: spam(summaryFromStats(r)).spam_score, stored: Number(r.spam_score) })).filter((r) => r.score !== r.stored);
  if (changed.length === 0) return;
  const sorted = changed.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  // As an upsert of rows that exist: the primary key finds each row whatever the planner's
  // statistics say, so the plan prepared once stays right however the table grows.
  await tx.query(STORE_SPAM_SCORES, [workspaceId, sorted.map((r) => r.account), sorted.map((r) => r.score)]);
}

const ACCOUNT_STATS = statement(sql`SELECT * FROM ${s} WHERE ${s.workspaceId} = $1 AND ${s.account} = $2`);

const d = unfollowDelays;
/** The follows whose delay bucket is at most churn_hours (isQuickUnfollow in scoring/pairs.ts), from the histogram. */
const QUICK_UNFOLLOWS = statement(sql`
  SELECT COALESCE(sum(${d.follows}), 0)::int8 AS n FROM ${d}
   WHERE ${d.workspaceId} = $1 AND ${d.account} = $2 AND ${d.hours} <= $3`);

/** The all-time summary of an account: one row, plus the delay histogram when churn_hours is not the default. */
export async function allTimeSummary(db: Queryable, workspaceId: number, account: string, churnHours: number): Promise<Summary> {
  const rows = await db.query<StatsRow>(ACCOUNT_STATS, [workspaceId, account]);
  const summary = summaryFromStats(rows[0]);
  if (rows[0] && churnHours !== DEFAULT_CHURN_HOURS) {
    const quick = await db.query<{ n: number }>(QUICK_UNFOLLOWS, [workspaceId, account, churnHours]);
    summary.quickUnfollows = Number(quick[0]!.n);
  }
  return summary;
}
