// The service's follow-graph and engagement metrics on real public data (../shared/data, or
// DATASETS_DIR), against the reference figures of each dataset's PROVENANCE.md and against values
// recomputed here from the raw files. Everything goes through HTTP: events in through
// POST /v1/events/batch, numbers out through the account endpoints. The data is third-party and not
// part of the repository: without it, these tests are skipped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { datasetEvents, type DatasetEvent, type DatasetName } from '../../scripts/datasets.js';
import { bearer, DATASETS_DIR as dataDir, datasetsSkip, tenantApp, type TestApp } from '../helpers.js';

const BATCH = 5_000;
const TIMEOUT = 600_000;

interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: unknown[];
  /** Source rows the converter skipped (bitcoin-otc-positive: the non-positive ratings). */
  skipped: number;
  first: DatasetEvent[];
}

/** Sends a dataset through POST /v1/events/batch in JSON batches of up to 5,000 events. */
async function ingest(ctx: TestApp, key: string, name: DatasetName): Promise<IngestResult> {
  const out: IngestResult = { accepted: 0, duplicates: 0, rejected: [], skipped: 0, first: [] };
  const send = async (events: DatasetEvent[]) => {
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(key), payload: { events } });
    if (res.statusCode !== 200) throw new Error(`batch ingest of ${name} answered ${res.statusCode}: ${res.body.slice(0, 500)}`);
    const body = res.json<{ accepted: number; duplicates: number; rejected: unknown[] }>();
    out.accepted += body.accepted;
    out.duplicates += body.duplicates;
    out.rejected.push(...body.rejected);
    if (out.first.length === 0) out.first = events;
  };
  let batch: DatasetEvent[] = [];
  for await (const event of datasetEvents(name, dataDir, { onSkip: () => void out.skipped++ })) {
    batch.push(event);
    if (batch.length === BATCH) {
      await send(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await send(batch);
  return out;
}

async function getJson(ctx: TestApp, key: string, url: string): Promise<any> {
  const res = await ctx.app.inject({ method: 'GET', url, headers: bearer(key) });
  if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}: ${res.body.slice(0, 500)}`);
  return res.json();
}

const account = (id: string) => encodeURIComponent(id);

t.test('bitcoin-otc, positive ratings as follows: per-node figures of PROVENANCE', { skip: datasetsSkip }, async (t) => {
  t.setTimeout(TIMEOUT);
  const {
    tenant: { key },
    ...ctx
  } = await tenantApp(t);

  const result = await ingest(ctx, key, 'bitcoin-otc-positive');
  t.equal(result.skipped, 3_563, 'the converter leaves out the negative ratings');
  t.equal(result.accepted, 32_029, 'every positive rating is accepted');
  t.equal(result.duplicates, 0, 'no duplicates on the first pass');
  t.same(result.rejected, [], 'nothing rejected');

  const resend = await ctx.app.inject({
    method: 'POST',
    url: '/v1/events/batch',
    headers: bearer(key),
    payload: { events: result.first },
  });
  t.equal(resend.statusCode, 200);
  const again = resend.json<{ accepted: number; duplicates: number; rejected: unknown[] }>();
  t.equal(result.first.length, 5_000, 'the first batch is a full one');
  t.same(
    { accepted: again.accepted, duplicates: again.duplicates, rejected: again.rejected },
    { accepted: 0, duplicates: result.first.length, rejected: [] },
    'resending the first batch: duplicates only',
  );

  // PROVENANCE.md, "Per-node reference on the positive-only subgraph" (networkx reciprocity(G, node)).
  const TABLE: [node: number, followers: number, following: number, mutual: number, reciprocity: string][] = [
    [35, 535, 753, 500, '0.776398'],
    [2642, 411, 397, 375, '0.928218'],
    [1810, 270, 244, 218, '0.848249'],
    [2028, 234, 267, 210, '0.838323'],
    [905, 226, 223, 179, '0.797327'],
    [13, 190, 193, 182, '0.950392'],
    [100, 8, 11, 8, '0.842105'],
  ];
  for (const [node, followers, following, mutual, reciprocity] of TABLE) {
    const body = await getJson(ctx, key, `/v1/accounts/${account(`btc:${node}`)}/reciprocity`);
    const r = body.reciprocity;
    t.same({ followers: r.followers, following: r.following, mutual: r.mutual }, { followers, following, mutual }, `btc:${node} followers, following, mutual`);
    t.same(
      { numerator: r.graph_reciprocity.numerator, denominator: r.graph_reciprocity.denominator },
      { numerator: 2 * mutual, denominator: followers + following },
      `btc:${node} graph_reciprocity = 2·mutual / (followers + following)`,
    );
    t.equal(typeof r.graph_reciprocity.value, 'number', `btc:${node} graph_reciprocity has a value`);
    t.equal(Number(r.graph_reciprocity.value).toFixed(6), reciprocity, `btc:${node} graph_reciprocity = networkx ${reciprocity}`);
  }
});

interface RankItem {
  account: string;
  value: number | null;
  followers: number;
  following: number;
  spam_score: number;
}

/** Every item of GET /v1/accounts?sort=SORT, following next_cursor to the end. */
async function ranking(ctx: TestApp, key: string, sort: string): Promise<RankItem[]> {
  const items: RankItem[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1_000; page++) {
    const url: string = `/v1/accounts?sort=${sort}&limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const body = await getJson(ctx, key, url);
    items.push(...(body.items as RankItem[]));
    cursor = body.next_cursor as string | null;
    if (cursor === null) return items;
  }
  throw new Error(`ranking by ${sort} did not end after 1,000 pages`);
}

t.test('bitcoin-otc, every rating as a follow: overall networkx reciprocity through the ranking', { skip: datasetsSkip }, async (t) => {
  t.setTimeout(TIMEOUT);
  const {
    tenant: { key },
    ...ctx
  } = await tenantApp(t);

  const result = await ingest(ctx, key, 'bitcoin-otc');
  t.equal(result.accepted, 35_592, 'every rating is accepted');
  t.same(result.rejected, [], 'nothing rejected');

  const byFollowing = await ranking(ctx, key, 'following');
  const byMutual = await ranking(ctx, key, 'mutual');

  const followingOf = new Map(byFollowing.map((i) => [i.account, i.following]));
  const mutualOf = new Map(byMutual.map((i) => [i.account, i.value]));
  t.equal(byFollowing.length, followingOf.size, 'sort=following lists each account once');
  t.equal(byMutual.length, mutualOf.size, 'sort=mutual lists each account once');
  t.equal(followingOf.size, 5_881, 'sort=following lists every node');
  t.equal(mutualOf.size, 5_881, 'sort=mutual lists every node');
  t.same([...mutualOf.keys()].sort(), [...followingOf.keys()].sort(), 'both passes list the same accounts');
  t.ok(
    byFollowing.every((i) => i.value === i.following),
    'with sort=following, value = following',
  );

  let sumFollowing = 0;
  for (const f of followingOf.values()) sumFollowing += f;
  let sumMutual = 0;
  let nonInteger = 0;
  for (const m of mutualOf.values()) {
    if (m === null || !Number.isInteger(m)) nonInteger++;
    else sumMutual += m;
  }
  t.equal(nonInteger, 0, 'every mutual value is an integer');
  t.equal(sumFollowing, 35_592, 'Σ following = number of ratings (one per ordered pair)');
  t.equal((sumMutual / sumFollowing).toFixed(6), '0.792313', `Σ mutual / Σ following (${sumMutual}/${sumFollowing}) = networkx 0.792313`);
});

/** The CollegeMsg rows, read here from the raw file (not through the converter). */
function collegeMsgRaw(): { out: Map<string, Set<string>>; in: Map<string, Set<string>>; received: Map<string, number>; rows: number } {
  const text = gunzipSync(readFileSync(join(dataDir, 'collegemsg/CollegeMsg.txt.gz'))).toString('utf8');
  const out = new Map<string, Set<string>>();
  const inn = new Map<string, Set<string>>();
  const received = new Map<string, number>();
  let rows = 0;
  const add = (m: Map<string, Set<string>>, k: string, v: string) => {
    const s = m.get(k);
    if (s) s.add(v);
    else m.set(k, new Set([v]));
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [src, dst, ts, ...extra] = line.trim().split(/\s+/);
    if (src === undefined || dst === undefined || ts === undefined || extra.length > 0) throw new Error(`bad CollegeMsg row ${JSON.stringify(line)}`);
    rows++;
    add(out, src, dst);
    add(inn, dst, src);
    received.set(dst, (received.get(dst) ?? 0) + 1);
  }
  return { out, in: inn, received, rows };
}

t.test('collegemsg: engages-back share, interactions received and networkx per-node reciprocity', { skip: datasetsSkip }, async (t) => {
  t.setTimeout(TIMEOUT);
  const raw = collegeMsgRaw();
  t.equal(raw.rows, 59_835, 'raw rows (PROVENANCE)');
  let pairs = 0;
  for (const s of raw.out.values()) pairs += s.size;
  t.equal(pairs, 20_296, 'distinct directed pairs (PROVENANCE)');

  // PROVENANCE.md: networkx reciprocity(G, u) on the digraph of distinct pairs, which is
  // 2·|out ∩ in| / (|out| + |in|). A check of this file's own reading of the raw data.
  const NX: Record<string, string> = { '1': '0.793103', '9': '0.337931', '41': '0.429185' };

  const {
    tenant: { key },
    ...ctx
  } = await tenantApp(t);
  const result = await ingest(ctx, key, 'collegemsg');
  t.equal(result.accepted, 59_835, 'every message is accepted');
  t.same(result.rejected, [], 'nothing rejected');

  for (const node of ['1', '9', '41']) {
    const out = raw.out.get(node) ?? new Set<string>();
    const inn = raw.in.get(node) ?? new Set<string>();
    const both = [...out].filter((v) => inn.has(v)).length;
    t.equal(((2 * both) / (out.size + inn.size)).toFixed(6), NX[node], `node ${node}: networkx reciprocity ${NX[node]} from the raw file`);

    const r = (await getJson(ctx, key, `/v1/accounts/${account(`cm:${node}`)}/reciprocity`)).reciprocity;
    t.equal(r.partners_engaged, out.size, `cm:${node} partners_engaged = distinct recipients`);
    t.equal(r.partners_engaging, inn.size, `cm:${node} partners_engaging = distinct senders`);
    t.equal(r.partners_mutual, both, `cm:${node} partners_mutual = recipients who also wrote to it`);
    t.same(
      r.engagement_reciprocity,
      { value: Math.round((both / out.size) * 1e6) / 1e6, numerator: both, denominator: out.size }, // 6 decimal places, as answered
      `cm:${node} engagement_reciprocity = ${both}/${out.size} (engages-back share)`,
    );

    const e = (await getJson(ctx, key, `/v1/accounts/${account(`cm:${node}`)}/engagement`)).engagement;
    t.equal(e.interactions_received.total, raw.received.get(node) ?? 0, `cm:${node} interactions_received.total = rows with it as DST`);
  }
});
