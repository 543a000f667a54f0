import type { FastifyReply, FastifyRequest } from 'fastify';
import { Problem } from '../errors.js';

/** Requests whose cost grows with what they read or stream, limited per key while they run. */
export type HeavyKind = 'stream' | 'heavy_read';

const WHAT: Record<HeavyKind, string> = {
  stream: 'NDJSON streams',
  heavy_read: 'windowed or batch reads',
};

/**
 * Counts of heavy requests under way in this process, per key and in all. One key cannot take the
 * process's memory or its database connections from every other tenant: past its limit, a request
 * is answered 429 at once instead of queuing. Past the process's own limit (for heavy reads, what
 * the database's cores can run at once), whoever asks gets 503 `overloaded`: cheap reads go on.
 */
export class InFlight {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly perKey: Record<HeavyKind, number>,
    private readonly total: Partial<Record<HeavyKind, number>> = {},
  ) {}

  /** Takes a slot for the request's key until its answer is sent or its connection drops. */
  hold(request: FastifyRequest, reply: FastifyReply, kind: HeavyKind) {
    const slot = `${kind}:${request.keyId}`;
    if ((this.counts.get(slot) ?? 0) >= this.perKey[kind]) {
      throw new Problem('too_many_in_flight', `a key may run at most ${this.perKey[kind]} ${WHAT[kind]} at once; retry when one has finished`, {
        retryAfterSeconds: 1,
      });
    }
    const cap = this.total[kind];
    if (cap !== undefined && (this.counts.get(kind) ?? 0) >= cap) {
      throw new Problem('overloaded', `the service is running as many ${WHAT[kind]} as it can (${cap}); retry shortly`, { retryAfterSeconds: 1 });
    }
    for (const counter of [slot, kind]) this.counts.set(counter, (this.counts.get(counter) ?? 0) + 1);
    reply.raw.once('close', () => {
      for (const counter of [slot, kind]) {
        const left = this.counts.get(counter)! - 1;
        if (left === 0) this.counts.delete(counter);
        else this.counts.set(counter, left);
      }
    });
  }
}
