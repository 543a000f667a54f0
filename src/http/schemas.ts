import { z } from 'zod';
import { LIMITS } from '../domain/events.js';
import { KEY_ID_PATTERN, KEY_PATTERN, SCOPES } from '../domain/keys.js';
import { workspaceNameSchema } from '../domain/workspaces.js';
import { PROBLEMS, type ProblemCode } from '../errors.js';
import { FOLLOW_CHANGES } from '../db/follower-changes.js';
import { CONSISTENCY } from '../projection/freshness.js';
import { MAX_CHURN_HOURS } from '../scoring/summary.js';

/**
 * Every shape the API answers with, defined once and named (`.meta({ id })`): the document lists
 * each under components/schemas and refers to it, so a generated client has one type per shape.
 * Examples are realistic values a client would see; a test validates each against its schema.
 */

const problemCodes = Object.keys(PROBLEMS) as [ProblemCode, ...ProblemCode[]];

export const fieldErrorSchema = z
  .object({
    field: z.string().max(300).describe('Where: `body` fields by path (`events.0.actor`), others prefixed `querystring.`, `params.`.'),
    message: z.string().max(1000),
  })
  .meta({ id: 'FieldError', description: 'One offending field.', examples: [{ field: 'querystring.churn_hours', message: 'Too small: expected number to be >=1' }] });

/** RFC 9457 problem details, as every error response carries them. */
export const problemSchema = z
  .object({
    type: z
      .string()
      .max(200)
      .regex(/^urn:rapport:problem:[a-z_]+$/)
      .describe('A URN naming the problem: `urn:rapport:problem:<code>`.'),
    title: z.string().max(200),
    status: z.number().int().min(400).max(599),
    code: z.enum(problemCodes).describe('Stable, machine-readable; the status of each code is fixed.'),
    detail: z.string().max(10_000),
    instance: z.string().max(10_000).optional().describe('The request path and query.'),
    errors: z.array(fieldErrorSchema).max(1000).optional().describe('Each offending field, for validation errors.'),
    pending_events: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('`projection_lagging` only: events acknowledged but not yet in the scores.'),
    oldest_pending_seconds: z.number().min(0).max(1e9).optional().describe('`projection_lagging` only: age of the oldest of them, in seconds.'),
  })
  .meta({
    id: 'Problem',
    description: 'RFC 9457 problem details (application/problem+json).',
    examples: [
      {
        type: 'urn:rapport:problem:validation_failed',
        title: PROBLEMS.validation_failed.title,
        status: 400,
        code: 'validation_failed',
        detail: 'querystring.churn_hours: Too small: expected number to be >=1',
        instance: '/v1/accounts/tw%3Aalice/spam?churn_hours=0',
        errors: [{ field: 'querystring.churn_hours', message: 'Too small: expected number to be >=1' }],
      },
    ],
  });

export const REJECTION_CODES = ['invalid_event', 'occurred_at_in_future', 'id_conflict', 'invalid_json', 'line_too_long'] as const;

export const rejectionSchema = z
  .object({
    index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Position of the event in the request: array index, or 0-based line number of an NDJSON stream.'),
    code: z.enum(REJECTION_CODES),
    message: z.string().max(10_000),
  })
  .meta({ id: 'Rejection', description: 'An event that was not stored, and why.', examples: [{ index: 3, code: 'invalid_event', message: 'target: required for type follow' }] });

export const batchResultSchema = z
  .object({
    accepted: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Events stored by this request.'),
    duplicates: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Events already stored with the same id and content: nothing changed.'),
    rejected: z
      .array(rejectionSchema)
      .max(LIMITS.batchMaxEvents)
      .describe('Events not stored, with their index and reason, in request order; an NDJSON stream lists at most the first 1,000.'),
    rejected_total: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('All rejections: the length of `rejected` for a JSON batch, possibly more for an NDJSON stream.'),
  })
  .meta({
    id: 'BatchResult',
    description: 'What became of each event of a batch or stream.',
    examples: [{ accepted: 4980, duplicates: 19, rejected: [{ index: 3, code: 'invalid_event', message: 'target: required for type follow' }], rejected_total: 1 }],
  });

const instantOut = z
  .string()
  .max(64)
  .meta({ format: 'date-time', examples: ['2026-11-20T10:00:00.000000Z'] });

export const windowSchema = z
  .object({
    since: instantOut.nullable().describe('Start (inclusive); null: from the first event.'),
    until: instantOut.nullable().describe('End (exclusive); null: up to now.'),
    churn_hours: z.number().int().min(1).max(MAX_CHURN_HOURS).describe('The churn_hours the quick unfollows were counted with.'),
  })
  .meta({
    id: 'Window',
    description: 'The window the activity metrics cover (null: open); follow-graph metrics are always the current state.',
    examples: [{ since: '2026-11-01T00:00:00.000000Z', until: null, churn_hours: 72 }],
  });

export const intervalSchema = windowSchema.omit({ churn_hours: true }).meta({
  id: 'Interval',
  description: 'The [since, until) the counts cover (null: open).',
  examples: [{ since: '2026-11-01T00:00:00.000000Z', until: '2026-12-01T00:00:00.000000Z' }],
});

/** An account as answers echo it: 256 characters may be 512 UTF-16 code units. */
export const accountOut = z
  .string()
  .max(LIMITS.accountMaxChars * 2)
  .describe('An account, as given in events.')
  .meta({ examples: ['tw:alice'] });

export const nextCursorSchema = z
  .string()
  .max(2000)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  .nullable()
  .describe('Pass as `cursor` for the next page of the same query; null on the last page.')
  .meta({ examples: ['eyJrIjpbMC41LCJ0dzphbGljZSJdfQ.q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6'] });

export const statusSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Status', description: 'The process is live, or ready.', examples: [{ status: 'ok' }] });

export const workspaceSchema = z
  .object({ name: workspaceNameSchema, created_at: instantOut })
  .meta({ id: 'Workspace', description: 'A workspace: the unit of isolation.', examples: [{ name: 'acme', created_at: '2026-11-20T10:00:00.000000Z' }] });

export const keySchema = z
  .object({
    key_id: z.string().max(12).regex(KEY_ID_PATTERN).describe('The key’s id: the part of the key between `rpk_` and the second `_`.'),
    workspace: workspaceNameSchema,
    scopes: z.array(z.enum(SCOPES)).max(SCOPES.length),
    created_at: instantOut,
    revoked_at: instantOut.nullable().describe('When the key was revoked; null while it is valid.'),
  })
  .meta({
    id: 'Key',
    description: 'An API key, never its secret.',
    examples: [{ key_id: 'k3y1d0abc123', workspace: 'acme', scopes: ['events:write', 'scores:read'], created_at: '2026-11-20T10:00:00.000000Z', revoked_at: null }],
  });

export const createdKeySchema = keySchema.extend({ key: z.string().max(100).regex(KEY_PATTERN).describe('The key: shown this once, never again.') }).meta({
  id: 'CreatedKey',
  description: 'A new API key, with its secret: the only time it is shown.',
  examples: [
    {
      key_id: 'k3y1d0abc123',
      workspace: 'acme',
      scopes: ['events:write'],
      created_at: '2026-11-20T10:00:00.000000Z',
      revoked_at: null,
      key: 'rpk_k3y1d0abc123_Xq3vTn8hR2kLw9ZpB4sYc7JmD1fGu6EaH0iOtNvQbWr',
    },
  ],
});

/** An error answer of an operation: problem+json, the one Problem schema, with the codes of that status. */
export function problemResponse(status: number, what: string) {
  const codes = (Object.entries(PROBLEMS) as [ProblemCode, { status: number }][])
    .filter(([, p]) => p.status === status)
    .map(([code]) => `\`${code}\``)
    .join(', ');
  return { description: `${what} (${codes})`, content: { 'application/problem+json': { schema: problemSchema } } };
}

/** `consistency`, a query parameter of every read. */
export const consistencyParam = z
  .enum(CONSISTENCY)
  .default('strong')
  .describe(
    '`strong` (default): the answer reflects every event acknowledged before the request began, waiting for them up to READ_WAIT_MS (then 503 `projection_lagging`). `eventual`: at once, from the scores as they are; `as_of` says what is missing.',
  );

export const asOfSchema = z
  .object({
    complete: z.boolean().describe('No acknowledged event of the workspace is missing from the answer.'),
    pending_events: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Events acknowledged but not yet in the scores when the answer was read.'),
  })
  .meta({ id: 'AsOf', description: 'What a read answer reflects.', examples: [{ complete: true, pending_events: 0 }] });

export const followerChangeSchema = z
  .object({
    account: accountOut.describe('X: the account that followed or unfollowed.'),
    change: z.enum(FOLLOW_CHANGES),
    at: instantOut.describe('When, as the event gave it.'),
    followed_for_seconds: z
      .number()
      .min(0)
      .max(1e12)
      .nullable()
      .describe(
        'For an unfollow, seconds since X’s latest follow before it (a repeated follow included), to the microsecond; null for a follow, and for an unfollow with no follow before it in the ledger.',
      ),
    followed_back: z.boolean().describe('The account followed X at that instant (its own latest follow/unfollow of X up to then, an unfollow winning a tie).'),
    quick: z.boolean().describe('An unfollow within churn_hours after X’s latest follow (t < u ≤ t + churn_hours), as quick_unfollows counts them; false for a follow.'),
  })
  .meta({
    id: 'FollowerChange',
    description: 'A follow or an unfollow of the account.',
    examples: [
      { account: 'tw:bob', change: 'unfollow', at: '2026-11-22T09:30:00.000000Z', followed_for_seconds: 171000, followed_back: false, quick: true },
      { account: 'tw:carol', change: 'follow', at: '2026-11-20T10:00:00.000000Z', followed_for_seconds: null, followed_back: true, quick: false },
    ],
  });

/** A page of follower changes; both lists answer the same shape. */
const changePage = (id: string, description: string) =>
  z
    .object({
      account: accountOut,
      window: windowSchema.describe('The `since`/`until` the changes were selected by, and the `churn_hours` that marked unfollows quick.'),
      items: z.array(followerChangeSchema).max(1000),
      next_cursor: nextCursorSchema,
      as_of: asOfSchema,
    })
    .meta({ id, description });

export const followerChangePageSchema = changePage('FollowerChangePage', 'A page of follower changes, newest first.');
export const unfollowerPageSchema = changePage('UnfollowerPage', 'A page of the accounts that follow the account no longer, most recent unfollow first.');
