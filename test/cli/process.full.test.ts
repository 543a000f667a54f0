import t from 'tap';
import { at, TEST_DATABASE_URL, unique } from '../helpers.js';
import { cliEnv, exited, runCli, startServer } from './run.js';

// The CLI as the separate process a user runs (the commands themselves are tested in-process in
// cli.test.ts): a database of its own opened and migrated, stdin a pipe, the exit status the process's.

t.test('migrate applies the migrations and exits 0', async (t) => {
  const res = await runCli(cliEnv(t), ['migrate']);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stderr, /migrations applied/);
});

t.test('a workspace, a key and an import from a pipe, each in a process of its own', async (t) => {
  const env = cliEnv(t);
  const name = unique('cli');
  const created = await runCli(env, ['workspaces', 'create', name]);
  t.equal(created.code, 0, created.stderr);
  t.equal(created.stdout, `${name}\n`);
  const key = await runCli(env, ['keys', 'create', '--workspace', name]);
  t.equal(key.code, 0, key.stderr);
  t.match(key.stdout, /^rpk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}\n$/, 'the key alone on stdout');
  const lines = [JSON.stringify({ id: 'p0', type: 'follow', actor: 'a', target: 'b', occurred_at: at(0) }), '{oops'];
  const imported = await runCli(env, ['import', '-', '--workspace', name], lines.join('\n'));
  t.equal(imported.code, 1, 'the process exits 1 when a line was rejected');
  t.match(JSON.parse(imported.stdout), { accepted: 1, rejected_total: 1 });
  const usage = await runCli(env, ['frobnicate']);
  t.equal(usage.code, 2, 'a usage mistake exits 2');
});

t.test('on PGlite a second process refuses the folder a running server holds', { skip: Boolean(TEST_DATABASE_URL) && 'PostgreSQL serves many processes' }, async (t) => {
  const env = cliEnv(t);
  const server = await startServer(env);
  const res = await runCli(env, ['workspaces', 'create', unique('locked')]);
  t.equal(res.code, 2);
  t.match(res.stderr, /^rapport: the embedded database in .* is in use by process \d+/);
  server.child.kill('SIGTERM');
  t.equal((await exited(server.child)).code, 0);
  const after = await runCli(env, ['workspaces', 'create', unique('free')]);
  t.equal(after.code, 0, 'free once the server has stopped');
});
