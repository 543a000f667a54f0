import t from 'tap';
import { openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { createKey, createWorkspace } from '../../src/db/workspaces.js';
import { exited } from '../cli/run.js';
import { at, unique } from '../helpers.js';
import { call, serve, serverEnv, stopServer } from '../faults/fixtures/support.js';
import { receiver, until } from './fixtures.js';

/**
 * `rapport serve` is SIGKILLed after the projector committed flag changes (and their deliveries, in
 * the same transaction) but before any delivery succeeded: the receiver was answering 503. Started
 * again on the same database, it delivers every one of them.
 */
t.test('a SIGKILL between a state change and its delivery loses no delivery', async (t) => {
  const env = serverEnv(t, {
    WEBHOOK_SENDER: 'true',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_POLL_MS: '20',
    WEBHOOK_BACKOFF_MS: '50',
    WEBHOOK_BACKOFF_MAX_MS: '200',
    // The killed sender's lease (timeout + 5 s) keeps the subscription from the next one until it ends.
    WEBHOOK_TIMEOUT_MS: '2000',
  });
  const db = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR, poolSize: 2 });
  let key: string;
  try {
    await migrate(db);
    const { workspace } = await createWorkspace(db, unique('hooks'));
    key = (await createKey(db, workspace, ['events:write', 'scores:read', 'webhooks:manage'])).key;
  } finally {
    await db.close();
  }
  let up = false;
  const rx = await receiver(t, () => (up ? 200 : 503));
  const accounts = ['tw:k1', 'tw:k2', 'tw:k3'];

  const first = await serve(t, env);
  const hook = await call(`${first.url}/v1/webhooks`, { method: 'POST', key, json: { url: rx.url, events: ['flag.raised'] } });
  t.equal(hook.status, 201);
  const events = accounts.flatMap((actor) => Array.from({ length: 5 }, (_, i) => ({ type: 'post', actor, occurred_at: at(i), has_link: true })));
  t.equal((await call(`${first.url}/v1/events/batch`, { method: 'POST', key, json: { events } })).status, 200);
  t.ok(await until(() => new Set(rx.requests.map((r) => r.json.account)).size === 3, 30_000), 'every account’s delivery was attempted (and refused)');
  first.child.kill('SIGKILL');
  t.equal((await exited(first.child)).signal, 'SIGKILL');
  t.equal(rx.accepted().length, 0, 'nothing was delivered before the kill');

  up = true;
  const second = await serve(t, env);
  t.ok(await until(() => new Set(rx.accepted().map((r) => r.json.account)).size === 3, 30_000), 'after the restart, every delivery arrives');
  t.strictSame([...new Set(rx.accepted().map((r) => r.json.account))].sort(), accounts);
  t.ok(rx.accepted().every((r) => r.json.type === 'flag.raised' && r.json.data.flag === 'link_spam'));
  t.equal(new Set(rx.requests.map((r) => r.json.id)).size, 3, 'one delivery per account, whatever the attempts');
  t.same((await stopServer(second)).code, 0);
});
