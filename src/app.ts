import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { DestinationStream } from 'pino';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { authenticateAdmin, authenticateKey } from './http/auth.js';
import { documentRoute, registerOpenApi } from './http/openapi.js';
import { registerMetrics } from './http/metrics.js';
import { installProblemHandlers, sendProblem } from './http/problems.js';
import { registerProtection } from './http/protection.js';
import { Problem } from './errors.js';
import { registerRateLimit } from './http/rate-limit.js';
import { accountRoutes } from './http/routes/accounts.js';
import { adminRoutes } from './http/routes/admin.js';
import { eventRoutes } from './http/routes/events.js';
import { healthRoutes } from './http/routes/health.js';

export interface AppOptions {
  config: Config;
  db: Database;
  /** Where logs go; stdout when absent (tests capture them). */
  logStream?: DestinationStream;
}

const MAX_ACCOUNT_PATH_LENGTH = 256 * 12;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Builds the API without listening: server.ts listens, tests inject. */
export async function buildApp({ config, db, logStream }: AppOptions) {
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
      ...(logStream ? { stream: logStream } : {}),
    },
    bodyLimit: config.MAX_BODY_BYTES,
    // An account is up to 256 characters, each up to 4 UTF-8 bytes written %XX in a path.
    routerOptions: { maxParamLength: MAX_ACCOUNT_PATH_LENGTH },
    // Errors the router raises before any route runs are problems too.
    frameworkErrors: (err, _request, reply) =>
      sendProblem(
        reply,
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new Problem('uri_too_long', `a path segment may be at most ${MAX_ACCOUNT_PATH_LENGTH} characters`)
          : new Problem('validation_failed', 'the URL is not valid'),
      ),
    // A caller's request id is kept when it is sane, so logs join up across services.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>();

  installProblemHandlers(app);
  app.decorateRequest('workspaceId', 0);
  app.decorateRequest('keyId', '');
  // Once shutdown begins, answers close their connection: an idle keep-alive socket would hold the server open.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  // Authentication runs before the body is read, so an unauthenticated client cannot make the server parse anything.
  app.addHook('onRequest', async (request) => {
    const { scope, admin } = request.routeOptions.config;
    if (scope) await authenticateKey(db, request, scope);
    else if (admin && config.ADMIN_TOKEN) authenticateAdmin(config.ADMIN_TOKEN, request);
  });

  await registerProtection(app, config, db);
  if (config.RATE_LIMIT_PER_MINUTE > 0) await registerRateLimit(app, config.RATE_LIMIT_PER_MINUTE);
  const observer = await registerMetrics(app, db);
  await registerOpenApi(app);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (api) => {
    // The zod compilers live in this encapsulated scope only: other plugins' plain JSON schemas stay theirs.
    api.setValidatorCompiler(validatorCompiler);
    api.setSerializerCompiler(serializerCompiler);
    // The API speaks JSON (and NDJSON where a route says so); Fastify's default text/plain parser would let text through.
    api.removeContentTypeParser('text/plain');
    api.addHook('onRoute', documentRoute);
    await api.register(healthRoutes, { db });
    await api.register(eventRoutes, { db, observer });
    await api.register(accountRoutes, { db });
    if (config.ADMIN_TOKEN) await api.register(adminRoutes, { db });
  });
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
