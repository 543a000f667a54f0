import { Writable } from 'node:stream';
import pg from 'pg';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { defaultConfig } from '../../src/config.js';
import type { Database, Queryable } from '../../src/db/client.js';
import { createKey } from '../../src/db/workspaces.js';
import { at, bearer, citusSkip, newTenant, testDatabase, TEST_DATABASE_URL } from '../helpers.js';
import { receiver, until } from '../webhooks/fixtures.js';

/**
 * On Citus a request of one workspace must touch one shard group: one worker, one round trip per
 * statement, and workspaces spread over the cluster. Every statement the app sends while it
 * ingests, reads and erases is recorded, then checked on the coordinator twice: its EXPLAIN (no
 * distributed job of more than one task), and the commands Citus really sends to the workers when
 * it runs (citus.log_remote_commands, in a transaction rolled back), which must name the shards of
 * at most one hash range, reference tables aside. The second also covers what EXPLAIN cannot show,
 * such as the INSERT … SELECT FROM unnest upserts that Citus evaluates on the coordinator first.
 * A webhook subscription is in place throughout, with a receiver on loopback, so the projector's
 * outbox and the sender's statements are recorded too.
 */

interface Statement {
  text: string;
  params: unknown[];
}

/** The test database, seen through a recorder of every statement the app runs on it. */
function recording(real: Database, statements: Statement[]): Database {
  const record = (q: Queryable): Queryable => ({
    query(text, params) {
      statements.push({ text, params: params ?? [] });
      return q.query(text, params);
    },
  });
  return {
    kind: real.kind,
    query: (text, params) => record(real).query(text, params),
    transaction: (fn) => real.transaction((tx) => fn(record(tx))),
    withConnection: (fn) => real.withConnection(fn),
    poolStats: () => real.poolStats(),
    close: async () => {},
  };
}

/** Every "Task Count" of the plan's distributed jobs. */
function taskCounts(plan: unknown): number[] {
  if (Array.isArray(plan)) return plan.flatMap(taskCounts);
  if (!plan || typeof plan !== 'object') return [];
  return Object.entries(plan).flatMap(([k, v]) => (k === 'Task Count' ? [Number(v)] : taskCounts(v)));
}

const skip = await citusSkip();

t.test('every statement of ingest, reads, erasure and webhooks routes to one shard group', { skip }, async (t) => {
  const real = await testDatabase();
  const tenant = await newTenant(real);
  const statements: Statement[] = [];
  const db = recording(real, statements);
  const logStream = new Writable({ write: (_c, _e, cb) => cb() });
  const config = defaultConfig({
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: 0,
    LOAD_SHED_EVENT_LOOP_DELAY_MS: 0,
    WEBHOOK_SENDER: true,
    WEBHOOK_ALLOW_PRIVATE: true,
    WEBHOOK_POLL_MS: 20,
  });
  const app = await buildApp({ config, db, logStream });
  t.teardown(() => app.close());
  const headers = bearer(tenant.key);
  const ok = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object | string, type?: string, auth = headers) => {
    const res = await app.inject({ method, url, headers: { ...auth, ...(type ? { 'content-type': type } : {}) }, ...(payload ? { payload } : {}) });
    t.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.statusCode >= 300 ? res.body : ''}`);
    return res;
  };

  // The first receiver's answer fails, so the sender retries before it delivers.
  let answers = 0;
  const rx = await receiver(t, () => (answers++ === 0 ? 503 : 200));
  const hooks = bearer((await createKey(real, tenant.workspace, ['webhooks:manage'])).key);
  const hook = (await ok('POST', '/v1/webhooks', { url: rx.url, events: ['flag.raised', 'flag.cleared', 'score.crossed'], thresholds: { posts: 1 } }, undefined, hooks)).json<{
    id: string;
  }>();

  // Every kind of event, in single requests (concurrent: group commit) and batches, with pairs
  // whose recounts find history (answers within 72 h, follows unfollowed later).
  const events = [
    { type: 'follow', actor: 'a', target: 'b', occurred_at: at(0) },
    { type: 'follow', actor: 'b', target: 'a', occurred_at: at(1) },
    { type: 'reply', actor: 'b', target: 'a', occurred_at: at(2), text: 'what do you think?' },
    { type: 'mention', actor: 'a', target: 'b', occurred_at: at(3), text: 'see https://x.test' },
    { type: 'like', actor: 'c', target: 'a', occurred_at: at(4) },
    { type: 'like', actor: 'a', target: 'c', occurred_at: at(5) },
    { type: 'repost', actor: 'c', target: 'a', occurred_at: at(6) },
    { type: 'post', actor: 'a', occurred_at: at(7), text: 'buy https://x.test' },
    { type: 'post', actor: 'a', occurred_at: at(8), text: 'Buy https://y.test' },
    { type: 'follow', actor: 'c', target: 'a', occurred_at: at(9) },
    { type: 'unfollow', actor: 'c', target: 'a', occurred_at: at(70) },
  ];
  await Promise.all(events.slice(0, 4).map((e) => ok('POST', '/v1/events', e)));
  await ok('POST', '/v1/events/batch', { events: events.slice(4, 8) });
  await ok(
    'POST',
    '/v1/events/batch',
    events
      .slice(8)
      .map((e) => JSON.stringify(e))
      .join('\n'),
    'application/x-ndjson',
  );
  await ok('POST', '/v1/events/batch', {
    events: [
      { ...events[0], id: 'x1' },
      { ...events[1], id: 'x1' },
      { type: 'reply', actor: 'a', target: 'b', occurred_at: at(20) },
    ],
  });

  const window = `since=${encodeURIComponent(at(0))}&until=${encodeURIComponent(at(60))}`;
  await ok('GET', '/v1/accounts/a/scores');
  await ok('GET', `/v1/accounts/a/scores?${window}&churn_hours=5`);
  for (const section of ['reciprocity', 'engagement', 'spam']) await ok('GET', `/v1/accounts/a/${section}?churn_hours=100`);
  await ok('POST', '/v1/scores/batch', { accounts: ['a', 'b', 'nobody'] });
  await ok('POST', '/v1/scores/batch', { accounts: ['a', 'c'], since: at(0), until: at(60) });
  for (const sort of ['spam_score', 'followers', 'mutual']) await ok('GET', `/v1/accounts?sort=${sort}&order=desc&limit=2&min_followers=0`);
  for (const list of ['non-followers', 'fans', 'partners']) await ok('GET', `/v1/accounts/a/${list}?limit=1`);
  await ok('GET', `/v1/accounts/a/activity-hours?tz=Europe/Paris&${window}`);
  for (const query of ['', 'change=follow&', 'change=unfollow&', `${window}&`]) await ok('GET', `/v1/accounts/a/follower-changes?${query}limit=1`);
  const next = (await app.inject({ method: 'GET', url: '/v1/accounts/a/follower-changes?limit=1', headers })).json().next_cursor;
  await ok('GET', `/v1/accounts/a/follower-changes?limit=1&cursor=${encodeURIComponent(next)}`);
  await ok('GET', `/v1/accounts/a/unfollowers?${window}&limit=1`);
  await ok('DELETE', '/v1/accounts/b');
  await ok('DELETE', '/v1/accounts/c');

  // a's posts crossed the threshold: a delivery, refused once, then delivered.
  t.ok(await until(() => rx.accepted().length >= 1), 'the webhook delivery arrives');
  const delivered = rx.accepted()[0]!.json.id;
  t.ok(
    await until(
      async () => (await ok('GET', `/v1/webhooks/${hook.id}/deliveries`, undefined, undefined, hooks)).json<{ items: { status: string }[] }>().items[0]?.status === 'delivered',
    ),
    'and is logged delivered',
  );
  await ok('GET', '/v1/webhooks', undefined, undefined, hooks);
  await ok('POST', `/v1/webhooks/${hook.id}/deliveries/${delivered}/redeliver`, undefined, undefined, hooks);
  t.ok(await until(() => rx.accepted().length >= 2), 'the redelivery arrives');
  await ok('POST', `/v1/webhooks/${hook.id}/rotate-secret`, { grace_seconds: 60 }, undefined, hooks);
  await ok('DELETE', `/v1/webhooks/${hook.id}`, undefined, undefined, hooks);

  const distinct = new Map<string, Statement>();
  for (const s of statements) if (!distinct.has(s.text)) distinct.set(s.text, s);
  t.ok(distinct.size >= 20, `${distinct.size} distinct statements recorded`);

  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  t.teardown(() => client.end());
  const shards = new Map(
    (await client.query<{ shardid: string; range: string | null }>('SELECT shardid::text, shardminvalue AS range FROM pg_dist_shard')).rows.map((r) => [r.shardid, r.range]),
  );
  const notices: string[] = [];
  client.on('notice', (n) => notices.push(n.message ?? ''));

  for (const { text, params } of distinct.values()) {
    const what = text.replace(/\s+/g, ' ').slice(0, 90);
    // The projector's and the webhook sender's looks for work across workspaces run in the
    // background, off the request path.
    // A session setting (the projector's synchronous_commit for its batch) is no query to route.
    if (/^\s*SET /.test(text)) continue;
    if (/FROM pending_events GROUP BY workspace_id|FROM webhook_deliveries\s+WHERE status = 'pending' AND next_attempt_at <= now\(\) GROUP BY workspace_id/.test(text)) continue;
    // Citus cannot EXPLAIN a data-modifying CTE with parameters (the append of events to the log
    // and its queue, which it runs fine): for that one the commands actually sent decide.
    const explained = await client
      .query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, params)
      .catch((err: Error & { code?: string }) => (err.code === '0A000' && /^\s*WITH/.test(text) ? null : Promise.reject(err)));
    if (explained) {
      const tasks = taskCounts(explained.rows[0]!['QUERY PLAN']);
      t.ok(
        tasks.every((n) => n <= 1),
        `EXPLAIN: ${what} → tasks ${JSON.stringify(tasks)}`,
      );
    } else t.comment(`EXPLAIN: ${what} → not explainable on Citus; checked by what it sends`);

    notices.length = 0;
    await client.query('BEGIN');
    try {
      await client.query('SET LOCAL citus.log_remote_commands = on');
      // Replayed, an insert of a row the app already wrote (a delivery attempt) violates its key on
      // the worker, after Citus has sent it: where it was sent is what this checks.
      await client.query(text, params).catch((err: Error & { code?: string }) => (err.code === '23505' ? null : Promise.reject(err)));
    } finally {
      await client.query('ROLLBACK');
    }
    const touched = new Set(notices.filter((n) => n.startsWith('issuing')).flatMap((n) => [...n.matchAll(/\b[a-z_]+_(\d+)\b/g)].map((m) => m[1]!).filter((id) => shards.has(id))));
    const ranges = new Set([...touched].map((id) => shards.get(id)).filter((r) => r !== null));
    t.ok(ranges.size <= 1, `run: ${what} → ${touched.size} shards in ${ranges.size} shard groups`);
  }
});
