import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { buildApp, type App } from '../../src/app.js';
import { defaultConfig } from '../../src/config.js';
import type { Database, Queryable } from '../../src/db/client.js';
import { GROUP_COMMIT_IN_FLIGHT } from '../../src/ingest/coalesce.js';
import { at, bearer, derivedState, newTenant, testDatabase, TEST_DATABASE_URL, type Tenant } from '../helpers.js';

/**
 * Single `POST /v1/events` under concurrency, on the real database: requests of a workspace are
 * stored together (group commit) and key lookups are coalesced, yet every request is answered as
 * if the requests had been sent one after the other, a revoked key fails on the next request, and
 * a failed transaction fails every request of its batch and stores none of it.
 */

const ADMIN_TOKEN = 'g'.repeat(32);
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Spy {
  db: Database;
  /** Transactions begun so far. */
  transactions: number;
  /** Key lookup queries sent so far, and the key ids they asked for. */
  lookups: string[][];
  /** Runs before transaction `n` (0-based) starts; the transaction waits for it. */
  beforeTransaction?: (n: number) => Promise<void>;
  /** Runs after each statement of transaction `n`, with its rows; may break the connection. */
  afterStatement?: (n: number, text: string, rows: unknown[], tx: Queryable) => Promise<void>;
  /** Runs after a key lookup query has been answered by the database, before its result is handed on. */
  afterLookup?: () => Promise<void>;
}

/** The test database, seen through a spy that can count, delay or break what the app does with it. */
function spyOn(real: Database): Spy {
  const spy: Spy = {
    transactions: 0,
    lookups: [],
    db: {
      kind: real.kind,
      async query<R>(text: string, params?: unknown[]): Promise<R[]> {
        const lookup = /FROM "?api_keys"? WHERE ("?api_keys"?\.)?"?key_id"? = ANY/.test(text);
        if (lookup) spy.lookups.push([...(params![0] as string[])]);
        const rows = await real.query<R>(text, params);
        if (lookup) await spy.afterLookup?.();
        return rows;
      },
      // Ingest's transactions are counted and spied on; the projector's (which begin by trying the
      // workspace's projection lock) pass through untouched.
      async transaction(fn) {
        return real.transaction((tx) => {
          let n: number | null | undefined;
          return fn({
            async query<R>(text: string, params?: unknown[]) {
              if (n === undefined) {
                n = /pg_try_advisory_xact_lock/.test(text) ? null : spy.transactions++;
                if (n !== null) await spy.beforeTransaction?.(n);
              }
              const rows = await tx.query<R>(text, params);
              if (n !== null) await spy.afterStatement?.(n, text, rows, tx);
              return rows;
            },
          });
        });
      },
      withConnection: (fn) => real.withConnection(fn),
      poolStats: () => real.poolStats(),
      close: async () => {},
    },
  };
  return spy;
}

/** The real app (admin routes on, no rate limit, no load shedding) on the spied database. */
async function appOn(t: Test, db: Database): Promise<App> {
  const logStream = new Writable({ write: (_c, _e, cb) => cb() });
  // Revoked keys answer 401 on purpose here: failed-authentication throttling stays out of the way.
  const config = defaultConfig({
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: 0,
    AUTH_FAILURES_PER_MINUTE: 1_000_000,
    LOAD_SHED_EVENT_LOOP_DELAY_MS: 0,
    ADMIN_TOKEN,
  });
  const app = await buildApp({ config, db, logStream });
  t.teardown(() => app.close());
  return app;
}

interface Sent {
  event: Record<string, unknown>;
  status: number;
  body: any;
}

const post = (app: App, key: string, event: object) =>
  app.inject({ method: 'POST', url: '/v1/events', headers: bearer(key), payload: event }).then((r) => ({ status: r.statusCode, body: r.json() }));

async function storedEvents(db: Database, workspaceId: number): Promise<Map<string, Record<string, unknown>>> {
  const rows = await db.query<{ event_id: string; r: Record<string, unknown> }>(
    `SELECT event_id, to_jsonb(e) - 'workspace_id' - 'ingested_at' AS r FROM events e WHERE workspace_id = $1`,
    [workspaceId],
  );
  return new Map(rows.map((row) => [row.event_id, row.r]));
}

async function scores(app: App, tenant: Tenant, accounts: string[]) {
  const res = await app.inject({ method: 'POST', url: '/v1/scores/batch', headers: bearer(tenant.readKey), payload: { accounts } });
  return res.json().results;
}

const ACCOUNTS = Array.from({ length: 10 }, (_, i) => `acct${i}`);

/** A deterministic mix touching few accounts, so the events of one batch share pairs and counters. */
function makeEvent(i: number, variant = 0): Record<string, unknown> {
  const types = ['follow', 'like', 'reply', 'follow', 'mention', 'unfollow', 'repost', 'post', 'like', 'follow'];
  const type = types[(i * 7) % types.length]!;
  const actor = ACCOUNTS[(i * 3) % ACCOUNTS.length]!;
  const target = ACCOUNTS[(i * 3 + 1 + (i % 4) + variant) % ACCOUNTS.length]!;
  const e: Record<string, unknown> = { id: `g${i}`, type, actor, occurred_at: at((i % 37) * 90) };
  if (type !== 'post') e.target = target;
  if (type === 'like' || type === 'repost' || type === 'post') e.post = `p${i % 9}`;
  if (type === 'post' || type === 'reply' || type === 'mention') e.text = i % 3 === 0 ? 'thanks? https://example.com' : `hello ${i % 5}`;
  return e;
}

t.test('200 concurrent single events with duplicates and reused ids: answered and stored exactly as one by one', async (t) => {
  const real = await testDatabase();
  const spy = spyOn(real);
  const app = await appOn(t, spy.db);
  const concurrent = await newTenant(real);
  const sequential = await newTenant(real);

  // 130 ids; 35 are sent twice with the same content, 35 twice with other content (one of them three times).
  const requests: Record<string, unknown>[] = [];
  for (let i = 0; i < 130; i++) requests.push(makeEvent(i));
  for (let i = 0; i < 35; i++) requests.push(makeEvent(i * 3));
  for (let i = 0; i < 35; i++) requests.push(makeEvent(i * 3 + 1, 1 + (i % 3)));
  requests.push(makeEvent(4, 5));
  // Two events without id, identical in content: identified by their content hash.
  requests.push({ type: 'like', actor: 'acct1', target: 'acct2', post: 'px', occurred_at: at(3) });
  requests.push({ type: 'like', actor: 'acct1', target: 'acct2', post: 'px', occurred_at: at(3) });
  // A deterministic shuffle, so duplicates and conflicts arrive in every order.
  let seed = 42;
  for (let i = requests.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [requests[i], requests[j]] = [requests[j]!, requests[i]!];
  }

  const answers: Sent[] = await Promise.all(requests.map(async (event) => ({ event, ...(await post(app, concurrent.writeKey, event)) })));
  // In-memory PGlite runs a whole transaction without yielding to I/O, so each request finds it idle
  // and is stored alone; on PostgreSQL the requests that come while two transactions run wait for one.
  if (real.kind === 'postgres') t.ok(spy.transactions < requests.length / 4, `${requests.length} requests were stored in ${spy.transactions} transactions`);
  else t.comment(`${requests.length} requests were stored in ${spy.transactions} transactions`);
  t.ok(spy.lookups.length < requests.length / 4, `${requests.length} key checks took ${spy.lookups.length} lookup queries`);

  const same = (a: object, b: object) => JSON.stringify(a) === JSON.stringify(b);
  const byId = new Map<string, Sent[]>();
  for (const a of answers) {
    if (![200, 201, 409].includes(a.status)) t.fail(`answered ${a.status} ${JSON.stringify(a.body)}`);
    const id = (a.event.id as string | undefined) ?? (a.status === 409 ? undefined : a.body.id);
    byId.set(id, [...(byId.get(id) ?? []), a]);
  }
  const stored = await storedEvents(real, concurrent.workspace.id);
  t.equal(stored.size, byId.size, 'the events table holds one event per id');
  let conflicts = 0;
  let duplicates = 0;
  for (const [id, sent] of byId) {
    const winners = sent.filter((s) => s.status === 201);
    t.equal(winners.length, 1, `${id}: exactly one 201`);
    const winner = winners[0]!;
    t.same(winner.body, { id, status: 'accepted' });
    const row = stored.get(id)!;
    t.match(row, { type: winner.event.type, actor: winner.event.actor, target: winner.event.target ?? null }, `${id}: the stored event is the one answered 201`);
    for (const s of sent) {
      if (s === winner) continue;
      if (same(s.event, winner.event)) {
        duplicates++;
        t.equal(s.status, 200, `${id}: the same content again is a duplicate`);
        t.same(s.body, { id, status: 'duplicate' });
      } else {
        conflicts++;
        t.equal(s.status, 409, `${id}: other content is an id_conflict`);
        t.equal(s.body.code, 'id_conflict');
      }
    }
  }
  t.ok(duplicates >= 30 && conflicts >= 30, `${duplicates} duplicates and ${conflicts} conflicts were sent`);

  // The same requests one by one: each id's standing event first, then the others, as they arrived.
  const order = [...answers.filter((a) => a.status === 201), ...answers.filter((a) => a.status !== 201)];
  for (const a of order) {
    const one = await post(app, sequential.writeKey, a.event);
    if (one.status !== a.status) t.fail(`sent alone, ${JSON.stringify(a.event)} is answered ${one.status}, concurrently ${a.status}`);
  }
  t.same([...(await storedEvents(real, sequential.workspace.id))].sort(), [...stored].sort(), 'the same events are stored');
  t.same(await derivedState(real, concurrent.workspace.id), await derivedState(real, sequential.workspace.id), 'every derived row is what the one-by-one ingest gives');
  t.same(await scores(app, concurrent, ACCOUNTS), await scores(app, sequential, ACCOUNTS), 'every account scores the same');
});

t.test('a revoked key fails on the next request, even while a lookup sent before the revocation is still in flight', async (t) => {
  const real = await testDatabase();
  const spy = spyOn(real);
  const app = await appOn(t, spy.db);
  const tenant = await newTenant(real);
  const keyId = tenant.writeKey.split('_')[1]!;
  t.equal((await post(app, tenant.writeKey, makeEvent(1))).status, 201);

  // A request's lookup is answered by the database (the key is valid) but held before reaching it.
  let heldAnswered!: () => void;
  const answered = new Promise<void>((r) => (heldAnswered = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  spy.afterLookup = async () => {
    spy.afterLookup = undefined;
    heldAnswered();
    await gate;
  };
  const before = post(app, tenant.writeKey, makeEvent(2));
  await answered;
  const revoked = await app.inject({ method: 'DELETE', url: `/v1/admin/keys/${keyId}`, headers: admin });
  t.equal(revoked.statusCode, 200);
  // Must not join the lookup in flight (nor any cache): a query sent after the revocation answers it.
  const after = await post(app, tenant.writeKey, makeEvent(3));
  t.equal(after.status, 401, 'the next request after the revocation is refused');
  t.equal(after.body.code, 'invalid_key');
  release();
  t.equal((await before).status, 201, 'the request whose lookup preceded the revocation was served');
});

t.test('revocations under concurrent traffic take effect on the next request every time', async (t) => {
  const real = await testDatabase();
  const app = await appOn(t, real);
  const tenant = await newTenant(real);
  let stop = false;
  let n = 0;
  const background: number[] = [];
  // Eight clients keep single events and key lookups in flight throughout, with a key never revoked.
  const clients = Array.from({ length: 8 }, async () => {
    while (!stop) background.push((await post(app, tenant.writeKey, makeEvent(100_000 + n++))).status);
  });
  const create = async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/v1/admin/workspaces/${tenant.workspace.name}/keys`,
      headers: admin,
      payload: { scopes: ['events:write'] },
    });
    return res.json<{ key: string; key_id: string }>();
  };
  for (let round = 0; round < 15; round++) {
    const { key, key_id: keyId } = await create();
    // Requests with the key in flight while it is revoked: they may go either way.
    const racing = Array.from({ length: 5 }, (_, i) => post(app, key, makeEvent(200_000 + round * 10 + i)));
    await sleep(round % 3);
    const revoked = await app.inject({ method: 'DELETE', url: `/v1/admin/keys/${keyId}`, headers: admin });
    t.equal(revoked.statusCode, 200);
    const next = await Promise.all(Array.from({ length: 3 }, (_, i) => post(app, key, makeEvent(300_000 + round * 10 + i))));
    t.same(
      next.map((r) => r.status),
      [401, 401, 401],
      `round ${round}: every request sent after the revocation returned is refused`,
    );
    for (const r of await Promise.all(racing)) t.ok(r.status === 201 || r.status === 401, `a racing request: ${r.status}`);
  }
  stop = true;
  await Promise.all(clients);
  t.ok(background.length > 0 && background.every((s) => s === 201), `${background.length} background requests, all 201`);
});

t.test(
  'the database connection breaks mid-batch: every request of the batch is answered 503 and none of it is stored',
  { skip: !TEST_DATABASE_URL && 'needs PostgreSQL: the fault terminates a server backend' },
  async (t) => {
    const real = await testDatabase();
    const spy = spyOn(real);
    const app = await appOn(t, spy.db);
    const tenant = await newTenant(real);
    const control = await newTenant(real);
    // Every slot of the workspace is taken by a transaction that waits, so the next requests queue
    // up; when the first slot frees they are stored together, and that batch's connection breaks
    // once its events are inserted, before the derived state is written.
    const slots = GROUP_COMMIT_IN_FLIGHT;
    const holds = Array.from({ length: slots }, () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      return { gate, release };
    });
    spy.beforeTransaction = async (n) => {
      if (n < slots) await holds[n]!.gate;
    };
    const batchIds: string[] = [];
    spy.afterStatement = async (n, text, rows, tx) => {
      if (n !== slots || !/INSERT INTO "?events"?/.test(text) || batchIds.length > 0) return;
      batchIds.push(...(rows as { event_id: string }[]).map((r) => r.event_id));
      const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await real.query('SELECT pg_terminate_backend($1::int)', [row!.pid]);
    };

    const events = Array.from({ length: 40 }, (_, i) => makeEvent(i));
    const first = events.slice(0, slots).map((e) => post(app, tenant.writeKey, e));
    while (spy.transactions < slots) await sleep(5);
    const rest = events.slice(slots).map((e) => post(app, tenant.writeKey, e));
    // Every key check is done and every request validated and queued: then the first slot frees.
    const lookupsBefore = spy.lookups.length;
    while (spy.lookups.length === lookupsBefore) await sleep(5);
    await sleep(300);
    holds[0]!.release();
    const restAnswers = await Promise.all(rest);
    for (const h of holds) h.release();
    const answers = [...(await Promise.all(first)), ...restAnswers];

    t.ok(batchIds.length > 1, `the broken batch held ${batchIds.length} events`);
    const stored = await storedEvents(real, tenant.workspace.id);
    const accepted: Record<string, unknown>[] = [];
    answers.forEach((a, i) => {
      const id = events[i]!.id as string;
      if (batchIds.includes(id)) {
        t.equal(a.status, 503, `${id} (in the broken batch): 503`);
        t.equal(a.body.code, 'database_unavailable');
        t.notOk(stored.has(id), `${id} is not stored`);
      } else {
        t.equal(a.status, 201, `${id} (not in it): 201`);
        t.ok(stored.has(id), `${id} is stored`);
        accepted.push(events[i]!);
      }
    });
    t.equal(stored.size, events.length - batchIds.length, 'nothing else is stored');
    // Nothing of the batch reached the derived state: it is that of the accepted events alone.
    for (const e of accepted) t.equal((await post(app, control.writeKey, e)).status, 201);
    t.same(await derivedState(real, tenant.workspace.id), await derivedState(real, control.workspace.id), 'the derived state holds nothing of the batch');

    // The clients retry: the whole batch is accepted now (none of it was half-stored as a duplicate).
    spy.afterStatement = undefined;
    const retried = await Promise.all(events.filter((e) => batchIds.includes(e.id as string)).map((e) => post(app, tenant.writeKey, e)));
    t.ok(
      retried.every((r) => r.status === 201),
      'the retried batch is accepted',
    );
    t.equal((await storedEvents(real, tenant.workspace.id)).size, events.length);
  },
);

t.test('clients that hang up leave nothing stuck: the queue goes on, and closing waits for their events', async (t) => {
  const real = await testDatabase();
  const spy = spyOn(real);
  const app = await appOn(t, spy.db);
  const tenant = await newTenant(real);
  const slots = real.kind === 'pglite' ? 1 : GROUP_COMMIT_IN_FLIGHT;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  spy.beforeTransaction = async (n) => {
    if (n < slots) await gate;
  };
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const send = (e: object, signal?: AbortSignal) =>
    fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { ...bearer(tenant.writeKey), 'content-type': 'application/json' },
      body: JSON.stringify(e),
      signal,
    }).then((r) => r.status);
  // Every slot of the workspace is held; the next requests queue behind, and their clients hang up.
  const held = Array.from({ length: slots }, (_, i) => send(makeEvent(i)));
  while (spy.transactions < slots) await sleep(5);
  const abort = new AbortController();
  const gone = Array.from({ length: 6 }, (_, i) => send(makeEvent(10 + i), abort.signal).catch(() => 'aborted'));
  await sleep(300);
  abort.abort();
  t.same(await Promise.all(gone), Array(6).fill('aborted'));
  t.equal(spy.transactions, slots, 'their events wait in the queue');
  // Shutdown begins while the held requests are still running and the abandoned events still wait.
  const closed = app.close();
  await sleep(100);
  release();
  t.same(await Promise.all(held), Array(slots).fill(201));
  await closed;
  const stored = await storedEvents(real, tenant.workspace.id);
  t.equal(stored.size, slots + 6, 'once closed, the events of the clients that hung up are stored all the same');
});
