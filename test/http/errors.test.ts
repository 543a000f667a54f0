import t, { type Test } from 'tap';
import { revokeKey } from '../../src/db/workspaces.js';
import { parseKey } from '../../src/domain/keys.js';
import { at, bearer, secretOf, tenantApp, testApp } from '../helpers.js';

const PROBLEM = 'application/problem+json; charset=utf-8';
const like = { type: 'like', actor: 'a', target: 'b', occurred_at: at(0) };

/** Every error answer: the status, problem+json, the stable code, and nothing internal. */
function assertProblem(t: Test, res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, code: string) {
  t.equal(res.statusCode, status, `status ${status}`);
  t.equal(res.headers['content-type'], PROBLEM);
  const body = JSON.parse(res.body);
  t.match(body, { type: `urn:rapport:problem:${code}`, status, code, title: String, detail: String });
  t.notMatch(res.body, /at .*\.(ts|js):\d+|SELECT|INSERT|node_modules/);
}

t.test('an unknown route is a 404 problem', async (t) => {
  const { app } = await testApp(t);
  assertProblem(t, await app.inject({ method: 'GET', url: '/v1/nothing-here' }), 404, 'not_found');
});

t.test('a body that is not JSON is a 400 problem and stores nothing', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: { ...bearer(tenant.writeKey), 'content-type': 'application/json' },
    payload: '{"events": [',
  });
  assertProblem(t, res, 400, 'malformed_json');
  const empty = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...bearer(tenant.writeKey), 'content-type': 'application/json' },
    payload: '',
  });
  assertProblem(t, empty, 400, 'malformed_json');
});

t.test('a batch body without an events array is a 400 problem naming the field', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.writeKey), payload: { events: 'x' } });
  assertProblem(t, res, 400, 'validation_failed');
  t.same(res.json().errors, [{ field: 'events', message: 'must be an array of events' }]);
});

t.test('a single invalid event is a 400 problem listing each offending field', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: bearer(tenant.writeKey),
    payload: { type: 'like', actor: '', occurred_at: 'soon', colour: 'red' },
  });
  assertProblem(t, res, 400, 'validation_failed');
  const fields = res
    .json()
    .errors.map((e: { field: string }) => e.field)
    .sort();
  t.same(fields, ['actor', 'colour', 'occurred_at', 'target']);
});

t.test('an unsupported media type is a 415 problem', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...bearer(tenant.writeKey), 'content-type': 'text/plain' },
    payload: 'hello',
  });
  assertProblem(t, res, 415, 'unsupported_media_type');
});

t.test('a body over the limit is refused with 413 from its Content-Length alone', async (t) => {
  const { app, tenant } = await tenantApp(t, { MAX_BODY_BYTES: 2048 });
  const payload = JSON.stringify({ events: Array.from({ length: 100 }, () => like) });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: { ...bearer(tenant.writeKey), 'content-type': 'application/json', 'content-length': String(payload.length) },
    payload,
  });
  assertProblem(t, res, 413, 'payload_too_large');
});

t.test('requests without a valid key are 401 problems', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/events', headers, payload: like });
  assertProblem(t, await post({}), 401, 'missing_credentials');
  assertProblem(t, await post({ authorization: 'Basic abc' }), 401, 'missing_credentials');
  assertProblem(t, await post(bearer('not-a-key')), 401, 'invalid_key');
  const forged = tenant.writeKey.slice(0, -4) + 'AAAA';
  assertProblem(t, await post(bearer(forged)), 401, 'invalid_key');
  const unknownId = 'rpk_000000000000_' + secretOf(tenant.writeKey);
  assertProblem(t, await post(bearer(unknownId)), 401, 'invalid_key');
});

t.test('a revoked key stops working on the next request', async (t) => {
  const { app, db, tenant } = await tenantApp(t);
  const post = () => app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.writeKey), payload: like });
  t.equal((await post()).statusCode, 201);
  await revokeKey(db, parseKey(tenant.writeKey)!.keyId);
  assertProblem(t, await post(), 401, 'invalid_key');
});

t.test('a key without the needed scope is a 403 problem', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const res = await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.readKey), payload: like });
  assertProblem(t, res, 403, 'insufficient_scope');
});

t.test('authentication is checked before the body is read', async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: { 'content-type': 'application/json' },
    payload: '{broken',
  });
  assertProblem(t, res, 401, 'missing_credentials');
});

t.test('keys never reach the logs', async (t) => {
  const { app, logs, tenant } = await tenantApp(t);
  await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.writeKey), payload: like });
  await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.writeKey + 'x'), payload: like });
  t.ok(logs.length > 0, 'requests were logged');
  const secret = secretOf(tenant.writeKey);
  t.notOk(logs.join('').includes(secret), 'no secret in the logs');
});

t.test('every answer carries a request id, the caller’s when it sends a sane one', async (t) => {
  const { app } = await testApp(t);
  const mine = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
  t.equal(mine.headers['x-request-id'], 'abc-123');
  const insane = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'a b\u00e9' } });
  t.match(insane.headers['x-request-id'], /^[0-9a-f-]{36}$/);
});

t.test('health and readiness answer 200 while the database is reachable', async (t) => {
  const { app } = await testApp(t);
  t.same((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
  t.same((await app.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'ok' });
});
