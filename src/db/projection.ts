import type { NormalizedEvent } from '../domain/events.js';
import { RECOUNTED_TYPES } from '../projection/deltas.js';
import { EVENT_OF_QUEUED } from './derived.js';
import { iso, type Queryable } from './client.js';

/** The class of the advisory locks that make one projector per workspace, across every process. */
const PROJECTION_LOCK_CLASS = 0x52505231; // "RPR1"

/** Waits for the workspace's projection lock, held to the end of the transaction (erasure takes it). */
export async function lockProjection(tx: Queryable, workspaceId: number): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', [PROJECTION_LOCK_CLASS, workspaceId]);
}

interface StoredEventRow {
  event_id: string;
  type: NormalizedEvent['type'];
  actor: string;
  target: string | null;
  post: string | null;
  occurred_at: string;
  micros: string;
  has_link: boolean;
  is_question: boolean;
  fingerprint: Uint8Array | null;
}

export interface PendingBatch {
  events: NormalizedEvent[];
  seqs: number[];
}

/**
 * The next events of the workspace's queue, in arrival order, for a fold in the caller's
 * transaction: all their queue numbers, and those of the events the recounts read in memory (see
 * RECOUNTED_TYPES); they stay queued until finishPending() in the same transaction (so recounts
 * see them as not yet projected). Null when another projector holds the workspace (the lock is
 * tried, never waited for).
 */
export async function takePending(tx: Queryable, workspaceId: number, max: number): Promise<PendingBatch | null> {
  const [lock] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1::int, $2::int) AS ok', [PROJECTION_LOCK_CLASS, workspaceId]);
  if (!lock?.ok) return null;
  const seqs = (await tx.query<{ seq: number }>(TAKE_SEQS, [workspaceId, max])).map((r) => Number(r.seq));
  if (seqs.length === 0) return { seqs, events: [] };
  const rows = await tx.query<StoredEventRow>(TAKE_RECOUNTED, [workspaceId, seqs]);
  return {
    seqs,
    events: rows.map((r) => ({
      id: r.event_id,
      type: r.type,
      actor: r.actor,
      target: r.target,
      post: r.post,
      occurredAt: r.occurred_at,
      occurredAtMicros: BigInt(r.micros),
      hasLink: r.has_link,
      isQuestion: r.is_question,
      fingerprint: r.fingerprint ? Buffer.from(r.fingerprint) : null,
      // Projection never compares contents: only ingest does, against what is stored.
      contentHash: Buffer.alloc(0),
    })),
  };
}

const TAKE_SEQS = 'SELECT seq FROM pending_events WHERE workspace_id = $1 ORDER BY seq LIMIT $2';

const TAKE_RECOUNTED = `
  SELECT e.event_id, e.type::text AS type, e.actor, e.target, e.post, ${iso('e.occurred_at')} AS occurred_at,
         (extract(epoch FROM e.occurred_at) * 1000000)::int8::text AS micros, e.has_link, e.is_question, e.fingerprint
    FROM pending_events p ${EVENT_OF_QUEUED}
   WHERE p.workspace_id = $1 AND p.seq = ANY($2::int8[])
     AND (e.type IN (${RECOUNTED_TYPES.map((t) => `'${t}'`).join(', ')}) OR e.target IS NULL OR e.target = e.actor)
   ORDER BY p.seq`;

/** The rest of the transaction commits without waiting for the disk (it stays atomic). */
export async function relaxDurability(tx: Queryable): Promise<void> {
  await tx.query('SET LOCAL synchronous_commit = off');
}

/** Takes a folded batch off the queue, in the transaction that folded it. */
export async function finishPending(tx: Queryable, workspaceId: number, seqs: readonly number[]): Promise<void> {
  await tx.query('DELETE FROM pending_events WHERE workspace_id = $1 AND seq = ANY($2::int8[])', [workspaceId, seqs]);
}

/** Counts the events a projection folded in, in its transaction. */
export async function recordProjected(tx: Queryable, workspaceId: number, events: number): Promise<void> {
  await tx.query(
    `INSERT INTO projections AS p (workspace_id, projected_events) VALUES ($1, $2)
     ON CONFLICT (workspace_id) DO UPDATE SET projected_events = p.projected_events + EXCLUDED.projected_events`,
    [workspaceId, events],
  );
}

export interface Backlog {
  /** Events stored and acknowledged but not yet projected. */
  pending: number;
  /** The newest of them (its seq), null when there are none. */
  last: number | null;
  /** Age of the oldest of them, in seconds; 0 when there are none. */
  oldestSeconds: number;
}

/** What the workspace's projector still has to do. */
export async function backlog(db: Queryable, workspaceId: number): Promise<Backlog> {
  const [row] = await db.query<{ pending: number; last: number | null; oldest: number | null }>(
    `SELECT count(*)::int8 AS pending, max(seq) AS last,
            extract(epoch FROM now() - min(acknowledged_at))::float8 AS oldest
       FROM pending_events WHERE workspace_id = $1`,
    [workspaceId],
  );
  return { pending: Number(row!.pending), last: row!.last === null ? null : Number(row!.last), oldestSeconds: Math.max(0, Number(row!.oldest ?? 0)) };
}

/** The queue numbers of the workspace's oldest and newest events waiting for the projector (null when none is): two index probes. */
export async function queueEnds(db: Queryable, workspaceId: number): Promise<{ oldest: number | null; last: number | null }> {
  const [row] = await db.query<{ oldest: string | null; last: string | null }>('SELECT min(seq) AS oldest, max(seq) AS last FROM pending_events WHERE workspace_id = $1', [
    workspaceId,
  ]);
  return { oldest: row?.oldest == null ? null : Number(row.oldest), last: row?.last == null ? null : Number(row.last) };
}

/** How many of the workspace's events wait for the projector. */
export async function pendingCount(db: Queryable, workspaceId: number): Promise<number> {
  const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM pending_events WHERE workspace_id = $1', [workspaceId]);
  return Number(row!.n);
}

/** The workspaces with events waiting, oldest backlog first. */
export async function workspacesWithPending(db: Queryable): Promise<number[]> {
  const rows = await db.query<{ workspace_id: number }>('SELECT workspace_id FROM pending_events GROUP BY workspace_id ORDER BY min(seq) LIMIT 1000');
  return rows.map((r) => r.workspace_id);
}

/** Every workspace's backlog together, for the metrics. */
export async function totalBacklog(db: Queryable): Promise<{ pending: number; oldestSeconds: number }> {
  const [row] = await db.query<{ pending: number; oldest: number | null }>(
    'SELECT count(*)::int8 AS pending, extract(epoch FROM now() - min(acknowledged_at))::float8 AS oldest FROM pending_events',
  );
  return { pending: Number(row!.pending), oldestSeconds: Math.max(0, Number(row!.oldest ?? 0)) };
}

/** Events the projector has folded in for the workspace, all time. */
export async function projectedTotal(db: Queryable, workspaceId: number): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT projected_events AS n FROM projections WHERE workspace_id = $1', [workspaceId]);
  return Number(rows[0]?.n ?? 0);
}

/** Reclaims the queue's deleted rows and index entries (VACUUM runs outside any transaction). */
export async function vacuumQueue(db: Queryable): Promise<void> {
  await db.query('VACUUM pending_events');
}
