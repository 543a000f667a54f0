import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/client.js';
import { foldBatch } from './fold.js';
import { subscriptionsOf } from '../db/webhooks.js';
import { emitWebhookEvents } from '../webhooks/emit.js';
import { finishPending, queueEnds, recordProjected, relaxDurability, takePending, vacuumQueue, workspacesWithPending } from '../db/projection.js';

export interface ProjectorOptions {
  /** Events folded in one transaction at most. */
  batchEvents: number;
  /** How often the queue is looked at for work this process was not told of (other processes' ingest). */
  pollMs: number;
  /** Workspaces projected at once by this process. */
  concurrency: number;
  log?: FastifyBaseLogger | undefined;
  /** Told of every batch folded in, for metrics. */
  onBatch?(events: number, seconds: number): void;
}

/** Events folded by this process after which an emptied queue is vacuumed. */
export const QUEUE_VACUUM_EVENTS = 50_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How often a workspace's waiting reads look at its queue when no batch folded here wakes them. */
const WATCH_MS = 25;

/** A read waiting for every event of its workspace up to `seq` to be folded in. */
interface Waiter {
  seq: number;
  done(ok: boolean): void;
  timer: NodeJS.Timeout;
}

/** Whether the queue, whose oldest entry is `oldest` (null: empty), holds nothing up to `seq`. */
const isPast = (oldest: number | null, seq: number) => oldest === null || oldest > seq;

/**
 * Folds the events the log has acknowledged into the derived tables, in large batches, one
 * projector per workspace at a time across every process (an advisory lock per workspace, tried
 * and never waited for: a busy workspace is someone else's). Each batch updates the derived
 * state and leaves the queue in one transaction, so a crash at any point folds it again from the
 * start, and nothing is counted twice. The webhook events a batch causes are queued in its
 * transaction too (an outbox), so they are neither lost nor sent for a fold that rolled back. Ingest tells the projector of its workspace at once; other
 * processes' ingest is found by polling.
 */
export class Projector {
  private readonly wanted = new Set<number>();
  private readonly running = new Map<number, Promise<void>>();
  private readonly wakers = new Map<number, Set<() => void>>();
  private readonly waiters = new Map<number, Set<Waiter>>();
  private readonly watching = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private foldedSinceVacuum = 0;

  constructor(
    private readonly db: Database,
    private readonly opts: ProjectorOptions,
  ) {}

  /** Starts polling for work; ingest in this process calls notify() instead of waiting for a poll. */
  start() {
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
    void this.poll();
  }

  /** Stops taking work and waits for the batches under way. Their events stay queued if they fail. */
  async stop() {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all([...this.running.values()]);
  }

  /** Events of the workspace were just acknowledged: project them soon. */
  notify(workspaceId: number) {
    if (this.stopped) return;
    this.wanted.add(workspaceId);
    this.pump();
  }

  /**
   * Folds one batch of the workspace's queue; the number of events, or 'busy' when another
   * projector holds the workspace.
   */
  async projectBatch(workspaceId: number): Promise<number | 'busy'> {
    const started = performance.now();
    const n = await this.db.transaction(async (tx) => {
      const batch = await takePending(tx, workspaceId, this.opts.batchEvents);
      if (batch === null) return 'busy' as const;
      if (batch.seqs.length > 0) {
        const subscriptions = await subscriptionsOf(tx, workspaceId);
        const changes = await foldBatch(tx, workspaceId, batch.seqs, batch.events, subscriptions.length > 0);
        if (subscriptions.length > 0) await emitWebhookEvents(tx, workspaceId, subscriptions, changes);
        // A fold lost in a crash is lost whole, queue entries included, and folded again from the
        // queue: it need not wait for its commit to reach the disk. Unless it queued deliveries: a
        // sender may send them once they are visible, and the fold done again would queue them anew.
        else await relaxDurability(tx);
        await finishPending(tx, workspaceId, batch.seqs);
        await recordProjected(tx, workspaceId, batch.seqs.length);
      }
      return batch.seqs.length;
    });
    if (typeof n === 'number' && n > 0) {
      this.opts.onBatch?.(n, (performance.now() - started) / 1000);
      this.wake(workspaceId);
    }
    return n;
  }

  /** Projects everything queued for the workspace now, here (the command line's reads and imports). */
  async drain(workspaceId: number): Promise<void> {
    for (;;) {
      const n = await this.projectBatch(workspaceId);
      if (n === 0) return;
      if (n === 'busy') await sleep(20);
    }
  }

  /**
   * Resolves true once no event of the workspace up to `seq` is queued, false at `deadline`
   * (epoch ms). Asks this process's projector to work on it. However many reads wait, one watcher
   * per workspace looks at the queue for all of them (a batch folded here wakes it at once, one
   * folded by another process is seen at its next look): waiting reads must not take the
   * connections that ingest and the projector need.
   */
  async waitFor(workspaceId: number, seq: number, deadline: number): Promise<boolean> {
    if (isPast((await queueEnds(this.db, workspaceId)).oldest, seq)) return true;
    return new Promise<boolean>((resolve) => {
      const waiters = this.waiters.get(workspaceId) ?? new Set<Waiter>();
      this.waiters.set(workspaceId, waiters);
      const waiter: Waiter = {
        seq,
        done: (ok) => {
          clearTimeout(waiter.timer);
          waiters.delete(waiter);
          resolve(ok);
        },
        timer: setTimeout(() => waiter.done(false), Math.max(0, deadline - Date.now())),
      };
      waiters.add(waiter);
      this.notify(workspaceId);
      void this.watch(workspaceId);
    });
  }

  /** Looks at the workspace's queue for its waiting reads until none is left. */
  private async watch(workspaceId: number) {
    if (this.watching.has(workspaceId)) return;
    this.watching.add(workspaceId);
    try {
      const waiters = this.waiters.get(workspaceId)!;
      while (waiters.size > 0) {
        try {
          const { oldest } = await queueEnds(this.db, workspaceId);
          for (const w of [...waiters]) if (isPast(oldest, w.seq)) w.done(true);
        } catch (err) {
          // The waits end at their deadlines if the queue stays out of reach.
          this.opts.log?.warn({ err, workspaceId }, 'could not look at the projection queue for waiting reads; looking again');
        }
        if (waiters.size === 0) break;
        await new Promise<void>((resolve) => {
          const wakers = this.wakers.get(workspaceId) ?? new Set();
          this.wakers.set(workspaceId, wakers);
          const done = () => {
            clearTimeout(timer);
            wakers.delete(done);
            resolve();
          };
          const timer = setTimeout(done, WATCH_MS);
          wakers.add(done);
        });
      }
    } finally {
      this.watching.delete(workspaceId);
    }
  }

  private wake(workspaceId: number) {
    for (const w of [...(this.wakers.get(workspaceId) ?? [])]) w();
  }

  private async poll() {
    if (this.stopped || this.running.size >= this.opts.concurrency) return;
    try {
      for (const workspaceId of await workspacesWithPending(this.db)) this.wanted.add(workspaceId);
      this.pump();
    } catch (err) {
      this.opts.log?.warn({ err }, 'the projector could not look for work; it tries again');
    }
  }

  private pump() {
    for (const workspaceId of this.wanted) {
      if (this.running.size >= this.opts.concurrency) return;
      if (this.running.has(workspaceId)) continue;
      this.wanted.delete(workspaceId);
      const run = this.run(workspaceId).finally(() => {
        this.running.delete(workspaceId);
        this.pump();
      });
      this.running.set(workspaceId, run);
    }
  }

  /** Folds batches of the workspace until its queue is empty or someone else holds it. */
  private async run(workspaceId: number) {
    while (!this.stopped) {
      try {
        const n = await this.projectBatch(workspaceId);
        if (n === 'busy') return;
        if (n === 0) return await this.reclaimQueue();
        this.foldedSinceVacuum += n;
      } catch (err) {
        // The batch rolled back and stays queued; the next poll (or ingest) tries again.
        this.opts.log?.warn({ err, workspaceId }, 'a projection batch failed; its events stay queued');
        return;
      }
    }
  }

  /**
   * Every read looks at its workspace's queue, and a queue that held many events is an index full
   * of deleted entries until it is vacuumed (autovacuum may be off, or minutes away): once this
   * process has emptied a queue of at least QUEUE_VACUUM_EVENTS, it vacuums the table itself.
   */
  private async reclaimQueue() {
    if (this.foldedSinceVacuum < QUEUE_VACUUM_EVENTS) return;
    this.foldedSinceVacuum = 0;
    await vacuumQueue(this.db).catch((err: unknown) => this.opts.log?.warn({ err }, 'the projector could not vacuum its queue; autovacuum will'));
  }
}
