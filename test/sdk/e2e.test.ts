import t from 'tap';
import { createRapportClient } from '../../sdk/index.js';
import { testApp, unique } from '../helpers.js';

/**
 * The service on loopback, driven only through the typed SDK generated from the committed
 * document: every operation, from creating a workspace to erasing an account.
 */
t.test('every operation works through the generated SDK', async (t) => {
  const ADMIN_TOKEN = 'sdk-test-admin-token-0123456789';
  const { app } = await testApp(t, { ADMIN_TOKEN });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const admin = createRapportClient({ baseUrl, key: ADMIN_TOKEN });
  const name = unique('sdk');

  const health = await admin.GET('/healthz');
  t.same(health.data, { status: 'ok' });
  t.same((await admin.GET('/readyz')).data, { status: 'ok' });

  const ws = await admin.POST('/v1/admin/workspaces', { body: { name } });
  t.equal(ws.response.status, 201);
  t.equal(ws.data?.name, name);
  t.equal((await admin.POST('/v1/admin/workspaces', { body: { name } })).response.status, 200, 'idempotent');

  const created = await admin.POST('/v1/admin/workspaces/{name}/keys', {
    params: { path: { name } },
    body: { scopes: ['events:write', 'scores:read'] },
  });
  t.equal(created.response.status, 201);
  const key = created.data!.key;
  const spare = await admin.POST('/v1/admin/workspaces/{name}/keys', { params: { path: { name } }, body: { scopes: ['scores:read'] } });
  const listed = await admin.GET('/v1/admin/workspaces/{name}/keys', { params: { path: { name } } });
  t.equal(listed.data?.keys.length, 2);
  t.notOk(JSON.stringify(listed.data).includes(key.split('_')[2]!), 'no secret in the listing');
  const revoked = await admin.DELETE('/v1/admin/keys/{key_id}', { params: { path: { key_id: spare.data!.key_id } } });
  t.type(revoked.data?.revoked_at, 'string');

  const rapport = createRapportClient({ baseUrl, key });
  const one = await rapport.POST('/v1/events', {
    body: { id: 'e1', type: 'follow', actor: 'tw:alice', target: 'tw:bob', occurred_at: '2026-11-20T10:00:00Z' },
  });
  t.equal(one.response.status, 201);
  t.same(one.data, { id: 'e1', status: 'accepted' });
  const batch = await rapport.POST('/v1/events/batch', {
    body: {
      events: [
        { type: 'follow', actor: 'tw:bob', target: 'tw:alice', occurred_at: '2026-11-20T10:01:00Z' },
        { type: 'reply', actor: 'tw:bob', target: 'tw:alice', occurred_at: '2026-11-20T10:02:00Z', text: 'Chapter 3?' },
        { type: 'mention', actor: 'tw:alice', target: 'tw:bob', occurred_at: '2026-11-20T11:00:00Z' },
        { type: 'like', actor: 'tw:carol', target: 'tw:alice', occurred_at: '2026-11-20T12:00:00Z' },
        { type: 'follow', actor: 'tw:alice', target: 'tw:dave', occurred_at: '2026-11-20T12:30:00Z' },
        { type: 'post', actor: 'tw:alice', occurred_at: '2026-11-20T13:00:00Z', text: 'New post https://x.test' },
      ],
    },
  });
  t.same(batch.data, { accepted: 6, duplicates: 0, rejected: [] });

  const path = { account: 'tw:alice' };
  const scores = await rapport.GET('/v1/accounts/{account}/scores', { params: { path } });
  t.match(scores.data?.reciprocity, { followers: 1, following: 2, mutual: 1, response_rate: { value: 1, numerator: 1, denominator: 1 } });
  t.equal(scores.data?.engagement.interactions_received.total, 2);
  t.equal(scores.data?.spam.posts, 1);
  const windowed = await rapport.GET('/v1/accounts/{account}/reciprocity', {
    params: { path, query: { since: '2026-11-20T11:30:00Z', churn_hours: 24 } },
  });
  t.same(windowed.data?.window, { since: '2026-11-20T11:30:00.000000Z', until: null, churn_hours: 24 });
  t.equal(windowed.data?.reciprocity.partners_engaging, 1);
  t.equal((await rapport.GET('/v1/accounts/{account}/engagement', { params: { path } })).data?.engagement.engaged_followers, 1);
  t.equal((await rapport.GET('/v1/accounts/{account}/spam', { params: { path } })).data?.spam.link_post_ratio.value, 1);

  const many = await rapport.POST('/v1/scores/batch', { body: { accounts: ['tw:alice', 'tw:nobody'] } });
  t.same(many.data?.results.map((r) => [r.account, r.reciprocity.followers]), [
    ['tw:alice', 1],
    ['tw:nobody', 0],
  ]);
  const ranked = await rapport.GET('/v1/accounts', { params: { query: { sort: 'followers', limit: 2 } } });
  t.equal(ranked.data?.items.length, 2);
  t.type(ranked.data?.next_cursor, 'string');
  const next = await rapport.GET('/v1/accounts', { params: { query: { sort: 'followers', limit: 2, cursor: ranked.data!.next_cursor! } } });
  t.equal(next.data?.items.length, 2);

  t.same((await rapport.GET('/v1/accounts/{account}/non-followers', { params: { path } })).data?.items.map((i) => i.account), ['tw:dave']);
  t.same((await rapport.GET('/v1/accounts/{account}/fans', { params: { path: { account: 'tw:bob' } } })).data?.items, []);
  const partners = await rapport.GET('/v1/accounts/{account}/partners', { params: { path } });
  t.same(partners.data?.items.map((p) => [p.account, p.exchange]), [
    ['tw:bob', 1],
    ['tw:carol', 0],
  ]);
  const hours = await rapport.GET('/v1/accounts/{account}/activity-hours', { params: { path, query: { tz: 'Europe/Paris' } } });
  t.equal(hours.data?.hours.length, 168);
  t.same(hours.data?.best_hours.map((h) => [h.weekday, h.hour]), [
    ['friday', 11],
    ['friday', 13],
  ]);

  const bad = await rapport.GET('/v1/accounts/{account}/scores', { params: { path, query: { churn_hours: 0 } } });
  t.equal(bad.response.status, 400);
  t.equal(bad.error?.code, 'validation_failed');

  const erased = await rapport.DELETE('/v1/accounts/{account}', { params: { path: { account: 'tw:carol' } } });
  t.same(erased.data, { account: 'tw:carol', events_deleted: 1 });
  const after = await rapport.GET('/v1/accounts/{account}/engagement', { params: { path } });
  t.equal(after.data?.engagement.interactions_received.total, 1, 'carol’s like is gone');
});
