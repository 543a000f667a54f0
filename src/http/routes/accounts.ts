import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  windowOf,
  accountScores,
  accountSummary,
  decodeCursor,
  describeWindow,
  encodeCursor,
  interactionsByHour,
  oneWayFollows,
  partners,
  rankAccounts,
  rankKey,
  WEEKDAYS,
  type Window,
} from '../../db/accounts.js';
import type { Database } from '../../db/client.js';
import { eraseAccount } from '../../db/erase.js';
import { LIMITS } from '../../domain/events.js';
import { parseRfc3339 } from '../../domain/time.js';
import { accountSchema } from '../../domain/validate.js';
import { Problem } from '../../errors.js';
import {
  engagement,
  engagementSchema,
  RANKING_METRICS,
  reciprocity,
  reciprocitySchema,
  spam,
  spamSchema,
} from '../../scoring/metrics.js';
import { DEFAULT_CHURN_HOURS, MAX_CHURN_HOURS, type Summary } from '../../scoring/summary.js';
import type { InFlight } from '../in-flight.js';

const instant = z
  .string()
  .max(64)
  .refine((s) => parseRfc3339(s) !== null, 'must be an RFC 3339 date-time with an offset');

const windowQuery = z.object({
  since: instant.optional().describe('Start of the window (inclusive), RFC 3339. Activity metrics count events in [since, until).'),
  until: instant.optional().describe('End of the window (exclusive), RFC 3339.'),
  churn_hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_CHURN_HOURS)
    .default(DEFAULT_CHURN_HOURS)
    .describe('How soon an unfollow must follow a follow to count as a quick unfollow.'),
});

const windowSchema = z
  .object({
    since: z.string().max(64).nullable(),
    until: z.string().max(64).nullable(),
    churn_hours: z.number().int().min(1).max(MAX_CHURN_HOURS),
  })
  .describe('The window the activity metrics cover (null: open); follow-graph metrics are always the current state.');

const accountParams = z.object({ account: accountSchema });
/** An account as answers echo it: 256 characters may be 512 UTF-16 code units. */
const accountOut = z.string().max(LIMITS.accountMaxChars * 2);
const pageQuery = {
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Items per page.'),
  cursor: z.string().max(2000).optional().describe('`next_cursor` of the previous page.'),
};

function cursorOf<T>(cursor: string | undefined, valid: (v: unknown[]) => v is T & unknown[]): T | null {
  if (cursor === undefined) return null;
  const decoded = decodeCursor(cursor);
  if (!decoded || !valid(decoded)) {
    throw new Problem('validation_failed', 'the cursor is not one this service issued', {
      errors: [{ field: 'querystring.cursor', message: 'not a valid cursor' }],
    });
  }
  return decoded;
}

const sectionsSchema = z.object({
  account: accountOut,
  window: windowSchema,
  reciprocity: reciprocitySchema,
  engagement: engagementSchema,
  spam: spamSchema,
});

const followEdgesSchema = z.object({
  account: accountOut,
  items: z.array(z.object({ account: accountOut, followed_at: z.string().max(64) })).max(1000),
  next_cursor: z.string().max(2000).nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
});

const countsSchema = z.object({
  like: z.number().int().min(0),
  reply: z.number().int().min(0),
  mention: z.number().int().min(0),
  repost: z.number().int().min(0),
  total: z.number().int().min(0),
});

/** A string PostgreSQL can hold as text (no NUL), as every cursor's account is. */
const isText = (v: unknown): v is string => typeof v === 'string' && !v.includes('\u0000') && v.length <= 1024;

const isTimeCursor = (v: unknown[]): v is [string, string] =>
  v.length === 2 && isText(v[0]) && parseRfc3339(v[0]) !== null && isText(v[1]);

export const accountRoutes: FastifyPluginAsyncZod<{ db: Database; inFlight: InFlight }> = async (app, { db, inFlight }) => {
  const summaryOf = (workspaceId: number, account: string, w: Window) => accountSummary(db, workspaceId, account, w);
  /** A window's reads aggregate the events in it: limited per key while they run. An all-time read is one row. */
  const windowed = (request: FastifyRequest, reply: FastifyReply, w: Window) => {
    if (w.since !== null || w.until !== null) inFlight.hold(request, reply, 'heavy_read');
    return w;
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
        response: { 200: sectionsSchema },
      },
    },
    async (request, reply) => {
      return accountScores(db, request.workspaceId, request.params.account, windowed(request, reply, windowOf(request.query)));
    },
  );

  const sections = { reciprocity: [reciprocitySchema, reciprocity], engagement: [engagementSchema, engagement], spam: [spamSchema, spam] } as const;
  for (const [name, [schema, compute]] of Object.entries(sections)) {
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
          response: { 200: z.object({ account: accountOut, window: windowSchema, [name]: schema }) },
        },
      },
      async (request, reply) => {
        const w = windowed(request, reply, windowOf(request.query));
        const summary = await summaryOf(request.workspaceId, request.params.account, w);
        const section = (compute as (s: Summary) => unknown)(summary);
        // The response schema (built from the same table) checks the shape at run time.
        return { account: request.params.account, window: describeWindow(w), [name]: section } as never;
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
        body: z.strictObject({
          accounts: z.array(accountSchema).min(1).max(100).describe('Up to 100 accounts.'),
          since: windowQuery.shape.since,
          until: windowQuery.shape.until,
          churn_hours: z.number().int().min(1).max(MAX_CHURN_HOURS).default(DEFAULT_CHURN_HOURS),
        }).meta({ examples: [{ accounts: ['tw:alice', 'tw:bob'], since: '2026-11-01T00:00:00Z', churn_hours: 48 }] }),
        response: { 200: z.object({ window: windowSchema, results: z.array(sectionsSchema.omit({ window: true })).max(100) }) },
      },
    },
    async (request, reply) => {
      inFlight.hold(request, reply, 'heavy_read');
      const w = windowOf(request.body);
      const accounts = [...new Set(request.body.accounts)];
      const results = [];
      for (const account of accounts) {
        const { window: _same, ...sections } = await accountScores(db, request.workspaceId, account, w);
        results.push(sections);
      }
      return { window: describeWindow(w), results };
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
        querystring: z.object({
          sort: z.enum(RANKING_METRICS).default('spam_score').describe('The all-time metric to rank by (default churn_hours).'),
          order: z.enum(['asc', 'desc']).default('desc'),
          min_followers: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
          ...pageQuery,
        }),
        response: {
          200: z.object({
            sort: z.enum(RANKING_METRICS),
            order: z.enum(['asc', 'desc']),
            items: z
              .array(
                z.object({
                  account: accountOut,
                  value: z.number().nullable().describe('The account’s value of `sort` (a ratio may be null).'),
                  followers: z.number().int().min(0),
                  following: z.number().int().min(0),
                  spam_score: z.number().min(0).max(1),
                }),
              )
              .max(1000),
            next_cursor: z.string().max(2000).nullable(),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const after = cursorOf(q.cursor, (v): v is [number, string] => v.length === 2 && Number.isFinite(v[0]) && isText(v[1]));
      const rows = await rankAccounts(db, request.workspaceId, { metric: q.sort, order: q.order, minFollowers: q.min_followers, limit: q.limit + 1, after });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return {
        sort: q.sort,
        order: q.order,
        items,
        next_cursor: rows.length > q.limit && last ? encodeCursor(rankKey(q.sort, last)) : null,
      };
    },
  );

  for (const [path, direction] of [['non-followers', 'out'], ['fans', 'in']] as const) {
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
          querystring: z.object(pageQuery),
          response: { 200: followEdgesSchema },
        },
      },
      async (request) => {
        const cursor = cursorOf(request.query.cursor, isTimeCursor);
        // The cursor's time goes to SQL in canonical form: RFC 3339 allows offsets PostgreSQL does not.
        const after: [string, string] | null = cursor && [parseRfc3339(cursor[0])!.canonical, cursor[1]];
        const rows = await oneWayFollows(db, request.workspaceId, request.params.account, direction, {
          limit: request.query.limit + 1,
          after,
        });
        const items = rows.slice(0, request.query.limit);
        const last = items[items.length - 1];
        return {
          account: request.params.account,
          items,
          next_cursor: rows.length > request.query.limit && last ? encodeCursor([last.followed_at, last.account]) : null,
        };
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
        description:
          'Interaction counts each way (all time) and follow state each way, most exchange first: min(sent, received), then sent + received, then account name.',
        params: accountParams,
        querystring: z.object(pageQuery),
        response: {
          200: z.object({
            account: accountOut,
            items: z
              .array(
                z.object({
                  account: accountOut,
                  sent: countsSchema.describe('Interactions the account directed at this partner (all time).'),
                  received: countsSchema.describe('Interactions this partner directed at the account (all time).'),
                  exchange: z.number().int().min(0).describe('min(sent.total, received.total): the sort key.'),
                  follows: z.boolean().describe('The account follows this partner.'),
                  followed_by: z.boolean().describe('This partner follows the account.'),
                }),
              )
              .max(1000),
            next_cursor: z.string().max(2000).nullable(),
          }),
        },
      },
    },
    async (request) => {
      const after = cursorOf(
        request.query.cursor,
        (v): v is [number, number, string] =>
          v.length === 3 && Number.isSafeInteger(v[0]) && Number.isSafeInteger(v[1]) && isText(v[2]),
      );
      const rows = await partners(db, request.workspaceId, request.params.account, { limit: request.query.limit + 1, after });
      const items = rows.slice(0, request.query.limit);
      const last = items[items.length - 1];
      return {
        account: request.params.account,
        items,
        next_cursor:
          rows.length > request.query.limit && last
            ? encodeCursor([last.exchange, last.sent.total + last.received.total, last.account])
            : null,
      };
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
        querystring: z.object({
          tz: z
            .string()
            .max(64)
            .default('UTC')
            .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris')
            .describe('IANA time zone the hours are counted in.'),
          since: windowQuery.shape.since,
          until: windowQuery.shape.until,
        }),
        response: {
          200: z.object({
            account: accountOut,
            tz: z.string().max(64),
            window: windowSchema.omit({ churn_hours: true }),
            hours: z
              .array(z.object({ weekday: z.enum(WEEKDAYS), hour: z.number().int().min(0).max(23), interactions: z.number().int().min(0) }))
              .max(168)
              .describe('Interactions received, per local weekday and hour, Monday 00 first.'),
            best_hours: z
              .array(z.object({ weekday: z.enum(WEEKDAYS), hour: z.number().int().min(0).max(23), interactions: z.number().int().min(0) }))
              .max(3)
              .describe('The three hours of the week with the most interactions received (earlier first on ties); empty without data.'),
          }),
        },
      },
    },
    async (request, reply) => {
      inFlight.hold(request, reply, 'heavy_read');
      const w = windowOf({ ...request.query, churn_hours: DEFAULT_CHURN_HOURS });
      const grid = await interactionsByHour(db, request.workspaceId, request.params.account, request.query.tz, w);
      const hours = grid.map((interactions, i) => ({ weekday: WEEKDAYS[Math.floor(i / 24)]!, hour: i % 24, interactions }));
      const best = hours
        .filter((h) => h.interactions > 0)
        .sort((a, b) => b.interactions - a.interactions)
        .slice(0, 3);
      const { churn_hours: _unused, ...window } = describeWindow(w);
      return { account: request.params.account, tz: request.query.tz, window, hours, best_hours: best };
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
        response: {
          200: z.object({
            account: accountOut,
            events_deleted: z.number().int().min(0).describe('Events that named the account, as actor or target.'),
          }),
        },
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
