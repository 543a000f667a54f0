import fc from 'fast-check';
import t from 'tap';
import { rankAccounts } from '../../src/db/accounts.js';
import { summaryFromStats } from '../../src/db/stats.js';
import { createWorkspace } from '../../src/db/workspaces.js';
import { FORMULAS, formulaValue, RANKING_METRICS, type RankingMetric } from '../../src/scoring/metrics.js';
import { testDatabase, unique } from '../helpers.js';

/**
 * The ranking sorts in SQL by expressions rendered from the same formulas the score sections
 * evaluate in TypeScript: on random account_stats rows, every metric's value and order must be the
 * ones the TypeScript formula gives.
 */

const COLUMNS = [
  'followers',
  'following',
  'mutual',
  'partners_engaged',
  'partners_engaging',
  'partners_mutual',
  'exchange_min',
  'interactions_sent',
  'received_like',
  'received_reply',
  'received_mention',
  'received_repost',
  'engaged_followers',
  'liked_accounts',
  'like_for_like_accounts',
  'conversations_received',
  'conversations_answered',
  'posts',
  'link_posts',
  'question_posts',
  'duplicate_posts',
  'follows',
  'quick_unfollows',
  'peak_daily_follows',
] as const;

// Mostly zeros and small counts (denominators of 0, ties), some large enough to test precision.
const counter = fc.oneof(fc.constant(0), fc.nat(4), fc.nat(2 ** 40));
const rowArb = fc.record({
  ...Object.fromEntries(COLUMNS.map((c) => [c, counter])),
  spam_score: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
}) as fc.Arbitrary<Record<(typeof COLUMNS)[number] | 'spam_score', number>>;

const expected = (metric: RankingMetric, row: Record<string, number>) => (metric === 'spam_score' ? row.spam_score! : formulaValue(FORMULAS[metric], summaryFromStats(row)));

t.test('every ranking metric sorts by the value its formula gives the score sections, nulls last', async (t) => {
  const db = await testDatabase();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(rowArb, { minLength: 1, maxLength: 8 }), fc.constantFrom('asc', 'desc'), async (rows, order: 'asc' | 'desc') => {
      const { workspace } = await createWorkspace(db, unique('rank'));
      const accounts = rows.map((_, i) => `u${i}`);
      await db.query(
        `INSERT INTO account_stats (workspace_id, account, ${COLUMNS.join(', ')}, spam_score)
         SELECT $1, u.* FROM unnest($2::text[], ${COLUMNS.map((_, i) => `$${i + 3}::int8[]`).join(', ')}, $${COLUMNS.length + 3}::float8[]) AS u`,
        [workspace.id, accounts, ...COLUMNS.map((c) => rows.map((r) => r[c])), rows.map((r) => r.spam_score)],
      );
      for (const metric of RANKING_METRICS) {
        const ranked = await rankAccounts(db, workspace.id, { metric, order, minFollowers: 0, limit: 100, after: null });
        const want = rows
          .map((r, i) => ({ account: accounts[i]!, value: expected(metric, r) }))
          .sort((a, b) => {
            const d = (a.value ?? -1) - (b.value ?? -1) || (a.account < b.account ? -1 : a.account > b.account ? 1 : 0);
            return order === 'asc' ? d : -d;
          });
        if (JSON.stringify(ranked.map((r) => [r.account, r.value])) !== JSON.stringify(want.map((w) => [w.account, w.value]))) {
          throw new Error(`${metric} ${order}: SQL ${JSON.stringify(ranked.map((r) => [r.account, r.value]))}, TypeScript ${JSON.stringify(want)}`);
        }
      }
      runs++;
    }),
    { numRuns: 40, seed: 20261129 },
  );
  t.equal(runs, 40, `${RANKING_METRICS.length} metrics agree on 40 random sets of accounts`);
});
