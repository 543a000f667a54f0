import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { Problem } from '../errors.js';
import { RETRY_AFTER_SECONDS } from './problems.js';

/**
 * process.memoryUsage() reads /proc and throws EMFILE when the process has no file descriptor left.
 * under-pressure calls it from a timer, where a throw would end the process (and, caught, would
 * stop the sampling for good): past the limit, the last reading stands in. The connection cap keeps
 * the process below the limit; this covers whatever else might reach it.
 */
function keepMemoryReadingsThroughResourceErrors() {
  const read = process.memoryUsage;
  if ((read as { resilient?: boolean }).resilient) return;
  let last = read();
  const resilient = Object.assign(
    () => {
      try {
        last = read();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EMFILE' && code !== 'ENFILE') throw err;
      }
      return last;
    },
    { rss: () => resilient().rss, resilient: true },
  );
  process.memoryUsage = resilient;
}

/** Routes that must answer even under load: probes and metrics say how loaded the process is. */
const NEVER_SHED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Security headers, CORS (off unless CORS_ORIGINS lists origins), and load shedding: when the
 * event loop lags or requests queue for database connections, new requests get 503 with
 * Retry-After at once instead of slowing down for everyone.
 */
export async function registerProtection(app: FastifyInstance, config: Config, db: Database) {
  await app.register(helmet);
  if (config.CORS_ORIGINS.length > 0) {
    await app.register(cors, { origin: config.CORS_ORIGINS, methods: ['GET', 'POST', 'DELETE'], maxAge: 600 });
  }
  // Embedded PGlite runs every query on the event loop, so there its lag measures database work,
  // not overload: event-loop shedding is for PostgreSQL deployments.
  if (config.LOAD_SHED_EVENT_LOOP_DELAY_MS > 0 && db.kind === 'postgres') {
    keepMemoryReadingsThroughResourceErrors();
    await app.register(underPressure, {
      maxEventLoopDelay: config.LOAD_SHED_EVENT_LOOP_DELAY_MS,
      sampleInterval: 100,
      healthCheck: async () => db.poolStats().waiting <= config.LOAD_SHED_POOL_QUEUE,
      healthCheckInterval: 500,
      pressureHandler: (request, _reply, type, value) => {
        if (NEVER_SHED.has(request.url.split('?')[0]!)) return;
        // under-pressure reports an interval in which the histogram took no sample as an infinite
        // delay; that is a busy loop's artefact, not a measured lag.
        if (type === 'eventLoopDelay' && !Number.isFinite(value)) return;
        const why = type === 'healthCheck' ? 'requests are queuing for database connections' : `the ${type} limit is exceeded`;
        throw new Problem('overloaded', `the service is overloaded (${why}); retry later`, { retryAfterSeconds: RETRY_AFTER_SECONDS });
      },
    });
  }
}
