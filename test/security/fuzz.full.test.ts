import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { at, bearer, type Tenant, tenantApp, type TestApp } from '../helpers.js';

/**
 * Hostile input against every route (SPEC §5: errors are problem+json, no stack trace or SQL ever
 * reaches a client; SPEC §2: nothing of a rejected event is stored). The routes come from the
 * committed openapi/openapi.json, so a new route is fuzzed without touching this file. Every answer
 * of every request goes through `send`, which checks:
 *
 * - the status is never 5xx;
 * - a 4xx is `application/problem+json; charset=utf-8` with `type`, `title`, `status`, `code`, `detail`;
 * - no body carries a stack trace, SQL or a file path;
 * - the events of the workspace (counted around every request but reads) change exactly by what the
 *   answer reports: +1 for a 201 of POST /v1/events, +`accepted` for a 200 of POST /v1/events/batch,
 *   −`events_deleted` for an erasure, and not at all for anything else, in particular for any 4xx.
 *
 * Set FUZZ_SEED to replay a run; FUZZ_RUNS_FACTOR scales every numRuns (e.g. 10 for a long soak).
 */

type App = TestApp['app'];
type Db = TestApp['db'];

const PROBLEM = 'application/problem+json; charset=utf-8';
const ADMIN_TOKEN = 'a'.repeat(32);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const FACTOR = Number(process.env.FUZZ_RUNS_FACTOR) || 1;
/** `shrink: false` for inputs too big to shrink in reasonable time: the first counterexample is reported as found. */
const runs = (n: number, shrink = true) => ({
  numRuns: Math.max(1, Math.round(n * FACTOR)),
  ...(SEED === undefined ? {} : { seed: SEED }),
  endOnFailure: !shrink,
});

// ---- the operations, from the committed document -------------------------------------------------

interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, unknown> };
}
const DOCUMENT = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
};

interface Op {
  id: string;
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  path: string;
  pathParams: string[];
  queryParams: string[];
  body: boolean;
  auth: 'key' | 'admin' | 'none';
}

const OPERATIONS: Op[] = Object.entries(DOCUMENT.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => {
    const requirement = op.security?.[0] ?? {};
    return {
      id: op.operationId,
      method: method.toUpperCase() as Op['method'],
      path,
      pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
      queryParams: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      body: op.requestBody !== undefined,
      auth: 'apiKey' in requirement ? 'key' : 'adminToken' in requirement ? 'admin' : 'none',
    } satisfies Op;
  }),
);

// ---- what no answer may contain -------------------------------------------------------------------

const LEAKS: [string, RegExp][] = [
  ['a stack trace', /\bat (?:async )?[\w$.<>[\] ]*\(?(?:file:|node:|\/)[^\s)"]*:\d+:\d+|(?:\\n|\n)\s+at \S/],
  ['a source location', /\.(?:[cm]?[jt]sx?):\d+/],
  [
    'SQL',
    /\b(?:SELECT|INSERT|UPDATE \w+ SET|DELETE FROM|RETURNING|ON CONFLICT|unnest|syntax error at or near|invalid input syntax|violates \w+ constraint|relation "\w+"|out of range for type|pg_\w+)\b|::(?:text|int4|int8|float8|timestamptz|bool|bytea|event_type)\b/,
  ],
  ['a file path', /(?:^|[^\w%])\/(?:work|home|usr|tmp|root|app|opt|var|etc|proc|srv)\/|node_modules|file:\/\/|\b[A-Z]:\\/],
];
const leakIn = (text: string) => LEAKS.find(([, re]) => re.test(text))?.[0];

// ---- the harness ------------------------------------------------------------------------------------

interface Req {
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string | Buffer;
}

interface Res {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

interface Harness {
  app: App;
  db: Db;
  tenant: Tenant;
  /** Sends the request with the right credentials and checks the answer; throws what is wrong. */
  send(op: Op, req: Req): Promise<Res>;
}

const describe = (req: Req) => {
  const payload = req.payload === undefined ? '' : typeof req.payload === 'string' ? req.payload : req.payload.toString('latin1');
  const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);
  return `${req.method} ${short(req.url)} ${JSON.stringify(req.headers ?? {})} ${short(JSON.stringify(payload))}`;
};

async function harness(t: Test): Promise<Harness> {
  // Load shedding is off: on a busy machine an event-loop lag answers 503 `overloaded` by design,
  // which says nothing about how hostile input is handled.
  const { app, db, tenant } = await tenantApp(t, { ADMIN_TOKEN, LOAD_SHED_EVENT_LOOP_DELAY_MS: 0 });
  const count = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE workspace_id = $1', [tenant.workspace.id]))[0]!.n;
  const credentials = (op: Op) => (op.auth === 'admin' ? bearer(ADMIN_TOKEN) : op.auth === 'none' ? {} : bearer(tenant.key));

  async function send(op: Op, req: Req): Promise<Res> {
    // Reads cannot store anything; the events are counted around every other request.
    const reads = req.method === 'GET' || req.method === 'HEAD';
    const before = reads ? 0 : await count();
    const res: Res = await app.inject({
      method: req.method as 'GET',
      url: req.url,
      headers: { ...credentials(op), ...req.headers },
      ...(req.payload === undefined ? {} : { payload: req.payload }),
    });
    const after = reads ? 0 : await count();
    const fail = (what: string): never => {
      throw new Error(`${what}\n  request: ${describe(req)}\n  answer: ${res.statusCode} ${String(res.headers['content-type'])} ${res.body.slice(0, 2000)}`);
    };
    if (res.statusCode >= 500) fail(`a ${res.statusCode} answer`);
    const contentType = res.headers['content-type'];
    const type = typeof contentType === 'string' ? contentType : '';
    let body: unknown;
    if (res.statusCode >= 400) {
      if (type !== PROBLEM) fail(`a ${res.statusCode} answer that is not problem+json`);
      try {
        body = JSON.parse(res.body);
      } catch {
        fail('a problem+json answer that is not JSON');
      }
      const p = body as Record<string, unknown>;
      for (const field of ['type', 'title', 'code', 'detail'] as const) if (typeof p[field] !== 'string' || p[field] === '') fail(`a problem without ${field}`);
      if (p.status !== res.statusCode) fail('a problem whose status is not the answer’s');
      if (p.type !== `urn:rapport:problem:${String(p.code)}`) fail('a problem whose type does not name its code');
      if (p.errors !== undefined && !Array.isArray(p.errors)) fail('a problem whose errors are not a list');
    } else if (type.startsWith('application/json')) {
      try {
        body = JSON.parse(res.body);
      } catch {
        fail('a JSON answer that is not JSON');
      }
    }
    const leak = leakIn(res.body);
    if (leak) fail(`an answer that contains ${leak}`);
    // Storage accounting: the answer says exactly what was stored or erased.
    const b = body as { accepted?: number; events_deleted?: number; status?: string } | undefined;
    let expected = 0;
    if (res.statusCode < 300 && req.method === 'POST' && op.id === 'ingestEvent') expected = res.statusCode === 201 ? 1 : 0;
    else if (res.statusCode < 300 && req.method === 'POST' && op.id === 'ingestEvents') expected = b?.accepted ?? NaN;
    else if (res.statusCode < 300 && req.method === 'DELETE' && op.id === 'deleteAccount') expected = -(b?.events_deleted ?? NaN);
    if (after - before !== expected) fail(`the workspace's events changed by ${after - before}, the answer reports ${expected}`);
    return res;
  }
  return { app, db, tenant, send };
}

/** Runs a fast-check property; a counterexample fails the test with fast-check's report (seed, path, input). */
async function property<T>(t: Test, name: string, arb: fc.Arbitrary<T>, check: (v: T) => Promise<unknown>, numRuns: number, shrink = true) {
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (v) => {
        await check(v);
      }),
      runs(numRuns, shrink),
    );
    t.pass(name);
  } catch (err) {
    // fast-check's own report (seed, path, counterexample) follows the error the counterexample raised.
    const cause = (err as Error & { cause?: Error }).cause;
    t.fail(`${name}: ${cause?.message ?? ''}\n${(err as Error).message.slice(0, 3000)}`);
  }
}

// ---- hostile values ------------------------------------------------------------------------------

/** Percent-encodes the UTF-8 bytes of a string (lone surrogates become U+FFFD, as any client would send them). */
const pct = (bytes: Uint8Array | string, all = false) =>
  [...(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes)]
    .map((b) => (!all && /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');

const SPECIAL_CHARS = [
  '\u0000',
  '\u0001',
  '\b',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\u200b',
  '\u202e',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\uffff',
  '\ufffe',
  '%',
  '/',
  '\\',
  '?',
  '#',
  '&',
  '=',
  '"',
  "'",
  '<',
  '>',
  '{',
  '}',
  '[',
  ']',
  '.',
  ' ',
  ':',
  '😀',
  'é',
  'ß',
  'İ',
  'ﬀ',
];
const SPECIAL_STRINGS = [
  '',
  ' ',
  'NaN',
  '-NaN',
  'nan',
  'Infinity',
  '-Infinity',
  'inf',
  '1e309',
  '-1e309',
  '0x1f',
  '0b1',
  '1_000',
  '-0',
  '00',
  '+1',
  ' 1',
  '1 ',
  '1.5',
  '-1',
  '0',
  '1e2',
  '9007199254740993',
  '-9223372036854775809',
  '18446744073709551616',
  '99999999999999999999999999',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '%',
  '%00',
  '%zz',
  '..',
  '.',
  '../..',
  '..%2f..',
  '\u0000',
  '\ud800',
  '\udfff',
  'a\ud800b',
  '\ud83d',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  "'; --",
  '" OR ""="',
  "' OR 1=1 --",
  '$1',
  '%s%s%n',
  '{{7*7}}',
  '${7*7}',
  '<script>alert(1)</script>',
  'UTC',
  'Europe/Paris',
  'follow',
  'post',
  'events:write',
  'scores:read',
  'rpk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  '\u202e\u0000\ud800%00..',
];

const longString = fc.tuple(fc.constantFrom('x', 'é', '😀', '\ud800', '\u0000', '%', 'ab'), fc.constantFrom(129, 257, 1025, 3073, 10_001)).map(([c, n]) => c.repeat(n));

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.oneof(fc.constantFrom(...SPECIAL_CHARS), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 30 }) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: longString },
);

/** RFC 3339-like date-times around and past every edge: year 0001/9999, offsets ±23:59, days 0–32, second 60, 10 fraction digits. */
const dateTime: fc.Arbitrary<string> = fc
  .record({
    y: fc.oneof(fc.constantFrom(0, 1, 2, 1969, 1970, 2026, 9999), fc.integer({ min: 0, max: 9999 })),
    mo: fc.oneof(fc.constantFrom(1, 2, 12), fc.integer({ min: 0, max: 13 })),
    d: fc.oneof(fc.constantFrom(1, 28, 29, 31), fc.integer({ min: 0, max: 32 })),
    h: fc.integer({ min: 0, max: 24 }),
    mi: fc.integer({ min: 0, max: 60 }),
    s: fc.integer({ min: 0, max: 60 }),
    frac: fc.option(fc.stringMatching(/^[0-9]{1,12}$/), { nil: undefined }),
    sep: fc.constantFrom('T', 't', ' ', 'T', 'T'),
    off: fc.oneof(
      fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+23:59', '-23:59', '+24:00', '+14:00', '-12:00', '', '+0100', '+01'),
      fc
        .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 60 }))
        .map(([sign, h, m]) => `${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
    ),
  })
  .map(
    ({ y, mo, d, h, mi, s, frac, sep, off }) =>
      `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}${sep}${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${String(s).padStart(2, '0')}${frac === undefined ? '' : `.${frac}`}${off}`,
  );

const numberish: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
  fc.constantFrom(
    '0',
    '1',
    '-1',
    '72',
    '8760',
    '8761',
    '1000',
    '1001',
    '2147483648',
    '9007199254740991',
    '9007199254740992',
    '1e3',
    '1.0',
    '0x10',
    ' 5',
    'NaN',
    'Infinity',
    '-0',
    '',
  ),
);

const TIME_ZONES = Intl.supportedValuesOf('timeZone');
const timeZone: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...TIME_ZONES),
  fc.constantFrom(
    'UTC',
    'utc',
    'Etc/UTC',
    'GMT',
    'Z',
    'Etc/GMT+14',
    'Etc/GMT-14',
    'Etc/GMT+12',
    'EST5EDT',
    'US/Pacific',
    'US/Pacific-New',
    'Asia/Calcutta',
    'Asia/Kolkata',
    'America/Buenos_Aires',
    'Antarctica/Troll',
    'Factory',
    'localtime',
    'posixrules',
    'Europe/Kyiv',
    '+05:30',
    '-05:30',
    '+14:00',
    'UTC+3',
    'GMT+3',
    'EST',
    'CET',
    'europe/paris',
    'EUROPE/PARIS',
    'America/Argentina/ComodRivadavia',
    'Pacific/Kanton',
    'America/Ciudad_Juarez',
    'Canada/East-Saskatchewan',
    'SystemV/AST4',
    'Europe/../Europe/Paris',
    'Europe/Paris\u0000',
    'x'.repeat(65),
  ),
);

const base64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
/** Cursors: garbage, and well-formed ones (base64url JSON) whose values are hostile: what a client can forge. */
const cursor: fc.Arbitrary<string> = fc.oneof(
  hostileString,
  fc.jsonValue({ maxDepth: 3 }).map((v) => base64url(JSON.stringify(v))),
  fc
    .tuple(
      fc.oneof(fc.double(), fc.integer(), fc.constantFrom(1.5, -1, 2 ** 63, 1e300, -1e300, 5e-324, Number.MAX_SAFE_INTEGER + 2)),
      fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0.5, 2 ** 63)),
      hostileString,
    )
    .chain(([a, b, s]) => fc.constantFrom(base64url(JSON.stringify([a, s])), base64url(JSON.stringify([a, b, s])))),
  fc.tuple(fc.oneof(dateTime, hostileString), hostileString).map((v) => base64url(JSON.stringify(v))),
  fc.constantFrom(
    base64url('[1e999,"a"]'),
    base64url('[-1e999,"a"]'),
    base64url('[1e999,1e999,"a"]'),
    base64url('[1.5,2.5,"a"]'),
    base64url('[1,2,"\\u0000"]'),
    base64url('[0.5,"\\u0000"]'),
    base64url('["2026-01-01T00:00:00Z","\\u0000"]'),
    base64url('["0001-01-01T00:00:00+23:59","a"]'),
    base64url('["9999-12-31T23:59:59-23:59","a"]'),
    base64url('[' + '['.repeat(700) + ']'.repeat(700) + ',"a"]'),
    base64url('['.repeat(5000) + ']'.repeat(5000)),
    '!!!!',
    '====',
    'a'.repeat(2001),
  ),
);

/** The value of a query parameter, by its name, plus anything else. */
function queryValue(name: string): fc.Arbitrary<string> {
  const specific: Record<string, fc.Arbitrary<string>> = {
    since: dateTime,
    until: dateTime,
    churn_hours: numberish,
    limit: numberish,
    min_followers: numberish,
    cursor,
    sort: fc.constantFrom('spam_score', 'followers', 'following', 'posts', 'follow_back_rate', 'SPAM_SCORE', 'spam_score ', 'account', 'spam_score;DROP', '__proto__'),
    order: fc.constantFrom('asc', 'desc', 'ASC', 'random', ''),
    tz: timeZone,
  };
  return fc.oneof({ weight: 3, arbitrary: Object.hasOwn(specific, name) ? specific[name]! : hostileString }, { weight: 2, arbitrary: hostileString });
}

/** Percent-encoded text, or raw bytes and broken escapes as a hostile client would put them in a URL. */
const rawEscapes = fc.oneof(
  fc.constantFrom('%', '%0', '%zz', '%00', '%ED%A0%80', '%ED%BF%BF', '%FF%FE', '%C0%AF', '%E2%82', '%F4%90%80%80', '+', '%2B', '%25', 'a%', '%%', '%u0041'),
  fc.uint8Array({ maxLength: 24 }).map((b) => pct(b, true)),
);
const encoded = (value: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 4, arbitrary: value.map((v) => pct(v)) }, { weight: 1, arbitrary: value.map((v) => pct(v, true)) }, { weight: 1, arbitrary: rawEscapes });

/** A query string for an operation: its parameters (some missing, some repeated) and unknown ones. */
function queryString(op: Op): fc.Arbitrary<string> {
  const names = [...op.queryParams, ...op.queryParams, '__proto__', 'constructor', 'x'];
  const pair = fc
    .constantFrom(...names)
    .chain((name) =>
      fc.oneof(
        { weight: 8, arbitrary: encoded(queryValue(name)).map((v) => `${name}=${v}`) },
        { weight: 1, arbitrary: fc.constant(name) },
        { weight: 1, arbitrary: encoded(hostileString).map((k) => `${k}=${pct('1')}`) },
      ),
    );
  return fc.array(pair, { maxLength: 6 }).map((pairs) => (pairs.length === 0 ? '' : `?${pairs.join('&')}`));
}

const ACCOUNTS = ['fz-a', 'fz-b', 'fz-c', 'fz-d'];

/** A path segment for `{account}` (or any other path parameter): hostile text, broken escapes, dot segments, very long. */
const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: encoded(hostileString) },
  { weight: 1, arbitrary: fc.constantFrom(...ACCOUNTS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '%',
      '%00',
      '..',
      '.',
      '%2e%2e',
      '%2E',
      '%2F',
      '%5C',
      '..%2F..',
      '%2e%2e%2f',
      '',
      'x'.repeat(3072),
      'x'.repeat(3073),
      '%41'.repeat(1024),
      '%41'.repeat(1025),
      '%F0%9F%98%80'.repeat(256),
      '%F0%9F%98%80'.repeat(257),
      'a'.repeat(100_000),
      'tw%3Ajane',
      'fb%3Apage%2F123',
      '%ED%A0%80',
      '%7F',
      '%C2%85',
      '%E2%80%A8',
      'aaaaaaaaaaaa',
      'a_b',
      '-',
      'ws.1',
    ),
  },
);

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0, 0, 5e-324),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

const TYPES = ['follow', 'unfollow', 'like', 'reply', 'mention', 'repost', 'post'] as const;
const EVENT_FIELDS = ['id', 'type', 'actor', 'target', 'post', 'occurred_at', 'text', 'has_link', 'is_question'] as const;

/** A valid event of a small set of accounts (so that some of the fuzz is stored and accounted for). */
const validEvent: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    id: fc.option(
      fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/\p{Cc}/u.test(s) && s.isWellFormed()),
      { nil: undefined },
    ),
    type: fc.constantFrom(...TYPES),
    actor: fc.constantFrom(...ACCOUNTS),
    target: fc.constantFrom(...ACCOUNTS),
    post: fc.option(fc.constantFrom('p1', 'p2'), { nil: undefined }),
    occurred_at: fc.oneof(fc.integer({ min: -10_000_000, max: 500_000 }).map(at), fc.constantFrom('2026-01-01T00:00:00+23:59', '0001-01-02T00:00:00Z')),
    text: fc.option(fc.constantFrom('hello?', 'buy https://x.example', '   ', 'HELLO   world'), { nil: undefined }),
    has_link: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map((e) => {
    const { target, text, ...rest } = e;
    return {
      ...rest,
      ...(e.type === 'post' ? {} : { target }),
      ...(['post', 'reply', 'mention'].includes(e.type) ? { text } : {}),
    };
  });

/** Hostile values for an event field: arbitrary strings, wrong types, absent. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: dateTime },
  { weight: 2, arbitrary: wrongType },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const dropUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** Objects shaped like events: valid ones, valid ones with one hostile field, every field hostile, unknown fields. */
const eventish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: validEvent },
  {
    weight: 4,
    arbitrary: fc.tuple(validEvent, fc.constantFrom(...EVENT_FIELDS), fieldValue).map(([e, field, v]) => dropUndefined({ ...e, [field]: v })),
  },
  {
    weight: 3,
    arbitrary: fc.record(Object.fromEntries(EVENT_FIELDS.map((f) => [f, fieldValue])) as Record<(typeof EVENT_FIELDS)[number], fc.Arbitrary<unknown>>).map(dropUndefined),
  },
  { weight: 1, arbitrary: fc.tuple(validEvent, hostileString, fc.jsonValue({ maxDepth: 2 })).map(([e, k, v]) => ({ ...e, [k]: v })) },
  { weight: 1, arbitrary: wrongType },
);

/** Bodies any POST route may receive: anything JSON, events, batches, scores batches, admin bodies, garbage. */
const anyBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: eventish.map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.array(eventish, { maxLength: 8 }).map((events) => JSON.stringify({ events })) },
  {
    weight: 2,
    arbitrary: fc
      .record(
        {
          accounts: fc.oneof(
            fc.array(fc.oneof(hostileString, fc.constantFrom(...ACCOUNTS)), { maxLength: 12 }),
            fc.constantFrom(
              Array.from({ length: 101 }, (_, i) => `fz-${i}`),
              Array.from({ length: 100 }, () => 'fz-a'),
            ),
            wrongType,
          ),
          since: fc.oneof(dateTime, wrongType),
          until: fc.oneof(dateTime, wrongType),
          churn_hours: fc.oneof(wrongType, numberish.map(Number)),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
  },
  { weight: 1, arbitrary: fc.record({ name: fc.oneof(hostileString, wrongType) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc.record({ scopes: fc.oneof(fc.array(fc.oneof(hostileString, fc.constantFrom('events:write', 'scores:read'))), wrongType) }).map((v) => JSON.stringify(v)),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'null',
      '[]',
      '{',
      '{"events":',
      '{"__proto__":{"x":1}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '\ufeff{}',
      '{"a":1}{"b":2}',
      '1e999',
      '"\\ud800"',
      '{"events":[{"type":"like","actor":"a","target":"b","occurred_at":"2026-01-01T00:00:00Z",}]}',
    ),
  },
);

const CONTENT_TYPES = [
  'text/plain',
  'text/html',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/jsonx',
  'application/problem+json',
  'application/x-ndjson',
  'APPLICATION/JSON',
  'Application/X-NDJSON; charset=utf-8',
  'application/json;',
  ';',
  '*/*',
  'application/json, text/plain',
  '',
];

const contentType: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }) },
);

/** An URL of an operation with each path parameter replaced. */
const urlOf = (op: Op, segments: string[]) => {
  let i = 0;
  return op.path.replace(/\{\w+\}/g, () => segments[i++] ?? 'x');
};

/** Nothing generated may itself look like a leak, or the answer echoing it would. */
const harmless = (req: Req) => {
  const payload = req.payload === undefined ? '' : typeof req.payload === 'string' ? req.payload : req.payload.toString('latin1');
  let decoded = req.url;
  try {
    decoded = decodeURIComponent(req.url);
  } catch {
    // Not percent-encoded: the URL as sent is all there is to look at.
  }
  return !leakIn(req.url) && !leakIn(decoded) && !leakIn(payload) && !leakIn(JSON.stringify(payload));
};

/** A whole hostile request for an operation: path, query, body and content type. */
function requestFor(op: Op): fc.Arbitrary<Req> {
  return fc
    .record({
      segments: fc.array(segment, { minLength: op.pathParams.length, maxLength: op.pathParams.length }),
      query: queryString(op),
      body: op.body || op.method !== 'GET' ? fc.option(anyBody, { nil: undefined, freq: 6 }) : fc.constant(undefined),
      contentType,
    })
    .map(({ segments, query, body, contentType }) => ({
      method: op.method,
      url: urlOf(op, segments) + query,
      ...(body === undefined ? {} : { payload: body, headers: { 'content-type': contentType } }),
    }))
    .filter(harmless);
}

// ---- deep nesting ----------------------------------------------------------------------------------

const deepArray = (n: number, inner = '1') => '['.repeat(n) + inner + ']'.repeat(n);
const deepObject = (n: number, inner = '1') => '{"a":'.repeat(n) + inner + '}'.repeat(n);
const deepMixed = (n: number) => '[{"a":'.repeat(n) + '1' + '}]'.repeat(n);
const deepProto = (n: number) => '{"a":'.repeat(n) + '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}' + '}'.repeat(n);

/** Where a deeply nested value goes: the whole body, a field of an event, an event of a batch, an account. */
const NESTINGS: [string, (deep: string) => string][] = [
  ['the body', (d) => d],
  ['an event field', (d) => `{"type":"like","actor":${d},"target":"fz-b","occurred_at":"${at(1)}"}`],
  ['an unknown event field', (d) => `{"type":"like","actor":"fz-a","target":"fz-b","occurred_at":"${at(1)}","extra":${d}}`],
  ['an event of a batch', (d) => `{"events":[{"type":"like","actor":"fz-a","target":"fz-b","occurred_at":"${at(2)}"},${d}]}`],
  ['the events field', (d) => `{"events":${d}}`],
  ['the accounts of a scores batch', (d) => `{"accounts":["fz-a",${d}]}`],
  ['the admin name', (d) => `{"name":${d},"scopes":${d}}`],
];

// ---- the tests -------------------------------------------------------------------------------------

t.test('the fuzzed routes are the documented ones', async (t) => {
  t.ok(OPERATIONS.length >= 19, `${OPERATIONS.length} operations from openapi/openapi.json`);
  t.ok(OPERATIONS.some((o) => o.id === 'ingestEvents') && OPERATIONS.some((o) => o.id === 'deleteAccount'), 'the event and erasure routes are among them');
  t.ok(OPERATIONS.filter((o) => o.pathParams.includes('account')).length >= 9, 'the per-account routes are among them');
});

t.test('every route, hostile path segments, query strings, bodies and content types', async (t) => {
  const h = await harness(t);
  for (const op of OPERATIONS) {
    await property(t, `${op.method} ${op.path}`, requestFor(op), (req) => h.send(op, req), 50);
  }
});

t.test('GET routes: arbitrary query strings with every documented parameter', async (t) => {
  const h = await harness(t);
  // A few stored events, so that windows, cursors and time zones meet real rows.
  await h.send(
    OPERATIONS.find((o) => o.id === 'ingestEvents')!,
    {
      method: 'POST',
      url: '/v1/events/batch',
      payload: JSON.stringify({
        events: ACCOUNTS.flatMap((a, i) =>
          ACCOUNTS.filter((b) => b !== a).flatMap((b, j) => [
            { type: 'follow', actor: a, target: b, occurred_at: at(i * 10 + j) },
            { type: 'reply', actor: a, target: b, occurred_at: at(i * 10 + j + 1), text: 'hi?' },
          ]),
        ),
      }),
      headers: { 'content-type': 'application/json' },
    },
  );
  for (const op of OPERATIONS.filter((o) => o.method === 'GET' && o.queryParams.length > 0)) {
    const arb = fc
      .tuple(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ACCOUNTS) }, { weight: 1, arbitrary: segment }), queryString(op))
      .map(([account, query]): Req => ({
        method: 'GET',
        url:
          urlOf(
            op,
            op.pathParams.map(() => account),
          ) + query,
      }))
      .filter(harmless);
    await property(t, `${op.method} ${op.path}`, arb, (req) => h.send(op, req), 50);
  }
});

t.test('POST /v1/events: objects shaped like events with hostile fields; nothing stored unless accepted', async (t) => {
  const h = await harness(t);
  const op = OPERATIONS.find((o) => o.id === 'ingestEvent')!;
  const arb = eventish.map((e): Req => ({ method: 'POST', url: op.path, payload: JSON.stringify(e), headers: { 'content-type': 'application/json' } })).filter(harmless);
  await property(t, 'hostile events', arb, (req) => h.send(op, req), 200);
});

t.test('POST /v1/events/batch: batches of hostile events; exactly the accepted ones are stored', async (t) => {
  const h = await harness(t);
  const op = OPERATIONS.find((o) => o.id === 'ingestEvents')!;
  const ids = async (list: string[]) =>
    new Set(
      (await h.db.query<{ event_id: string }>('SELECT event_id FROM events WHERE workspace_id = $1 AND event_id = ANY($2::text[])', [h.tenant.workspace.id, list])).map(
        (r) => r.event_id,
      ),
    );
  const arb = fc
    .array(eventish, { maxLength: 25 })
    .map((events) => ({ events, req: { method: 'POST', url: op.path, payload: JSON.stringify({ events }), headers: { 'content-type': 'application/json' } } }))
    .filter(({ req }) => harmless(req));
  await property(
    t,
    'hostile batches',
    arb,
    async ({ events, req }) => {
      // Ids PostgreSQL can hold (no NUL; lone surrogates are refused by validation anyway).
      const candidates = events
        .map((e) => (e && typeof e === 'object' && !Array.isArray(e) ? (e as { id?: unknown }).id : undefined))
        .filter((id): id is string => typeof id === 'string' && !id.includes('\u0000') && id.isWellFormed());
      const existed = await ids(candidates);
      const res = await h.send(op, req);
      if (res.statusCode !== 200) return;
      const body = JSON.parse(res.body) as { accepted: number; duplicates: number; rejected: { index: number; code: string }[] };
      const rejected = new Set(body.rejected.map((r) => r.index));
      if (rejected.size !== body.rejected.length) throw new Error(`an index is rejected twice: ${res.body}`);
      if ([...rejected].some((i) => !Number.isInteger(i) || i < 0 || i >= events.length)) throw new Error(`a rejected index out of range: ${res.body}`);
      if (body.accepted + body.duplicates + body.rejected.length !== events.length) throw new Error(`the answer does not account for every event: ${res.body}`);
      // An id that appeared must belong to an event that was not rejected.
      const appeared = [...(await ids(candidates))].filter((id) => !existed.has(id));
      for (const id of appeared) {
        const owners = events.map((e, i) => ((e as { id?: unknown } | null)?.id === id ? i : -1)).filter((i) => i >= 0);
        if (owners.every((i) => rejected.has(i))) throw new Error(`the rejected event with id ${JSON.stringify(id)} was stored: ${describe(req)} → ${res.body}`);
      }
    },
    60,
  );
});

t.test('POST /v1/events/batch as NDJSON: random lines; exactly the accepted ones are stored', async (t) => {
  const h = await harness(t);
  const op = OPERATIONS.find((o) => o.id === 'ingestEvents')!;
  const line: fc.Arbitrary<string | Buffer> = fc.oneof(
    { weight: 4, arbitrary: eventish.map((e) => JSON.stringify(e)) },
    { weight: 2, arbitrary: validEvent.map((e) => JSON.stringify(e)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map((s) => s.replace(/\n/g, ' ')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b.filter((x) => x !== 10))) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        '\r',
        '\t',
        '\u00a0',
        '\ufeff',
        '\u2028',
        '{',
        '[]',
        'null',
        '"x"',
        '1e999',
        '{"events":[]}',
        '\ufeff{"type":"post","actor":"fz-a","occurred_at":"2026-01-01T00:00:00Z"}',
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(deepArray(2_000), deepObject(2_000), deepProto(1_000)) },
  );
  const arb = fc
    .record({
      lines: fc.array(line, { maxLength: 30 }),
      eol: fc.constantFrom('\n', '\r\n', '\n\n'),
      trailing: fc.boolean(),
      type: fc.constantFrom('application/x-ndjson', 'application/x-ndjson; charset=utf-8'),
    })
    .map(({ lines, eol, trailing, type }): Req => {
      const parts = lines.flatMap((l, i) => [typeof l === 'string' ? Buffer.from(l, 'utf8') : l, ...(i < lines.length - 1 || trailing ? [Buffer.from(eol)] : [])]);
      return { method: 'POST', url: op.path, payload: Buffer.concat(parts), headers: { 'content-type': type } };
    })
    .filter(harmless);
  await property(
    t,
    'hostile NDJSON streams',
    arb,
    async (req) => {
      const res = await h.send(op, req);
      if (res.statusCode !== 200) return;
      const lines = (req.payload as Buffer).toString('latin1').split('\n').length;
      const body = JSON.parse(res.body) as { accepted: number; duplicates: number; rejected: { index: number }[]; rejected_total: number };
      if (body.rejected.some((r) => r.index < 0 || r.index >= lines)) throw new Error(`a rejected line number out of range: ${res.body}`);
      if (body.rejected_total !== body.rejected.length) throw new Error(`rejected_total ${body.rejected_total} for ${body.rejected.length} rejections`);
      if (body.accepted + body.duplicates + body.rejected_total > lines) throw new Error(`more outcomes than lines: ${res.body}`);
    },
    60,
  );
});

t.test('huge and negative numbers, and number literals JSON cannot hold, in every numeric field', async (t) => {
  const h = await harness(t);
  const literal = fc.oneof(
    fc.constantFrom(
      '1e999',
      '-1e999',
      '1e-999',
      '-0',
      '0.0',
      '1E+2',
      '123456789012345678901234567890',
      '-123456789012345678901234567890',
      '9007199254740993',
      '72.0000000000000001',
      '4.9e-324',
      '1.7976931348623157e308',
    ),
    fc.double({ noNaN: true }).map((n) => JSON.stringify(n)),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  );
  const templates = [
    (n: string) => ['getScoresBatch', `{"accounts":["fz-a"],"churn_hours":${n}}`],
    (n: string) => ['getScoresBatch', `{"accounts":[${n}]}`],
    (n: string) => ['ingestEvent', `{"type":"like","actor":"fz-a","target":"fz-b","occurred_at":"${at(3)}","has_link":${n}}`],
    (n: string) => ['ingestEvent', `{"id":${n},"type":"like","actor":"fz-a","target":"fz-b","occurred_at":"${at(3)}"}`],
    (n: string) => ['ingestEvent', `{"type":"like","actor":"fz-a","target":"fz-b","occurred_at":${n}}`],
    (n: string) => ['ingestEvents', `{"events":[${n},{"type":"like","actor":"fz-a","target":"fz-c","occurred_at":"${at(4)}"}]}`],
    (n: string) => ['ingestEvents', `{"events":${n}}`],
    (n: string) => ['createWorkspace', `{"name":${n}}`],
    (n: string) => ['createKey', `{"scopes":[${n}]}`],
  ] as const;
  const arb = fc.tuple(literal, fc.constantFrom(...templates)).map(([n, template]) => template(n));
  await property(
    t,
    'number literals in bodies',
    arb,
    async ([id, payload]) => {
      const op = OPERATIONS.find((o) => o.id === id);
      if (!op) return;
      const url = urlOf(
        op,
        op.pathParams.map(() => 'fz-a'),
      );
      await h.send(op, { method: op.method, url, payload, headers: { 'content-type': 'application/json' } });
    },
    100,
  );
});

t.test('deeply nested arrays and objects (depth 1,000 and 100,000) in every body', async (t) => {
  const h = await harness(t);
  const failures: string[] = [];
  const shapes: [string, (n: number) => string][] = [
    ['arrays', (n) => deepArray(n)],
    ['objects', (n) => deepObject(n)],
    ['arrays of objects', deepMixed],
    ['objects ending in __proto__', deepProto],
  ];
  // Depth 1,000 in every place of every body (arrays, and objects hiding __proto__); all four shapes at
  // depth 100,000 (about 500 kB) as the body and as an event field.
  const cases = [
    ...[shapes[0]!, shapes[3]!].flatMap(([shape, make]) => NESTINGS.map(([where, place]) => ({ label: `${shape} of depth 1,000 in ${where}`, payload: place(make(1_000)) }))),
    ...shapes.flatMap(([shape, make]) => NESTINGS.slice(0, 2).map(([where, place]) => ({ label: `${shape} of depth 100,000 in ${where}`, payload: place(make(100_000)) }))),
  ];
  for (const op of OPERATIONS.filter((o) => o.body)) {
    const url = urlOf(
      op,
      op.pathParams.map(() => 'fz-a'),
    );
    for (const { label, payload } of cases) {
      try {
        await h.send(op, { method: op.method, url, payload, headers: { 'content-type': 'application/json' } });
      } catch (err) {
        failures.push(`${op.method} ${op.path}, ${label}: ${(err as Error).message.slice(0, 600)}`);
      }
    }
    if (op.id === 'ingestEvents') {
      for (const depth of [1_000, 100_000]) {
        try {
          const payload = `${deepArray(depth)}\n${deepObject(depth)}\n${deepProto(depth)}\n`;
          await h.send(op, { method: 'POST', url, payload, headers: { 'content-type': 'application/x-ndjson' } });
        } catch (err) {
          failures.push(`NDJSON lines of depth ${depth}: ${(err as Error).message.slice(0, 600)}`);
        }
      }
    }
  }
  t.strictSame(failures, [], `${cases.length} deeply nested bodies on each route are answered safely`);
});

t.test('1 MB strings in path, query and every body field', async (t) => {
  const h = await harness(t);
  const MB = 1024 * 1024;
  // About 1 MB of UTF-8 each: ASCII, two-byte letters, lone surrogates (sent as U+FFFD, three bytes), NUL.
  const big = fc.constantFrom<[string, number]>(['x', MB], ['é', MB / 2], ['\ud800', MB / 3], ['\u0000', MB]).map(([c, n]) => c.repeat(n));
  const where = fc.oneof(
    fc.tuple(fc.constantFrom(...OPERATIONS.filter((o) => o.pathParams.length > 0)), fc.constant('path' as const), fc.constant('')),
    fc.tuple(fc.constantFrom(...OPERATIONS.filter((o) => o.queryParams.length > 0)), fc.constant('query' as const), fc.constant('')),
    fc.tuple(fc.constant(OPERATIONS.find((o) => o.id === 'ingestEvent')!), fc.constant('event' as const), fc.constantFrom(...EVENT_FIELDS)),
    fc.tuple(fc.constant(OPERATIONS.find((o) => o.id === 'ingestEvents')!), fc.constantFrom('batch' as const, 'ndjson' as const), fc.constantFrom(...EVENT_FIELDS)),
    fc.tuple(fc.constantFrom(...OPERATIONS.filter((o) => o.body)), fc.constant('body' as const), fc.constantFrom('accounts', 'name', 'scopes', 'since', 'events')),
  );
  const arb = fc.tuple(where, big).map(([[op, place, field], s]): [Op, Req] => {
    const event = { type: field === 'post' ? 'post' : 'reply', actor: 'fz-a', target: 'fz-b', occurred_at: at(5) } as Record<string, unknown>;
    if (field === 'post') delete event.target;
    event[field] = s;
    const json = (v: unknown): Pick<Req, 'payload' | 'headers'> => ({ payload: JSON.stringify(v), headers: { 'content-type': 'application/json' } });
    switch (place) {
      case 'path':
        return [
          op,
          {
            method: op.method,
            url: urlOf(
              op,
              op.pathParams.map(() => pct(s)),
            ),
            ...(op.body ? json({}) : {}),
          },
        ];
      case 'query':
        return [
          op,
          {
            method: op.method,
            url:
              urlOf(
                op,
                op.pathParams.map(() => 'fz-a'),
              ) +
              '?' +
              op.queryParams.map((q) => `${q}=${pct(s)}`).join('&'),
          },
        ];
      case 'event':
        return [op, { method: 'POST', url: op.path, ...json(event) }];
      case 'batch':
        return [op, { method: 'POST', url: op.path, ...json({ events: [event, { ...event, [field]: undefined }] }) }];
      case 'ndjson':
        return [
          op,
          {
            method: 'POST',
            url: op.path,
            payload: `${JSON.stringify(event)}\n{"type":"post","actor":"fz-a","occurred_at":"${at(6)}"}\n`,
            headers: { 'content-type': 'application/x-ndjson' },
          },
        ];
      case 'body':
        return [
          op,
          {
            method: op.method,
            url: urlOf(
              op,
              op.pathParams.map(() => 'fz-a'),
            ),
            ...json({ [field]: field === 'name' || field === 'since' ? s : [s] }),
          },
        ];
    }
  });
  await property(t, '1 MB strings', arb, ([op, req]) => h.send(op, req), 6, false);
});

t.test('wrong content types on every route that takes a body', async (t) => {
  const h = await harness(t);
  const failures: string[] = [];
  const event = JSON.stringify({ type: 'like', actor: 'fz-a', target: 'fz-d', occurred_at: at(7) });
  for (const op of OPERATIONS.filter((o) => o.body)) {
    const url = urlOf(
      op,
      op.pathParams.map(() => 'fz-a'),
    );
    for (const type of CONTENT_TYPES) {
      // One JSON event, and two lines (an event, then a JSON batch) that are NDJSON but not JSON.
      for (const payload of [event, `${event}\n${JSON.stringify({ events: [JSON.parse(event)] })}`]) {
        try {
          await h.send(op, { method: op.method, url, payload, headers: { 'content-type': type } });
        } catch (err) {
          failures.push(`${op.method} ${op.path} as ${JSON.stringify(type)}: ${(err as Error).message.slice(0, 600)}`);
        }
      }
    }
  }
  t.strictSame(failures, [], 'every content type is answered safely');
});

// ---- defects this file found, each kept as a minimal case ---------------------------------------------
//
// Each case states what SPEC/README require. They fail until the service is fixed; the properties
// above find the same inputs at random.

const opById = (id: string) => {
  const op = OPERATIONS.find((o) => o.id === id);
  if (!op) throw new Error(`no operation ${id} in openapi/openapi.json`);
  return op;
};
const jsonReq = (method: string, url: string, body: unknown): Req => ({
  method,
  url,
  payload: typeof body === 'string' ? body : JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});
const b64 = (json: string) => Buffer.from(json, 'utf8').toString('base64url');

/** Sends one request through the checks of `send`, then checks the documented status and code. */
async function expectAnswer(t: Test, h: Harness, opId: string, req: Req, status: number | number[], code?: string): Promise<unknown> {
  const label = describe(req).slice(0, 200);
  let res: Res;
  try {
    res = await h.send(opById(opId), req);
  } catch (err) {
    t.fail((err as Error).message.slice(0, 1500));
    return undefined;
  }
  const statuses = Array.isArray(status) ? status : [status];
  t.ok(statuses.includes(res.statusCode), `${label}: ${statuses.join(' or ')} (got ${res.statusCode})`);
  const body = JSON.parse(res.body) as { code?: string };
  if (code && res.statusCode >= 400) t.equal(body.code, code, `${label}: code ${code}`);
  return body;
}

const LIKE = { type: 'like', actor: 'fz-a', target: 'fz-b', occurred_at: at(1) };

t.test('defect: follow, unfollow, reply and mention events early in year 1 answer 500 (SPEC §2: any past time is fine)', async (t) => {
  const h = await harness(t);
  // The derived state recounts a horizon before the event (8,760 h for follows, 72 h for answers) that falls before year 1.
  for (const event of [
    { type: 'follow', actor: 'fz-a', target: 'fz-b', occurred_at: '0001-06-01T00:00:00Z' },
    { type: 'unfollow', actor: 'fz-a', target: 'fz-c', occurred_at: '0001-12-31T00:00:00Z' },
    { type: 'reply', actor: 'fz-a', target: 'fz-b', occurred_at: '0001-01-03T23:00:00Z' },
    { type: 'mention', actor: 'fz-a', target: 'fz-b', occurred_at: '0001-01-03T23:00:00Z' },
  ]) {
    await expectAnswer(t, h, 'ingestEvent', jsonReq('POST', '/v1/events', event), 201);
  }
  // One such event fails the whole batch: the valid event next to it is not stored either.
  const batch = {
    events: [
      { ...LIKE, actor: 'fz-y' },
      { type: 'follow', actor: 'fz-y', target: 'fz-b', occurred_at: '0001-06-01T00:00:00Z' },
    ],
  };
  const body = await expectAnswer(t, h, 'ingestEvents', jsonReq('POST', '/v1/events/batch', batch), 200);
  if (body) t.match(body, { accepted: 2, rejected: [] }, 'both events stored');
});

t.test('defect: an instant before 0001-01-01T00:00:00Z (0001-01-01T00:00:00+00:01) answers 500 on ingest and in a window', async (t) => {
  const h = await harness(t);
  // A valid RFC 3339 date-time; the service formats it as year 0000, which PostgreSQL refuses. 201 or a 4xx problem are fine, a 500 is not.
  await expectAnswer(t, h, 'ingestEvent', jsonReq('POST', '/v1/events', { ...LIKE, occurred_at: '0001-01-01T00:00:00+00:01' }), [201, 400, 422]);
  await expectAnswer(t, h, 'getScores', { method: 'GET', url: '/v1/accounts/fz-a/scores?since=0001-01-01T00:00:00%2B00:01' }, [200, 400]);
  await expectAnswer(t, h, 'getActivityHours', { method: 'GET', url: '/v1/accounts/fz-a/activity-hours?since=0001-01-01T00:00:00%2B23:59' }, [200, 400]);
});

t.test('defect: an unknown body field with a long name answers a 500 that is not problem+json (SPEC §5)', async (t) => {
  const h = await harness(t);
  // The 400 problem lists the field; a name over 300 characters breaks the problem's response schema.
  await expectAnswer(t, h, 'ingestEvent', jsonReq('POST', '/v1/events', { ...LIKE, ['k'.repeat(301)]: 1 }), 400, 'validation_failed');
  const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, 1]));
  await expectAnswer(t, h, 'ingestEvent', jsonReq('POST', '/v1/events', { ...LIKE, ...many }), 400, 'validation_failed');
  await expectAnswer(t, h, 'getScoresBatch', jsonReq('POST', '/v1/scores/batch', { accounts: ['fz-a'], ['k'.repeat(301)]: 1 }), 400, 'validation_failed');
});

t.test('defect: a 4xx answer to a URL over 10,000 characters is a 500 that is not problem+json (SPEC §5)', async (t) => {
  const h = await harness(t);
  // The problem's `instance` repeats the URL and breaks the problem's response schema (instance ≤ 10,000).
  await expectAnswer(t, h, 'getScores', { method: 'GET', url: `/v1/accounts/fz-a/scores?since=${'x'.repeat(10_001)}` }, 400, 'validation_failed');
  await expectAnswer(t, h, 'listAccounts', { method: 'GET', url: `/v1/accounts?cursor=${'x'.repeat(10_001)}` }, 400, 'validation_failed');
  await expectAnswer(t, h, 'ingestEvent', jsonReq('POST', `/v1/events?x=${'x'.repeat(10_001)}`, {}), 400, 'validation_failed');
});

t.test('defect: a batch whose rejected event has a field name over 10,000 characters answers 500 after storing the valid events (SPEC §2)', async (t) => {
  const h = await harness(t);
  // The rejection message names the field and breaks the batch answer's schema (message ≤ 10,000), after the commit.
  const bad = { ...LIKE, actor: 'fz-c', ['k'.repeat(10_001)]: 1 };
  const json = await expectAnswer(t, h, 'ingestEvents', jsonReq('POST', '/v1/events/batch', { events: [{ ...LIKE, actor: 'fz-d' }, bad] }), 200);
  if (json) t.match(json, { accepted: 1, rejected: [{ index: 1, code: 'invalid_event' }] }, 'the valid event stored, the other reported');
  const ndjson: Req = {
    method: 'POST',
    url: '/v1/events/batch',
    payload: `${JSON.stringify({ ...LIKE, actor: 'fz-e' })}\n${JSON.stringify(bad)}\n`,
    headers: { 'content-type': 'application/x-ndjson' },
  };
  const stream = await expectAnswer(t, h, 'ingestEvents', ndjson, 200);
  if (stream) t.match(stream, { accepted: 1, rejected: [{ index: 1, code: 'invalid_event' }] }, 'the valid line stored, the other reported');
});

t.test('defect: POST /v1/events with Content-Type application/x-ndjson answers a 500 that is not problem+json (README: 415)', async (t) => {
  const h = await harness(t);
  // The NDJSON parser of the events plugin also serves /v1/events, whose body schema then meets a stream.
  const req: Req = { method: 'POST', url: '/v1/events', payload: JSON.stringify(LIKE), headers: { 'content-type': 'application/x-ndjson' } };
  await expectAnswer(t, h, 'ingestEvent', req, 415, 'unsupported_media_type');
});

t.test('forged cursors are 400 invalid_cursor, never a 500 (README: the cursor is a next_cursor)', async (t) => {
  const h = await harness(t);
  const cases: [string, string, string][] = [
    ['listPartners', '/v1/accounts/fz-a/partners', '[1.5,2,"a"]'],
    ['listPartners', '/v1/accounts/fz-a/partners', '[9223372036854776000,1,"a"]'],
    ['listPartners', '/v1/accounts/fz-a/partners', '[1e999,1,"a"]'],
    ['listPartners', '/v1/accounts/fz-a/partners', '[1,2,"\\u0000"]'],
    ['listAccounts', '/v1/accounts', '[1,"\\u0000"]'],
    ['listNonFollowers', '/v1/accounts/fz-a/non-followers', '["2026-01-01T00:00:00Z","\\u0000"]'],
    ['listFans', '/v1/accounts/fz-a/fans', '["2026-01-01T00:00:00Z","\\u0000"]'],
  ];
  for (const [id, path, cursor] of cases) {
    await expectAnswer(t, h, id, { method: 'GET', url: `${path}?cursor=${b64(cursor)}` }, 400, 'invalid_cursor');
  }
});

t.test('defect: activity-hours in a time zone Intl accepts but PostgreSQL does not know answers 500', async (t) => {
  const h = await harness(t);
  // tz is checked with Intl.DateTimeFormat; PostgreSQL's zone database has no US/Pacific-New (dropped from tzdata in 2020).
  await expectAnswer(t, h, 'ingestEvent', jsonReq('POST', '/v1/events', { ...LIKE, target: 'fz-a', actor: 'fz-b' }), [200, 201]);
  await expectAnswer(t, h, 'getActivityHours', { method: 'GET', url: '/v1/accounts/fz-a/activity-hours?tz=US%2FPacific-New' }, [200, 400]);
  await expectAnswer(t, h, 'getActivityHours', { method: 'GET', url: '/v1/accounts/fz-a/activity-hours?tz=Canada%2FEast-Saskatchewan' }, [200, 400]);
});
