import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  smallint,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { EVENT_TYPES } from '../domain/events.js';

// Every table is keyed by workspace first, so the schema can be distributed by workspace_id on
// Citus: workspaces and api_keys as reference tables, the rest co-located.

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });
const tstz = (name: string) => timestamp(name, { withTimezone: true, precision: 6, mode: 'string' });

export const eventType = pgEnum('event_type', EVENT_TYPES);

export const workspaces = pgTable('workspaces', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull().unique(),
  createdAt: tstz('created_at').notNull().defaultNow(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    keyId: text('key_id').notNull(),
    /** SHA-256 of the secret part; the secret itself is never stored. */
    secretHash: bytea('secret_hash').notNull(),
    scopes: text('scopes').array().notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    revokedAt: tstz('revoked_at'),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.keyId] }), uniqueIndex('api_keys_key_id').on(t.keyId)],
);

/** Raw events, immutable once stored. `text` is never stored: only what was derived from it. */
export const events = pgTable(
  'events',
  {
    workspaceId: integer('workspace_id').notNull(),
    eventId: text('event_id').notNull(),
    type: eventType('type').notNull(),
    actor: text('actor').notNull(),
    target: text('target'),
    post: text('post'),
    occurredAt: tstz('occurred_at').notNull(),
    hasLink: boolean('has_link').notNull(),
    isQuestion: boolean('is_question').notNull(),
    fingerprint: bytea('fingerprint'),
    contentHash: bytea('content_hash').notNull(),
    ingestedAt: tstz('ingested_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.eventId] }),
    index('events_actor_time').on(t.workspaceId, t.actor, t.occurredAt),
    index('events_target_time')
      .on(t.workspaceId, t.target, t.occurredAt)
      .where(sql`${t.target} IS NOT NULL`),
    // Ingest recounts answers and quick unfollows pair by pair, and windowed reads probe for an
    // answer or an unfollow: with the type in the key, "the first unfollow of this pair after t" is
    // one index seek however many follows the pair has.
    index('events_pair_type_time')
      .on(t.workspaceId, t.actor, t.target, t.type, t.occurredAt)
      .where(sql`${t.type} IN ('reply', 'mention', 'follow', 'unfollow')`),
    // An account's follower changes, newest first, one type at a time: a page is a range of this
    // index whatever else the account received (likes do not lie in the way of follows).
    index('events_target_follows')
      .on(t.workspaceId, t.target, t.type, t.occurredAt, t.actor)
      .where(sql`${t.type} IN ('follow', 'unfollow')`),
  ],
);

/**
 * The state of an ordered pair (account, other), kept for both orders of every pair: the row
 * (A, X) holds what A did to X ("out") and what X did to A ("in"). A row alone decides every
 * per-pair fact (mutual follow, exchange, like-for-like), so an upsert of one row under its row
 * lock keeps it exact whatever the arrival order or concurrency. Self-directed events never
 * reach this table.
 */
export const relationships = pgTable(
  'relationships',
  {
    workspaceId: integer('workspace_id').notNull(),
    account: text('account').notNull(),
    other: text('other').notNull(),
    /** The latest follow/unfollow of account→other decides `outFollows`; on a tie, unfollow wins. */
    outFollowAt: tstz('out_follow_at'),
    outFollows: boolean('out_follows').notNull().default(false),
    inFollowAt: tstz('in_follow_at'),
    inFollows: boolean('in_follows').notNull().default(false),
    /** The follow states before the latest write, so the writer can tell what changed. */
    prevOutFollows: boolean('prev_out_follows').notNull().default(false),
    prevInFollows: boolean('prev_in_follows').notNull().default(false),
    outLike: integer('out_like').notNull().default(0),
    outReply: integer('out_reply').notNull().default(0),
    outMention: integer('out_mention').notNull().default(0),
    outRepost: integer('out_repost').notNull().default(0),
    inLike: integer('in_like').notNull().default(0),
    inReply: integer('in_reply').notNull().default(0),
    inMention: integer('in_mention').notNull().default(0),
    inRepost: integer('in_repost').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.account, t.other] }),
    // non-followers (oldest follow first) and fans read these.
    index('relationships_following')
      .on(t.workspaceId, t.account, t.outFollowAt)
      .where(sql`${t.outFollows}`),
    index('relationships_followers')
      .on(t.workspaceId, t.account, t.inFollowAt)
      .where(sql`${t.inFollows}`),
    // unfollowers: the accounts whose latest mark towards the account is an unfollow, newest first.
    index('relationships_unfollowers')
      .on(t.workspaceId, t.account, t.inFollowAt, t.other)
      .where(sql`NOT ${t.inFollows} AND ${t.inFollowAt} IS NOT NULL`),
  ],
);

const counter = (name: string) => bigint(name, { mode: 'number' }).notNull().default(0);

/**
 * Every all-time counter behind an account's scores (src/scoring/summary.ts), kept by ingest so a
 * read is one row. The pair counters are sums over the account's relationships rows; the others
 * are sums over its events. `spam_score` is stored for ranking (all time, default churn_hours).
 */
export const accountStats = pgTable(
  'account_stats',
  {
    workspaceId: integer('workspace_id').notNull(),
    account: text('account').notNull(),
    followers: counter('followers'),
    following: counter('following'),
    mutual: counter('mutual'),
    partnersEngaged: counter('partners_engaged'),
    partnersEngaging: counter('partners_engaging'),
    partnersMutual: counter('partners_mutual'),
    exchangeMin: counter('exchange_min'),
    interactionsSent: counter('interactions_sent'),
    receivedLike: counter('received_like'),
    receivedReply: counter('received_reply'),
    receivedMention: counter('received_mention'),
    receivedRepost: counter('received_repost'),
    engagedFollowers: counter('engaged_followers'),
    likedAccounts: counter('liked_accounts'),
    likeForLikeAccounts: counter('like_for_like_accounts'),
    conversationsReceived: counter('conversations_received'),
    conversationsAnswered: counter('conversations_answered'),
    posts: counter('posts'),
    linkPosts: counter('link_posts'),
    questionPosts: counter('question_posts'),
    duplicatePosts: counter('duplicate_posts'),
    follows: counter('follows'),
    quickUnfollows: counter('quick_unfollows'),
    peakDailyFollows: counter('peak_daily_follows'),
    spamScore: doublePrecision('spam_score').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.account] }),
    index('account_stats_spam').on(t.workspaceId, t.spamScore, t.account),
    index('account_stats_followers').on(t.workspaceId, t.followers, t.account),
  ],
);

/** How many of an account's posts carry each fingerprint: duplicates are Σ (n − 1). */
export const postFingerprints = pgTable(
  'post_fingerprints',
  {
    workspaceId: integer('workspace_id').notNull(),
    account: text('account').notNull(),
    fingerprint: bytea('fingerprint').notNull(),
    posts: integer('posts').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.account, t.fingerprint] })],
);

/** Follow events per account and UTC day, for peak_daily_follows. */
export const followDays = pgTable(
  'follow_days',
  {
    workspaceId: integer('workspace_id').notNull(),
    account: text('account').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    follows: integer('follows').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.account, t.day] })],
);

/**
 * A histogram per account of the hours (rounded up) from each follow to the first later unfollow
 * of the same target, up to MAX_CHURN_HOURS: quick_unfollows for any churn_hours H is the sum of
 * the buckets ≤ H.
 */
export const unfollowDelays = pgTable(
  'unfollow_delays',
  {
    workspaceId: integer('workspace_id').notNull(),
    account: text('account').notNull(),
    hours: smallint('hours').notNull(),
    follows: integer('follows').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.account, t.hours] })],
);

/**
 * Secrets the service generates for itself and every process shares (a reference table): the key
 * that signs pagination cursors, so a cursor one process issued is accepted by any other.
 */
export const serviceSecrets = pgTable('service_secrets', {
  name: text('name').primaryKey(),
  secret: bytea('secret').notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
});

/**
 * The event log's unprojected tail: one row per stored event that the projector has not yet
 * folded into the derived tables, written in the same transaction as the event. The projector
 * deletes a batch's rows in the transaction that folds the batch into the derived state, so an
 * event is folded exactly once whatever crashes, and an event committed late (with a lower seq)
 * is still found: nothing is skipped by a watermark.
 */
export const pendingEvents = pgTable(
  'pending_events',
  {
    workspaceId: integer('workspace_id').notNull(),
    /** Arrival order: the projector takes the oldest first, and a read waits for those before it began. */
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    eventId: text('event_id').notNull(),
    acknowledgedAt: tstz('acknowledged_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.seq] }), uniqueIndex('pending_events_event').on(t.workspaceId, t.eventId)],
);

/** Per workspace, how many events the projector has folded in (for ingest status). */
export const projections = pgTable('projections', {
  workspaceId: integer('workspace_id').primaryKey(),
  projectedEvents: bigint('projected_events', { mode: 'number' }).notNull().default(0),
});

/**
 * Webhook subscriptions (SPEC §9). The signing secret must be usable to sign, so it is kept
 * encrypted (AES-256-GCM, src/webhooks/secrets.ts), never hashed; after a rotation the previous
 * secret also signs until `previous_secret_until`. `lease_*` make one sender per subscription
 * across processes: a sender holds the lease while it delivers and renews it between requests.
 */
export const webhooks = pgTable(
  'webhooks',
  {
    workspaceId: integer('workspace_id').notNull(),
    id: text('id').notNull(),
    url: text('url').notNull(),
    events: text('events').array().notNull(),
    /** metric name → threshold, for score.crossed. */
    thresholds: jsonb('thresholds').$type<Record<string, number>>().notNull(),
    secret: bytea('secret').notNull(),
    previousSecret: bytea('previous_secret'),
    previousSecretUntil: tstz('previous_secret_until'),
    createdAt: tstz('created_at').notNull().defaultNow(),
    leaseOwner: text('lease_owner'),
    leaseUntil: tstz('lease_until'),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] })],
);

/**
 * The outbox: one row per webhook event and subscription, written by the projector in the
 * transaction that changed the state, so a crash loses none and a rolled-back fold sends none.
 * `seq` orders an account's deliveries; a delivery is tried only once no earlier one of the same
 * subscription and account is pending.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    workspaceId: integer('workspace_id').notNull(),
    id: text('id').notNull(),
    webhookId: text('webhook_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    type: text('type').notNull(),
    account: text('account').notNull(),
    occurredAt: tstz('occurred_at').notNull().defaultNow(),
    data: jsonb('data').notNull(),
    /** pending, delivered or failed (retried for WEBHOOK_RETRY_SECONDS without a 2xx). */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tstz('next_attempt_at').notNull().defaultNow(),
    /** Start of the retry window: the state change, or the latest redelivery request. */
    retryFrom: tstz('retry_from').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    // The delivery log, newest first.
    index('webhook_deliveries_log').on(t.workspaceId, t.webhookId, t.seq),
    // The sender's heads: per account, the oldest pending delivery.
    index('webhook_deliveries_pending')
      .on(t.workspaceId, t.webhookId, t.account, t.seq)
      .where(sql`${t.status} = 'pending'`),
    // Every sender's look for due work, across workspaces.
    index('webhook_deliveries_due')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
  ],
);

/** Every attempt of every delivery: when, how long, and what came back (a status or an error). */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    workspaceId: integer('workspace_id').notNull(),
    deliveryId: text('delivery_id').notNull(),
    attempt: integer('attempt').notNull(),
    at: tstz('at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.deliveryId, t.attempt] })],
);
