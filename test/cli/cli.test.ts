import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { at, secretOf, unique } from '../helpers.js';
import { cli } from './run.js';

const KEY = /^rpk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/;

t.test('workspaces create is idempotent', async (t) => {
  const name = unique('cli');
  const first = await cli(['workspaces', 'create', name]);
  t.equal(first.code, 0, first.stderr);
  t.equal(first.stdout, `${name}\n`);
  t.match(first.stderr, /created/);
  const again = await cli(['workspaces', 'create', name]);
  t.equal(again.code, 0);
  t.match(again.stderr, /already exists/);
});

t.test('keys create prints the key alone; keys list never shows a secret; keys revoke takes an id or the key', async (t) => {
  const name = unique('cli');
  await cli(['workspaces', 'create', name]);
  const created = await cli(['keys', 'create', '--workspace', name, '--scopes', 'events:write']);
  t.equal(created.code, 0, created.stderr);
  const key = created.stdout.trim();
  t.match(key, KEY);
  t.equal(created.stdout, `${key}\n`, 'nothing but the key on stdout');
  const second = (await cli(['keys', 'create', '--workspace', name])).stdout.trim();
  const keyId = key.split('_')[1]!;

  const listed = await cli(['keys', 'list', '--workspace', name, '--json']);
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

  t.equal((await cli(['keys', 'revoke', key])).code, 0);
  t.equal((await cli(['keys', 'revoke', second.split('_')[1]!])).code, 0);
  const after = JSON.parse((await cli(['keys', 'list', '--workspace', name, '--json'])).stdout) as {
    revoked_at: string | null;
  }[];
  t.ok(
    after.every((k) => typeof k.revoked_at === 'string' && k.revoked_at.endsWith('Z')),
    'both revoked',
  );
});

t.test('CLI mistakes exit non-zero with a one-line reason', async (t) => {
  const unknownWs = await cli(['keys', 'create', '--workspace', unique('missing')]);
  t.equal(unknownWs.code, 2);
  t.match(unknownWs.stderr, /^rapport: no workspace is named/);
  const badScopes = await cli(['keys', 'create', '--workspace', 'x', '--scopes', 'admin']);
  t.equal(badScopes.code, 2, 'an unknown scope is a usage mistake');
  t.match(badScopes.stderr, /scopes are a comma-separated list of events:write, scores:read/);
  const badName = await cli(['workspaces', 'create', 'Not A Name']);
  t.equal(badName.code, 2);
  t.match(badName.stderr, /workspace name is 1–64/);
  const unknownKey = await cli(['keys', 'revoke', 'zzzzzzzzzzzz']);
  t.equal(unknownKey.code, 2);
  t.match(unknownKey.stderr, /no key has the id/);
  const badConfig = await cli(['migrate'], '', { PORT: 'eighty' });
  t.equal(badConfig.code, 2);
  t.match(badConfig.stderr, /invalid configuration/);
});

t.test('import loads a file and standard input with the API’s validation, and reports a summary', async (t) => {
  const name = unique('cli');
  await cli(['workspaces', 'create', name]);
  const lines = [
    JSON.stringify({ id: 'i0', type: 'follow', actor: 'a', target: 'b', occurred_at: at(0) }),
    JSON.stringify({ id: 'i1', type: 'post', actor: 'a', occurred_at: at(1), text: 'hello https://x.test' }),
    '{oops',
    JSON.stringify({ id: 'i3', type: 'like', actor: 'a', occurred_at: at(2) }),
    JSON.stringify({ id: 'i0', type: 'follow', actor: 'a', target: 'b', occurred_at: at(0) }),
  ];
  const file = join(t.testdir(), 'events.ndjson');
  writeFileSync(file, lines.join('\n') + '\n');
  const res = await cli(['import', file, '--workspace', name]);
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

  const again = await cli(['import', '-', '--workspace', name], lines.slice(0, 2).join('\n'));
  t.equal(again.code, 0, again.stderr);
  t.match(JSON.parse(again.stdout), { accepted: 0, duplicates: 2, rejected_total: 0 });

  const missing = await cli(['import', join(t.testdir(), 'nope.ndjson'), '--workspace', name]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^rapport: ENOENT/);
});

t.test('scores prints an account’s scores document as JSON', async (t) => {
  const name = unique('cli');
  await cli(['workspaces', 'create', name]);
  const events = [
    { type: 'follow', actor: 'a', target: 'b', occurred_at: at(0) },
    { type: 'follow', actor: 'b', target: 'a', occurred_at: at(1) },
    { type: 'follow', actor: 'c', target: 'a', occurred_at: at(2) },
    { type: 'post', actor: 'a', occurred_at: at(3), text: 'Buy https://x.test' },
    { type: 'post', actor: 'a', occurred_at: at(60), text: 'buy   https://y.test' },
  ];
  const imported = await cli(['import', '-', '--workspace', name], events.map((e) => JSON.stringify(e)).join('\n'));
  t.equal(imported.code, 0, imported.stderr);
  const res = await cli(['scores', 'a', '--workspace', name]);
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
  const windowed = await cli(['scores', 'a', '--workspace', name, '--since', at(30), '--churn-hours', '5']);
  t.equal(windowed.code, 0, windowed.stderr);
  const w = JSON.parse(windowed.stdout);
  t.same(w.window, { since: '2026-01-01T00:30:00.000000Z', until: null, churn_hours: 5 });
  t.match(w.spam, { posts: 1, duplicate_post_ratio: { value: 0, numerator: 0, denominator: 1 } });
  const bad = await cli(['scores', 'a', '--workspace', name, '--since', 'yesterday']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /must be an RFC 3339 date-time/);
});

// Mistakes commander itself catches, before any database is used: README, "2 a usage mistake".
t.test('every usage mistake exits 2 with its reason; help exits 0', async (t) => {
  const noWorkspace = await cli(['keys', 'list']);
  t.equal(noWorkspace.code, 2, 'a missing --workspace');
  t.match(noWorkspace.stderr, /--workspace/);
  const badScope = await cli(['keys', 'create', '--workspace', 'x', '--scopes', 'admin']);
  t.equal(badScope.code, 2, 'an unknown scope');
  const noChurn = await cli(['scores', 'a', '--workspace', 'x', '--churn-hours', '0']);
  t.equal(noChurn.code, 2, '--churn-hours 0');
  t.match(noChurn.stderr, /churn-hours/);
  const unknownCommand = await cli(['frobnicate']);
  t.equal(unknownCommand.code, 2, 'an unknown command');
  t.match(unknownCommand.stderr, /unknown command/);
  const help = await cli(['--help']);
  t.equal(help.code, 0, 'help is no mistake');
  t.match(help.stdout, /^Usage: rapport/, 'help is on stdout');
});
