import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable, Problem, problemBody, type FieldError } from '../errors.js';

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function sendProblem(reply: FastifyReply, problem: Problem) {
  const retryAfter = problem.extra.retryAfterSeconds ?? (problem.status === 503 ? RETRY_AFTER_SECONDS : undefined);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  // RFC 6750 §3: a 401 names the scheme it wants, and why a token it got was refused.
  if (problem.status === 401) reply.header('www-authenticate', problem.code === 'invalid_key' ? 'Bearer realm="rapport", error="invalid_token"' : 'Bearer realm="rapport"');
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problemBody(problem, reply.request.url));
}

function fieldErrors(err: FastifyError & { validationContext?: string }): FieldError[] {
  if (!hasZodFastifySchemaValidationErrors(err)) return [{ field: err.validationContext ?? '', message: err.message ?? 'is not valid' }];
  const where = err.validationContext === 'body' ? '' : `${err.validationContext ?? ''}.`;
  return err.validation.map((v) => {
    const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const keys = (v.params as { keys?: string[] }).keys;
    if (v.keyword === 'unrecognized_keys' && keys) {
      return { field: `${where}${path ? `${path}.` : ''}${keys.join(',')}`, message: 'unknown field' };
    }
    return { field: `${where}${path}`.replace(/\.$/, '') || (err.validationContext ?? ''), message: v.message ?? 'is not valid' };
  });
}

/** Translates anything thrown into a Problem: known client mistakes by their Fastify code, the rest as 500. */
export function toProblem(err: FastifyError & { validationContext?: string }): Problem {
  if (err instanceof Problem) return err;
  if (err.validation) {
    const errors = fieldErrors(err);
    return new Problem('validation_failed', errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; '), {
      errors,
    });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Problem('malformed_json', err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'the body is empty' : 'the body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? new Problem('unsupported_media_type', 'send application/json (or application/x-ndjson where the route takes a stream)')
        : new Problem('validation_failed', 'the Content-Length header does not match the body');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem('payload_too_large', 'the request body is larger than this service accepts');
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new Problem('unsupported_media_type', 'the Content-Type header is not valid');
  }
  if (err instanceof SyntaxError) return new Problem('malformed_json', 'the body is not valid JSON');
  if (isDatabaseUnavailable(err)) return new Problem('database_unavailable', 'the database cannot be reached; retry later');
  // Any other 4xx raised by Fastify or a plugin keeps its status but never its internals.
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    if (err.statusCode === 413) return new Problem('payload_too_large', 'the request body is larger than this service accepts');
    if (err.statusCode === 415) return new Problem('unsupported_media_type', 'this Content-Type is not accepted here');
    if (err.statusCode === 429) return new Problem('rate_limited', 'too many requests');
    return new Problem('validation_failed', 'the request is not valid');
  }
  return new Problem('internal_error', 'an unexpected error occurred; it has been logged');
}

export function installProblemHandlers(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // A client that hung up mid-request (a broken NDJSON stream) is no failure of ours.
    if (request.raw.socket?.destroyed) {
      request.log.info({ code: err.code }, 'the client disconnected before the request was read');
      return sendProblem(reply, new Problem('validation_failed', 'the request body ended early'));
    }
    const problem = toProblem(err);
    // A fault of ours is logged with its stack, once; a 503 (shed load, database away) is an
    // expected state, logged without one.
    if (problem.code === 'internal_error') request.log.error({ err }, 'request failed');
    else if (problem.status >= 500) request.log.warn({ code: problem.code, cause: err instanceof Problem ? undefined : err.code }, problem.detail);
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, new Problem('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)));
}
