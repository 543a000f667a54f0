import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { Problem } from '../../errors.js';

const statusSchema = z.object({ status: z.literal('ok') });

export const healthRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  app.get('/healthz', { schema: { response: { 200: statusSchema } } }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', { schema: { response: { 200: statusSchema } } }, async () => {
    try {
      await db.query('SELECT 1');
    } catch {
      throw new Problem('database_unavailable', 'the database cannot be reached');
    }
    return { status: 'ok' as const };
  });
};
