import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { LIMITS } from './domain/events.js';
import { authenticateAdmin, authenticateKey } from './http/auth.js';
import { clientErrorHandler, writeProblemAndClose } from './http/connections.js';
import { InFlight } from './http/in-flight.js';
import { registerJsonParser } from './http/json.js';
import { documentRoute, registerOpenApi } from './http/openapi.js';
import { registerMetrics } from './http/metrics.js';
import { installProblemHandlers, sendProblem } from './http/problems.js';
import { registerProtection } from './http/protection.js';
import { Problem } from './errors.js';
import { registerRateLimit } from './http/rate-limit.js';
import { accountRoutes } from './http/routes/accounts.js';
import { adminRoutes } from './http/routes/admin.js';
import { eventRoutes } from './http/routes/events.js';
import { followerRoutes } from './http/routes/followers.js';
import { healthRoutes } from './http/routes/health.js';
import { ingestRoutes } from './http/routes/ingest.js';
import { webhookRoutes } from './http/routes/webhooks.js';
import { Projector } from './projection/projector.js';
import { SecretBox } from './webhooks/secrets.js';
import { Sender } from './webhooks/sender.js';

export interface AppOptions {
  config: Config;
  db: Database;
  /** Where logs go; stdout when absent (tests capture them). */
  logStream?: DestinationStream;
}

const MAX_ACCOUNT_PATH_LENGTH = 256 * 12;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

const isStream = (request: FastifyRequest) => request.headers['content-type']?.startsWith('application/x-ndjson') === true;

/** Builds the API without listening: server.ts listens, tests inject. */
export async function buildApp({ config, db, logStream }: AppOptions) {
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
      serializers: {
        // The route's pattern, never the path or the query: paths name accounts (personal data that
        // erasure cannot reach in logs) and a query string may carry a key pasted by mistake.
        req: (request: FastifyRequest) => ({ method: request.method, route: request.routeOptions?.url ?? null, remoteAddress: request.ip }),
      },
      ...(logStream ? { stream: logStream } : {}),
    },
    // Bodies are small but for the JSON batch of events, whose route allows MAX_BODY_BYTES.
    bodyLimit: LIMITS.smallBodyMaxBytes,
    // A silent connection (no bytes either way) is closed; idle keep-alive connections sooner.
    connectionTimeout: config.IDLE_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    // Headers must arrive in time. Node's requestTimeout stays off because it would cut NDJSON
    // streams of any length; bodies other than streams get their own deadline below.
    http: { headersTimeout: config.HEADERS_TIMEOUT_MS, connectionsCheckingInterval: Math.min(1_000, config.HEADERS_TIMEOUT_MS) },
    clientErrorHandler,
    // An account is up to 256 characters, each up to 4 UTF-8 bytes written %XX in a path.
    routerOptions: { maxParamLength: MAX_ACCOUNT_PATH_LENGTH },
    // Errors the router raises before any route runs are problems too.
    frameworkErrors: (err, _request, reply) =>
      void sendProblem(
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
  app.server.maxConnections = config.MAX_CONNECTIONS;

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
    // A body never read (a request refused before it, or one still arriving) is not drained to
    // keep the connection: the connection is closed instead.
    if (closing || !request.raw.complete) reply.header('connection', 'close');
  });

  // Order matters: onRequest hooks run as added. Rate-limit stores first (the hooks below use
  // them), then the answer to unknown routes, before anything reads a body or the database.
  const limits = await registerRateLimit(app, config);
  app.addHook('onRequest', async (request) => {
    if (!request.is404) return;
    await limits.anonymous(request);
    throw new Problem('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
  });
  // Security headers and load shedding come before authentication, so 401s carry the headers and
  // a shed request costs no key lookup.
  await registerProtection(app, config, db);
  // Authentication runs before the body is read, so an unauthenticated client cannot make the server parse anything.
  app.addHook('onRequest', async (request) => {
    const { scope, admin } = request.routeOptions.config;
    if (scope) await limits.authenticating(request, () => authenticateKey(db, request, scope));
    else if (admin && config.ADMIN_TOKEN) {
      const token = config.ADMIN_TOKEN;
      await limits.authenticating(request, async () => authenticateAdmin(token, request));
    }
  });
  // A body (other than a stream, which only the idle timeout bounds) must arrive within REQUEST_TIMEOUT_MS.
  app.addHook('onRequest', async (request, reply) => {
    if (request.raw.complete || isStream(request)) return;
    const timer = setTimeout(() => {
      if (request.raw.complete || reply.sent) return;
      request.log.info('request body not received in time; connection closed');
      writeProblemAndClose(request.raw.socket, new Problem('request_timeout', `the request body was not received within ${config.REQUEST_TIMEOUT_MS} ms`));
    }, config.REQUEST_TIMEOUT_MS);
    timer.unref();
    reply.raw.once('close', () => clearTimeout(timer));
  });

  const inFlight = new InFlight({ stream: config.MAX_STREAMS_PER_KEY, heavy_read: config.MAX_HEAVY_READS_PER_KEY }, { heavy_read: config.MAX_HEAVY_READS });
  const { observer, projection } = await registerMetrics(app, db, config.METRICS_TOKEN);
  // Every process that serves also projects: the events it acknowledges at once, others' by polling.
  const projector = new Projector(db, {
    batchEvents: config.PROJECTOR_BATCH_EVENTS,
    pollMs: config.PROJECTOR_POLL_MS,
    concurrency: config.PROJECTOR_CONCURRENCY,
    log: app.log,
    onBatch: projection,
  });
  projector.start();
  // After the routes' own close hooks (queued single events are appended first), before the pool closes.
  app.addHook('onClose', () => projector.stop());
  // Webhook deliveries go out from serving processes (WEBHOOK_SENDER), apart from requests and the projector.
  const secrets = new SecretBox(db, config.WEBHOOK_ENCRYPTION_KEY);
  if (config.WEBHOOK_SENDER) {
    const sender = new Sender(db, secrets, {
      concurrency: config.WEBHOOK_CONCURRENCY,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      pollMs: config.WEBHOOK_POLL_MS,
      backoffMs: config.WEBHOOK_BACKOFF_MS,
      backoffMaxMs: config.WEBHOOK_BACKOFF_MAX_MS,
      retrySeconds: config.WEBHOOK_RETRY_SECONDS,
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
      log: app.log,
    });
    sender.start();
    app.addHook('onClose', () => sender.stop());
  }
  const freshness = { db, projector, waitMs: config.READ_WAIT_MS };
  await registerOpenApi(app);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (api) => {
    // The zod compilers live in this encapsulated scope only: other plugins' plain JSON schemas stay theirs.
    api.setValidatorCompiler(validatorCompiler);
    api.setSerializerCompiler(serializerCompiler);
    // The API speaks JSON (and NDJSON where a route says so); Fastify's default text/plain parser would let text through.
    api.removeContentTypeParser('text/plain');
    registerJsonParser(api);
    api.addHook('onRoute', documentRoute);
    await api.register(healthRoutes, { db });
    await api.register(eventRoutes, { db, observer, inFlight, projector, maxBodyBytes: config.MAX_BODY_BYTES });
    await api.register(ingestRoutes, { freshness });
    await api.register(accountRoutes, { db, inFlight, freshness });
    await api.register(webhookRoutes, { db, secrets, allowPrivate: config.WEBHOOK_ALLOW_PRIVATE });
    await api.register(followerRoutes, { db, freshness });
    if (config.ADMIN_TOKEN) await api.register(adminRoutes, { db });
  });
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
