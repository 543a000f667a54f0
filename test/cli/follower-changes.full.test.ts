import t from 'tap';
import { at, unique } from '../helpers.js';
import { cliEnv, runCli } from './run.js';

t.test('follower-changes and unfollowers print the pages the API answers, cursors included', async (t) => {
  const env = cliEnv(t);
  const name = unique('cli');
  await runCli(env, ['workspaces', 'create', name]);
  // x follows at 0 and unfollows 90 minutes later; y follows at 30; ann follows y back at 30.
  const events = [
    { type: 'follow', actor: 'x', target: 'ann', occurred_at: at(0) },
    { type: 'unfollow', actor: 'x', target: 'ann', occurred_at: at(90) },
    { type: 'follow', actor: 'y', target: 'ann', occurred_at: at(30) },
    { type: 'follow', actor: 'ann', target: 'y', occurred_at: at(30) },
  ];
  const imported = await runCli(env, ['import', '-', '--workspace', name], events.map((e) => JSON.stringify(e)).join('\n'));
  t.equal(imported.code, 0, imported.stderr);

  const first = await runCli(env, ['follower-changes', 'ann', '--workspace', name, '--limit', '2', '--churn-hours', '1']);
  t.equal(first.code, 0, first.stderr);
  const page = JSON.parse(first.stdout);
  t.strictSame(page.window, { since: null, until: null, churn_hours: 1 });
  t.strictSame(page.items, [
    { account: 'x', change: 'unfollow', at: '2026-01-01T01:30:00.000000Z', followed_for_seconds: 5400, followed_back: false, quick: false },
    { account: 'y', change: 'follow', at: '2026-01-01T00:30:00.000000Z', followed_for_seconds: null, followed_back: true, quick: false },
  ]);
  t.strictSame(page.as_of, { complete: true, pending_events: 0 });
  const rest = await runCli(env, ['follower-changes', 'ann', '--workspace', name, '--limit', '2', '--cursor', page.next_cursor]);
  t.equal(rest.code, 0, rest.stderr);
  t.strictSame(
    JSON.parse(rest.stdout).items.map((i: { account: string; change: string }) => `${i.change} ${i.account}`),
    ['follow x'],
  );
  t.equal(JSON.parse(rest.stdout).next_cursor, null);

  const unfollowers = await runCli(env, ['unfollowers', 'ann', '--workspace', name]);
  t.equal(unfollowers.code, 0, unfollowers.stderr);
  t.strictSame(JSON.parse(unfollowers.stdout).items, [
    { account: 'x', change: 'unfollow', at: '2026-01-01T01:30:00.000000Z', followed_for_seconds: 5400, followed_back: false, quick: true },
  ]);

  // --change is part of the query a cursor is bound to.
  const wrongCursor = await runCli(env, ['follower-changes', 'ann', '--workspace', name, '--change', 'unfollow', '--cursor', page.next_cursor]);
  t.equal(wrongCursor.code, 2, 'a cursor of another query is a usage mistake');
  t.match(wrongCursor.stderr, /^rapport: the cursor was not issued for this query/);
});
