import type { NormalizedEvent } from '../domain/events.js';
import { prepared, type Queryable } from './client.js';
import { applyDerivedState } from './derived.js';

export type StoreOutcome = 'accepted' | 'duplicate' | 'id_conflict';

const byId = (a: NormalizedEvent, b: NormalizedEvent) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Inserts the events whose (workspace, id) is not stored yet; the ids it inserted. Only the raw
 * table: storeEvents adds the derived state (the benchmark times this alone, as ingest's ceiling).
 */
export async function insertEvents(tx: Queryable, workspaceId: number, events: readonly NormalizedEvent[]): Promise<Set<string>> {
  const rows = await tx.query<{ event_id: string }>(
    prepared(`INSERT INTO events (workspace_id, event_id, type, actor, target, post, occurred_at,
                         has_link, is_question, fingerprint, content_hash)
     SELECT $1, u.* FROM unnest($2::text[], $3::text[]::event_type[], $4::text[], $5::text[], $6::text[],
                                $7::timestamptz[], $8::bool[], $9::bool[], $10::bytea[], $11::bytea[]) AS u
     ON CONFLICT (workspace_id, event_id) DO NOTHING
     RETURNING event_id`),
    [
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
    ],
  );
  return new Set(rows.map((r) => r.event_id));
}

/**
 * Stores valid events in one transaction and brings the derived state up to date with the ones
 * that are new. Returns one outcome per event, in input order. Rows are written in a fixed order
 * (by id, then by pair) so that concurrent batches queue on each other instead of deadlocking.
 */
export async function storeEvents(tx: Queryable, workspaceId: number, batch: NormalizedEvent[]): Promise<StoreOutcome[]> {
  const outcomes: StoreOutcome[] = new Array(batch.length);
  // Within one batch the first event with an id stands, as it would across batches.
  const first = new Map<string, NormalizedEvent>();
  batch.forEach((e, i) => {
    const seen = first.get(e.id);
    if (!seen) first.set(e.id, e);
    else outcomes[i] = seen.contentHash.equals(e.contentHash) ? 'duplicate' : 'id_conflict';
  });
  const unique = [...first.values()].sort(byId);
  const insertedIds = await insertEvents(tx, workspaceId, unique);
  const existing = unique.filter((e) => !insertedIds.has(e.id));
  const storedHash = new Map<string, Buffer>();
  if (existing.length > 0) {
    const rows = await tx.query<{ event_id: string; content_hash: Uint8Array }>(
      'SELECT event_id, content_hash FROM events WHERE workspace_id = $1 AND event_id = ANY($2::text[])',
      [workspaceId, existing.map((e) => e.id)],
    );
    for (const r of rows) storedHash.set(r.event_id, Buffer.from(r.content_hash));
  }
  batch.forEach((e, i) => {
    if (outcomes[i]) return;
    if (insertedIds.has(e.id)) outcomes[i] = 'accepted';
    else outcomes[i] = storedHash.get(e.id)?.equals(e.contentHash) ? 'duplicate' : 'id_conflict';
  });
  await applyDerivedState(
    tx,
    workspaceId,
    unique.filter((e) => insertedIds.has(e.id)),
  );
  return outcomes;
}
