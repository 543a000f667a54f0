import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { LIMITS } from '../../domain/events.js';
import { eventInputSchema } from '../../domain/validate.js';
import { Problem } from '../../errors.js';
import { ingestBatch, ingestOne } from '../../ingest/batch.js';
import { ingestNdjson } from '../../ingest/ndjson.js';
import { batchResultSchema } from '../schemas.js';

const batchBodySchema = z.object({ events: z.array(z.unknown()) });

export const eventRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  // NDJSON bodies reach the handler as the raw stream: read line by line, never buffered whole.
  app.addContentTypeParser('application/x-ndjson', (_req, payload, done) => done(null, payload));

  app.post(
    '/v1/events',
    {
      config: { scope: 'events:write' },
      schema: {
        body: eventInputSchema,
        response: {
          201: z.object({ id: z.string().max(200), status: z.literal('accepted') }),
          200: z.object({ id: z.string().max(200), status: z.literal('duplicate') }),
        },
      },
    },
    async (request, reply) => {
      const result = await ingestOne(db, request.workspaceId, request.body);
      if (result.status === 'accepted') return reply.code(201).send({ id: result.id, status: 'accepted' });
      return reply.code(200).send({ id: result.id, status: 'duplicate' });
    },
  );

  app.post(
    '/v1/events/batch',
    {
      config: { scope: 'events:write' },
      schema: { response: { 200: batchResultSchema } },
    },
    async (request) => {
      const body = request.body as unknown;
      if (request.headers['content-type']?.startsWith('application/x-ndjson')) {
        return ingestNdjson(db, request.workspaceId, body as IncomingMessage);
      }
      const parsed = batchBodySchema.safeParse(body);
      if (!parsed.success) {
        throw new Problem('validation_failed', 'the body must be {"events": [...]}', {
          errors: [{ field: 'events', message: 'must be an array of events' }],
        });
      }
      if (parsed.data.events.length > LIMITS.batchMaxEvents) {
        throw new Problem(
          'batch_too_large',
          `a JSON batch holds at most ${LIMITS.batchMaxEvents} events (got ${parsed.data.events.length}); send more as application/x-ndjson`,
        );
      }
      return ingestBatch(db, request.workspaceId, parsed.data.events);
    },
  );
};
