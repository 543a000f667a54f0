import t from 'tap';
import { bearer, tenantApp, TEST_DATABASE_URL, testApp } from '../helpers.js';

t.test('answers carry security headers', async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
  t.match(res.headers['strict-transport-security'], /max-age=/);
  t.match(res.headers['content-security-policy'], /default-src 'self'/);
});

t.test('CORS is off by default and allows exactly the configured origins', async (t) => {
  const off = await testApp(t);
  const plain = await off.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://app.example.com' } });
  t.equal(plain.headers['access-control-allow-origin'], undefined);
  const on = await testApp(t, { CORS_ORIGINS: ['https://app.example.com'] });
  const allowed = await on.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://app.example.com' } });
  t.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
  const other = await on.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://evil.example' } });
  t.equal(other.headers['access-control-allow-origin'], undefined);
});

t.test('the rate limit counts per key and answers 429 problem+json with Retry-After and RateLimit headers', async (t) => {
  const { app, tenant } = await tenantApp(t, { RATE_LIMIT_PER_MINUTE: 3 });
  const get = (key: string) => app.inject({ method: 'GET', url: '/v1/accounts/a/scores', headers: bearer(key) });
  const first = await get(tenant.readKey);
  t.equal(first.statusCode, 200);
  t.equal(first.headers['ratelimit-limit'], '3');
  t.equal(first.headers['ratelimit-remaining'], '2');
  await get(tenant.readKey);
  await get(tenant.readKey);
  const limited = await get(tenant.readKey);
  t.equal(limited.statusCode, 429);
  t.equal(limited.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(limited.json().code, 'rate_limited');
  t.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After in seconds');
  // Another key of the same client address has its own budget.
  t.equal((await get(tenant.key)).statusCode, 200);
});

t.test(
  'an overloaded event loop sheds requests with 503 and Retry-After, while the probes still answer',
  { skip: !TEST_DATABASE_URL && 'on PGlite the event loop runs the queries: no event-loop shedding' },
  async (t) => {
    const { app, tenant } = await tenantApp(t, { LOAD_SHED_EVENT_LOOP_DELAY_MS: 20 });
    await app.ready();
    // Hold the event loop well past the limit; a later sample of its delay puts the process under
    // pressure. Which sample sees the stall depends on the sampler's phase (one that took no sample
    // at all is ignored), so the stall is repeated until a request meets the pressure.
    let shed: Awaited<ReturnType<typeof app.inject>> | undefined;
    for (let attempt = 0; attempt < 10 && !shed; attempt++) {
      const until = Date.now() + 400;
      while (Date.now() < until);
      for (let i = 0; i < 60 && !shed; i++) {
        const res = await app.inject({ method: 'GET', url: '/v1/accounts/a/scores', headers: bearer(tenant.readKey) });
        if (res.statusCode === 503) shed = res;
        else await new Promise((r) => setTimeout(r, 5));
        if (i === 0) t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness is never shed');
      }
    }
    t.ok(shed, 'a request was shed');
    t.equal(shed!.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.equal(shed!.json().code, 'overloaded');
    t.equal(shed!.headers['retry-after'], '5');
  },
);
