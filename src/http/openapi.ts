import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { BATCH_REQUEST_BODY } from './routes/events.js';
import { PROBLEMS } from '../errors.js';
import { problemResponse } from './schemas.js';

export const API_VERSION = '0.1.0';

const DESCRIPTION = `Rapport ingests social-media interaction events and serves per-account reciprocity and spam
scores, explaining every number: each ratio carries its numerator and denominator, the spam score the
contribution of each signal, each flag the thresholds that raised it.

Authenticate with \`Authorization: Bearer <key>\`; a key carries one or more of the scopes
\`events:write\`, \`scores:read\` and \`webhooks:manage\`. Every error is RFC 9457 problem+json with a stable \`code\`.`;

/**
 * Fills in what every operation shares, from the route's own options, so a route cannot be added
 * without it: the security requirement and scope, and each problem+json answer it can give.
 */
export function documentRoute(route: RouteOptions) {
  const schema = (route.schema ??= {}) as Record<string, unknown> & { response?: Record<string, unknown> };
  if (schema.hide) return;
  const response = (schema.response ??= {});
  // Only statuses some problem code has: an answer is documented exactly when the service can give it.
  const add = (status: number, what: string) => {
    if (Object.values(PROBLEMS).some((p) => p.status === status)) response[status] ??= problemResponse(status, what);
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
  // The router refuses an over-long path segment before any route runs.
  if (route.url.includes(':')) add(414, 'A path parameter is longer than any valid value');
  // Fastify reads a body on every method but GET and HEAD, so a DELETE with one can be refused too.
  if (route.method !== 'GET') {
    add(413, 'The body is too large');
    add(415, 'The body is not application/json');
  }
  if (route.config?.rateLimit !== false) {
    add(
      429,
      'Rate limit exceeded (RATE_LIMIT_PER_MINUTE per key or client address, AUTH_FAILURES_PER_MINUTE failed authentications per address), or too many streams or heavy reads of this key at once; retry after Retry-After seconds',
    );
  }
  // Answered to any request whose headers are late or too large, and to one whose body stopped arriving.
  add(408, 'The request (its headers, or its body within REQUEST_TIMEOUT_MS) was not received in time; the connection is closed');
  add(431, 'The request headers are too large');
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
        { name: 'webhooks', description: 'Subscriptions to flag and threshold events, signed deliveries and their log' },
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

/** An input component (`XInput`) shows the examples of its output twin `X` when it has none of its own. */
function adoptInputExamples(document: OpenApiDocument) {
  const schemas = (document.components as { schemas?: Record<string, Json> } | undefined)?.schemas ?? {};
  for (const [name, schema] of Object.entries(schemas)) {
    const output = schemas[name.replace(/Input$/, '')];
    if (name.endsWith('Input') && output) schema.examples ??= output.examples;
  }
}

/**
 * Every named zod schema becomes two components (`X` for answers, `XInput` for requests): only
 * those the document refers to are kept, and a request body (`…Request`) keeps its plain name.
 */
function pruneComponents(document: OpenApiDocument) {
  const components = document.components as { schemas?: Record<string, Json> } | undefined;
  const schemas = components?.schemas;
  if (!schemas) return;
  let text = JSON.stringify({ ...document, components: { ...components, schemas: {} } });
  const kept = new Set<string>();
  const refs = (json: string) => [...json.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
  const queue = refs(text);
  while (queue.length) {
    const name = queue.pop()!;
    if (kept.has(name) || !schemas[name]) continue;
    kept.add(name);
    queue.push(...refs(JSON.stringify(schemas[name])));
  }
  const renamed: Record<string, string> = {};
  for (const name of kept) {
    const plain = name.replace(/Input$/, '');
    if (name !== plain && plain.endsWith('Request') && !kept.has(plain)) renamed[name] = plain;
  }
  const result: Record<string, Json> = {};
  for (const name of Object.keys(schemas).sort()) if (kept.has(name)) result[renamed[name] ?? name] = schemas[name]!;
  text = JSON.stringify({ ...document, components: { ...components, schemas: result } });
  for (const [from, to] of Object.entries(renamed)) text = text.replaceAll(`"#/components/schemas/${from}"`, `"#/components/schemas/${to}"`);
  Object.assign(document, JSON.parse(text));
}

/** What the route schemas cannot say: the batch body's two media types, rate-limit headers, integer formats. */
function finishDocument(document: OpenApiDocument): OpenApiDocument {
  const batch = document.paths?.['/v1/events/batch']?.post;
  if (batch) batch.requestBody = BATCH_REQUEST_BODY;
  // Its body only changes a default: a rotation may be asked for with none.
  const rotate = document.paths?.['/v1/webhooks/{id}/rotate-secret']?.post?.requestBody as Json | undefined;
  if (rotate) rotate.required = false;
  // Headers are defined once under components/headers and referred to from every answer.
  const headers: Record<string, Json> = { ...RESPONSE_HEADERS, 'Retry-After': { description: 'Seconds to wait before retrying.', schema: seconds } };
  const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const own = Object.keys(RESPONSE_HEADERS).concat(status === '429' || status === '503' ? ['Retry-After'] : []);
        response.headers = { ...Object.fromEntries(own.map((name) => [name, ref(name)])), ...(response.headers as Json | undefined) };
      }
    }
  }
  document.components = { ...(document.components as Json | undefined), headers };
  adoptInputExamples(document);
  pruneComponents(document);
  addIntegerFormats(document);
  return document;
}
