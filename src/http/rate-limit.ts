import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { Problem } from '../errors.js';

const MINUTE = 60_000;

const retryIn = (ttlSeconds: number) => ({ retryAfterSeconds: Math.max(1, ttlSeconds) });

/** Whether an error is a refused credential (401) or scope (403). */
const isAuthFailure = (err: unknown) => err instanceof Problem && (err.status === 401 || err.status === 403);

/**
 * Request limits, all from @fastify/rate-limit's in-memory store, so each process counts on its
 * own (behind a load balancer, a budget is per process):
 * - per API key, RATE_LIMIT_PER_MINUTE requests (0: off). Its hooks run after authentication
 *   (route hooks follow the app's), so they count per key; unauthenticated routes count per address.
 * - unknown routes, per client address, within the same budget, answered before any body is read.
 * - failed authentications, AUTH_FAILURES_PER_MINUTE per client address: past it, credentials
 *   from that address are not even looked up until the minute is over.
 */
export async function registerRateLimit(app: FastifyInstance, config: Config) {
  const perMinute = config.RATE_LIMIT_PER_MINUTE;
  await app.register(rateLimit, {
    global: perMinute > 0,
    max: Math.max(1, perMinute),
    timeWindow: MINUTE,
    enableDraftSpec: true,
    keyGenerator: (request) => (request.keyId ? `key:${request.keyId}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) =>
      new Problem('rate_limited', `at most ${context.max} requests a minute per key; retry in ${context.after}`, retryIn(Math.ceil(context.ttl / 1000))),
  });
  const unknownRoutes = perMinute > 0 ? app.createRateLimit({ max: perMinute, timeWindow: MINUTE, keyGenerator: (r) => `unknown:${r.ip}` }) : null;
  const failures = app.createRateLimit({
    max: config.AUTH_FAILURES_PER_MINUTE,
    timeWindow: MINUTE,
    keyGenerator: (r) => `auth-failures:${r.ip}`,
  });
  return {
    /** Counts a request for an unknown route against its address; 429 past the budget. */
    async anonymous(request: FastifyRequest) {
      const r = unknownRoutes ? await unknownRoutes(request) : null;
      if (r && !r.isAllowed && r.isExceeded) {
        throw new Problem('rate_limited', `at most ${r.max} requests a minute per client address`, retryIn(r.ttlInSeconds));
      }
    },
    /** Runs an authentication, refused at once for an address past its failures, and counts it if it fails. */
    async authenticating(request: FastifyRequest, authenticate: () => Promise<void>) {
      const seen = await failures(request, { increment: false });
      if (!seen.isAllowed && seen.remaining === 0) {
        throw new Problem(
          'rate_limited',
          `too many failed authentications from this address (at most ${seen.max} a minute); retry in ${seen.ttlInSeconds} s`,
          retryIn(seen.ttlInSeconds),
        );
      }
      try {
        await authenticate();
      } catch (err) {
        if (isAuthFailure(err)) await failures(request);
        throw err;
      }
    },
  };
}
