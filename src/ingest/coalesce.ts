import type { Database } from '../db/client.js';
import { appendEvents, type StoreOutcome } from '../db/events.js';
import type { NormalizedEvent } from '../domain/events.js';
import type { AppendListener } from './batch.js';

/**
 * Transactions of one workspace's single events in flight at once on PostgreSQL; the events that
 * come meanwhile wait and are stored together as soon as it ends. One, measured against two and
 * four (50 connections, pool of 10): each transaction then carries all that waited, so the
 * per-statement cost is shared by the most events and the throughput is highest; two transactions
 * of a workspace would contend for the same derived rows anyway; it leaves the rest of the pool to
 * other workspaces, key lookups and reads; and the batches of a workspace are stored in arrival
 * order, so of two requests with the same id the first to arrive stands, in a batch or across.
 */
export const GROUP_COMMIT_IN_FLIGHT = 1;
/** Events per transaction at most; more waiting start another transaction when a slot frees. */
export const GROUP_COMMIT_MAX_EVENTS = 1_000;

/** Stores one workspace's events in one transaction; one outcome per event, in input order. */
export type StoreBatch = (workspaceId: number, events: NormalizedEvent[]) => Promise<StoreOutcome[]>;

export interface GroupCommitOptions {
  /** Transactions of one workspace in flight at once (GROUP_COMMIT_IN_FLIGHT; always 1 on PGlite, which is one connection). */
  inFlight?: number;
  /** Events per transaction at most (GROUP_COMMIT_MAX_EVENTS). */
  maxEvents?: number;
  /** How a batch is stored: appendEvents in one transaction unless a test substitutes a double. */
  store?: StoreBatch;
  /** Told of each workspace whose events were appended. */
  projector?: AppendListener | undefined;
}

interface Waiter {
  event: NormalizedEvent;
  resolve(outcome: StoreOutcome): void;
  reject(err: unknown): void;
}

interface Lane {
  queue: Waiter[];
  inFlight: number;
}

/**
 * Group commit for single events. Each workspace has a queue: while fewer than `inFlight` of its
 * transactions run, an event is stored at once (no timer, no added latency at low load); otherwise
 * it waits, and as soon as one of them ends every waiting event (up to `maxEvents`) is stored in
 * one transaction. Events of a batch are in arrival order, so when two share an id the one that
 * arrived first stands, as it would had they been sent one after the other.
 *
 * Each caller gets its own event's outcome; when the transaction fails (it is retried on deadlock
 * inside db.transaction), every caller of that batch gets its error. A caller that goes away does
 * not matter: batches are driven by the transactions ending, never by the callers.
 */
export class GroupCommit {
  readonly inFlight: number;
  readonly maxEvents: number;
  private readonly store: StoreBatch;
  private readonly lanes = new Map<number, Lane>();
  private readonly running = new Set<Promise<void>>();
  private closing = false;

  constructor(db: Database, opts: GroupCommitOptions = {}) {
    this.inFlight = db.kind === 'pglite' ? 1 : Math.max(1, opts.inFlight ?? GROUP_COMMIT_IN_FLIGHT);
    this.maxEvents = Math.max(1, opts.maxEvents ?? GROUP_COMMIT_MAX_EVENTS);
    const append: StoreBatch = (workspaceId, events) => db.transaction((tx) => appendEvents(tx, workspaceId, events));
    const store = opts.store ?? append;
    this.store = opts.projector
      ? async (workspaceId, events) => {
          const outcomes = await store(workspaceId, events);
          if (outcomes.includes('accepted')) opts.projector!.notify(workspaceId);
          return outcomes;
        }
      : store;
  }

  /** Stores one validated event with whatever else of its workspace is waiting; its outcome. */
  submit(workspaceId: number, event: NormalizedEvent): Promise<StoreOutcome> {
    return new Promise<StoreOutcome>((resolve, reject) => {
      let lane = this.lanes.get(workspaceId);
      if (!lane) {
        lane = { queue: [], inFlight: 0 };
        this.lanes.set(workspaceId, lane);
      }
      lane.queue.push({ event, resolve, reject });
      this.pump(workspaceId, lane);
    });
  }

  /** Transactions running now, of all workspaces. */
  get pending(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.inFlight;
    return n;
  }

  /**
   * Shutdown: from now on nothing waits for a free slot, so every submitted event has its
   * transaction started (holding or awaiting a pool connection) before the pool is closed, as a
   * single event always had before group commit.
   */
  close() {
    this.closing = true;
    for (const [workspaceId, lane] of this.lanes) this.pump(workspaceId, lane);
  }

  /** Resolves once nothing is queued or running: every submitted event has ended committed or failed. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private pump(workspaceId: number, lane: Lane) {
    while ((this.closing || lane.inFlight < this.inFlight) && lane.queue.length > 0) {
      const batch = lane.queue.splice(0, this.maxEvents);
      lane.inFlight++;
      const run = this.flush(workspaceId, lane, batch);
      this.running.add(run);
      void run.then(() => this.running.delete(run));
    }
  }

  /** Never rejects: the outcome or the error goes to each waiter. */
  private async flush(workspaceId: number, lane: Lane, batch: Waiter[]): Promise<void> {
    let outcomes: StoreOutcome[] | undefined;
    let failure: unknown;
    try {
      outcomes = await this.store(
        workspaceId,
        batch.map((w) => w.event),
      );
      if (outcomes.length !== batch.length) throw new Error(`the store answered ${outcomes.length} outcomes for ${batch.length} events`);
    } catch (err) {
      outcomes = undefined;
      failure = err;
    }
    // The slot is free: the next batch starts before this one's callers are answered.
    lane.inFlight--;
    if (lane.queue.length > 0) this.pump(workspaceId, lane);
    else if (lane.inFlight === 0) this.lanes.delete(workspaceId);
    if (outcomes) batch.forEach((w, i) => w.resolve(outcomes[i]!));
    else for (const w of batch) w.reject(failure);
  }
}
