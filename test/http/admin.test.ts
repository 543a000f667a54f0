import { randomBytes } from 'node:crypto';
import t from 'tap';
import { at, bearer, testApp, unique } from '../helpers.js';

const ADMIN_TOKEN = randomBytes(24).toString('hex');
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

t.test('a workspace is created once, then found again', async (t) => {
  const { app } = await testApp(t, { ADMIN_TOKEN });
  const name = unique('adm');
  const created = await app.inject({ method: 'POST', url: '/v1/admin/workspaces', headers: admin, payload: { name } });
  t.equal(created.statusCode, 201);
  t.match(created.json(), { name, created_at: INSTANT });
  const again = await app.inject({ method: 'POST', url: '/v1/admin/workspaces', headers: admin, payload: { name } });
  t.equal(again.statusCode, 200);
  t.same(again.json(), created.json(), 'the same workspace, created when it first was');
});

t.test('a key is issued, listed without its secret, works, and fails from the request after its revocation', async (t) => {
  const { app } = await testApp(t, { ADMIN_TOKEN });
  const name = unique('adm');
  await app.inject({ method: 'POST', url: '/v1/admin/workspaces', headers: admin, payload: { name } });
  const issued = await app.inject({ method: 'POST', url: `/v1/admin/workspaces/${name}/keys`, headers: admin, payload: { scopes: ['events:write'] } });
  t.equal(issued.statusCode, 201);
  const key = issued.json();
  t.match(key, { key: /^rpk_[a-z0-9]{12}_/, key_id: /^[a-z0-9]{12}$/, workspace: name, scopes: ['events:write'], created_at: INSTANT, revoked_at: null });

  const listed = await app.inject({ method: 'GET', url: `/v1/admin/workspaces/${name}/keys`, headers: admin });
  t.equal(listed.statusCode, 200);
  t.same(listed.json(), { keys: [{ key_id: key.key_id, workspace: name, scopes: ['events:write'], created_at: key.created_at, revoked_at: null }] });

  const event = { type: 'follow', actor: 'a', target: 'b', occurred_at: at(0) };
  t.equal((await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(key.key), payload: event })).statusCode, 201);

  const revoked = await app.inject({ method: 'DELETE', url: `/v1/admin/keys/${key.key_id}`, headers: admin });
  t.equal(revoked.statusCode, 200);
  const { revoked_at: revokedAt, ...rest } = revoked.json();
  t.match(revokedAt, INSTANT);
  t.same(rest, { key_id: key.key_id, workspace: name, scopes: ['events:write'], created_at: key.created_at });
  const twice = await app.inject({ method: 'DELETE', url: `/v1/admin/keys/${key.key_id}`, headers: admin });
  t.equal(twice.statusCode, 200);
  t.equal(twice.json().revoked_at, revokedAt, 'the first revocation stands');

  const after = await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(key.key), payload: event });
  t.equal(after.statusCode, 401);
  t.equal(after.json().code, 'invalid_key');
});

t.test('unknown workspaces and keys are 404 problems', async (t) => {
  const { app } = await testApp(t, { ADMIN_TOKEN });
  const noWs = await app.inject({ method: 'POST', url: `/v1/admin/workspaces/${unique('none')}/keys`, headers: admin, payload: {} });
  t.equal(noWs.statusCode, 404);
  t.equal(noWs.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.match(noWs.json(), { code: 'workspace_not_found', status: 404 });
  const noKey = await app.inject({ method: 'DELETE', url: '/v1/admin/keys/zzzzzzzzzzzz', headers: admin });
  t.equal(noKey.statusCode, 404);
  t.match(noKey.json(), { code: 'key_not_found', status: 404 });
});
