import t from 'tap';
import { cliEnv, runCli } from './run.js';

// Mistakes commander itself catches, before any database is opened: README, "2 a usage mistake".
// A file of its own, so the database-bound CLI tests keep their time budget.
t.test('every usage mistake exits 2 with its reason; help exits 0', async (t) => {
  const env = cliEnv(t);
  const noWorkspace = await runCli(env, ['keys', 'list']);
  t.equal(noWorkspace.code, 2, 'a missing --workspace');
  t.match(noWorkspace.stderr, /--workspace/);
  const badScope = await runCli(env, ['keys', 'create', '--workspace', 'x', '--scopes', 'admin']);
  t.equal(badScope.code, 2, 'an unknown scope');
  const noChurn = await runCli(env, ['scores', 'a', '--workspace', 'x', '--churn-hours', '0']);
  t.equal(noChurn.code, 2, '--churn-hours 0');
  t.match(noChurn.stderr, /churn-hours/);
  const unknownCommand = await runCli(env, ['frobnicate']);
  t.equal(unknownCommand.code, 2, 'an unknown command');
  t.match(unknownCommand.stderr, /unknown command/);
  t.equal((await runCli(env, ['--help'])).code, 0, 'help is no mistake');
});
