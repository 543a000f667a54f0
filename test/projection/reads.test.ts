import t from 'tap';
import { openDatabase } from '../../src/db/client.js';
import { at, bearer, tenantApp, TEST_DATABASE_URL } from '../helpers.js';

/** SPEC §7: a read reflects every event acknowledged before it began, or says what it lacks. */

const follow = (i: number, target = 'star') => ({ id: `f${i}`, type: 'follow', actor: `fan${i}`, target, occurred_at: at(i) });

/** Holds the workspace's projection lock from another connection, as a projector elsewhere would, until released. */
async function stallProjection(workspaceId: number) {
  const other = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const held = new Promise<void>((ready) => {
    void other.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', [0x52505231, workspaceId]);
      ready();
      await released;
    });
  });
  await held;
  return async () => {
    release();
    await new Promise((r) => setTimeout(r, 50));
    await other.close();
  };
}

t.test('every read answer right after an acknowledgement reflects it, and says it is complete', async (t) => {
  const { app, tenant } = await tenantApp(t);
  for (let i = 0; i < 20; i++) {
    const posted = await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.key), payload: follow(i) });
    t.equal(posted.statusCode, 201);
    const read = await app.inject({ method: 'GET', url: '/v1/accounts/star/reciprocity', headers: bearer(tenant.key) });
    t.equal(read.json().reciprocity.followers, i + 1, `read ${i} sees follow ${i}`);
    t.same(read.json().as_of, { complete: true, pending_events: 0 });
  }
  const urls = [
    '/v1/accounts/star/scores',
    '/v1/accounts/star/engagement',
    '/v1/accounts/star/spam',
    '/v1/accounts/star/scores?since=2025-01-01T00:00:00Z',
    '/v1/accounts/star/fans',
    '/v1/accounts/fan1/non-followers',
    '/v1/accounts/star/partners',
    '/v1/accounts/star/activity-hours',
    '/v1/accounts?sort=followers',
  ];
  for (const url of urls) {
    const res = await app.inject({ method: 'GET', url, headers: bearer(tenant.key) });
    t.equal(res.statusCode, 200, url);
    t.same(res.json().as_of, { complete: true, pending_events: 0 }, `${url} carries as_of`);
  }
  const batch = await app.inject({ method: 'POST', url: '/v1/scores/batch', headers: bearer(tenant.key), payload: { accounts: ['star'] } });
  t.same(batch.json().as_of, { complete: true, pending_events: 0 }, 'the scores batch carries as_of');
});

t.test('ingest status reports the backlog and what was projected', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.key), payload: { events: Array.from({ length: 50 }, (_, i) => follow(i)) } });
  await app.inject({ method: 'GET', url: '/v1/accounts/star/scores', headers: bearer(tenant.key) });
  for (const key of [tenant.writeKey, tenant.readKey]) {
    const res = await app.inject({ method: 'GET', url: '/v1/ingest/status', headers: bearer(key) });
    t.equal(res.statusCode, 200, 'either scope reads it');
    t.same(res.json(), { pending_events: 0, oldest_pending_seconds: 0, projected_events_total: 50 });
  }
});

t.test(
  'while the projection is held up: a default read waits READ_WAIT_MS then answers 503 projection_lagging; an eventual read answers at once',
  { skip: !TEST_DATABASE_URL && 'needs PostgreSQL: the lock is held from a second connection' },
  async (t) => {
    const { app, tenant } = await tenantApp(t, { READ_WAIT_MS: 300 });
    await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.key), payload: follow(1) });
    await app.inject({ method: 'GET', url: '/v1/accounts/star/scores', headers: bearer(tenant.key) });
    const release = await stallProjection(tenant.workspace.id);
    await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.key), payload: { events: [follow(2), follow(3)] } });

    const started = Date.now();
    const lagging = await app.inject({ method: 'GET', url: '/v1/accounts/star/scores', headers: bearer(tenant.key) });
    t.ok(Date.now() - started >= 300, 'it waited');
    t.equal(lagging.statusCode, 503);
    t.equal(lagging.json().code, 'projection_lagging');
    t.equal(lagging.json().pending_events, 2, 'the lag is in the problem');
    t.ok(lagging.json().oldest_pending_seconds >= 0);
    t.ok(Number(lagging.headers['retry-after']) >= 1, 'with Retry-After');

    const eventual = await app.inject({ method: 'GET', url: '/v1/accounts/star/reciprocity?consistency=eventual', headers: bearer(tenant.key) });
    t.equal(eventual.statusCode, 200);
    t.equal(eventual.json().reciprocity.followers, 1, 'as things are: the held-up events are not in it');
    t.same(eventual.json().as_of, { complete: false, pending_events: 2 });
    const status = await app.inject({ method: 'GET', url: '/v1/ingest/status', headers: bearer(tenant.key) });
    t.equal(status.json().pending_events, 2);

    await release();
    const caughtUp = await app.inject({ method: 'GET', url: '/v1/accounts/star/reciprocity', headers: bearer(tenant.key) });
    t.equal(caughtUp.statusCode, 200);
    t.equal(caughtUp.json().reciprocity.followers, 3, 'once the projector may run, the default read sees all three');
    t.same(caughtUp.json().as_of, { complete: true, pending_events: 0 });
  },
);

t.test('consistency takes strong or eventual, nothing else', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const res = await app.inject({ method: 'GET', url: '/v1/accounts/star/scores?consistency=sometimes', headers: bearer(tenant.key) });
  t.equal(res.statusCode, 400);
  t.equal(res.json().code, 'validation_failed');
  t.match(res.json().errors[0].field, /consistency/);
});
