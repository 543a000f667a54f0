import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { eraseAccount } from '../../db/erase.js';
import { parseRfc3339, UnknownTimeZoneError } from '../../domain/time.js';
import { accountSchema } from '../../domain/validate.js';
import type { Window } from '../../domain/window.js';
import { Problem } from '../../errors.js';
import { engagementSchema, interactionCountsSchema, RANKING_METRICS, reciprocitySchema, spamSchema } from '../../scoring/metrics.js';
import { DEFAULT_CHURN_HOURS, MAX_CHURN_HOURS } from '../../scoring/summary.js';
import { activityHours, oneWayFollowsPage, partnersPage, ranking, WEEKDAYS } from '../../service/accounts.js';
import { accountScores, accountSection, batchScores, type SectionName } from '../../service/scores.js';
import { Cursors } from '../cursors.js';
import type { InFlight } from '../in-flight.js';
import { readAt, type Freshness } from '../../projection/freshness.js';
import { churnHours, instant, isText, isTimeCursor, pageQuery, windowOf } from '../params.js';
import { accountOut, asOfSchema, consistencyParam, intervalSchema, nextCursorSchema, windowSchema } from '../schemas.js';

// Query objects are strict: a misspelt parameter (`churnhours`) is a 400 naming it, not silently the default.
const windowQuery = z.strictObject({
  since: instant.optional().describe('Start of the window (inclusive), RFC 3339. Activity metrics count events in [since, until).'),
  until: instant
    .optional()
    .describe('End of the window (exclusive), RFC 3339.')
    .meta({ examples: ['2026-12-01T00:00:00Z'] }),
  churn_hours: churnHours,
  consistency: consistencyParam,
});

const accountParams = z.object({ account: accountSchema });

export const scoresSchema = z
  .object({ account: accountOut, window: windowSchema, reciprocity: reciprocitySchema, engagement: engagementSchema, spam: spamSchema, as_of: asOfSchema })
  .meta({ id: 'Scores', description: 'Every score of an account over one window.' });

const batchItemSchema = scoresSchema.omit({ window: true, as_of: true }).meta({ id: 'AccountScores', description: 'Every score of one account; the window is the batch’s.' });

const scoresBatchSchema = z
  .object({ window: windowSchema, results: z.array(batchItemSchema).max(100).describe('One per distinct account, in request order.'), as_of: asOfSchema })
  .meta({ id: 'ScoresBatch', description: 'Scores of several accounts over one window.' });

const scoresBatchRequestSchema = z
  .strictObject({
    accounts: z.array(accountSchema).min(1).max(100).describe('Up to 100 accounts.'),
    since: instant.optional().describe('Start of the window (inclusive), RFC 3339.'),
    until: instant
      .optional()
      .describe('End of the window (exclusive), RFC 3339.')
      .meta({ examples: ['2026-12-01T00:00:00Z'] }),
    churn_hours: z.number().int().min(1).max(MAX_CHURN_HOURS).default(DEFAULT_CHURN_HOURS).describe('As in getScores; a JSON number here.'),
  })
  .meta({
    id: 'ScoresBatchRequest',
    description: 'The accounts to score and the one window to score them over.',
    examples: [{ accounts: ['tw:alice', 'tw:bob'], since: '2026-11-01T00:00:00Z', churn_hours: 48 }],
  });

const SECTION_IDS = { reciprocity: 'ReciprocityScores', engagement: 'EngagementScores', spam: 'SpamScores' } as const;

const rankedAccountSchema = z
  .object({
    account: accountOut,
    value: z.number().min(0).max(Number.MAX_SAFE_INTEGER).nullable().describe('The account’s value of `sort` (6 decimal places; a ratio may be null).'),
    followers: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    following: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    spam_score: z.number().min(0).max(1),
  })
  .meta({
    id: 'RankedAccount',
    description: 'An account in a ranking.',
    examples: [{ account: 'tw:alice', value: 0.812345, followers: 400, following: 1200, spam_score: 0.812345 }],
  });

const rankingPageSchema = z
  .object({
    sort: z.enum(RANKING_METRICS),
    order: z.enum(['asc', 'desc']),
    items: z.array(rankedAccountSchema).max(1000),
    next_cursor: nextCursorSchema,
    as_of: asOfSchema,
  })
  .meta({ id: 'RankingPage', description: 'A page of a ranking.' });

const followEdgeSchema = z
  .object({
    account: accountOut,
    followed_at: z
      .string()
      .max(64)
      .meta({ format: 'date-time', examples: ['2026-11-20T10:00:00.000000Z'] }),
  })
  .meta({ id: 'FollowEdge', description: 'A one-way follow and when it began.', examples: [{ account: 'tw:bob', followed_at: '2026-11-20T10:00:00.000000Z' }] });

const followEdgePageSchema = z
  .object({ account: accountOut, items: z.array(followEdgeSchema).max(1000), next_cursor: nextCursorSchema, as_of: asOfSchema })
  .meta({ id: 'FollowEdgePage', description: 'A page of one-way follows, oldest first.' });

const partnerSchema = z
  .object({
    account: accountOut,
    sent: interactionCountsSchema.describe('Interactions the account directed at this partner (all time).'),
    received: interactionCountsSchema.describe('Interactions this partner directed at the account (all time).'),
    exchange: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('min(sent.total, received.total): the sort key.'),
    follows: z.boolean().describe('The account follows this partner.'),
    followed_by: z.boolean().describe('This partner follows the account.'),
  })
  .meta({
    id: 'Partner',
    description: 'An account the account exchanges interactions with.',
    examples: [
      {
        account: 'tw:bob',
        sent: { like: 12, reply: 3, mention: 1, repost: 0, total: 16 },
        received: { like: 9, reply: 4, mention: 0, repost: 1, total: 14 },
        exchange: 14,
        follows: true,
        followed_by: true,
      },
    ],
  });

const partnerPageSchema = z
  .object({ account: accountOut, items: z.array(partnerSchema).max(1000), next_cursor: nextCursorSchema, as_of: asOfSchema })
  .meta({ id: 'PartnerPage', description: 'A page of partners, most exchange first.' });

const hourCountSchema = z
  .object({ weekday: z.enum(WEEKDAYS), hour: z.number().int().min(0).max(23), interactions: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })
  .meta({ id: 'HourCount', description: 'Interactions received in one local hour of the week.', examples: [{ weekday: 'friday', hour: 11, interactions: 42 }] });

const activityHoursSchema = z
  .object({
    account: accountOut,
    tz: z
      .string()
      .max(64)
      .regex(/^[A-Za-z0-9_+\-/]+$/)
      .meta({ examples: ['Europe/Paris'] }),
    window: intervalSchema,
    hours: z.array(hourCountSchema).max(168).describe('Interactions received, per local weekday and hour, Monday 00 first.'),
    best_hours: z.array(hourCountSchema).max(3).describe('The three hours of the week with the most interactions received (earlier first on ties); empty without data.'),
    as_of: asOfSchema,
  })
  .meta({ id: 'ActivityHours', description: 'When the account receives interactions.' });

const erasureSchema = z
  .object({
    account: accountOut,
    events_deleted: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Events that named the account, as actor or target.'),
  })
  .meta({ id: 'AccountErasure', description: 'What an erasure deleted.', examples: [{ account: 'tw:carol', events_deleted: 57 }] });

export const accountRoutes: FastifyPluginAsyncZod<{ db: Database; inFlight: InFlight; freshness: Freshness }> = async (app, { db, inFlight, freshness }) => {
  const cursors = new Cursors(db);
  /**
   * A window's reads aggregate the events in it: limited while they run (an all-time read is one
   * row). The slot is taken once the read may run, not while it waits for the projector.
   */
  const windowed = (request: FastifyRequest, reply: FastifyReply, w: Window) => {
    if (w.since !== null || w.until !== null) inFlight.hold(request, reply, 'heavy_read');
  };

  app.get(
    '/v1/accounts/:account/scores',
    {
      config: { scope: 'scores:read' },
      schema: {
        operationId: 'getScores',
        tags: ['scores'],
        summary: 'All scores of an account',
        description:
          'The `reciprocity`, `engagement` and `spam` sections. Activity metrics cover [since, until) (all time without them); follow-graph metrics are the current state. An unknown account answers 200 with zero counts and null ratios.',
        params: accountParams,
        querystring: windowQuery,
        response: { 200: scoresSchema.describe('The scores, over the window they cover.') },
      },
    },
    async (request, reply) => {
      const w = windowOf(request.query);
      return readAt(freshness, request.workspaceId, request.query.consistency, () => {
        windowed(request, reply, w);
        return accountScores(db, request.workspaceId, request.params.account, w);
      });
    },
  );

  const sections = { reciprocity: reciprocitySchema, engagement: engagementSchema, spam: spamSchema } as const satisfies Record<SectionName, unknown>;
  for (const [name, schema] of Object.entries(sections) as [SectionName, (typeof sections)[SectionName]][]) {
    app.get(
      `/v1/accounts/:account/${name}`,
      {
        config: { scope: 'scores:read' },
        schema: {
          operationId: `get${name[0]!.toUpperCase()}${name.slice(1)}`,
          tags: ['scores'],
          summary: `The ${name} section of an account's scores`,
          description: `The same \`${name}\` section as getScores, with the same parameters.`,
          params: accountParams,
          querystring: windowQuery,
          response: {
            200: z
              .object({ account: accountOut, window: windowSchema, [name]: schema, as_of: asOfSchema })
              .meta({ id: SECTION_IDS[name], description: `The ${name} section of an account's scores.` })
              .describe(`The ${name} section, over the window it covers.`),
          },
        },
      },
      async (request, reply) => {
        const w = windowOf(request.query);
        return readAt(freshness, request.workspaceId, request.query.consistency, async () => {
          windowed(request, reply, w);
          // The response schema is built from the same table; the route's declared type cannot follow the loop.
          return (await accountSection(db, request.workspaceId, request.params.account, name, w)) as never;
        });
      },
    );
  }

  app.post(
    '/v1/scores/batch',
    {
      config: { scope: 'scores:read' },
      schema: {
        operationId: 'getScoresBatch',
        tags: ['scores'],
        summary: 'Scores of up to 100 accounts',
        description: 'One result per distinct account, in request order, each as getScores would answer it, over one window.',
        querystring: z.strictObject({ consistency: consistencyParam }),
        body: scoresBatchRequestSchema,
        response: { 200: scoresBatchSchema.describe('One result per distinct account, over the one window.') },
      },
    },
    async (request, reply) => {
      const w = windowOf(request.body, '');
      return readAt(freshness, request.workspaceId, request.query.consistency, () => {
        inFlight.hold(request, reply, 'heavy_read');
        return batchScores(db, request.workspaceId, request.body.accounts, w);
      });
    },
  );

  app.get(
    '/v1/accounts',
    {
      config: { scope: 'scores:read' },
      schema: {
        operationId: 'listAccounts',
        tags: ['accounts'],
        summary: 'Rank accounts by a score',
        description:
          'Accounts of the workspace ranked by an all-time metric (default churn_hours), with cursor pagination in a stable order: ties are broken by account name, and a null ratio sorts below every value.',
        querystring: z.strictObject({
          sort: z.enum(RANKING_METRICS).default('spam_score').describe('The all-time metric to rank by (default churn_hours).'),
          order: z.enum(['asc', 'desc']).default('desc'),
          min_followers: z.coerce
            .number()
            .int()
            .min(0)
            .max(Number.MAX_SAFE_INTEGER)
            .default(0)
            .meta({ examples: [100] }),
          ...pageQuery,
        }),
        response: { 200: rankingPageSchema.describe('A page of the ranking.') },
      },
    },
    async (request) => {
      const q = request.query;
      const bound = ['listAccounts', request.workspaceId, q.sort, q.order, q.min_followers];
      const after = await cursors.read(bound, q.cursor, (v): v is [number, string] => v.length === 2 && Number.isFinite(v[0]) && isText(v[1]));
      return readAt(freshness, request.workspaceId, q.consistency, async () => {
        const { items, next } = await ranking(db, request.workspaceId, { metric: q.sort, order: q.order, minFollowers: q.min_followers, limit: q.limit, after });
        return { sort: q.sort, order: q.order, items, next_cursor: next && (await cursors.issue(bound, next)) };
      });
    },
  );

  for (const [path, direction] of [
    ['non-followers', 'out'],
    ['fans', 'in'],
  ] as const) {
    app.get(
      `/v1/accounts/:account/${path}`,
      {
        config: { scope: 'scores:read' },
        schema: {
          operationId: direction === 'out' ? 'listNonFollowers' : 'listFans',
          tags: ['accounts'],
          summary: direction === 'out' ? 'Accounts the account follows that do not follow back' : 'Followers the account does not follow back',
          description: 'Current follow state, oldest follow first, with cursor pagination.',
          params: accountParams,
          querystring: z.strictObject(pageQuery),
          response: { 200: followEdgePageSchema.describe('A page of one-way follows.') },
        },
      },
      async (request) => {
        const bound = [path, request.workspaceId, request.params.account];
        const cursor = await cursors.read(bound, request.query.cursor, isTimeCursor);
        // The cursor's time goes to SQL in canonical form: RFC 3339 allows offsets PostgreSQL does not.
        const after: [string, string] | null = cursor && [parseRfc3339(cursor[0])!.canonical, cursor[1]];
        return readAt(freshness, request.workspaceId, request.query.consistency, async () => {
          const { items, next } = await oneWayFollowsPage(db, request.workspaceId, request.params.account, direction, { limit: request.query.limit, after });
          return { account: request.params.account, items, next_cursor: next && (await cursors.issue(bound, next)) };
        });
      },
    );
  }

  app.get(
    '/v1/accounts/:account/partners',
    {
      config: { scope: 'scores:read' },
      schema: {
        operationId: 'listPartners',
        tags: ['accounts'],
        summary: 'Accounts the account exchanges interactions with',
        description: 'Interaction counts each way (all time) and follow state each way, most exchange first: min(sent, received), then sent + received, then account name.',
        params: accountParams,
        querystring: z.strictObject(pageQuery),
        response: { 200: partnerPageSchema.describe('A page of partners.') },
      },
    },
    async (request) => {
      const bound = ['partners', request.workspaceId, request.params.account];
      const after = await cursors.read(
        bound,
        request.query.cursor,
        (v): v is [number, number, string] => v.length === 3 && Number.isSafeInteger(v[0]) && Number.isSafeInteger(v[1]) && isText(v[2]),
      );
      return readAt(freshness, request.workspaceId, request.query.consistency, async () => {
        const { items, next } = await partnersPage(db, request.workspaceId, request.params.account, { limit: request.query.limit, after });
        return { account: request.params.account, items, next_cursor: next && (await cursors.issue(bound, next)) };
      });
    },
  );

  app.get(
    '/v1/accounts/:account/activity-hours',
    {
      config: { scope: 'scores:read' },
      schema: {
        operationId: 'getActivityHours',
        tags: ['accounts'],
        summary: 'When the account receives interactions',
        description: 'Interactions received (likes, replies, mentions, reposts from others) per local weekday and hour, and the three best hours to post.',
        params: accountParams,
        querystring: z.strictObject({
          tz: z
            .string()
            .max(64)
            .regex(/^[A-Za-z0-9_+\-/]+$/, 'must be an IANA time zone such as Europe/Paris')
            .default('UTC')
            .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris')
            .describe('IANA time zone the hours are counted in.')
            .meta({ examples: ['Europe/Paris'] }),
          since: windowQuery.shape.since,
          until: windowQuery.shape.until,
          consistency: consistencyParam,
        }),
        response: { 200: activityHoursSchema.describe('Interactions received by local hour of the week.') },
      },
    },
    async (request, reply) => {
      const w = windowOf({ ...request.query, churn_hours: DEFAULT_CHURN_HOURS });
      return readAt(freshness, request.workspaceId, request.query.consistency, () => {
        inFlight.hold(request, reply, 'heavy_read');
        return activityHours(db, request.workspaceId, request.params.account, request.query.tz, w).catch((e: unknown) => {
          if (!(e instanceof UnknownTimeZoneError)) throw e;
          throw new Problem('validation_failed', e.message, { errors: [{ field: 'querystring.tz', message: 'unknown time zone' }] });
        });
      });
    },
  );

  app.delete(
    '/v1/accounts/:account',
    {
      config: { scope: 'events:write' },
      schema: {
        operationId: 'deleteAccount',
        tags: ['accounts'],
        summary: 'Erase an account (right to erasure)',
        description:
          'Deletes every event naming the account, as actor or target, and all state derived from them: afterwards every score in the workspace is as if those events had never been sent. Idempotent.',
        params: accountParams,
        response: { 200: erasureSchema.describe('Erased; also when there was nothing to erase.') },
      },
    },
    async (request) => {
      const { events } = await db.transaction((tx) => eraseAccount(tx, request.workspaceId, request.params.account));
      return { account: request.params.account, events_deleted: events };
    },
  );
};

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
