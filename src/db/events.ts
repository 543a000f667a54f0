import { sql } from 'drizzle-orm';
import type { NormalizedEvent } from '../domain/events.js';
import { prepared, type Queryable } from './client.js';
import { events, pendingEvents } from './schema.js';
import { bare, statement } from './sql.js';

export type StoreOutcome = 'accepted' | 'duplicate' | 'id_conflict';

const byId = (a: NormalizedEvent, b: NormalizedEvent) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const e = events;
const INSERTED = [e.eventId, e.type, e.actor, e.target, e.post, e.occurredAt, e.hasLink, e.isQuestion, e.fingerprint, e.contentHash];

const INSERT_EVENTS = statement(sql`
  INSERT INTO ${e} (${bare(e.workspaceId)}, ${sql.join(INSERTED.map(bare), sql`, `)})
  SELECT $1, u.* FROM unnest($2::text[], $3::text[]::event_type[], $4::text[], $5::text[], $6::text[],
                             $7::timestamptz[], $8::bool[], $9::bool[], $10::bytea[], $11::bytea[]) AS u
  ON CONFLICT (${bare(e.workspaceId)}, ${bare(e.eventId)}) DO NOTHING
  RETURNING ${e.eventId}`);

/** The new events go to the log and, in the same statement, to the projector's queue. */
const APPEND_EVENTS = prepared(
  statement(sql`
    WITH stored AS (${sql.raw(INSERT_EVENTS)})
    INSERT INTO ${pendingEvents} (${bare(pendingEvents.workspaceId)}, ${bare(pendingEvents.eventId)})
    SELECT $1, ${bare(e.eventId)} FROM stored RETURNING ${pendingEvents.eventId}`),
);

const STORED_HASHES = statement(sql`SELECT ${e.eventId}, ${e.contentHash} FROM ${e} WHERE ${e.workspaceId} = $1 AND ${e.eventId} = ANY($2::text[])`);

const eventColumns = (workspaceId: number, events: readonly NormalizedEvent[]) => [
  workspaceId,
  events.map((e) => e.id),
  events.map((e) => e.type),
  events.map((e) => e.actor),
  events.map((e) => e.target),
  events.map((e) => e.post),
  events.map((e) => e.occurredAt),
  events.map((e) => e.hasLink),
  events.map((e) => e.isQuestion),
  events.map((e) => e.fingerprint),
  events.map((e) => e.contentHash),
];

/**
 * Inserts the events whose (workspace, id) is not stored yet; the ids it inserted. The raw table
 * alone, without the projector's queue: the benchmark times this as ingest's ceiling.
 */
export async function insertEvents(tx: Queryable, workspaceId: number, events: readonly NormalizedEvent[]): Promise<Set<string>> {
  const rows = await tx.query<{ event_id: string }>(prepared(INSERT_EVENTS), eventColumns(workspaceId, events));
  return new Set(rows.map((r) => r.event_id));
}

/**
 * Appends valid events to the log in one transaction, each new one queued for the projector:
 * this is all an acknowledgement waits for. Returns one outcome per event, in input order.
 */
export async function appendEvents(tx: Queryable, workspaceId: number, batch: NormalizedEvent[]): Promise<StoreOutcome[]> {
  const outcomes = new Array<StoreOutcome>(batch.length);
  // Within one batch the first event with an id stands, as it would across batches.
  const first = new Map<string, NormalizedEvent>();
  batch.forEach((e, i) => {
    const seen = first.get(e.id);
    if (!seen) first.set(e.id, e);
    else outcomes[i] = seen.contentHash.equals(e.contentHash) ? 'duplicate' : 'id_conflict';
  });
  const unique = [...first.values()].sort(byId);
  const insertedIds = new Set((await tx.query<{ event_id: string }>(APPEND_EVENTS, eventColumns(workspaceId, unique))).map((r) => r.event_id));
  const existing = unique.filter((e) => !insertedIds.has(e.id));
  const storedHash = new Map<string, Buffer>();
  if (existing.length > 0) {
    const rows = await tx.query<{ event_id: string; content_hash: Uint8Array }>(STORED_HASHES, [workspaceId, existing.map((e) => e.id)]);
    for (const r of rows) storedHash.set(r.event_id, Buffer.from(r.content_hash));
  }
  batch.forEach((e, i) => {
    if (outcomes[i]) return;
    if (insertedIds.has(e.id)) outcomes[i] = 'accepted';
    else outcomes[i] = storedHash.get(e.id)?.equals(e.contentHash) ? 'duplicate' : 'id_conflict';
  });
  return outcomes;
}
