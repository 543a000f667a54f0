import type { FastifyReply, FastifyRequest } from 'fastify';
import { Problem } from '../errors.js';

/** Requests whose cost grows with what they read or stream, limited per key while they run. */
export type HeavyKind = 'stream' | 'heavy_read';

const WHAT: Record<HeavyKind, string> = {
  stream: 'NDJSON streams',
  heavy_read: 'windowed or batch reads',
};

/**
 * Per-key counts of heavy requests under way in this process. One key cannot take the process's
 * memory or its database connections from every other tenant: past its limit, a request is
 * answered 429 at once instead of queuing.
 */
export class InFlight {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limits: Record<HeavyKind, number>) {}

  /** Takes a slot for the request's key until its answer is sent or its connection drops. */
  hold(request: FastifyRequest, reply: FastifyReply, kind: HeavyKind) {
    const slot = `${kind}:${request.keyId}`;
    const n = this.counts.get(slot) ?? 0;
    if (n >= this.limits[kind]) {
      throw new Problem('too_many_in_flight', `a key may run at most ${this.limits[kind]} ${WHAT[kind]} at once; retry when one has finished`, {
        retryAfterSeconds: 1,
      });
    }
    this.counts.set(slot, n + 1);
    reply.raw.once('close', () => {
      const left = this.counts.get(slot)! - 1;
      if (left === 0) this.counts.delete(slot);
      else this.counts.set(slot, left);
    });
  }
}
