import t from 'tap';
import type { Database } from '../../src/db/client.js';
import type { StoreOutcome } from '../../src/db/events.js';
import type { NormalizedEvent } from '../../src/domain/events.js';
import { parseEvent } from '../../src/domain/validate.js';
import { GROUP_COMMIT_IN_FLIGHT, GroupCommit, type StoreBatch } from '../../src/ingest/coalesce.js';
import { at } from '../helpers.js';

/**
 * The group-commit queue against a store double: when batches start, what they hold and in which
 * order, that each caller gets its own outcome or its batch's error, and that nothing can leave
 * the queue stuck. The real transaction is tested in test/http/group-commit.test.ts.
 */

const postgres = { kind: 'postgres' } as Database;
const pglite = { kind: 'pglite' } as Database;

const event = (id: string, target = 'b'): NormalizedEvent => {
  const parsed = parseEvent({ id, type: 'like', actor: 'a', target, occurred_at: at(0) }, Date.now());
  if (!parsed.ok) throw new Error(parsed.rejection.message);
  return parsed.event;
};

interface Call {
  workspaceId: number;
  ids: string[];
  finish(outcomes?: StoreOutcome[]): void;
  fail(err: unknown): void;
}

/** A store whose every call waits until the test finishes or fails it. */
function controlledStore() {
  const calls: Call[] = [];
  const store: StoreBatch = (workspaceId, events) =>
    new Promise<StoreOutcome[]>((resolve, reject) => {
      calls.push({
        workspaceId,
        ids: events.map((e) => e.id),
        finish: (outcomes) => resolve(outcomes ?? events.map(() => 'accepted')),
        fail: reject,
      });
    });
  return { calls, store };
}

const tick = () => new Promise((r) => setImmediate(r));

/** What a promise settled to, without waiting: for asserting that it has not settled yet. */
function track<T>(p: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

t.test('at low load every event is stored at once, alone: no timer, no waiting', async (t) => {
  const { calls, store } = controlledStore();
  const gc = new GroupCommit(postgres, { inFlight: 2, store });
  const a = gc.submit(1, event('a'));
  t.equal(calls.length, 1, 'the store is called synchronously with the first event');
  t.same(calls[0]!.ids, ['a']);
  calls[0]!.finish();
  t.equal(await a, 'accepted');
  const b = gc.submit(1, event('b'));
  t.equal(calls.length, 2);
  t.same(calls[1]!.ids, ['b']);
  calls[1]!.finish();
  t.equal(await b, 'accepted');
  t.equal(gc.pending, 0);
});

t.test('with K transactions of a workspace in flight, events wait and go together, in arrival order, when one ends', async (t) => {
  const { calls, store } = controlledStore();
  const gc = new GroupCommit(postgres, { inFlight: 2, store });
  const first = [gc.submit(1, event('e0')), gc.submit(1, event('e1'))];
  t.same(
    calls.map((c) => c.ids),
    [['e0'], ['e1']],
    'two in flight at once, each alone',
  );
  const waiting = ['e2', 'e3', 'e4', 'e5'].map((id) => track(gc.submit(1, event(id))));
  await tick();
  t.equal(calls.length, 2, 'no third transaction while two run');
  t.notOk(waiting.some((w) => w.settled));
  calls[1]!.finish();
  t.equal(await first[1], 'accepted');
  t.same(calls[2]!.ids, ['e2', 'e3', 'e4', 'e5'], 'everything waiting, in arrival order, in one transaction');
  calls[2]!.finish(['accepted', 'duplicate', 'id_conflict', 'accepted']);
  await tick();
  t.same(
    waiting.map((w) => w.value),
    ['accepted', 'duplicate', 'id_conflict', 'accepted'],
    'each caller gets the outcome of its own event',
  );
  t.notOk(track(first[0]!).settled);
  calls[0]!.finish();
  t.equal(await first[0], 'accepted');
  await gc.drain();
  t.equal(calls.length, 3);
});

t.test('a batch holds at most maxEvents; the rest go in the next one', async (t) => {
  const { calls, store } = controlledStore();
  const gc = new GroupCommit(postgres, { inFlight: 1, maxEvents: 3, store });
  const all = Array.from({ length: 8 }, (_, i) => gc.submit(1, event(`m${i}`)));
  t.same(calls[0]!.ids, ['m0']);
  calls[0]!.finish();
  await tick();
  t.same(calls[1]!.ids, ['m1', 'm2', 'm3']);
  calls[1]!.finish();
  await tick();
  t.same(calls[2]!.ids, ['m4', 'm5', 'm6']);
  calls[2]!.finish();
  await tick();
  t.same(calls[3]!.ids, ['m7']);
  calls[3]!.finish();
  t.same(await Promise.all(all), Array(8).fill('accepted'));
});

t.test('with room for two, a full batch does not hold back the next one', async (t) => {
  const { calls, store } = controlledStore();
  const gc = new GroupCommit(postgres, { inFlight: 2, maxEvents: 2, store });
  const all = Array.from({ length: 7 }, (_, i) => gc.submit(1, event(`n${i}`)));
  calls[0]!.finish();
  await tick();
  t.same(
    calls.map((c) => c.ids),
    [['n0'], ['n1'], ['n2', 'n3']],
  );
  calls[1]!.finish();
  await tick();
  t.same(calls[3]!.ids, ['n4', 'n5']);
  calls[2]!.finish();
  await tick();
  t.same(calls[4]!.ids, ['n6']);
  calls[3]!.finish();
  calls[4]!.finish();
  t.same(await Promise.all(all), Array(7).fill('accepted'));
});

t.test('workspaces have queues of their own', async (t) => {
  const { calls, store } = controlledStore();
  const gc = new GroupCommit(postgres, { inFlight: 1, store });
  const a = gc.submit(1, event('x'));
  const b = gc.submit(2, event('x'));
  const c = gc.submit(1, event('y'));
  t.same(
    calls.map((c) => [c.workspaceId, c.ids]),
    [
      [1, ['x']],
      [2, ['x']],
    ],
    'workspace 2 does not wait for workspace 1',
  );
  calls[1]!.finish();
  t.equal(await b, 'accepted');
  t.equal(calls.length, 2, "workspace 2 ending does not start workspace 1's waiting event");
  calls[0]!.finish();
  await a;
  calls[2]!.finish();
  t.equal(await c, 'accepted');
});

t.test('a failed transaction fails every caller of its batch with its error, and the queue goes on', async (t) => {
  const { calls, store } = controlledStore();
  const gc = new GroupCommit(postgres, { inFlight: 1, store });
  const head = gc.submit(1, event('h'));
  const batch = ['f1', 'f2', 'f3'].map((id) => gc.submit(1, event(id)).catch((e: unknown) => e));
  calls[0]!.finish();
  await head;
  await tick();
  const late = gc.submit(1, event('after'));
  const down = Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
  calls[1]!.fail(down);
  const errors = await Promise.all(batch);
  t.ok(
    errors.every((e) => e === down),
    'every caller of the batch gets the very error',
  );
  await tick();
  t.same(calls[2]!.ids, ['after'], 'the next batch runs');
  calls[2]!.finish();
  t.equal(await late, 'accepted');
  t.equal(gc.pending, 0);
});

t.test('a store that throws at once, or answers the wrong number of outcomes, fails its callers, not the queue', async (t) => {
  let n = 0;
  const gc = new GroupCommit(postgres, {
    inFlight: 1,
    store: (_ws, events) => {
      n++;
      if (n === 1) throw new Error('sync failure');
      if (n === 2) return Promise.resolve([]);
      return Promise.resolve(events.map(() => 'accepted' as const));
    },
  });
  await t.rejects(gc.submit(1, event('s1')), /sync failure/);
  await t.rejects(gc.submit(1, event('s2')), /0 outcomes for 1 events/);
  t.equal(await gc.submit(1, event('s3')), 'accepted');
  await gc.drain();
});

t.test('callers that went away (promises nobody awaits, some of them rejected) never leave the queue stuck', async (t) => {
  const { calls, store } = controlledStore();
  const gc = new GroupCommit(postgres, { inFlight: 1, store });
  // The caller hung up: nobody awaits these; a rejection must not become an unhandled one either.
  for (let i = 0; i < 5; i++) gc.submit(1, event(`gone${i}`)).catch(() => {});
  calls[0]!.fail(new Error('boom'));
  await tick();
  calls[1]!.finish();
  await tick();
  const next = gc.submit(1, event('next'));
  t.equal(calls.length, 3);
  calls[2]!.finish();
  t.equal(await next, 'accepted');
  await gc.drain();
  t.equal(gc.pending, 0);
});

t.test('drain waits for every transaction, including those started by the end of others', async (t) => {
  const { calls, store } = controlledStore();
  const gc = new GroupCommit(postgres, { inFlight: 1, store });
  const all = ['d0', 'd1', 'd2'].map((id) => gc.submit(1, event(id)));
  const drained = track(gc.drain());
  calls[0]!.finish();
  await tick();
  t.notOk(drained.settled, 'the waiting events are still to be stored');
  calls[1]!.finish();
  await tick();
  t.ok(drained.settled);
  t.same(await Promise.all(all), ['accepted', 'accepted', 'accepted']);
});

t.test('on close, nothing waits for a free slot any more', async (t) => {
  const { calls, store } = controlledStore();
  const gc = new GroupCommit(postgres, { inFlight: 1, store });
  const all = ['c0', 'c1', 'c2'].map((id) => gc.submit(1, event(id)));
  t.equal(calls.length, 1);
  gc.close();
  t.same(
    calls.map((c) => c.ids),
    [['c0'], ['c1', 'c2']],
    'the waiting events are started at once',
  );
  const late = gc.submit(1, event('c3'));
  t.same(calls[2]!.ids, ['c3'], 'and so is any event submitted after');
  for (const c of calls) c.finish();
  t.same(await Promise.all([...all, late]), Array(4).fill('accepted'));
  await gc.drain();
});

t.test('one transaction of a workspace at a time by default; always one on PGlite', async (t) => {
  t.equal(GROUP_COMMIT_IN_FLIGHT, 1);
  t.equal(new GroupCommit(postgres).inFlight, 1);
  t.equal(new GroupCommit(postgres, { inFlight: 3 }).inFlight, 3);
  t.equal(new GroupCommit(pglite, { inFlight: 3 }).inFlight, 1);
});
