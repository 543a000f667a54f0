import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginCallback, FastifyRequest } from 'fastify';
import metricsModule from 'fastify-metrics';
import client from 'prom-client';
import type { Database } from '../db/client.js';
import { Problem } from '../errors.js';
import type { IngestObserver } from '../ingest/batch.js';
import { totalBacklog } from '../db/projection.js';

// fastify-metrics is CommonJS: under NodeNext its plugin is the module's `default`.
const metricsPlugin = ((metricsModule as unknown as { default?: unknown }).default ?? metricsModule) as FastifyPluginCallback<Record<string, unknown>>;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The metrics token, compared in constant time; the same answer for a missing and a wrong one. */
function requireToken(token: string) {
  const expected = digest(`Bearer ${token}`);
  return async (request: FastifyRequest) => {
    if (!timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      throw new Problem('invalid_key', 'send Authorization: Bearer <METRICS_TOKEN>');
    }
  };
}

/**
 * Prometheus metrics at /metrics, only when METRICS_TOKEN is set and only for its bearer: they
 * show every tenant's activity. Request rate and latency by route and status (fastify-metrics),
 * events by type and outcome, rejections by reason, and the database pool. One registry per
 * process: building a second app in the same process (tests) starts it afresh.
 */
export async function registerMetrics(
  app: FastifyInstance,
  db: Database,
  token: string | undefined,
): Promise<{ observer: IngestObserver; projection: (events: number, seconds: number) => void }> {
  await app.register(metricsPlugin, {
    endpoint: token
      ? {
          url: '/metrics',
          method: 'GET',
          schema: { hide: true },
          config: { rateLimit: false },
          onRequest: requireToken(token),
          handler: () => undefined,
        }
      : null,
    clearRegisterOnInit: true,
    routeMetrics: { enabled: true, registeredRoutesOnly: true, groupStatusCodes: false },
  });
  const events = new client.Counter({
    name: 'rapport_events_total',
    help: 'Events by type and outcome: accepted (stored now) or duplicate (stored before).',
    labelNames: ['type', 'outcome'] as const,
  });
  const rejected = new client.Counter({
    name: 'rapport_events_rejected_total',
    help: 'Events not stored, by reason (the code in the batch answer).',
    labelNames: ['reason'] as const,
  });
  new client.Gauge({
    name: 'rapport_db_pool_connections',
    help: 'Database connections by state: total (open), idle, waiting (requests queued for a connection), max.',
    labelNames: ['state'] as const,
    collect() {
      const s = db.poolStats();
      this.set({ state: 'total' }, s.total);
      this.set({ state: 'idle' }, s.idle);
      this.set({ state: 'waiting' }, s.waiting);
      this.set({ state: 'max' }, s.max);
    },
  });
  const projected = new client.Counter({
    name: 'rapport_projected_events_total',
    help: 'Events this process folded into the derived state.',
  });
  const batches = new client.Histogram({
    name: 'rapport_projection_batch_seconds',
    help: 'Time to fold one batch of events into the derived state, by this process.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  // The lag is the database's, whichever process projects: read when scraped.
  new client.Gauge({
    name: 'rapport_projection_lag_events',
    help: 'Events acknowledged but not yet folded into the derived state, all workspaces.',
    async collect() {
      this.set((await totalBacklog(db)).pending);
    },
  });
  new client.Gauge({
    name: 'rapport_projection_lag_seconds',
    help: 'Age of the oldest event acknowledged but not yet folded into the derived state (0 when none).',
    async collect() {
      this.set((await totalBacklog(db)).oldestSeconds);
    },
  });
  return {
    observer: {
      stored: (type, outcome) => events.inc({ type, outcome }),
      rejected: (reason) => rejected.inc({ reason }),
    },
    projection(n, seconds) {
      projected.inc(n);
      batches.observe(seconds);
    },
  };
}
