import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { Problem } from '../errors.js';

/**
 * Per-key request limits. The limiter runs after authentication (route hooks follow the app's),
 * so it counts per API key; unauthenticated routes (health, docs, admin) count per client address.
 * Each process counts on its own: behind a load balancer, a key's budget is per process.
 */
export async function registerRateLimit(app: FastifyInstance, perMinute: number) {
  await app.register(rateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    enableDraftSpec: true,
    keyGenerator: (request) => (request.keyId ? `key:${request.keyId}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) =>
      new Problem('rate_limited', `at most ${context.max} requests a minute per key; retry in ${context.after}`, {
        retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  });
}
