import { sql } from 'drizzle-orm';
import {
  boolean,
  customType,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { EVENT_TYPES } from '../domain/events.js';

// Every table is keyed by workspace first, so the schema can be distributed by workspace_id on
// Citus (docs/scaling.md): workspaces and api_keys as reference tables, the rest co-located.

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
    index('events_target_time').on(t.workspaceId, t.target, t.occurredAt).where(sql`${t.target} IS NOT NULL`),
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
    outLike: integer('out_like').notNull().default(0),
    outReply: integer('out_reply').notNull().default(0),
    outMention: integer('out_mention').notNull().default(0),
    outRepost: integer('out_repost').notNull().default(0),
    inLike: integer('in_like').notNull().default(0),
    inReply: integer('in_reply').notNull().default(0),
    inMention: integer('in_mention').notNull().default(0),
    inRepost: integer('in_repost').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.account, t.other] })],
);
