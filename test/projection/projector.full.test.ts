import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { backlog, projectedTotal } from '../../src/db/projection.js';
import { createWorkspace } from '../../src/db/workspaces.js';
import { cliEnv, exited } from '../cli/run.js';
import { derivedState, TEST_DATABASE_URL, unique } from '../helpers.js';
import { appendAll, events, projectorOn, reference } from './fold.js';

const ROOT = new URL('../..', import.meta.url).pathname;

t.test('SIGKILL of a projector mid-batch loses nothing and counts nothing twice', async (t) => {
  const env = cliEnv(t, { PROJECTOR_BATCH_EVENTS: '1000', LOG_LEVEL: 'warn' });
  const list = events(12_000, unique('e'));
  const open = async () => {
    const db = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR, poolSize: 4 });
    await migrate(db);
    return db;
  };
  let db = await open();
  const { workspace } = await createWorkspace(db, unique('ws'));
  await appendAll(db, workspace.id, list);
  // PGlite's folder is one process's at a time: the child gets it while it runs.
  if (!TEST_DATABASE_URL) await db.close();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/index.ts'), 'project'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      output += d;
      // After its first batch committed, the next is under way: kill it there.
      if (/folded \d+ events/.test(output)) resolve();
    });
    child.once('exit', () => reject(new Error(`the projector exited early:\n${output}`)));
    // On a shared PostgreSQL another test file's server may fold the workspace first.
    if (TEST_DATABASE_URL) {
      const poll = setInterval(() => {
        void backlog(db, workspace.id).then((b) => {
          if (b.pending === 0) resolve();
        });
      }, 100);
      child.once('exit', () => clearInterval(poll));
    }
  });
  child.kill('SIGKILL');
  t.equal((await exited(child)).signal, 'SIGKILL', 'killed');
  if (!TEST_DATABASE_URL) db = await open();
  t.teardown(() => db.close());
  t.comment(`killed with ${(await backlog(db, workspace.id)).pending} of 12,000 events still queued`);
  await projectorOn(db, 5_000).drain(workspace.id);
  t.equal(await projectedTotal(db, workspace.id), 12_000, 'each event folded once');
  t.same(await derivedState(db, workspace.id), await reference(db, list), 'the state equals one uninterrupted fold');
});
