import t from 'tap';
import { openDatabase } from '../../src/db/client.js';
import { appendEvents } from '../../src/db/events.js';
import { backlog, projectedTotal } from '../../src/db/projection.js';
import { createWorkspace } from '../../src/db/workspaces.js';
import { Projector } from '../../src/projection/projector.js';
import { derivedState, testDatabase, TEST_DATABASE_URL, unique } from '../helpers.js';
import { appendAll, events, projectorOn, reference } from './fold.js';

/**
 * The projector folds every acknowledged event exactly once, whatever crashes, races or commit
 * order. On a shared PostgreSQL, other test files' servers project too (as any process of a
 * deployment may): the tests count what was folded through the workspace's projected total, which
 * every projector adds to in the transaction of its batch. A projector process killed mid-batch:
 * projector.full.test.ts.
 */

t.test('events are folded in batches; the state equals one fold of them all, and each is counted once', async (t) => {
  const db = await testDatabase();
  const list = events(3_000, unique('e'));
  const { workspace } = await createWorkspace(db, unique('ws'));
  await appendAll(db, workspace.id, list, 250);
  const p = projectorOn(db, 400);
  const sizes: number[] = [];
  while ((await backlog(db, workspace.id)).pending > 0) {
    const n = await p.projectBatch(workspace.id);
    if (n === 'busy') await new Promise((r) => setTimeout(r, 10));
    else if (n > 0) sizes.push(n);
  }
  // Another process may have folded some (or all) of them; what this one folded came in batches of 400 at most.
  t.ok(
    sizes.every((n) => n <= 400),
    `folded here in batches of at most 400: ${sizes.join(', ') || 'none'}`,
  );
  t.equal(await projectedTotal(db, workspace.id), 3_000, 'each event folded once');
  t.same(await derivedState(db, workspace.id), await reference(db, list), 'the same state as one fold of everything');
  // Appending the same events again changes nothing: they are duplicates, and nothing is queued.
  await appendAll(db, workspace.id, list);
  t.equal((await backlog(db, workspace.id)).pending, 0, 'duplicates are not queued');
});

t.test(
  'an event committed late with a lower sequence number is still folded in, not skipped',
  { skip: !TEST_DATABASE_URL && 'needs PostgreSQL: two transactions open at once' },
  async (t) => {
    const db = await testDatabase();
    const { workspace } = await createWorkspace(db, unique('ws'));
    const [early, late] = events(2, unique('e'));
    const p = projectorOn(db);
    await db.withConnection(async (conn) => {
      await conn.query('BEGIN');
      await appendEvents(conn, workspace.id, [early!]); // takes its sequence number now, commits last
      await db.transaction((tx) => appendEvents(tx, workspace.id, [late!]));
      await p.drain(workspace.id);
      t.equal((await backlog(db, workspace.id)).pending, 0, 'the later event is folded; the early one is not visible yet');
      await conn.query('COMMIT');
    });
    t.equal((await backlog(db, workspace.id)).pending, 1, 'the early one is queued once committed');
    await p.drain(workspace.id);
    t.same(await derivedState(db, workspace.id), await reference(db, [early!, late!]), 'both are in the state');
  },
);

t.test('two projectors racing on one workspace fold every event exactly once', { skip: !TEST_DATABASE_URL && 'needs PostgreSQL: two connections' }, async (t) => {
  const db = await testDatabase();
  const other = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 4 });
  t.teardown(() => other.close());
  const list = events(4_000, unique('e'));
  const { workspace } = await createWorkspace(db, unique('ws'));
  await appendAll(db, workspace.id, list);
  const a = projectorOn(db, 300);
  const b = projectorOn(other, 300);
  const tally = { a: 0, b: 0, busy: 0 };
  const race = async (p: Projector, who: 'a' | 'b') => {
    while ((await backlog(db, workspace.id)).pending > 0) {
      const n = await p.projectBatch(workspace.id);
      if (n === 'busy') tally.busy++;
      else tally[who] += n;
    }
  };
  await Promise.all([race(a, 'a'), race(b, 'b'), race(a, 'a'), race(b, 'b')]);
  t.equal(await projectedTotal(db, workspace.id), 4_000, `every event folded once (${tally.a} by one, ${tally.b} by the other, ${tally.busy} tries found it busy)`);
  t.same(await derivedState(db, workspace.id), await reference(db, list), 'the same state as one projector');
});

t.test('a stopped projector finishes its batch and takes no more; another picks the rest up', async (t) => {
  const db = await testDatabase();
  const list = events(3_000, unique('e'));
  const { workspace } = await createWorkspace(db, unique('ws'));
  await appendAll(db, workspace.id, list);
  let stopping: Promise<void> | undefined;
  let batches = 0;
  const p: Projector = new Projector(db, {
    batchEvents: 100,
    pollMs: 50,
    concurrency: 1,
    onBatch: () => {
      batches++;
      stopping ??= p.stop();
    },
  });
  p.start();
  p.notify(workspace.id);
  while (!stopping) await new Promise((r) => setTimeout(r, 5));
  await stopping;
  await new Promise((r) => setTimeout(r, 100));
  t.equal(batches, 1, 'the stopped projector folded no batch after its first');
  await projectorOn(db).drain(workspace.id);
  t.equal(await projectedTotal(db, workspace.id), 3_000, 'each event folded once');
  t.same(await derivedState(db, workspace.id), await reference(db, list));
});
