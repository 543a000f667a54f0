import type { Test } from 'tap';
import t from 'tap';
import { TEST_DATABASE_URL } from '../helpers.js';
import {
  alive,
  call,
  makeEvents,
  privatePostgres,
  provision,
  sameScoresAsCleanIngest,
  serve,
  serverEnv,
  sleep,
  stopServer,
  storedEvents,
  until,
  type Answer,
  type Server,
  type TestEvent,
} from './fixtures/support.js';

/**
 * PostgreSQL is stopped (fast shutdown: open sessions are terminated, mid-transaction for some)
 * while two clients stream batches, then started again on the same port. The service must answer
 * 503 database_unavailable with Retry-After meanwhile (never a 500, never a hang), keep /healthz
 * at 200 and /readyz at 503, come back by itself, and lose or double nothing it acknowledged.
 */

const BATCH = 250;
/** "Never a hang beyond a few seconds": the pool's connection timeout is 5 s, plus a margin. */
const MAX_ANSWER_MS = 6_000;
const RETRY_AFTER = /^[1-9]\d*$/;

interface Attempt {
  client: number;
  batch: string;
  startedAt: number;
  answer: Answer;
}

/** Whether `a` is the 503 the outage must produce. */
const isUnavailable = (a: Answer) =>
  a.status === 503 && a.body?.code === 'database_unavailable' && a.contentType.startsWith('application/problem+json') && RETRY_AFTER.test(a.retryAfter ?? '');

function checkUnavailable(t: Test, a: Answer, what: string) {
  t.ok(isUnavailable(a), `${what}: 503 database_unavailable problem+json with Retry-After (got ${a.status} ${a.body?.code ?? a.error ?? ''}, Retry-After ${a.retryAfter})`);
  t.ok(a.ms < MAX_ANSWER_MS, `${what}: answered in ${Math.round(a.ms)} ms`);
}

t.test(
  'PostgreSQL stopped and restarted mid-ingest: 503 database_unavailable while it is down, recovery without a restart, nothing acknowledged lost, nothing stored twice',
  { skip: !TEST_DATABASE_URL && 'needs a PostgreSQL server to stop and restart (PGlite runs inside the process)' },
  async (t) => {
    const pg = await privatePostgres(t);
    const env = serverEnv(t, { DATABASE_URL: pg.url });
    const [ws, control] = await provision(env, 2);
    const server: Server = await serve(t, env);
    const logs = () => `\n--- server log (tail) ---\n${server.logs().slice(-4000)}\n--- postgres log (tail) ---\n${pg.log().slice(-1500)}`;

    const batches = new Map<string, TestEvent[]>();
    const attempts: Attempt[] = [];
    const acked: { batch: string; body: any }[] = [];
    let finish = false;
    let giveUp = false;

    // A client that streams batches with fixed ids, each resent until it is acknowledged. It
    // waits 250 ms rather than the advertised Retry-After (5 s) to keep the test short.
    const client = async (c: number) => {
      for (let n = 0; !finish && !giveUp && alive(server); n++) {
        const name = `c${c}b${n}`;
        const events = makeEvents(name, BATCH, { offset: (c * 500 + n) * BATCH });
        batches.set(name, events);
        while (!giveUp && alive(server)) {
          const startedAt = Date.now();
          const answer = await call(`${server.url}/v1/events/batch`, { key: ws!.key, json: { events }, deadlineMs: 20_000 });
          attempts.push({ client: c, batch: name, startedAt, answer });
          if (answer.status === 200) {
            acked.push({ batch: name, body: answer.body });
            break;
          }
          await sleep(250);
        }
      }
    };

    const outage = async () => {
      const underWay = await until(() => acked.length >= 4, 30_000);
      t.ok(underWay, `ingest is under way (${acked.length} batches acknowledged)${underWay ? '' : logs()}`);
      if (!underWay) return;

      // --- PostgreSQL goes down.
      await pg.stop('fast');
      const downAt = Date.now();
      await sleep(300);
      if (!alive(server) || /uncaught/.test(server.logs())) {
        // Dead or dying (closeWithGrace logs the uncaught error, then closes): wait for the exit.
        await until(() => !alive(server), 15_000);
        t.fail(`the service survives the loss of its database: it exited with code ${server.child.exitCode} as PostgreSQL stopped${logs()}`);
        return;
      }

      checkUnavailable(t, await call(`${server.url}/readyz`, { deadlineMs: 20_000 }), '/readyz while the database is down');
      const health = await call(`${server.url}/healthz`, { deadlineMs: 20_000 });
      t.equal(health.status, 200, '/healthz answers 200 while the database is down');
      // A resend of an acknowledged batch: idempotent whatever happens to it.
      const resend = await call(`${server.url}/v1/events/batch`, { key: ws!.key, json: { events: batches.get(acked[0]!.batch) }, deadlineMs: 20_000 });
      checkUnavailable(t, resend, 'a batch while the database is down');
      checkUnavailable(t, await call(`${server.url}/v1/accounts/acct1/scores`, { key: ws!.key, deadlineMs: 20_000 }), 'a read while the database is down');

      // Both clients are answered during the outage before it ends.
      const sawOutage = (c: number) => attempts.some((a) => a.client === c && a.startedAt > downAt);
      await until(() => (sawOutage(0) && sawOutage(1)) || !alive(server), 15_000);
      t.ok(sawOutage(0) && sawOutage(1), 'both clients were answered while the database was down');
      await sleep(1_000);
      if (!alive(server)) {
        t.fail(`the service survives the loss of its database: it exited with code ${server.child.exitCode}${logs()}`);
        return;
      }
      t.pass('the service survives the loss of its database');
      const upFrom = Date.now();
      const ackedWhileDown = attempts.filter((a) => a.startedAt > downAt && a.startedAt < upFrom && a.answer.status === 200);
      t.same(
        ackedWhileDown.map((a) => a.batch),
        [],
        'nothing sent while the database is down is acknowledged',
      );

      // --- PostgreSQL comes back on the same port; the service is not touched.
      await pg.start();
      const upAt = Date.now();
      let readyAgain: Answer | undefined;
      await until(
        async () => {
          readyAgain = await call(`${server.url}/readyz`, { deadlineMs: 20_000 });
          return readyAgain.status === 200 || !alive(server);
        },
        30_000,
        200,
      );
      t.equal(readyAgain?.status, 200, `/readyz answers 200 again without a restart of the service${readyAgain?.status === 200 ? '' : logs()}`);
      t.comment(`readiness came back ${Date.now() - upAt} ms after PostgreSQL restarted`);
      const ackedAtUp = acked.length;
      const resumed = (await until(() => acked.length >= ackedAtUp + 4 || !alive(server), 30_000)) && alive(server);
      t.ok(resumed, `the clients' batches are acknowledged again (${acked.length - ackedAtUp} since the restart)`);
    };

    const clients = [client(0), client(1)];
    try {
      await outage();
    } finally {
      finish = true;
      const stuck = setTimeout(() => (giveUp = true), 30_000);
      await Promise.all(clients);
      clearTimeout(stuck);
    }
    const survived = alive(server);
    t.ok(survived, `the service is running at the end${survived ? '' : ` (it exited with code ${server.child.exitCode})`}`);
    if (survived) t.notOk(giveUp, 'every batch a client started was acknowledged in the end');

    // --- Every answer: 200, or 503 database_unavailable problem+json with Retry-After; never a 500, a reset or a hang.
    const bad = attempts.filter((a) => a.answer.status !== 200 && !isUnavailable(a.answer));
    t.same(
      bad.slice(0, 5).map((a) => ({ batch: a.batch, status: a.answer.status, code: a.answer.body?.code, retryAfter: a.answer.retryAfter, error: a.answer.error })),
      [],
      `the clients got 200 or 503 database_unavailable with Retry-After, nothing else (${bad.length} other answers)`,
    );
    const unavailable = attempts.filter((a) => a.answer.status === 503);
    t.ok(unavailable.length > 0, `the clients saw the outage (${unavailable.length} answers 503)`);
    const slowest = Math.max(...attempts.map((a) => a.answer.ms));
    t.ok(slowest < MAX_ANSWER_MS, `every answer within ${MAX_ANSWER_MS} ms (slowest ${Math.round(slowest)} ms)`);
    const wrongCounts = acked.filter((a) => a.body.accepted + a.body.duplicates !== BATCH || a.body.rejected.length !== 0);
    t.same(wrongCounts, [], 'every acknowledgement accounts for the whole batch');
    t.comment(`${attempts.length} requests, ${acked.length} batches acknowledged, ${unavailable.length} answered 503; slowest ${Math.round(slowest)} ms`);

    // --- The private database, read directly.
    if (!pg.running()) await pg.start(); // the outage phase may have ended early, with PostgreSQL still down
    const stored = await storedEvents(env, ws!.name);
    t.equal(stored.rows, stored.ids.size, 'no event is stored twice');
    const missing = acked.flatMap((a) =>
      batches
        .get(a.batch)!
        .filter((e) => !stored.ids.has(e.id))
        .map((e) => e.id),
    );
    t.same(missing.slice(0, 20), [], `every acknowledged event is stored (${missing.length} missing)`);
    const sent = new Set([...batches.values()].flat().map((e) => e.id));
    t.ok(
      [...stored.ids].every((id) => sent.has(id)),
      'nothing but the events sent is stored',
    );
    if (!survived) return; // what follows needs the service

    t.equal(stored.ids.size, sent.size, 'exactly the distinct events sent are stored: every batch in the end, each event once');

    // --- Derived state: the same scores as a workspace that received every batch once, calmly.
    await sameScoresAsCleanIngest(t, server.url, { faulted: ws!.key, control: control!.key }, batches.values(), { accounts: 8, deadlineMs: 30_000 });

    const exit = await stopServer(server);
    t.equal(exit.code, 0, `the service still shuts down cleanly${exit.code === 0 ? '' : logs()}`);
  },
);
