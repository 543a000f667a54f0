import type { FastifyInstance } from 'fastify';
import { LIMITS } from '../domain/events.js';
import { jsonWorkExceeded } from '../domain/json.js';
import { Problem } from '../errors.js';

/**
 * Fastify's JSON parser (with its prototype-poisoning checks), preceded by a bound on the work a
 * body may ask of it: bytes are bounded by the route's body limit, values and nesting here.
 */
export function registerJsonParser(app: FastifyInstance) {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const exceeded = jsonWorkExceeded(body as string, LIMITS.bodyMaxJsonTokens, LIMITS.jsonMaxDepth);
    if (exceeded) {
      const what = exceeded === 'depth' ? `nests deeper than ${LIMITS.jsonMaxDepth} levels` : `holds more than ${LIMITS.bodyMaxJsonTokens} JSON values`;
      return done(new Problem('too_complex', `the body ${what}`), undefined);
    }
    // The default parser answers through done, synchronously.
    void parse(request, body as string, done);
  });
}
