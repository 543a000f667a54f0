import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { backlog, projectedTotal } from '../../db/projection.js';
import type { Freshness } from '../../projection/freshness.js';

export const ingestStatusSchema = z
  .object({
    pending_events: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Events acknowledged but not yet folded into the scores.'),
    oldest_pending_seconds: z.number().min(0).max(1e9).describe('Age of the oldest of them, in seconds; 0 when there are none.'),
    projected_events_total: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Events folded into the scores, all time.'),
  })
  .meta({
    id: 'IngestStatus',
    description: 'How far the scores are behind what was acknowledged.',
    examples: [{ pending_events: 120, oldest_pending_seconds: 0.4, projected_events_total: 1_250_000 }],
  });

export const ingestRoutes: FastifyPluginAsyncZod<{ freshness: Freshness }> = async (app, { freshness }) => {
  app.get(
    '/v1/ingest/status',
    {
      config: { scope: ['events:write', 'scores:read'] },
      schema: {
        operationId: 'getIngestStatus',
        tags: ['events'],
        summary: 'How far the scores are behind what was acknowledged',
        description:
          "The key's workspace: events acknowledged but not yet folded into the scores, the age of the oldest of them, and the events folded in so far. A default read waits for the first two to reach every event acknowledged before it began.",
        response: { 200: ingestStatusSchema.describe('The backlog of the key’s workspace.') },
      },
    },
    async (request) => {
      const [lag, projected] = await Promise.all([backlog(freshness.db, request.workspaceId), projectedTotal(freshness.db, request.workspaceId)]);
      return { pending_events: lag.pending, oldest_pending_seconds: lag.oldestSeconds, projected_events_total: projected };
    },
  );
};
