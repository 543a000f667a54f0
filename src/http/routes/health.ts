import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../../db/client.js';
import { Problem } from '../../errors.js';
import { statusSchema } from '../schemas.js';

export const healthRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/healthz',
    {
      // Probes are never rate-limited: an orchestrator polling from one address must always get an answer.
      config: { rateLimit: false },
      schema: {
        operationId: 'getHealth',
        tags: ['operations'],
        summary: 'Liveness',
        description: 'Answers 200 while the process runs; it does not touch the database.',
        response: { 200: statusSchema.describe('The process runs.') },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: {
        operationId: 'getReadiness',
        tags: ['operations'],
        summary: 'Readiness',
        description: 'Answers 200 when the database is reachable, 503 `database_unavailable` otherwise.',
        response: { 200: statusSchema.describe('The database is reachable.') },
      },
    },
    async () => {
      try {
        await db.query('SELECT 1');
      } catch {
        throw new Problem('database_unavailable', 'the database cannot be reached');
      }
      return { status: 'ok' as const };
    },
  );
};
