import t from 'tap';
import { DOCUMENT_CONFIG } from '../../scripts/openapi.js';
import { contractViolation, DOCUMENT, validatorFor } from '../contract.js';
import { bearer, tenantApp } from '../helpers.js';

/**
 * The document as SDK generators meet it: named shapes, every answer the service gives, examples
 * that are valid instances of their schemas. The test helpers check every answer of the suite
 * against the same document (test/contract.ts).
 */

type Json = Record<string, unknown>;
const operations = Object.entries(DOCUMENT.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ path, method, op: op as unknown as Json & { responses: Record<string, Json & { content?: Record<string, Json> }> } })),
);
const PROBLEM_REF = '#/components/schemas/Problem';

t.test('the contract check refuses an undocumented status, media type or body', async (t) => {
  const base = { method: 'GET', url: '/v1/accounts/tw%3Aa/scores', contentType: 'application/problem+json; charset=utf-8' };
  const problem = { type: 'urn:rapport:problem:invalid_key', title: 'The key is unknown or revoked', status: 401, code: 'invalid_key', detail: 'no' };
  t.equal(contractViolation({ ...base, status: 401, body: JSON.stringify(problem) }), null, 'a documented answer passes');
  t.match(contractViolation({ ...base, status: 418, body: JSON.stringify(problem) }), /status not documented/);
  t.match(contractViolation({ ...base, status: 401, contentType: 'text/plain', body: 'no' }), /media type text\/plain not documented/);
  t.match(contractViolation({ ...base, status: 401, body: JSON.stringify({ ...problem, code: 'teapot' }) }), /code/);
  t.match(contractViolation({ ...base, status: 200, contentType: 'application/json', body: '{"account":"tw:a"}' }), /required/);
});

t.test('shapes used more than once are named components, referred to and never copied', async (t) => {
  const names = Object.keys(DOCUMENT.components.schemas);
  for (const name of [
    'Problem',
    'FieldError',
    'Ratio',
    'Quotient',
    'Window',
    'Reciprocity',
    'Engagement',
    'Spam',
    'Scores',
    'AccountScores',
    'Flag',
    'FlagThreshold',
    'Signal',
    'InteractionCounts',
    'BatchResult',
    'Rejection',
    'Key',
    'CreatedKey',
    'KeyList',
    'Workspace',
    'RankingPage',
    'RankedAccount',
    'FollowEdgePage',
    'FollowEdge',
    'PartnerPage',
    'Partner',
    'ActivityHours',
    'HourCount',
    'EventInput',
  ]) {
    t.ok(names.includes(name), `${name} is a component`);
  }
  const text = JSON.stringify(DOCUMENT.paths);
  t.notOk(/"numerator"/.test(text), 'no ratio written out inside an operation');
  t.notOk(/urn:rapport:problem:<code>/.test(text), 'no problem written out inside an operation');
  for (const { path, method, op } of operations) {
    for (const [status, response] of Object.entries(op.responses)) {
      for (const [media, content] of Object.entries(response.content ?? {})) {
        const ref = (content.schema as { $ref?: string }).$ref;
        if (media === 'application/problem+json') t.equal(ref, PROBLEM_REF, `${method} ${path} ${status}: the one Problem`);
        else t.match(ref, /^#\/components\/schemas\/[A-Z]\w+$/, `${method} ${path} ${status}: a named answer`);
      }
    }
  }
  const problem = DOCUMENT.components.schemas.Problem as { properties: { code: { enum: string[] } } };
  t.ok(problem.properties.code.enum.includes('invalid_cursor'), 'the problem code is one enum of every code');
});

t.test('every answer the service can give is documented on the operations that give it', async (t) => {
  for (const { path, method, op } of operations) {
    const where = `${method.toUpperCase()} ${path}`;
    const codes = Object.keys(op.responses);
    const security = op.security as Record<string, string[]>[];
    if (security.length) t.ok(codes.includes('401'), `${where}: 401`);
    if (security[0]?.apiKey) t.ok(codes.includes('403'), `${where}: 403`);
    if (!['/healthz', '/readyz'].includes(path)) t.ok(codes.includes('429'), `${where}: 429`);
    t.ok(codes.includes('503'), `${where}: 503`);
    if (path.includes('{')) t.ok(codes.includes('414'), `${where}: 414 for an over-long path segment`);
  }
  for (const [path, method] of [
    ['/v1/admin/workspaces/{name}/keys', 'post'],
    ['/v1/admin/workspaces/{name}/keys', 'get'],
    ['/v1/admin/keys/{key_id}', 'delete'],
  ] as const) {
    t.ok(DOCUMENT.paths[path]![method]!.responses['404'], `${method.toUpperCase()} ${path}: 404`);
  }
});

t.test('the 404s of the admin operations and the 414 of the account routes are answered as documented', async (t) => {
  const { app, tenant } = await tenantApp(t, { ADMIN_TOKEN: DOCUMENT_CONFIG.ADMIN_TOKEN });
  const admin = bearer(DOCUMENT_CONFIG.ADMIN_TOKEN!);
  // The helper's contract check fails the test if any of these answers is not in the document.
  const cases = [
    ['POST', '/v1/admin/workspaces/no-such-workspace/keys', { scopes: ['scores:read'] }, 404, 'workspace_not_found'],
    ['GET', '/v1/admin/workspaces/no-such-workspace/keys', undefined, 404, 'workspace_not_found'],
    ['DELETE', '/v1/admin/keys/abcdefabcdef', undefined, 404, 'key_not_found'],
  ] as const;
  for (const [method, url, payload, status, code] of cases) {
    const res = await app.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });
    t.equal(res.statusCode, status, `${method} ${url}`);
    t.equal(res.json().code, code);
  }
  const long = 'x'.repeat(256 * 12 + 1);
  for (const { path, method } of operations.filter((o) => o.path.includes('{account}'))) {
    const res = await app.inject({ method: method.toUpperCase() as 'GET', url: path.replace('{account}', long), headers: bearer(tenant.key) });
    t.equal(res.statusCode, 414, `${method.toUpperCase()} ${path}: 414`);
    t.equal(res.json().code, 'uri_too_long');
  }
});

/** Every example of the document, with the schema it must satisfy. */
function examples(): [string, unknown, unknown][] {
  const found: [string, unknown, unknown][] = [];
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}.${i}`));
    if (!node || typeof node !== 'object') return;
    const schema = node as Json;
    if (Array.isArray(schema.examples) && ('type' in schema || 'properties' in schema || 'anyOf' in schema || '$ref' in schema)) {
      const { examples: list, ...rest } = schema;
      (list as unknown[]).forEach((e, i) => found.push([`${where}.examples.${i}`, rest, e]));
    }
    for (const [k, v] of Object.entries(schema)) if (k !== 'examples') walk(v, `${where}.${k}`);
  };
  walk(DOCUMENT.components.schemas, 'components.schemas');
  for (const { path, method, op } of operations) {
    walk(op.parameters, `${method} ${path} parameters`);
    for (const p of (op.parameters ?? []) as { name: string; schema: unknown; example?: unknown }[]) {
      if (p.example !== undefined) found.push([`${method} ${path} parameter ${p.name} example`, p.schema, p.example]);
    }
    const body = op.requestBody as { content: Record<string, { schema: unknown; example?: unknown }> } | undefined;
    for (const [media, c] of Object.entries(body?.content ?? {})) {
      if (c.example !== undefined && media === 'application/json') found.push([`${method} ${path} ${media} example`, c.schema, c.example]);
    }
  }
  return found;
}

t.test('every example in the document is a valid instance of its schema', async (t) => {
  const all = examples();
  t.ok(all.length >= 40, `${all.length} examples`);
  for (const [where, schema, example] of all) {
    const validate = validatorFor(schema, `example ${where}`);
    t.ok(validate(example), `${where}${validate.errors ? `: ${JSON.stringify(validate.errors)}` : ''}`);
  }
  const text = JSON.stringify(all.map(([, , e]) => e));
  t.notOk(text.includes(String(Number.MAX_SAFE_INTEGER)), 'no example is a bound');
  const problems = all.filter(([w]) => w.startsWith('components.schemas.Problem.examples'));
  t.ok(
    problems.every(([, , e]) => (e as { code: string; status: number }).status === 400 && (e as { code: string }).code !== 'not_found'),
    'the 400 example is a 400 code',
  );
});

t.test('schemas carry realistic bounds and formats; every 2xx says what it means', async (t) => {
  const schemas = DOCUMENT.components.schemas as Record<string, { properties: Record<string, Json> }>;
  t.equal((schemas.Ratio!.properties.value as { anyOf: Json[] }).anyOf[0]!.maximum, 1, 'a share says it cannot exceed 1');
  t.equal((schemas.Window!.properties.since as { anyOf: Json[] }).anyOf[0]!.format, 'date-time');
  for (const { path, method, op } of operations) {
    for (const p of (op.parameters ?? []) as { name: string; schema: Json }[]) {
      if (p.name === 'since' || p.name === 'until') t.equal(p.schema.format, 'date-time', `${method} ${path} ${p.name}`);
    }
    for (const [status, response] of Object.entries(op.responses)) {
      if (status.startsWith('2')) t.ok(response.description && response.description !== 'Default Response', `${method} ${path} ${status}: described`);
    }
  }
});

t.test('the batch operation keeps both request forms, and says how a client streams', async (t) => {
  const op = DOCUMENT.paths['/v1/events/batch']!.post! as unknown as { requestBody: { content: Record<string, { schema: Json }> }; description: string };
  t.same(Object.keys(op.requestBody.content).sort(), ['application/json', 'application/x-ndjson']);
  t.equal(op.requestBody.content['application/x-ndjson']!.schema.contentMediaType, 'application/x-ndjson');
  t.match(op.description, /ingestStream/);
});
