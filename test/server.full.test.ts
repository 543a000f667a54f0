import t from 'tap';
import { openDatabase } from '../src/db/client.js';
import { at, TEST_DATABASE_URL, unique } from './helpers.js';
import { cliEnv, exited, runCli, startServer } from './cli/run.js';

/** A workspace and a key made through the CLI, as an operator would. */
async function provision(env: Record<string, string>) {
  const name = unique('srv');
  await runCli(env, ['workspaces', 'create', name]);
  const key = (await runCli(env, ['keys', 'create', '--workspace', name])).stdout.trim();
  return { name, key };
}

/** Counts the stored events of a workspace with a direct connection (after the server has exited, for PGlite). */
async function storedIds(env: Record<string, string>, workspace: string): Promise<Set<string>> {
  const db = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR });
  try {
    const rows = await db.query<{ event_id: string }>('SELECT e.event_id FROM events e JOIN workspaces w ON w.id = e.workspace_id WHERE w.name = $1', [workspace]);
    return new Set(rows.map((r) => r.event_id));
  } finally {
    await db.close();
  }
}

const batchOf = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, type: 'like', actor: `u${i % 97}`, target: `v${i % 89}`, occurred_at: at(i) }));

t.test('SIGTERM during running batches: the server drains, exits 0, and every acknowledged event is stored', async (t) => {
  // A generous drain window: on a loaded CI machine the batches may take seconds, and this test is about draining, not speed.
  const env = cliEnv(t, { SHUTDOWN_TIMEOUT_MS: '120000' });
  const { name, key } = await provision(env);
  const server = await startServer(env);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const requests = Array.from({ length: 6 }, (_, b) =>
    fetch(`${server.url}/v1/events/batch`, { method: 'POST', headers, body: JSON.stringify({ events: batchOf(`b${b}`, 2_000) }) })
      .then(async (r) => ({ status: r.status, body: (await r.json()) as { accepted?: number } }))
      .catch((err: Error) => ({ status: 0, body: { error: err.message } as { accepted?: number } })),
  );
  await new Promise((r) => setTimeout(r, 150));
  server.child.kill('SIGTERM');
  const results = await Promise.all(requests);
  const { code } = await exited(server.child);
  t.equal(code, 0, `clean exit\n${server.logs().slice(-3000)}`);
  t.match(server.logs(), /shutting down/);
  const stored = await storedIds(env, name);
  const acknowledged = results.filter((r) => r.status === 200);
  t.ok(acknowledged.length > 0, `${acknowledged.length} of 6 batches were acknowledged before the shutdown`);
  results.forEach((r, b) => {
    if (r.status !== 200) return;
    t.equal(r.body.accepted, 2_000, `batch ${b} fully accepted`);
    const missing = batchOf(`b${b}`, 2_000).filter((e) => !stored.has(e.id));
    t.equal(missing.length, 0, `batch ${b}: every acknowledged event is stored`);
  });
});

t.test('events survive a restart of the service', async (t) => {
  const env = cliEnv(t);
  const { name, key } = await provision(env);
  const first = await startServer(env);
  const res = await fetch(`${first.url}/v1/events/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events: batchOf('r', 100) }),
  });
  t.same(await res.json(), { accepted: 100, duplicates: 0, rejected: [], rejected_total: 0 });
  first.child.kill('SIGTERM');
  t.equal((await exited(first.child)).code, 0);

  const second = await startServer(env);
  const resend = await fetch(`${second.url}/v1/events/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events: batchOf('r', 100) }),
  });
  t.same(await resend.json(), { accepted: 0, duplicates: 100, rejected: [], rejected_total: 0 }, 'the restarted service knows every event');
  second.child.kill('SIGTERM');
  t.equal((await exited(second.child)).code, 0);
  t.equal((await storedIds(env, name)).size, 100);
});

t.test('several processes migrating one new database at once all succeed', { skip: !TEST_DATABASE_URL && 'PGlite is single-process' }, async (t) => {
  const base = new URL(TEST_DATABASE_URL!);
  const dbName = `rapport_mig_${unique('x').split('-')[1]}`;
  const admin = await openDatabase({ url: TEST_DATABASE_URL });
  await admin.query(`CREATE DATABASE ${dbName}`);
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.close();
  });
  base.pathname = `/${dbName}`;
  const env = { ...cliEnv(t), DATABASE_URL: base.toString() };
  const runs = await Promise.all(Array.from({ length: 4 }, () => runCli(env, ['migrate'])));
  t.same(
    runs.map((r) => r.code),
    [0, 0, 0, 0],
    runs.map((r) => r.stderr).join('\n'),
  );
});
