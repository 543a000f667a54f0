import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { LIMITS } from '../../domain/events.js';
import { eventInputSchema } from '../../domain/validate.js';
import { clip, Problem } from '../../errors.js';
import { ingestBatch, ingestOne, type AppendListener, type IngestObserver } from '../../ingest/batch.js';
import { GroupCommit } from '../../ingest/coalesce.js';
import type { InFlight } from '../in-flight.js';
import { ingestNdjson, STREAM_CHUNK_EVENTS } from '../../ingest/ndjson.js';
import { batchResultSchema, problemResponse } from '../schemas.js';

const eventAcceptedSchema = z
  .object({ id: z.string().max(200).describe('The event’s id: the one given, or the hash of its content.'), status: z.literal('accepted') })
  .meta({ id: 'EventAccepted', description: 'The event is stored (committed).', examples: [{ id: 'evt-42', status: 'accepted' }] });
const eventDuplicateSchema = z
  .object({ id: z.string().max(200).describe('The event’s id: the one given, or the hash of its content.'), status: z.literal('duplicate') })
  .meta({ id: 'EventDuplicate', description: 'The event was stored before with the same content: nothing changed.', examples: [{ id: 'evt-42', status: 'duplicate' }] });

// Events are validated one by one by the handler (a bad event must not fail the batch), so the
// route declares no body schema; the document shows the real shapes through this request body.
const batchBodySchema = z.strictObject({ events: z.array(z.unknown()) });

export const BATCH_REQUEST_BODY = {
  required: true,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['events'],
        properties: {
          events: { type: 'array', maxItems: LIMITS.batchMaxEvents, items: { $ref: '#/components/schemas/EventInput' } },
        },
      },
      example: {
        events: [
          { id: 'evt-1', type: 'follow', actor: 'tw:alice', target: 'tw:bob', occurred_at: '2026-11-20T10:00:00Z' },
          { type: 'reply', actor: 'tw:bob', target: 'tw:alice', occurred_at: '2026-11-20T10:05:00Z', text: 'Thanks for the follow!' },
        ],
      },
    },
    'application/x-ndjson': {
      // A string body is what OpenAPI 3.1 can say of a stream; generators that keep one body per
      // operation drop this form, so the SDK (`ingestStream`) reaches it and the description says so.
      schema: {
        type: 'string',
        contentMediaType: 'application/x-ndjson',
        maxLength: Number.MAX_SAFE_INTEGER,
        description: 'One JSON event per line, each an `EventInput`; any length, read and stored as it arrives.',
      },
      example:
        '{"id":"evt-1","type":"follow","actor":"tw:alice","target":"tw:bob","occurred_at":"2026-11-20T10:00:00Z"}\n{"type":"like","actor":"tw:bob","target":"tw:alice","occurred_at":"2026-11-20T10:01:00Z"}\n',
    },
  },
};

export const eventRoutes: FastifyPluginAsyncZod<{
  db: Database;
  observer: IngestObserver;
  inFlight: InFlight;
  projector: AppendListener;
  maxBodyBytes: number;
}> = async (app, { db, observer, inFlight, projector, maxBodyBytes }) => {
  // Concurrent single events of a workspace share transactions. On close, nothing waits for a slot
  // any more, and the transactions still running (a caller may have hung up) are waited for.
  const commits = new GroupCommit(db, { projector });
  app.addHook('preClose', async () => commits.close());
  app.addHook('onClose', () => commits.drain());

  // NDJSON bodies reach the handler as the raw stream: read line by line, never buffered whole.
  app.addContentTypeParser('application/x-ndjson', (request, payload, done) => {
    if (request.routeOptions.url !== '/v1/events/batch') {
      return done(new Problem('unsupported_media_type', 'only POST /v1/events/batch takes application/x-ndjson'), undefined);
    }
    done(null, payload);
  });

  app.post(
    '/v1/events',
    {
      config: { scope: 'events:write' },
      schema: {
        operationId: 'ingestEvent',
        tags: ['events'],
        summary: 'Ingest one event',
        description:
          'Stores one event. Idempotent: resending the same content (same `id`, or no `id` and the same fields) answers 200 `duplicate`; a reused `id` with other content is 409 `id_conflict` and the first event stands. `text` is turned into `has_link`, `is_question` and a fingerprint, then discarded. 201 means committed: the event is durable, and every read that begins from now on reflects it (waiting for the projector unless it asks for `consistency=eventual`).',
        body: eventInputSchema,
        response: {
          201: eventAcceptedSchema.describe('Stored now (committed).'),
          200: eventDuplicateSchema.describe('Stored before with the same content: nothing changed.'),
          409: problemResponse(409, 'The id is already used by an event with other content; the first event stands'),
          422: problemResponse(422, 'occurred_at lies more than 5 minutes in the future'),
        },
      },
    },
    async (request, reply) => {
      const result = await ingestOne(commits, request.workspaceId, request.body, observer);
      if (result.status === 'accepted') return reply.code(201).send({ id: result.id, status: 'accepted' });
      return reply.code(200).send({ id: result.id, status: 'duplicate' });
    },
  );

  app.post(
    '/v1/events/batch',
    {
      config: { scope: 'events:write' },
      bodyLimit: maxBodyBytes,
      schema: {
        operationId: 'ingestEvents',
        tags: ['events'],
        summary: 'Ingest a batch or a stream of events',
        description: `Either \`application/json\` \`{"events": [...]}\` with at most ${LIMITS.batchMaxEvents} events (413 \`batch_too_large\` beyond), or an \`application/x-ndjson\` stream of any length, one event per line, stored in chunks of ${STREAM_CHUNK_EVENTS} as it arrives (each chunk committed on its own; lines over 1 MiB are rejected). Each event is validated on its own: valid ones are stored, invalid ones are reported with their index (array index, or 0-based line number) and a reason, in request order. Resending is always safe.\n\nGenerated clients often keep only the JSON form of this body. The stream form needs no hand-written HTTP: the Rapport SDK's \`ingestStream(events)\` takes any (async) iterable of events and streams them as NDJSON; elsewhere, send the lines with \`Content-Type: application/x-ndjson\`.`,
        response: { 200: batchResultSchema.describe('Every event accounted for: accepted, duplicate or rejected.') },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (request.headers['content-type']?.startsWith('application/x-ndjson')) {
        inFlight.hold(request, reply, 'stream');
        return ingestNdjson(db, request.workspaceId, body as IncomingMessage, { observer, projector });
      }
      const parsed = batchBodySchema.safeParse(body);
      if (!parsed.success) {
        // An unknown field is named, as every other operation names it; anything else is about `events`.
        const unknown = parsed.error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys : []));
        throw new Problem('validation_failed', unknown.length ? `unknown field ${clip(unknown.join(', '), 200)}` : 'the body must be {"events": [...]}', {
          errors: unknown.length ? unknown.slice(0, 10).map((k) => ({ field: k, message: 'unknown field' })) : [{ field: 'events', message: 'must be an array of events' }],
        });
      }
      if (parsed.data.events.length > LIMITS.batchMaxEvents) {
        throw new Problem('batch_too_large', `a JSON batch holds at most ${LIMITS.batchMaxEvents} events (got ${parsed.data.events.length}); send more as application/x-ndjson`);
      }
      const result = await ingestBatch(db, request.workspaceId, parsed.data.events, { observer, projector });
      return { ...result, rejected_total: result.rejected.length };
    },
  );
};
