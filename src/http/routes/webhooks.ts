import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import {
  deleteWebhook,
  findWebhook,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  replaceSecret,
  requeueDelivery,
  attemptsOf,
  type StoredAttempt,
  type StoredDelivery,
  type StoredWebhook,
} from '../../db/webhooks.js';
import { Problem } from '../../errors.js';
import { flagSchema, flagThresholdSchema } from '../../scoring/metrics.js';
import { metricMaximum, THRESHOLD_METRICS, WEBHOOK_EVENT_TYPES, type ThresholdMetric } from '../../webhooks/events.js';
import { generateSecret, SECRET_PATTERN, type SecretBox } from '../../webhooks/secrets.js';
import { checkTarget, TargetRefused, urlProblem } from '../../webhooks/targets.js';
import { Cursors } from '../cursors.js';
import { accountOut, nextCursorSchema, problemResponse } from '../schemas.js';

/** Per workspace; a moderation bot needs one or two, an integration platform a handful. */
export const WEBHOOK_LIMITS = { perWorkspace: 20, urlMaxChars: 2_048, maxGraceSeconds: 7 * 86_400, defaultGraceSeconds: 86_400 } as const;

const WEBHOOK_ID = /^wh_[0-9a-f]{20}$/;
const DELIVERY_ID = /^whd_[0-9a-f]{24}$/;
const newWebhookId = () => `wh_${randomBytes(10).toString('hex')}`;

const instantOut = z
  .string()
  .max(64)
  .meta({ format: 'date-time', examples: ['2026-11-20T10:00:00.000000Z'] });
const webhookId = z
  .string()
  .max(23)
  .regex(WEBHOOK_ID)
  .describe('A subscription id, `wh_` and 20 hex digits.')
  .meta({ examples: ['wh_5f0c2a9e41b7d3086c1e'] });
const deliveryIdSchema = z
  .string()
  .max(28)
  .regex(DELIVERY_ID)
  .describe('A delivery id, `whd_` and 24 hex digits; the `id` of the event body, the same on every attempt and redelivery.')
  .meta({ examples: ['whd_0b7e4f1c9a2d6e3f5a8b1c0d'] });
const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .describe('`flag.raised` / `flag.cleared`: a flag appears on / leaves an account. `score.crossed`: a metric named in `thresholds` crosses its threshold, either way.');
const thresholds = z
  .partialRecord(z.enum(THRESHOLD_METRICS), z.number().min(0).max(Number.MAX_SAFE_INTEGER))
  .describe(
    'All-time metric (default churn_hours) → threshold, for `score.crossed`. A metric crosses t upwards when before < t ≤ after, downwards when after < t ≤ before, comparing the values the scores endpoint answers (ratios rounded to 6 places; a null ratio is below every threshold). Shares and spam_score take thresholds in [0, 1].',
  );

const EXAMPLE_WEBHOOK = {
  id: 'wh_5f0c2a9e41b7d3086c1e',
  url: 'https://bot.example.com/rapport',
  events: ['flag.raised', 'flag.cleared', 'score.crossed'],
  thresholds: { spam_score: 0.8 },
  created_at: '2026-11-20T10:00:00.000000Z',
  previous_secret_expires_at: null,
};

const webhookSchema = z
  .object({
    id: webhookId,
    url: z.string().max(WEBHOOK_LIMITS.urlMaxChars).meta({ format: 'uri' }),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).max(WEBHOOK_EVENT_TYPES.length),
    thresholds,
    created_at: instantOut,
    previous_secret_expires_at: instantOut.nullable().describe('After a rotation: until when the previous secret also signs (a second `v1`); null when only the current one does.'),
  })
  .meta({
    id: 'Webhook',
    description: 'A webhook subscription, never its secret.',
    examples: [EXAMPLE_WEBHOOK],
  });

const secretField = z.string().max(60).regex(SECRET_PATTERN).describe('The signing secret: shown this once, never again. Verify `Rapport-Signature` with it.');
const createdWebhookSchema = webhookSchema.extend({ secret: secretField }).meta({
  id: 'CreatedWebhook',
  description: 'A webhook subscription with its signing secret: the only time the secret is shown.',
  examples: [{ ...EXAMPLE_WEBHOOK, secret: 'whsec_Xq3vTn8hR2kLw9ZpB4sYc7JmD1fGu6EaH0iOtNvQbWr' }],
});

export const flagRaisedDataSchema = z
  .object({
    flag: flagSchema.shape.flag,
    description: z.string().max(500),
    thresholds: z.array(flagThresholdSchema).max(10).describe('The flag’s conditions, each of which now holds.'),
    spam_score: z.number().min(0).max(1).describe('The account’s spam_score after the change.'),
  })
  .meta({
    id: 'FlagRaisedData',
    description: '`data` of `flag.raised`.',
    examples: [
      {
        flag: 'follow_burst',
        description: 'At least 100 follows in a single UTC day.',
        thresholds: [{ metric: 'peak_daily_follows', op: '>=', threshold: 100, actual: 140 }],
        spam_score: 0.216,
      },
    ],
  });
export const flagClearedDataSchema = z
  .object({ flag: flagSchema.shape.flag, description: z.string().max(500), spam_score: z.number().min(0).max(1).describe('The account’s spam_score after the change.') })
  .meta({
    id: 'FlagClearedData',
    description: '`data` of `flag.cleared`.',
    examples: [{ flag: 'follow_burst', description: 'At least 100 follows in a single UTC day.', spam_score: 0.1 }],
  });
export const scoreCrossedDataSchema = z
  .object({
    metric: z.enum(THRESHOLD_METRICS),
    threshold: z.number().min(0).max(Number.MAX_SAFE_INTEGER),
    direction: z.enum(['up', 'down']).describe('up: before < threshold ≤ after; down: after < threshold ≤ before.'),
    before: z.number().min(0).max(Number.MAX_SAFE_INTEGER).nullable().describe('The value before the change (null: a ratio with no data).'),
    after: z.number().min(0).max(Number.MAX_SAFE_INTEGER).nullable().describe('The value after it.'),
  })
  .meta({ id: 'ScoreCrossedData', description: '`data` of `score.crossed`.', examples: [{ metric: 'spam_score', threshold: 0.8, direction: 'up', before: 0.64, after: 0.82 }] });

const attemptSchema = z
  .object({
    attempt: z.number().int().min(1).max(1_000_000),
    at: instantOut,
    duration_ms: z.number().int().min(0).max(86_400_000),
    status_code: z.number().int().min(100).max(599).nullable().describe('The receiver’s status; null when no answer came.'),
    error: z.string().max(500).nullable().describe('Why no answer came (refused, timed out, not a public address…); null when one did.'),
  })
  .meta({
    id: 'DeliveryAttempt',
    description: 'One attempt of a delivery.',
    examples: [{ attempt: 1, at: '2026-11-20T10:00:01.250000Z', duration_ms: 84, status_code: 503, error: null }],
  });

const deliverySchema = z
  .object({
    id: deliveryIdSchema,
    type: z.enum(WEBHOOK_EVENT_TYPES),
    account: accountOut,
    occurred_at: instantOut.describe('When the change was folded into the scores.'),
    data: z.union([flagRaisedDataSchema, flagClearedDataSchema, scoreCrossedDataSchema]),
    status: z.enum(['pending', 'delivered', 'failed']).describe('failed: no 2xx within WEBHOOK_RETRY_SECONDS (24 hours) of the change or the latest redelivery.'),
    next_attempt_at: instantOut.nullable().describe('When a pending delivery is tried next (once the account’s earlier deliveries are settled); null otherwise.'),
    attempts: z.array(attemptSchema).max(100_000).describe('Every attempt, oldest first.'),
  })
  .meta({
    id: 'Delivery',
    description: 'One webhook event for one subscription, and every attempt to deliver it.',
    examples: [
      {
        id: 'whd_0b7e4f1c9a2d6e3f5a8b1c0d',
        type: 'score.crossed',
        account: 'tw:alice',
        occurred_at: '2026-11-20T10:00:00.000000Z',
        data: { metric: 'spam_score', threshold: 0.8, direction: 'up', before: 0.64, after: 0.82 },
        status: 'delivered',
        next_attempt_at: null,
        attempts: [
          { attempt: 1, at: '2026-11-20T10:00:01.250000Z', duration_ms: 84, status_code: 503, error: null },
          { attempt: 2, at: '2026-11-20T10:00:07.900000Z', duration_ms: 61, status_code: 200, error: null },
        ],
      },
    ],
  });

const webhookParams = z.object({ id: webhookId });
const notFound = problemResponse(404, 'No webhook subscription of this workspace has this id');

const webhookJson = (w: StoredWebhook) => ({
  id: w.id,
  url: w.url,
  events: w.events as (typeof WEBHOOK_EVENT_TYPES)[number][],
  thresholds: w.thresholds as Partial<Record<ThresholdMetric, number>>,
  created_at: w.createdAt,
  previous_secret_expires_at: w.previousSecretUntil,
});

const deliveryJson = (d: StoredDelivery, attempts: StoredAttempt[]) => ({
  id: d.id,
  type: d.type as (typeof WEBHOOK_EVENT_TYPES)[number],
  account: d.account,
  occurred_at: d.occurredAt,
  data: d.data as z.infer<typeof deliverySchema>['data'],
  status: d.status,
  next_attempt_at: d.nextAttemptAt,
  attempts: attempts.filter((a) => a.deliveryId === d.id).map((a) => ({ attempt: a.attempt, at: a.at, duration_ms: a.durationMs, status_code: a.statusCode, error: a.error })),
});

const webhookNotFound = (id: string) => new Problem('webhook_not_found', `no webhook subscription of this workspace has the id ${id}`);

/** SPEC §9: webhook subscriptions, their secrets and their delivery logs; scope webhooks:manage. */
export const webhookRoutes: FastifyPluginAsyncZod<{ db: Database; secrets: SecretBox; allowPrivate: boolean }> = async (app, { db, secrets, allowPrivate }) => {
  const cursors = new Cursors(db);

  app.post(
    '/v1/webhooks',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'createWebhook',
        tags: ['webhooks'],
        summary: 'Subscribe to webhook events',
        description: `Deliveries are signed POSTs to \`url\` (see docs/integration.md). The URL must be https and its host must resolve to public addresses only (checked now and at every delivery) unless the deployment sets WEBHOOK_ALLOW_PRIVATE=true; at most ${WEBHOOK_LIMITS.perWorkspace} subscriptions per workspace. The answer carries the signing secret, this once.`,
        body: z
          .strictObject({
            url: z.string().min(1).max(WEBHOOK_LIMITS.urlMaxChars).describe('Where deliveries are POSTed: https, no credentials, no fragment.').meta({ format: 'uri' }),
            events: eventTypes,
            thresholds: thresholds.default({}),
          })
          .meta({
            id: 'CreateWebhookRequest',
            description: 'What to send, and where.',
            examples: [{ url: 'https://bot.example.com/rapport', events: ['flag.raised', 'flag.cleared', 'score.crossed'], thresholds: { spam_score: 0.8 } }],
          }),
        response: {
          201: createdWebhookSchema.describe('Subscribed; the secret is in the answer, this once.'),
          409: problemResponse(409, `The workspace has ${WEBHOOK_LIMITS.perWorkspace} subscriptions already`),
        },
      },
    },
    async (request, reply) => {
      const { url, events, thresholds: limits } = request.body;
      const errors = [];
      const problem = urlProblem(url, allowPrivate);
      if (problem) errors.push({ field: 'url', message: problem });
      for (const [metric, value] of Object.entries(limits) as [ThresholdMetric, number][]) {
        const max = metricMaximum(metric);
        if (value > max) errors.push({ field: `thresholds.${metric}`, message: `${metric} lies in [0, ${max}]` });
      }
      const crossed = events.includes('score.crossed');
      if (crossed && Object.keys(limits).length === 0) errors.push({ field: 'thresholds', message: 'score.crossed needs at least one threshold' });
      if (!crossed && Object.keys(limits).length > 0) errors.push({ field: 'thresholds', message: 'thresholds are for score.crossed, which events does not list' });
      if (errors.length > 0) throw new Problem('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
      try {
        await checkTarget(url, allowPrivate);
      } catch (err) {
        if (err instanceof TargetRefused)
          throw new Problem('webhook_target_refused', `${err.message}; deliveries go to public https targets only`, { errors: [{ field: 'url', message: err.message }] });
        throw err;
      }
      const id = newWebhookId();
      const secret = generateSecret();
      const stored = await insertWebhook(
        db,
        request.workspaceId,
        { id, url, events: [...new Set(events)].sort(), thresholds: limits, secret: await secrets.seal(secret, request.workspaceId, id) },
        WEBHOOK_LIMITS.perWorkspace,
      );
      if (!stored) throw new Problem('webhook_limit_reached', `a workspace may have ${WEBHOOK_LIMITS.perWorkspace} webhook subscriptions; delete one first`);
      return reply.code(201).send({ ...webhookJson(stored), secret });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'listWebhooks',
        tags: ['webhooks'],
        summary: 'List webhook subscriptions',
        description: 'Every subscription of the workspace, oldest first; never the secrets.',
        response: {
          200: z
            .object({ webhooks: z.array(webhookSchema).max(WEBHOOK_LIMITS.perWorkspace) })
            .meta({ id: 'WebhookList', description: 'The workspace’s webhook subscriptions, oldest first.' })
            .describe('The subscriptions, without their secrets.'),
        },
      },
    },
    async (request) => ({ webhooks: (await listWebhooks(db, request.workspaceId)).map(webhookJson) }),
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'deleteWebhook',
        tags: ['webhooks'],
        summary: 'Delete a webhook subscription',
        description: 'Nothing more is sent to it (a request already in flight may still arrive); its deliveries and their log are deleted with it.',
        params: webhookParams,
        response: { 200: webhookSchema.describe('Deleted; the subscription as it was.'), 404: notFound },
      },
    },
    async (request) => {
      const hook = await findWebhook(db, request.workspaceId, request.params.id);
      if (!hook || !(await deleteWebhook(db, request.workspaceId, hook.id))) throw webhookNotFound(request.params.id);
      return webhookJson(hook);
    },
  );

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'rotateWebhookSecret',
        tags: ['webhooks'],
        summary: 'Rotate the signing secret',
        description:
          'A new secret signs every delivery from now on. For `grace_seconds` (default one day) the previous one signs too: `Rapport-Signature` then carries two `v1` values, the new one first, so receivers can switch without losing a delivery. `grace_seconds: 0` retires it at once (a leaked secret).',
        params: webhookParams,
        body: z
          .strictObject({
            grace_seconds: z
              .number()
              .int()
              .min(0)
              .max(WEBHOOK_LIMITS.maxGraceSeconds)
              .default(WEBHOOK_LIMITS.defaultGraceSeconds)
              .describe('How long the previous secret keeps signing too.'),
          })
          // No body at all (Fastify reads it as null) takes every default.
          .nullish()
          .meta({ id: 'RotateSecretRequest', description: 'How long the previous secret still signs.', examples: [{ grace_seconds: 3600 }] }),
        response: { 200: createdWebhookSchema.describe('Rotated; the new secret is in the answer, this once.'), 404: notFound },
      },
    },
    async (request) => {
      const grace = request.body?.grace_seconds ?? WEBHOOK_LIMITS.defaultGraceSeconds;
      const { id } = request.params;
      const secret = generateSecret();
      const until = grace > 0 ? new Date(Date.now() + grace * 1000).toISOString() : null;
      const hook = await replaceSecret(db, request.workspaceId, id, await secrets.seal(secret, request.workspaceId, id), until);
      if (!hook) throw webhookNotFound(id);
      return { ...webhookJson(hook), secret };
    },
  );

  const listQuery = z.object({
    limit: z.coerce.number().int().min(1).max(100).default(50).describe('Deliveries per page.'),
    cursor: z.string().max(2000).optional().describe('`next_cursor` of the previous page.'),
  });

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'listWebhookDeliveries',
        tags: ['webhooks'],
        summary: 'The delivery log of a subscription',
        description: 'Every delivery, newest first, with every attempt; cursor pagination.',
        params: webhookParams,
        querystring: listQuery,
        response: {
          200: z
            .object({ items: z.array(deliverySchema).max(100), next_cursor: nextCursorSchema })
            .meta({ id: 'DeliveryList', description: 'A page of a subscription’s deliveries, newest first.' })
            .describe('A page of the log.'),
          404: notFound,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await findWebhook(db, request.workspaceId, id))) throw webhookNotFound(id);
      const bound = ['webhook-deliveries', request.workspaceId, id];
      const after = await cursors.read(bound, request.query.cursor, (v): v is [number] => v.length === 1 && Number.isSafeInteger(v[0]));
      const { deliveries, attempts } = await listDeliveries(db, request.workspaceId, id, { limit: request.query.limit + 1, before: after?.[0] ?? null });
      const items = deliveries.slice(0, request.query.limit);
      const last = items.at(-1);
      return {
        items: items.map((d) => deliveryJson(d, attempts)),
        next_cursor: deliveries.length > request.query.limit && last ? await cursors.issue(bound, [Number(last.seq)]) : null,
      };
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:delivery_id/redeliver',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'redeliverWebhookDelivery',
        tags: ['webhooks'],
        summary: 'Send a delivery again',
        description:
          'Queues the delivery again, as it was (same id and body, signed afresh), with a new 24-hour retry window: delivered or failed, it is pending again, and sent once the account’s earlier pending deliveries are settled.',
        params: z.object({ id: webhookId, delivery_id: deliveryIdSchema }),
        response: { 202: deliverySchema.describe('Queued again.'), 404: problemResponse(404, 'No such subscription, or no such delivery of it') },
      },
    },
    async (request, reply) => {
      const { id, delivery_id: deliveryId } = request.params;
      if (!(await findWebhook(db, request.workspaceId, id))) throw webhookNotFound(id);
      const delivery = await requeueDelivery(db, request.workspaceId, id, deliveryId);
      if (!delivery) throw new Problem('delivery_not_found', `the subscription ${id} has no delivery ${deliveryId}`);
      return reply.code(202).send(deliveryJson(delivery, await attemptsOf(db, request.workspaceId, [delivery.id])));
    },
  );
};
