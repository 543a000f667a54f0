import t from 'tap';
import { followState } from '../../src/db/derived.js';
import { at, bearer, newTenant, projected, tenantApp, testApp } from '../helpers.js';

const follow = (actor: string, target: string, minutes: number, extra: object = {}) => ({
  type: 'follow',
  actor,
  target,
  occurred_at: at(minutes),
  ...extra,
});

t.test('a new event is accepted with 201 and its resend is a duplicate with 200', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const event = { id: 'evt-1', type: 'like', actor: 'tw:alice', target: 'tw:bob', occurred_at: at(0) };
  const first = await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.writeKey), payload: event });
  t.equal(first.statusCode, 201);
  t.same(first.json(), { id: 'evt-1', status: 'accepted' });
  const again = await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.writeKey), payload: event });
  t.equal(again.statusCode, 200);
  t.same(again.json(), { id: 'evt-1', status: 'duplicate' });
});

t.test('an event without id is identified by its content, whatever offset or spacing it was sent with', async (t) => {
  const { app, db, tenant } = await tenantApp(t);
  const send = (payload: object) => app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.writeKey), payload });
  const base = { type: 'post', actor: 'tw:alice', occurred_at: '2026-01-01T12:00:00Z', text: 'Hello  World' };
  const first = await send(base);
  t.equal(first.statusCode, 201);
  t.match(first.json().id, /^h:[0-9a-f]{32}$/);
  // Same instant written with an offset, same text up to case and white space: the same content.
  const same = await send({ ...base, occurred_at: '2026-01-01T14:00:00+02:00', text: ' hello\u00a0world ' });
  t.same(same.json(), { id: first.json().id, status: 'duplicate' });
  const other = await send({ ...base, text: 'Hello there' });
  t.equal(other.statusCode, 201);
  t.not(other.json().id, first.json().id);
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE workspace_id = $1', [tenant.workspace.id]);
  t.equal(rows[0]!.n, 2);
});

t.test('a reused id with other content is an id_conflict and the first event stands', async (t) => {
  const { app, db, tenant } = await tenantApp(t);
  const send = (payload: object) => app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.writeKey), payload });
  await send({ id: 'x', type: 'like', actor: 'a', target: 'b', occurred_at: at(0) });
  const conflict = await send({ id: 'x', type: 'like', actor: 'a', target: 'c', occurred_at: at(0) });
  t.equal(conflict.statusCode, 409);
  t.equal(conflict.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.match(conflict.json(), { code: 'id_conflict', status: 409, type: 'urn:rapport:problem:id_conflict' });
  const rows = await db.query<{ target: string }>('SELECT target FROM events WHERE workspace_id = $1 AND event_id = $2', [tenant.workspace.id, 'x']);
  t.same(rows, [{ target: 'b' }]);
});

t.test('occurred_at may lie up to 5 minutes in the future, not more', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
  const ok = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: bearer(tenant.writeKey),
    payload: { type: 'like', actor: 'a', target: 'b', occurred_at: inMinutes(4) },
  });
  t.equal(ok.statusCode, 201);
  const late = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: bearer(tenant.writeKey),
    payload: { type: 'like', actor: 'a', target: 'b', occurred_at: inMinutes(6) },
  });
  t.equal(late.statusCode, 422);
  t.equal(late.json().code, 'occurred_at_in_future');
});

t.test('a batch stores its valid events and reports each invalid one by index, in order', async (t) => {
  const { app, db, tenant } = await tenantApp(t);
  const events = [
    { id: 'e0', type: 'like', actor: 'a', target: 'b', occurred_at: at(0) },
    { id: 'e1', type: 'post', actor: 'a', target: 'b', occurred_at: at(0) },
    { id: 'e2', type: 'wave', actor: 'a', target: 'b', occurred_at: at(0) },
    { id: 'e0', type: 'like', actor: 'a', target: 'b', occurred_at: at(0) },
    { id: 'e0', type: 'like', actor: 'a', target: 'c', occurred_at: at(0) },
    { type: 'reply', actor: 'b', target: 'a', occurred_at: 'yesterday' },
    { type: 'like', actor: 'a', target: 'b', occurred_at: new Date(Date.now() + 3_600_000).toISOString() },
    { type: 'follow', actor: 'a', target: 'b', occurred_at: at(1), text: 'hi' },
    'not an object',
    { type: 'mention', actor: 'b', target: 'a', occurred_at: at(2), text: 'ok?' },
  ];
  const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.writeKey), payload: { events } });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.equal(body.accepted, 2);
  t.equal(body.duplicates, 1);
  t.same(
    body.rejected.map((r: { index: number; code: string }) => [r.index, r.code]),
    [
      [1, 'invalid_event'],
      [2, 'invalid_event'],
      [4, 'id_conflict'],
      [5, 'invalid_event'],
      [6, 'occurred_at_in_future'],
      [7, 'invalid_event'],
      [8, 'invalid_event'],
    ],
  );
  t.match(body.rejected[0].message, /^target: forbidden for type post$/);
  t.match(body.rejected[1].message, /^type: must be one of follow, unfollow/);
  t.match(body.rejected[3].message, /^occurred_at: must be an RFC 3339 date-time with an offset, from 0001-01-01 to 9999-12-31 UTC$/);
  t.match(body.rejected[5].message, /^text: only allowed for types post, reply, mention$/);
  const stored = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE workspace_id = $1', [tenant.workspace.id]);
  t.equal(stored[0]!.n, 2);
});

t.test('resending a whole batch gives only duplicates', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const events = Array.from({ length: 50 }, (_, i) => ({ type: 'like', actor: `u${i}`, target: 'star', occurred_at: at(i) }));
  const send = () => app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.writeKey), payload: { events } });
  t.same((await send()).json(), { accepted: 50, duplicates: 0, rejected: [], rejected_total: 0 });
  t.same((await send()).json(), { accepted: 0, duplicates: 50, rejected: [], rejected_total: 0 });
});

t.test('a JSON batch answers rejected_total like a stream does', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const events = [follow('rt:a', 'rt:b', 0), { type: 'follow', actor: 'rt:a', occurred_at: at(1) }, { type: 'wave' }];
  const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.writeKey), payload: { events } });
  t.match(res.json(), { accepted: 1, duplicates: 0, rejected: [{ index: 1 }, { index: 2 }], rejected_total: 2 });
});

t.test('an unknown field of a JSON batch body is refused, naming it', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.writeKey), payload: { events: [], dry_run: true } });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'validation_failed', errors: [{ field: 'dry_run', message: 'unknown field' }] });
});

t.test('text is turned into features and never stored', async (t) => {
  const { app, db, logs, tenant } = await tenantApp(t);
  const secret = 'Unmistakable-Phrase-8472 see https://example.com/x?y';
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: bearer(tenant.writeKey),
    payload: { id: 'p1', type: 'post', actor: 'a', occurred_at: at(0), text: secret },
  });
  t.equal(res.statusCode, 201);
  const rows = await db.query<Record<string, unknown>>(
    'SELECT has_link, is_question, fingerprint IS NOT NULL AS has_fingerprint, row_to_json(e)::text AS everything FROM events e WHERE workspace_id = $1',
    [tenant.workspace.id],
  );
  t.equal(rows.length, 1);
  t.match(rows[0], { has_link: true, is_question: false, has_fingerprint: true });
  t.notMatch(String(rows[0]!.everything), /Unmistakable|example\.com/i);
  t.notMatch(logs.join(''), /Unmistakable|example\.com/i);
});

t.test('the latest follow or unfollow decides the follow state, whatever the arrival order; unfollow wins a tie', async (t) => {
  const { app, db, tenant } = await tenantApp(t);
  const send = (events: object[]) => app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.writeKey), payload: { events } });
  const unfollow = (a: string, b: string, m: number) => ({ ...follow(a, b, m), type: 'unfollow' });
  // a→b: unfollow arrives before the earlier follow.
  await send([unfollow('a', 'b', 10)]);
  await send([follow('a', 'b', 5)]);
  // c→d: follow and unfollow at the same instant, in either order and in separate batches.
  await send([follow('c', 'd', 7)]);
  await send([unfollow('c', 'd', 7)]);
  await send([unfollow('e', 'f', 7), follow('e', 'f', 7)]);
  // g→h: a later follow wins over an earlier unfollow, sent in one batch in reverse order.
  await send([follow('g', 'h', 9), unfollow('g', 'h', 8), follow('g', 'h', 1)]);
  const ws = tenant.workspace.id;
  await projected(db, ws);
  t.same(await followState(db, ws, 'a', 'b'), { follows: false, since: '2026-01-01T00:10:00.000000Z' });
  t.equal((await followState(db, ws, 'c', 'd')).follows, false);
  t.equal((await followState(db, ws, 'e', 'f')).follows, false);
  t.same(await followState(db, ws, 'g', 'h'), { follows: true, since: '2026-01-01T00:09:00.000000Z' });
  t.equal((await followState(db, ws, 'h', 'g')).follows, false);
});

t.test('a JSON batch of more than 5,000 events is refused whole with 413', async (t) => {
  const { app, db, tenant } = await tenantApp(t);
  const events = Array.from({ length: 5_001 }, (_, i) => ({ type: 'like', actor: `u${i}`, target: 'x', occurred_at: at(0) }));
  const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.writeKey), payload: { events } });
  t.equal(res.statusCode, 413);
  t.equal(res.json().code, 'batch_too_large');
  const stored = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE workspace_id = $1', [tenant.workspace.id]);
  t.equal(stored[0]!.n, 0);
});

t.test('an NDJSON stream is ingested line by line, reporting rejections by line number', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const lines = [
    JSON.stringify({ id: 'n0', type: 'like', actor: 'a', target: 'b', occurred_at: at(0) }),
    '',
    '{not json',
    JSON.stringify({ id: 'n3', type: 'reply', actor: 'b', target: 'a', occurred_at: at(1), text: 'thanks!' }),
    JSON.stringify({ id: 'n4', type: 'follow', actor: 'a', occurred_at: at(1) }),
    JSON.stringify({ id: 'n0', type: 'like', actor: 'a', target: 'b', occurred_at: at(0) }),
  ];
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: { ...bearer(tenant.writeKey), 'content-type': 'application/x-ndjson' },
    payload: lines.join('\n'),
  });
  t.equal(res.statusCode, 200);
  t.same(res.json(), {
    accepted: 2,
    duplicates: 1,
    rejected: [
      { index: 2, code: 'invalid_json', message: 'the line is not valid JSON' },
      { index: 4, code: 'invalid_event', message: 'target: required for type follow' },
    ],
    rejected_total: 2,
  });
});

t.test('the same event id in two workspaces is two events, and neither workspace sees the other', async (t) => {
  const { app, db } = await testApp(t);
  const one = await newTenant(db);
  const two = await newTenant(db);
  const event = { id: 'shared', type: 'follow', actor: 'a', target: 'b', occurred_at: at(0) };
  const r1 = await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(one.writeKey), payload: event });
  const r2 = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: bearer(two.writeKey),
    payload: { ...event, type: 'like' },
  });
  t.equal(r1.statusCode, 201);
  t.equal(r2.statusCode, 201);
  await projected(db, one.workspace.id);
  await projected(db, two.workspace.id);
  t.equal((await followState(db, one.workspace.id, 'a', 'b')).follows, true);
  t.equal((await followState(db, two.workspace.id, 'a', 'b')).follows, false);
});
