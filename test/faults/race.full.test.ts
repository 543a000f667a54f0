import t from 'tap';
import { TEST_DATABASE_URL } from '../helpers.js';
import { accountsOf, call, makeEvents, ndjsonOf, provision, serve, serverEnv, stopServer, storedEvents, type Provisioned, type TestEvent } from './fixtures/support.js';

/**
 * Two `rapport serve` processes on one database are fed the same NDJSON stream at the same time
 * (then the same lines in opposite orders):
 * their chunks hold the same ids and race on the same rows (events, relationships, stats), and
 * the stream repeats some of its own events. Each event must be stored once, the two answers'
 * accepted counts must add up to the distinct events, and both processes must then serve the
 * same scores, equal to those of a workspace that received each event once.
 */

const DISTINCT = 7_000;

/** Every event once, plus, after every fourth, a repeat of an earlier one (duplicates within the stream as well as across the two). */
function streamOf(events: TestEvent[]): TestEvent[] {
  const lines: TestEvent[] = [];
  events.forEach((e, i) => {
    lines.push(e);
    if (i % 4 === 3) lines.push(events[(i * 7919) % (i + 1)]!);
  });
  return lines;
}

t.test(
  'two processes ingesting the same stream at once: each event stored once, accepted counts add up, both serve the same scores',
  { skip: !TEST_DATABASE_URL && 'two processes on one database need PostgreSQL (PGlite is owned by one process)' },
  async (t) => {
    const env = serverEnv(t);
    const [sameOrder, oppositeOrders, control, warmup] = await provision(env, 4);
    const [a, b] = await Promise.all([serve(t, env), serve(t, env)]);
    // A first stream through each process (its code paths compiled, its pool opened), so that the
    // races below start on both at once rather than while one of them is still warming up.
    const warm = ndjsonOf(makeEvents('warm', 50));
    for (const s of [a, b]) t.equal((await call(`${s.url}/v1/events/batch`, { key: warmup!.key, ndjson: warm })).status, 200, 'warm-up');

    const events = makeEvents('race', DISTINCT, { accounts: 30 });
    const lines = streamOf(events);
    const forward = ndjsonOf(lines);
    t.comment(`${lines.length} lines, ${DISTINCT} distinct events, on ${a.url} and ${b.url}`);

    // The same stream, once, into a workspace nobody races on: the truth the scores must match
    // (the order of events never matters).
    const calm = await call(`${a.url}/v1/events/batch`, { key: control!.key, ndjson: forward, deadlineMs: 180_000 });
    t.same(calm.body, { accepted: DISTINCT, duplicates: lines.length - DISTINCT, rejected: [], rejected_total: 0 }, 'the control ingest');

    const race = async (what: string, ws: Provisioned, bodyA: string, bodyB: string) => {
      const [ra, rb] = await Promise.all([
        call(`${a.url}/v1/events/batch`, { key: ws.key, ndjson: bodyA, deadlineMs: 180_000 }),
        call(`${b.url}/v1/events/batch`, { key: ws.key, ndjson: bodyB, deadlineMs: 180_000 }),
      ]);
      for (const [name, r] of [
        ['first', ra],
        ['second', rb],
      ] as const) {
        t.equal(r.status, 200, `${what}: the ${name} process answers 200${r.status === 200 ? '' : `: ${JSON.stringify(r.body)} ${r.error ?? ''}`}`);
        t.equal(r.body?.rejected_total, 0, `${what}: the ${name} process rejects nothing`);
        t.equal(r.body?.accepted + r.body?.duplicates, lines.length, `${what}: the ${name} process accounts for every line`);
      }
      t.comment(`${what}: accepted ${ra.body?.accepted} + ${rb.body?.accepted}`);
      t.equal(ra.body?.accepted + rb.body?.accepted, DISTINCT, `${what}: the accepted counts add up to the distinct events`);

      const stored = await storedEvents(env, ws.name);
      t.equal(stored.rows, DISTINCT, `${what}: ${DISTINCT} events stored`);
      t.equal(stored.ids.size, stored.rows, `${what}: each once`);
      t.ok(
        events.every((e) => stored.ids.has(e.id)),
        `${what}: every event of the stream`,
      );

      // What is compared is the state once folded in; how soon is the benchmark's business, and a
      // Citus cluster on two shared cores may take longer than READ_WAIT_MS: a 503 is read again.
      const settled = async (url: string, key: string) => {
        for (let tries = 1; ; tries++) {
          const res = await call(url, { key });
          if (res.status !== 503 || tries >= 60) return res;
          await new Promise((r) => setTimeout(r, 1_000));
        }
      };
      const window = 'since=2026-01-01T00:00:00Z&until=2026-01-03T00:00:00Z';
      for (const account of accountsOf(30).slice(0, 6)) {
        for (const query of ['', `?${window}`]) {
          const path = `/v1/accounts/${account}/scores${query}`;
          const [fromA, fromB, truth] = await Promise.all([settled(`${a.url}${path}`, ws.key), settled(`${b.url}${path}`, ws.key), settled(`${a.url}${path}`, control!.key)]);
          const which = `${what}: ${account}${query ? ' (window)' : ' (all time)'}`;
          t.equal(fromA.status, 200, `${which}: 200`);
          t.same(fromA.body, fromB.body, `${which}: both processes serve the same scores`);
          t.same(fromA.body, truth.body, `${which}: equal to a workspace that received each event once`);
        }
      }
    };

    // Chunk k of one process holds the same ids as chunk k of the other: the loser of each
    // chunk waits on the winner's uncommitted rows.
    await race('same stream', sameOrder!, forward, forward);
    // The same lines in opposite orders: the two processes' chunks cross, each locking rows the
    // other wants next (the deadlock-prone case; deadlocks are retried).
    await race('opposite orders', oppositeOrders!, forward, ndjsonOf([...lines].reverse()));

    const exits = await Promise.all([stopServer(a), stopServer(b)]);
    t.same(
      exits.map((e) => e.code),
      [0, 0],
      'both processes shut down cleanly',
    );
  },
);
