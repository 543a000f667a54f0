import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { at, secretOf, TEST_DATABASE_URL, unique } from '../helpers.js';
import { cliEnv, exited, runCli, startServer } from './run.js';

const KEY = /^rpk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/;

t.test('workspaces create is idempotent', async (t) => {
  const env = cliEnv(t);
  const name = unique('cli');
  const first = await runCli(env, ['workspaces', 'create', name]);
  t.equal(first.code, 0, first.stderr);
  t.equal(first.stdout, `${name}\n`);
  t.match(first.stderr, /created/);
  const again = await runCli(env, ['workspaces', 'create', name]);
  t.equal(again.code, 0);
  t.match(again.stderr, /already exists/);
});

t.test('keys create prints the key alone; keys list never shows a secret; keys revoke takes an id or the key', async (t) => {
  const env = cliEnv(t);
  const name = unique('cli');
  await runCli(env, ['workspaces', 'create', name]);
  const created = await runCli(env, ['keys', 'create', '--workspace', name, '--scopes', 'events:write']);
  t.equal(created.code, 0, created.stderr);
  const key = created.stdout.trim();
  t.match(key, KEY);
  t.equal(created.stdout, `${key}\n`, 'nothing but the key on stdout');
  const second = (await runCli(env, ['keys', 'create', '--workspace', name])).stdout.trim();
  const keyId = key.split('_')[1]!;

  const listed = await runCli(env, ['keys', 'list', '--workspace', name, '--json']);
  t.equal(listed.code, 0, listed.stderr);
  const keys = JSON.parse(listed.stdout) as { key_id: string; scopes: string[]; revoked_at: string | null }[];
  t.same(Object.keys(keys[0]!).sort(), ['created_at', 'key_id', 'revoked_at', 'scopes', 'workspace'], 'snake_case, as over HTTP');
  t.same(
    keys.map((k) => [k.key_id, k.scopes, k.revoked_at]).sort(),
    [
      [keyId, ['events:write'], null],
      [second.split('_')[1], ['events:write', 'scores:read'], null],
    ].sort(),
  );
  t.notOk(listed.stdout.includes(secretOf(key)), 'no secret in the listing');

  t.equal((await runCli(env, ['keys', 'revoke', key])).code, 0);
  t.equal((await runCli(env, ['keys', 'revoke', second.split('_')[1]!])).code, 0);
  const after = JSON.parse((await runCli(env, ['keys', 'list', '--workspace', name, '--json'])).stdout) as {
    revoked_at: string | null;
  }[];
  t.ok(after.every((k) => typeof k.revoked_at === 'string' && k.revoked_at.endsWith('Z')), 'both revoked');
});

t.test('CLI mistakes exit non-zero with a one-line reason', async (t) => {
  const env = cliEnv(t);
  const unknownWs = await runCli(env, ['keys', 'create', '--workspace', unique('missing')]);
  t.equal(unknownWs.code, 2);
  t.match(unknownWs.stderr, /^rapport: no workspace is named/);
  const badScopes = await runCli(env, ['keys', 'create', '--workspace', 'x', '--scopes', 'admin']);
  t.equal(badScopes.code, 2, 'an unknown scope is a usage mistake');
  t.match(badScopes.stderr, /scopes are a comma-separated list of events:write, scores:read/);
  const badName = await runCli(env, ['workspaces', 'create', 'Not A Name']);
  t.equal(badName.code, 2);
  t.match(badName.stderr, /workspace name is 1–64/);
  const unknownKey = await runCli(env, ['keys', 'revoke', 'zzzzzzzzzzzz']);
  t.equal(unknownKey.code, 2);
  t.match(unknownKey.stderr, /no key has the id/);
  const badConfig = await runCli({ ...env, PORT: 'eighty' }, ['migrate']);
  t.equal(badConfig.code, 2);
  t.match(badConfig.stderr, /invalid configuration/);
});

t.test('migrate applies the migrations and exits 0', async (t) => {
  const res = await runCli(cliEnv(t), ['migrate']);
  t.equal(res.code, 0, res.stderr);
});

t.test('import loads a file and standard input with the API’s validation, and reports a summary', async (t) => {
  const env = cliEnv(t);
  const name = unique('cli');
  await runCli(env, ['workspaces', 'create', name]);
  const lines = [
    JSON.stringify({ id: 'i0', type: 'follow', actor: 'a', target: 'b', occurred_at: at(0) }),
    JSON.stringify({ id: 'i1', type: 'post', actor: 'a', occurred_at: at(1), text: 'hello https://x.test' }),
    '{oops',
    JSON.stringify({ id: 'i3', type: 'like', actor: 'a', occurred_at: at(2) }),
    JSON.stringify({ id: 'i0', type: 'follow', actor: 'a', target: 'b', occurred_at: at(0) }),
  ];
  const file = join(t.testdir(), 'events.ndjson');
  writeFileSync(file, lines.join('\n') + '\n');
  const res = await runCli(env, ['import', file, '--workspace', name]);
  t.equal(res.code, 1, 'exit 1 when some lines were rejected');
  t.match(res.stdout, /^\{/, `a summary on stdout (stderr: ${res.stderr})`);
  const summary = JSON.parse(res.stdout);
  t.match(summary, {
    accepted: 2,
    duplicates: 1,
    rejected_total: 2,
    rejected: [
      { index: 2, code: 'invalid_json' },
      { index: 3, code: 'invalid_event', message: 'target: required for type like' },
    ],
  });
  t.match(res.stderr, /done in .* 2 accepted, 1 duplicates, 2 rejected/);

  const again = await runCli(env, ['import', '-', '--workspace', name], lines.slice(0, 2).join('\n'));
  t.equal(again.code, 0, again.stderr);
  t.match(JSON.parse(again.stdout), { accepted: 0, duplicates: 2, rejected_total: 0 });

  const missing = await runCli(env, ['import', join(t.testdir(), 'nope.ndjson'), '--workspace', name]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^rapport: ENOENT/);
});

t.test('scores prints an account’s scores document as JSON', async (t) => {
  const env = cliEnv(t);
  const name = unique('cli');
  await runCli(env, ['workspaces', 'create', name]);
  const events = [
    { type: 'follow', actor: 'a', target: 'b', occurred_at: at(0) },
    { type: 'follow', actor: 'b', target: 'a', occurred_at: at(1) },
    { type: 'follow', actor: 'c', target: 'a', occurred_at: at(2) },
    { type: 'post', actor: 'a', occurred_at: at(3), text: 'Buy https://x.test' },
    { type: 'post', actor: 'a', occurred_at: at(60), text: 'buy   https://y.test' },
  ];
  const imported = await runCli(env, ['import', '-', '--workspace', name], events.map((e) => JSON.stringify(e)).join('\n'));
  t.equal(imported.code, 0, imported.stderr);
  const res = await runCli(env, ['scores', 'a', '--workspace', name]);
  t.equal(res.code, 0, res.stderr);
  const doc = JSON.parse(res.stdout);
  t.equal(doc.account, 'a');
  t.same(doc.window, { since: null, until: null, churn_hours: 72 });
  // Followers b and c, following b, mutual b.
  t.match(doc.reciprocity, { followers: 2, following: 1, mutual: 1, follow_back_rate: { value: 1, numerator: 1, denominator: 1 } });
  // Two posts, both links; the second repeats the first once links and case are gone.
  t.match(doc.spam, {
    posts: 2,
    link_post_ratio: { value: 1, numerator: 2, denominator: 2 },
    duplicate_post_ratio: { value: 0.5, numerator: 1, denominator: 2 },
  });
  const windowed = await runCli(env, ['scores', 'a', '--workspace', name, '--since', at(30), '--churn-hours', '5']);
  t.equal(windowed.code, 0, windowed.stderr);
  const w = JSON.parse(windowed.stdout);
  t.same(w.window, { since: '2026-01-01T00:30:00.000000Z', until: null, churn_hours: 5 });
  t.match(w.spam, { posts: 1, duplicate_post_ratio: { value: 0, numerator: 0, denominator: 1 } });
  const bad = await runCli(env, ['scores', 'a', '--workspace', name, '--since', 'yesterday']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /must be an RFC 3339 date-time/);
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
