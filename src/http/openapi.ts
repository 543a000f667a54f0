import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { BATCH_REQUEST_BODY } from './routes/events.js';
import { problemResponse } from './schemas.js';

export const API_VERSION = '0.1.0';

const DESCRIPTION = `Rapport ingests social-media interaction events and serves per-account reciprocity and spam
scores, explaining every number: each ratio carries its numerator and denominator, the spam score the
contribution of each signal, each flag the thresholds that raised it.

Authenticate with \`Authorization: Bearer <key>\`; a key carries the scopes \`events:write\` and/or
\`scores:read\`. Every error is RFC 9457 problem+json with a stable \`code\`.`;

/**
 * Fills in what every operation shares, from the route's own options, so a route cannot be added
 * without it: the security requirement and scope, and each problem+json answer it can give.
 */
export function documentRoute(route: RouteOptions) {
  const schema = (route.schema ??= {}) as Record<string, unknown> & { response?: Record<string, unknown> };
  if (schema.hide) return;
  const response = (schema.response ??= {});
  const add = (status: number, what: string) => {
    response[status] ??= problemResponse(status, what);
  };
  const { scope, admin } = route.config ?? {};
  if (scope) {
    const anyOf: readonly string[] = typeof scope === 'string' ? [scope] : scope;
    schema.security = anyOf.map((s) => ({ apiKey: [s] }));
    add(401, 'Missing, unknown or revoked key');
    add(403, `The key lacks the scope ${anyOf.join(' or ')}`);
  } else if (admin) {
    schema.security = [{ adminToken: [] }];
    add(401, 'Missing or wrong admin token');
  } else {
    schema.security = [];
  }
  if (schema.body || schema.querystring || schema.params || route.method !== 'GET') add(400, 'The request is not valid');
  if (route.method === 'POST') {
    add(408, 'The body was not received within REQUEST_TIMEOUT_MS; the connection is closed');
    add(413, 'The body is too large');
    add(415, 'The body is not application/json');
  }
  add(
    429,
    'Rate limit exceeded (RATE_LIMIT_PER_MINUTE per key or client address, AUTH_FAILURES_PER_MINUTE failed authentications per address), or too many streams or heavy reads of this key at once; retry after Retry-After seconds',
  );
  add(500, 'Unexpected error; nothing about it is disclosed');
  add(503, 'The database is unreachable or the service is overloaded; retry after Retry-After seconds');
}

export async function registerOpenApi(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Rapport API',
        version: API_VERSION,
        description: DESCRIPTION,
        license: { name: 'MIT', identifier: 'MIT' },
        contact: { name: 'Rapport maintainers' },
      },
      // Relative: the document describes whichever deployment serves it.
      servers: [{ url: '/', description: 'This deployment (local, staging or production alike)', 'x-internal': false } as { url: string; description: string }],
      tags: [
        { name: 'events', description: 'Ingest interaction events' },
        { name: 'scores', description: 'Reciprocity, engagement and spam scores of accounts' },
        { name: 'accounts', description: 'Lists, rankings and erasure of accounts' },
        { name: 'admin', description: 'Workspaces and keys (only when ADMIN_TOKEN is set)' },
        { name: 'operations', description: 'Health and readiness' },
      ],
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key `rpk_<key id>_<secret>`; each operation lists the scope it needs.',
          },
          adminToken: { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN of the deployment.' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => finishDocument(jsonSchemaTransformObject(input) as unknown as OpenApiDocument) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

type Json = Record<string, unknown>;
interface OpenApiDocument {
  paths?: Record<string, Record<string, Json & { responses?: Record<string, Json> }>>;
  [key: string]: unknown;
}

const seconds = { type: 'integer', format: 'int32', minimum: 0, maximum: 86_400 };
const RESPONSE_HEADERS = {
  'RateLimit-Limit': {
    description: 'Requests allowed per minute for this key (absent when rate limiting is off).',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 10_000_000 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current minute.',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 10_000_000 },
  },
  'RateLimit-Reset': { description: 'Seconds until the minute resets.', schema: seconds },
  'Access-Control-Allow-Origin': {
    description: 'Present when CORS_ORIGINS allows the calling origin; CORS is off by default.',
    schema: { type: 'string', maxLength: 2048, format: 'uri' },
  },
};

/** zod integers carry no `format`; clients and linters want one. */
function addIntegerFormats(node: unknown) {
  if (Array.isArray(node)) return node.forEach(addIntegerFormats);
  if (!node || typeof node !== 'object') return;
  const schema = node as Json;
  if (schema.type === 'integer' && schema.format === undefined) {
    const fits32 = typeof schema.maximum === 'number' && schema.maximum <= 2_147_483_647 && (typeof schema.minimum !== 'number' || schema.minimum >= -2_147_483_648);
    schema.format = fits32 ? 'int32' : 'int64';
  }
  Object.values(schema).forEach(addIntegerFormats);
}

/**
 * A schema whose input and output differ (defaults, null read as absent) becomes two components,
 * `X` and `XInput`, and only `X` keeps the examples: the request side gets them too, and an `X`
 * no answer refers to is dropped.
 */
function adoptInputExamples(document: OpenApiDocument) {
  const schemas = (document.components as { schemas?: Record<string, Json> } | undefined)?.schemas ?? {};
  const text = JSON.stringify(document.paths);
  for (const [name, schema] of Object.entries(schemas)) {
    const output = schemas[name.replace(/Input$/, '')];
    if (!name.endsWith('Input') || !output) continue;
    schema.examples ??= output.examples;
    if (!text.includes(`"#/components/schemas/${name.replace(/Input$/, '')}"`)) delete schemas[name.replace(/Input$/, '')];
  }
}

/** What the route schemas cannot say: the batch body's two media types, rate-limit headers, integer formats. */
function finishDocument(document: OpenApiDocument): OpenApiDocument {
  const batch = document.paths?.['/v1/events/batch']?.post;
  if (batch) batch.requestBody = BATCH_REQUEST_BODY;
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        response.headers = { ...RESPONSE_HEADERS, ...(response.headers as Json | undefined) };
        if (status === '429' || status === '503') {
          response.headers = { ...(response.headers as Json), 'Retry-After': { description: 'Seconds to wait before retrying.', schema: seconds } };
        }
      }
    }
  }
  adoptInputExamples(document);
  addIntegerFormats(document);
  return document;
}
