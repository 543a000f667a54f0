import t from 'tap';
import { exited } from '../cli/run.js';
import { TEST_DATABASE_URL } from '../helpers.js';
import { alive, call, makeEvents, provision, sameScoresAsCleanIngest, serve, serverEnv, stopServer, storedEvents, until, type Answer } from './fixtures/support.js';

/**
 * `rapport serve` is SIGKILLed (no drain, no shutdown hook) while JSON batches are in flight, and
 * started again on the same database. What it acknowledged must all be there, and resending every
 * batch must converge on each event stored exactly once, with the acknowledged ones answered as
 * duplicates. On PGlite this also exercises the embedded database's recovery after a crash.
 */

const BATCHES = TEST_DATABASE_URL ? 12 : 6;
const SIZE = 1_000;
const WORKERS = 3;

t.test('SIGKILL mid-batches, then a restart on the same database: nothing acknowledged is lost, a full resend stores each event once', async (t) => {
  const env = serverEnv(t);
  const [ws, control] = await provision(env, 2);
  const batches = Array.from({ length: BATCHES }, (_, b) => makeEvents(`k${b}`, SIZE, { offset: b * SIZE }));
  const distinct = BATCHES * SIZE;

  // --- First life: three clients send their batches one after the other; the process is killed
  // once two batches are acknowledged, so others are on the wire or mid-transaction.
  const first = await serve(t, env);
  const answers: (Answer | undefined)[] = [];
  const send = (url: string, b: number) => call(`${url}/v1/events/batch`, { key: ws!.key, json: { events: batches[b] }, deadlineMs: 120_000 });
  const workers = Array.from({ length: WORKERS }, async (_, w) => {
    for (let b = w; b < BATCHES && alive(first); b += WORKERS) {
      answers[b] = await send(first.url, b);
      if (answers[b]!.status !== 200) break;
    }
  });
  const acks = () => answers.filter((a) => a?.status === 200).length;
  t.ok(await until(() => acks() >= 2 || !alive(first), 120_000, 20), `two batches acknowledged before the kill${alive(first) ? '' : `\n${first.logs().slice(-3000)}`}`);
  first.child.kill('SIGKILL');
  t.equal((await exited(first.child)).signal, 'SIGKILL', 'the server was killed');
  await Promise.all(workers);

  const acked = answers.flatMap((a, b) => (a?.status === 200 ? [b] : []));
  const unanswered = answers.flatMap((a, b) => (a && a.status !== 200 ? [b] : []));
  t.comment(`acknowledged before the kill: [${acked.join(',')}]; cut off: [${unanswered.join(',')}]; never sent: ${BATCHES - acked.length - unanswered.length}`);
  t.ok(unanswered.length > 0, 'some batches were cut off by the kill');
  t.same(
    unanswered.map((b) => answers[b]!.status),
    unanswered.map(() => 0),
    'a cut-off batch gets no answer at all (never a 5xx from a half-dead process)',
  );
  for (const b of acked) t.same(answers[b]!.body, { accepted: SIZE, duplicates: 0, rejected: [], rejected_total: 0 }, `batch ${b} was acknowledged whole`);

  // --- The database after the crash, read directly (on PGlite: its folder, recovered on open).
  const afterKill = await storedEvents(env, ws!.name);
  t.equal(afterKill.rows, afterKill.ids.size, 'no event is stored twice');
  const present = batches.map((events) => events.filter((e) => afterKill.ids.has(e.id)).length);
  for (const b of acked) t.equal(present[b], SIZE, `acknowledged batch ${b} is fully present`);
  t.same(
    present.filter((n) => n !== 0 && n !== SIZE),
    [],
    `each batch is all there or not at all: one transaction each (${present.join(', ')})`,
  );

  // --- Second life on the same database: every batch resent, acknowledged or not.
  const second = await serve(t, env);
  const resent: Answer[] = [];
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      for (let b = w; b < BATCHES; b += WORKERS) resent[b] = await send(second.url, b);
    }),
  );
  t.same(
    resent.map((a) => a.status),
    resent.map(() => 200),
    'every resent batch completes',
  );
  for (let b = 0; b < BATCHES; b++) {
    const want = { accepted: SIZE - present[b]!, duplicates: present[b]!, rejected: [], rejected_total: 0 };
    t.same(resent[b]!.body, want, `batch ${b}${acked.includes(b) ? ' (acknowledged: all duplicates)' : ''}`);
  }
  const accepted = resent.reduce((n, a) => n + (a.body?.accepted ?? 0), 0);
  t.equal(afterKill.rows + accepted, distinct, 'stored before + accepted by the resend = the distinct events');

  // --- Derived state: the same scores as a workspace that received every batch once.
  await sameScoresAsCleanIngest(t, second.url, { faulted: ws!.key, control: control!.key }, batches, { accounts: 6, deadlineMs: 120_000 });

  const exit = await stopServer(second);
  t.equal(exit.code, 0, 'the restarted server shuts down cleanly');
  const final = await storedEvents(env, ws!.name);
  t.equal(final.rows, distinct, `exactly the ${distinct} distinct events are stored`);
  t.equal(final.ids.size, final.rows, 'each once');
});
