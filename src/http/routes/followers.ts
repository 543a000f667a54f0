import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { windowOf } from '../params.js';
import type { Database } from '../../db/client.js';
import { FOLLOW_CHANGES, SCAN_MARKS } from '../../db/follower-changes.js';
import { accountSchema } from '../../domain/validate.js';
import { readAt, type Freshness } from '../../projection/freshness.js';
import { changesPage, type ChangeList } from '../../service/follower-changes.js';
import { Cursors } from '../cursors.js';
import { churnHours, instant, pageQuery } from '../params.js';
import { followerChangePageSchema, unfollowerPageSchema } from '../schemas.js';

const accountParams = z.object({ account: accountSchema });

const changesQuery = {
  since: instant.optional().describe('Only changes at or after this instant (RFC 3339).'),
  until: instant
    .optional()
    .describe('Only changes before this instant (RFC 3339).')
    .meta({ examples: ['2026-12-01T00:00:00Z'] }),
  churn_hours: churnHours,
  ...pageQuery,
};

const CHANGES = `Read from the event log, not from snapshots: a follow and an unfollow between two reads are both listed. \
A change is a mark of X towards the account that differs from X's previous one: several follows or unfollows of X at one instant are one mark, \
and an unfollow cancels a follow of the same instant (as in the follow state); a repeated follow while X follows, or a repeated unfollow, changes nothing and is not listed. \
X's first mark always is a change: an unfollow with no follow before it says X followed before the ledger began (its \`followed_for_seconds\` is null). \
Newest first, ties on one instant by account in descending order, with cursor pagination. \
A page reads at most ${SCAN_MARKS.toLocaleString('en')} follow and unfollow events: when they hold fewer changes than \`limit\` (many repeats), the page ends where the reading stopped, with fewer items or none, and a \`next_cursor\` that goes on from there; follow \`next_cursor\` until it is null.`;

export const followerRoutes: FastifyPluginAsyncZod<{ db: Database; freshness: Freshness }> = async (app, { db, freshness }) => {
  const cursors = new Cursors(db);

  const page = (list: ChangeList, workspaceId: number, account: string, q: z.infer<z.ZodObject<typeof changesQuery>> & { change?: 'follow' | 'unfollow' | undefined }) =>
    changesPage(db, cursors, list, workspaceId, account, { change: q.change ?? null, window: windowOf(q), limit: q.limit, cursor: q.cursor });

  app.get(
    '/v1/accounts/:account/follower-changes',
    {
      config: { scope: 'scores:read' },
      schema: {
        operationId: 'listFollowerChanges',
        tags: ['accounts'],
        summary: 'Follows and unfollows of the account, newest first',
        description: CHANGES,
        params: accountParams,
        querystring: z.strictObject({
          change: z.enum(FOLLOW_CHANGES).optional().describe('Only follows, or only unfollows; both when absent.'),
          ...changesQuery,
        }),
        response: { 200: followerChangePageSchema.describe('A page of follower changes.') },
      },
    },
    async (request) => {
      const read = await page('follower-changes', request.workspaceId, request.params.account, request.query);
      return readAt(freshness, request.workspaceId, request.query.consistency, read);
    },
  );

  app.get(
    '/v1/accounts/:account/unfollowers',
    {
      config: { scope: 'scores:read' },
      schema: {
        operationId: 'listUnfollowers',
        tags: ['accounts'],
        summary: 'Accounts that follow the account no longer, most recent unfollow first',
        description:
          'Every account X whose latest follow/unfollow of the account is an unfollow (the current follow state), with that unfollow, described as in listFollowerChanges; `since`/`until` select by its instant. When X unfollowed more than once in a row, this is the latest of them, where follower-changes lists the first. Most recent first, ties by account in descending order, with cursor pagination.',
        params: accountParams,
        querystring: z.strictObject(changesQuery),
        response: { 200: unfollowerPageSchema.describe('A page of unfollowers.') },
      },
    },
    async (request) => {
      const read = await page('unfollowers', request.workspaceId, request.params.account, request.query);
      return readAt(freshness, request.workspaceId, request.query.consistency, read);
    },
  );
};
