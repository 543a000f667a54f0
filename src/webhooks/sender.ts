import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Agent, fetch } from 'undici';
import type { Database } from '../db/client.js';
import { dueHeads, dueSubscriptions, recordAttempt, releaseLease, takeLease, type LeasedWebhook } from '../db/webhooks.js';
import { signatureHeader, type SecretBox } from './secrets.js';
import { guardedLookup, literalRefused } from './targets.js';

export interface SenderOptions {
  /** Subscriptions delivered to at once by this process: one request in flight each, so requests in flight at most. */
  concurrency: number;
  /** Each request's deadline, connection to last byte of the answer's headers. */
  timeoutMs: number;
  pollMs: number;
  /** The first retry's delay; each further one doubles, up to backoffMaxMs, with jitter. */
  backoffMs: number;
  backoffMaxMs: number;
  /** A delivery not answered with a 2xx this long after its state change (or redelivery) is marked failed. */
  retrySeconds: number;
  allowPrivate: boolean;
  log?: FastifyBaseLogger | undefined;
}

/** What a lease adds to a delivery's timeout. */
const LEASE_MARGIN_MS = 5_000;
/** Deliveries taken per look at one subscription's queue. */
const HEADS_PER_LOOK = 20;

/** Equal jitter: half the exponential delay, plus up to as much again at random, so retries of many deliveries spread out. */
export function backoff(attempt: number, baseMs: number, maxMs: number, random = Math.random()): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 40));
  return delay / 2 + (random * delay) / 2;
}

/**
 * Sends queued webhook deliveries, apart from the request path and the projector: a slow or dead
 * receiver holds one of `concurrency` sender slots of this process and nothing else. Per
 * subscription one sender across every process (a lease on the subscription row, renewed before
 * each request and expiring on its own when a process dies), which sends one request at a time:
 * per account, the oldest pending delivery first, so an account's deliveries arrive in order,
 * while another account's do not wait behind one that is backing off. At least once: a process
 * killed after the request but before recording it sends it again.
 */
export class Sender {
  private readonly owner = randomUUID();
  private readonly running = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly agent: Agent;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly secrets: SecretBox,
    private readonly opts: SenderOptions,
  ) {
    // Every connection's address is checked as it is made (DNS rebinding); redirects are never followed.
    this.agent = new Agent({
      connect: { lookup: guardedLookup(opts.allowPrivate), timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  }

  start() {
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
    void this.poll();
  }

  /** Stops taking work; requests in flight are abandoned and stay pending, to be sent again. */
  async stop() {
    clearInterval(this.timer);
    this.stopping.abort();
    await Promise.all([...this.running.values()]);
    await this.agent.close();
  }

  private async poll() {
    if (this.stopping.signal.aborted || this.running.size >= this.opts.concurrency) return;
    try {
      for (const { workspaceId, webhookId } of await dueSubscriptions(this.db, 1_000)) {
        if (this.running.size >= this.opts.concurrency) return;
        const key = `${workspaceId}:${webhookId}`;
        if (this.running.has(key)) continue;
        const run = this.run(workspaceId, webhookId).finally(() => this.running.delete(key));
        this.running.set(key, run);
      }
    } catch (err) {
      this.opts.log?.warn({ err }, 'the webhook sender could not look for work; it tries again');
    }
  }

  /**
   * Renewed before each delivery, so it need only outlast one request and the recording of its
   * answer; it is also how long a crashed sender keeps its subscriptions from the others.
   */
  private leaseMs() {
    return this.opts.timeoutMs + LEASE_MARGIN_MS;
  }

  /** Delivers the subscription's due deliveries while it holds the lease and there are any. */
  private async run(workspaceId: number, webhookId: string) {
    try {
      while (!this.stopping.signal.aborted) {
        const heads = await dueHeads(this.db, workspaceId, webhookId, HEADS_PER_LOOK);
        if (heads.length === 0) break;
        for (const head of heads) {
          const hook = await takeLease(this.db, workspaceId, webhookId, this.owner, this.leaseMs());
          if (!hook || this.stopping.signal.aborted) return;
          await this.deliver(workspaceId, webhookId, hook, head);
        }
      }
      await releaseLease(this.db, workspaceId, webhookId, this.owner);
    } catch (err) {
      this.opts.log?.warn({ err, workspaceId, webhookId }, 'webhook deliveries stopped on an error; they are tried again at the next look');
    }
  }

  private async deliver(workspaceId: number, webhookId: string, hook: LeasedWebhook, d: Awaited<ReturnType<typeof dueHeads>>[number]) {
    const body = JSON.stringify({ id: d.id, type: d.type, workspace: hook.workspace, account: d.account, occurred_at: d.occurredAt, data: d.data });
    const secrets = [await this.secrets.open(hook.secret, workspaceId, webhookId)];
    if (hook.previousSecret) secrets.push(await this.secrets.open(hook.previousSecret, workspaceId, webhookId));
    const started = Date.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const refused = literalRefused(hook.url, this.opts.allowPrivate);
      if (refused) throw new Error(refused);
      const res = await fetch(hook.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        dispatcher: this.agent,
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.opts.timeoutMs)]),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Rapport-Webhooks',
          'rapport-signature': signatureHeader(secrets, body, Math.floor(started / 1000)),
        },
      });
      statusCode = res.status;
      // The answer's body is of no use: it is not read, so a receiver cannot make the sender hold it.
      await res.body?.cancel();
    } catch (err) {
      if (this.stopping.signal.aborted) return;
      error = describe(err, this.opts.timeoutMs);
    }
    const now = Date.now();
    const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
    const retryAt = now + backoff(d.attempts + 1, this.opts.backoffMs, this.opts.backoffMaxMs);
    const giveUp = !ok && retryAt > Date.parse(d.retryFrom) + this.opts.retrySeconds * 1000;
    await recordAttempt(
      this.db,
      workspaceId,
      d.id,
      { at: new Date(started).toISOString(), durationMs: now - started, statusCode, error },
      ok ? { status: 'delivered' } : giveUp ? { status: 'failed' } : { status: 'pending', retryAt: new Date(retryAt).toISOString() },
    );
    if (giveUp) this.opts.log?.warn({ workspaceId, webhookId, delivery: d.id, attempts: d.attempts + 1 }, 'a webhook delivery failed for good');
  }
}

/** What the delivery log says of a request that got no answer; never a secret, since none is in any error. */
function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { message?: string; code?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = e.cause?.message ?? e.cause?.code;
  return (cause ? `${e.message ?? 'request failed'}: ${cause}` : (e.message ?? String(err))).slice(0, 500);
}
