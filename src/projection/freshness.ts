import type { Queryable } from '../db/client.js';
import { backlog, pendingCount, queueEnds } from '../db/projection.js';
import { Problem } from '../errors.js';
import type { Projector } from './projector.js';

/** `strong` (the default): a read reflects every event acknowledged before it began. `eventual`: at once, as things are. */
export const CONSISTENCY = ['strong', 'eventual'] as const;
export type Consistency = (typeof CONSISTENCY)[number];

/** What a read answer reflects: `complete` when no acknowledged event of the workspace is missing from it. */
export interface AsOf {
  complete: boolean;
  pending_events: number;
}

export interface Freshness {
  db: Queryable;
  projector: Projector;
  /** How long a strong read waits for the projector (READ_WAIT_MS). */
  waitMs: number;
}

/**
 * Runs a read of the workspace's derived state at the consistency asked for, and says what it
 * reflects. The queue is looked at before the read, so an `as_of` that says complete is never
 * wrong: every event acknowledged before it was folded in before the read's own queries ran. An
 * empty queue, the usual case, costs two index probes; only a queue that holds events is counted.
 */
export async function readAt<T>(f: Freshness, workspaceId: number, consistency: Consistency, read: () => Promise<T>): Promise<T & { as_of: AsOf }> {
  const ends = await queueEnds(f.db, workspaceId);
  let pending = 0;
  if (ends.last !== null) {
    if (consistency === 'strong' && !(await f.projector.waitFor(workspaceId, ends.last, Date.now() + f.waitMs))) {
      const lag = await backlog(f.db, workspaceId);
      throw new Problem(
        'projection_lagging',
        `${lag.pending} acknowledged events are not yet folded into the scores (the oldest ${lag.oldestSeconds.toFixed(1)} s ago); retry, or read with consistency=eventual`,
        { retryAfterSeconds: Math.max(1, Math.min(60, Math.ceil(lag.oldestSeconds))), lag: { pending_events: lag.pending, oldest_pending_seconds: lag.oldestSeconds } },
      );
    }
    pending = await pendingCount(f.db, workspaceId);
  }
  const result = await read();
  return { ...result, as_of: { complete: pending === 0, pending_events: pending } };
}
