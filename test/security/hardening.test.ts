import t from 'tap';
import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loadConfig } from '../../src/config.js';
import type { Problem } from '../../src/errors.js';
import { InFlight } from '../../src/http/in-flight.js';
import { LIMITS } from '../../src/domain/events.js';
import { at, bearer, newTenant, tenantApp, TEST_DATABASE_URL, testApp, unique } from '../helpers.js';
import { problemCode, rawConnection, status } from './raw.js';

/**
 * Reproducers of the ways a client, with a key or without, could crash or stall the service, on the
 * app in this process; against a `rapport serve` process: hardening.full.test.ts.
 */

t.test('a request for an unknown route, or for a route that takes no body, never has its body read', async (t) => {
  const { app } = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  for (const path of ['/nope', '/healthz', '/metrics', '/docs/json', '/openapi.json']) {
    // 32 MiB announced, a few bytes sent: the answer comes before the body.
    const c = await rawConnection(url, `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${32 * 1024 * 1024}\r\n\r\n{"a":[{},`);
    const end = await c.closed(5_000);
    t.equal(status(end.data), 404, `POST ${path}: 404 before the body arrived`);
    t.ok(end.closedByServer, `POST ${path}: the connection is closed, not drained`);
  }
});

t.test('requests for unknown routes count against the address’s rate limit', async (t) => {
  const { app } = await testApp(t, { RATE_LIMIT_PER_MINUTE: 5 });
  const codes: number[] = [];
  for (let i = 0; i < 8; i++) codes.push((await app.inject({ method: 'POST', url: `/nope/${i}`, payload: {} })).statusCode);
  t.same(codes, [404, 404, 404, 404, 404, 429, 429, 429]);
  const other = await app.inject({ method: 'GET', url: '/nope', remoteAddress: '10.0.0.9' });
  t.equal(other.statusCode, 404, 'another address has its own budget');
});

t.test('JSON bodies are bounded by values and depth, not only bytes', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const many = `{"events":[${'{},'.repeat(LIMITS.bodyMaxJsonTokens)}{}]}`;
  const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: { ...bearer(tenant.key), 'content-type': 'application/json' }, payload: many });
  t.equal(res.statusCode, 400);
  t.equal(res.json().code, 'too_complex');
  const deep = `{"events":[${'['.repeat(100)}${']'.repeat(100)}]}`;
  const res2 = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: { ...bearer(tenant.key), 'content-type': 'application/json' }, payload: deep });
  t.equal(res2.json().code, 'too_complex', 'nesting past the limit');
  const ok = await app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: bearer(tenant.key),
    payload: { events: Array.from({ length: LIMITS.batchMaxEvents }, (_, i) => ({ type: 'like', actor: `a${i}`, target: 'b', occurred_at: at(i), has_link: false })) },
  });
  t.equal(ok.statusCode, 200, 'a full batch of events is well within the bound');
  t.equal(ok.json().accepted, LIMITS.batchMaxEvents);
  // Strings may hold any number of brackets and quotes: only structure counts.
  const text = '{[,:"'.repeat(1000);
  const res3 = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...bearer(tenant.key), 'content-type': 'application/json' },
    payload: `{"type":"post","actor":"a","occurred_at":"${at(1)}","text":${JSON.stringify(text)}}`,
  });
  t.equal(res3.statusCode, 201, 'structure inside strings is not counted');
});

t.test('an NDJSON line that would parse into thousands of values is rejected unparsed; other lines are stored', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const good = JSON.stringify({ id: unique('e'), type: 'like', actor: 'a', target: 'b', occurred_at: at(1) });
  const bomb = `[${'{},'.repeat(300_000)}{}]`;
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: { ...bearer(tenant.key), 'content-type': 'application/x-ndjson' },
    payload: `${good}\n${bomb}\n`,
  });
  t.equal(res.statusCode, 200);
  t.same(
    res.json().rejected.map((r: { index: number; code: string }) => [r.index, r.code]),
    [[1, 'invalid_event']],
  );
  t.equal(res.json().accepted, 1);
});

t.test('a key runs at most MAX_STREAMS_PER_KEY streams at once; the next is 429 with Retry-After, other keys are unaffected', async (t) => {
  const { app, db, tenant } = await tenantApp(t, { MAX_STREAMS_PER_KEY: 1 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const open = await rawConnection(
    url,
    `POST /v1/events/batch HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${tenant.key}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n`,
  );
  t.teardown(() => open.socket.destroy());
  await new Promise((r) => setTimeout(r, 200));
  const second = await fetch(`${url}/v1/events/batch`, {
    method: 'POST',
    headers: { ...bearer(tenant.key), 'content-type': 'application/x-ndjson' },
    body: `${JSON.stringify({ type: 'like', actor: 'a', target: 'b', occurred_at: at(1) })}\n`,
  });
  t.equal(second.status, 429);
  t.equal(second.headers.get('retry-after'), '1');
  t.equal(((await second.json()) as { code: string }).code, 'too_many_in_flight');
  const other = await newTenant(db);
  const third = await fetch(`${url}/v1/events/batch`, {
    method: 'POST',
    headers: { ...bearer(other.key), 'content-type': 'application/x-ndjson' },
    body: `${JSON.stringify({ type: 'like', actor: 'a', target: 'b', occurred_at: at(1) })}\n`,
  });
  t.equal(third.status, 200, 'another key streams');
  open.socket.destroy();
  await new Promise((r) => setTimeout(r, 200));
  const again = await fetch(`${url}/v1/events/batch`, {
    method: 'POST',
    headers: { ...bearer(tenant.key), 'content-type': 'application/x-ndjson' },
    body: `${JSON.stringify({ type: 'like', actor: 'a', target: 'c', occurred_at: at(1) })}\n`,
  });
  t.equal(again.status, 200, 'the slot is free once the first stream is gone');
});

t.test('heavy reads are limited per key (429) and in all (503), and all-time reads go on', async (t) => {
  const inFlight = new InFlight({ stream: 1, heavy_read: 2 }, { heavy_read: 3 });
  const request = (keyId: string) => ({ keyId }) as FastifyRequest;
  const replies: EventEmitter[] = [];
  const reply = () => {
    const raw = new EventEmitter();
    replies.push(raw);
    return { raw } as unknown as FastifyReply;
  };
  const code = (fn: () => void) => {
    try {
      fn();
      return 'held';
    } catch (err) {
      return (err as Problem).code;
    }
  };
  t.equal(
    code(() => inFlight.hold(request('a'), reply(), 'heavy_read')),
    'held',
  );
  t.equal(
    code(() => inFlight.hold(request('a'), reply(), 'heavy_read')),
    'held',
  );
  t.equal(
    code(() => inFlight.hold(request('a'), reply(), 'heavy_read')),
    'too_many_in_flight',
    'a third for key a: 429',
  );
  t.equal(
    code(() => inFlight.hold(request('b'), reply(), 'heavy_read')),
    'held',
    'key b has its own budget',
  );
  t.equal(
    code(() => inFlight.hold(request('c'), reply(), 'heavy_read')),
    'overloaded',
    'the process runs three at most: 503',
  );
  t.equal(
    code(() => inFlight.hold(request('c'), reply(), 'stream')),
    'held',
    'streams are counted apart',
  );
  replies[0]!.emit('close');
  t.equal(
    code(() => inFlight.hold(request('c'), reply(), 'heavy_read')),
    'held',
    'a finished read frees its slot in all and for its key',
  );
  t.equal(
    code(() => inFlight.hold(request('a'), reply(), 'heavy_read')),
    'overloaded',
  );
  const { app, tenant } = await tenantApp(t, { MAX_HEAVY_READS: 1 });
  const reads = await Promise.all(Array.from({ length: 8 }, () => app.inject({ method: 'GET', url: '/v1/accounts/a/scores', headers: bearer(tenant.key) })));
  t.ok(
    reads.every((r) => r.statusCode === 200),
    'all-time reads are not heavy: none is refused',
  );
});

t.test('failed authentications are throttled per client address, before any key lookup', async (t) => {
  const ADMIN_TOKEN = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
  const { app, tenant } = await tenantApp(t, { AUTH_FAILURES_PER_MINUTE: 3, ADMIN_TOKEN });
  const get = (authorization: string, remoteAddress = '203.0.113.7') => app.inject({ method: 'GET', url: '/v1/accounts/a/scores', headers: { authorization }, remoteAddress });
  const bad = 'Bearer rpk_aaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const codes = [];
  for (let i = 0; i < 3; i++) codes.push((await get(bad)).statusCode);
  t.same(codes, [401, 401, 401], 'the first failures are answered 401');
  const throttled = await get(bad);
  t.equal(throttled.statusCode, 429, 'then 429');
  t.ok(Number(throttled.headers['retry-after']) >= 1, 'with Retry-After');
  t.equal(throttled.json().code, 'rate_limited');
  t.equal((await get(`Bearer ${tenant.key}`)).statusCode, 429, 'even a valid key from that address waits out the minute');
  t.equal((await get(`Bearer ${tenant.key}`, '198.51.100.2')).statusCode, 200, 'another address is unaffected');
  const admin = (authorization: string) =>
    app.inject({ method: 'GET', url: `/v1/admin/workspaces/${tenant.workspace.name}/keys`, headers: { authorization }, remoteAddress: '192.0.2.1' });
  const adminCodes = [];
  for (let i = 0; i < 4; i++) adminCodes.push((await admin('Bearer wrong-admin-token-0000000000')).statusCode);
  t.same(adminCodes, [401, 401, 401, 429], 'wrong admin tokens are throttled alike');
});

t.test('weak or copied tokens are refused at start-up; generated ones are accepted', async (t) => {
  for (const weak of ['change-me-to-16+chars', 'a'.repeat(40), 'correct-horse-battery-staple', 'my-admin-token-1234567890abcdef', '0123456789012345678901234567']) {
    t.throws(() => loadConfig({ ADMIN_TOKEN: weak }), /ADMIN_TOKEN/, `ADMIN_TOKEN ${weak} is refused`);
    t.throws(() => loadConfig({ METRICS_TOKEN: weak }), /METRICS_TOKEN/, `METRICS_TOKEN ${weak} is refused`);
  }
  for (const good of ['f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3021', 'q7Jm2xV9pL4sT8wZ1cR6yN3bK5hF0dG']) {
    t.equal(loadConfig({ ADMIN_TOKEN: good }).ADMIN_TOKEN, good, `${good} is accepted`);
  }
});

t.test('401 answers carry the security headers and WWW-Authenticate', async (t) => {
  const { app } = await testApp(t);
  const missing = await app.inject({ method: 'GET', url: '/v1/accounts/a/scores' });
  t.equal(missing.statusCode, 401);
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="rapport"');
  t.equal(missing.headers['x-content-type-options'], 'nosniff', 'helmet ran before authentication');
  t.ok(missing.headers['content-security-policy'], 'with a CSP');
  const invalid = await app.inject({ method: 'GET', url: '/v1/accounts/a/scores', headers: { authorization: 'Bearer rpk_nope' } });
  t.equal(invalid.headers['www-authenticate'], 'Bearer realm="rapport", error="invalid_token"');
});

t.test("Node's own answers to malformed HTTP and oversized headers are problem+json", async (t) => {
  const { app } = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const garbage = await (await rawConnection(url, 'NOT HTTP AT ALL\r\n\r\n')).closed(5_000);
  t.equal(status(garbage.data), 400);
  t.match(garbage.data, /content-type: application\/problem\+json/i);
  t.equal(problemCode(garbage.data), 'malformed_request');
  const huge = await (await rawConnection(url, `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(40_000)}\r\n\r\n`)).closed(5_000);
  t.equal(status(huge.data), 431);
  t.equal(problemCode(huge.data), 'headers_too_large');
});

t.test('request logs carry the route pattern, never the path (account names) or the query (a key pasted there)', async (t) => {
  const { app, logs, tenant } = await tenantApp(t);
  await app.inject({ method: 'GET', url: `/v1/accounts/tw%3Ajane.doe/scores?key=${tenant.key}`, headers: bearer(tenant.key) });
  const text = logs.join('');
  t.notMatch(text, tenant.key.slice(4), 'no key in the logs');
  t.notMatch(text, /jane/, 'no account name in the logs');
  t.match(text, /"route":"\/v1\/accounts\/:account\/scores"/, 'the route pattern is logged');
});

t.test(
  'load shedding is logged as a warning without a stack trace',
  { skip: !TEST_DATABASE_URL && 'on PGlite the event loop runs the queries: no event-loop shedding' },
  async (t) => {
    const { app, logs, tenant } = await tenantApp(t, { LOAD_SHED_EVENT_LOOP_DELAY_MS: 20 });
    await app.ready();
    // As in protection.test.ts: the stall is repeated until a request meets the pressure.
    let shed = false;
    for (let attempt = 0; attempt < 10 && !shed; attempt++) {
      const until = Date.now() + 400;
      while (Date.now() < until);
      for (let i = 0; i < 60 && !shed; i++) {
        shed = (await app.inject({ method: 'GET', url: '/v1/accounts/a/scores', headers: bearer(tenant.key) })).statusCode === 503;
        if (!shed) await new Promise((r) => setTimeout(r, 5));
      }
    }
    t.ok(shed, 'a request was shed');
    const lines = logs.map((l) => JSON.parse(l) as { level: number; code?: string; err?: unknown });
    const shedLines = lines.filter((l) => l.code === 'overloaded');
    t.ok(shedLines.length > 0, 'the shed request is logged');
    t.ok(
      shedLines.every((l) => l.level === 40 && l.err === undefined),
      'at warn level, without an error object or stack',
    );
  },
);
