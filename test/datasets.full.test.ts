// Checks scripts/datasets.ts against the real data in ../shared/data (override with DATASETS_DIR).
// The data is third-party and not part of the repository: without it, the dataset tests are skipped.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASETS, DATASET_NAMES, datasetEvents, parseCsv, type DatasetName } from '../scripts/datasets.js';
import { DATASETS_DIR as dataDir, datasetsSkip } from './helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Streaming all of higgs (563,069 events) one await per event takes several seconds under tap.
t.setTimeout(300_000);

// Exact figures, from PROVENANCE.md where it gives them (youtube: 1,956 records minus 245 with an
// empty DATE minus 1 verbatim repeat of a COMMENT_ID in the Shakira file).
const EXPECTED: Record<DatasetName, { events: number; selfDirected: number }> = {
  'bitcoin-otc': { events: 35_592, selfDirected: 0 },
  'bitcoin-otc-positive': { events: 32_029, selfDirected: 0 },
  collegemsg: { events: 59_835, selfDirected: 0 },
  higgs: { events: 563_069, selfDirected: 7_588 },
  'youtube-spam': { events: 1_710, selfDirected: 0 },
  'utkml-spam': { events: 14_899, selfDirected: 0 },
};

const TYPES = new Set(['follow', 'unfollow', 'like', 'reply', 'mention', 'repost', 'post']);
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function isAccount(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= 256 && !CONTROL.test(v);
}

/** Reasons an event breaks the minimal structure of SPEC.md §2; empty when it is fine. */
function problems(e: Record<string, unknown>): string[] {
  const out: string[] = [];
  const type = e.type;
  if (typeof type !== 'string' || !TYPES.has(type)) out.push(`type ${String(type)}`);
  if (!isAccount(e.actor)) out.push('actor');
  if (type === 'post') {
    if ('target' in e) out.push('target on a post');
  } else if (!isAccount(e.target)) out.push('target');
  if (typeof e.occurred_at !== 'string' || !RFC3339_UTC.test(e.occurred_at) || Number.isNaN(Date.parse(e.occurred_at))) {
    out.push(`occurred_at ${String(e.occurred_at)}`);
  }
  if (typeof e.id !== 'string' || e.id.length < 1 || e.id.length > 128) out.push('id');
  if ('text' in e) {
    if (typeof e.text !== 'string' || e.text.length > 10_000) out.push('text');
    if (type !== 'post' && type !== 'reply' && type !== 'mention') out.push(`text on a ${String(type)}`);
  }
  return out;
}

interface Summary {
  count: number;
  selfDirected: number;
  byType: Record<string, number>;
  bad: string[];
  duplicateIds: string[];
  skipped: Record<string, number>;
  typeById: Map<string, string>;
  sample: Map<string, Record<string, unknown>>;
}

async function summarise(name: DatasetName, keep: (id: string) => boolean = () => false): Promise<Summary> {
  const s: Summary = {
    count: 0,
    selfDirected: 0,
    byType: {},
    bad: [],
    duplicateIds: [],
    skipped: {},
    typeById: new Map(),
    sample: new Map(),
  };
  const ids = new Set<string>();
  const onSkip = (reason: string): void => {
    s.skipped[reason] = (s.skipped[reason] ?? 0) + 1;
  };
  for await (const event of datasetEvents(name, dataDir, { onSkip })) {
    const e = event as unknown as Record<string, unknown>;
    s.count++;
    const p = problems(e);
    if (p.length > 0 && s.bad.length < 10) s.bad.push(`${JSON.stringify(e).slice(0, 200)}: ${p.join(', ')}`);
    const id = String(e.id);
    if (ids.has(id)) s.duplicateIds.push(id);
    ids.add(id);
    if (e.target === e.actor) s.selfDirected++;
    const type = String(e.type);
    s.byType[type] = (s.byType[type] ?? 0) + 1;
    if (name === 'collegemsg') s.typeById.set(id, type);
    if (keep(id)) s.sample.set(id, e);
  }
  return s;
}

t.test('CSV parser (RFC 4180)', async (t) => {
  const parse = async (text: string, chunkSize: number): Promise<string[][]> => {
    async function* chunks(): AsyncGenerator<string> {
      for (let i = 0; i < text.length; i += chunkSize) yield text.slice(i, i + chunkSize);
    }
    const out: string[][] = [];
    for await (const r of parseCsv(chunks())) out.push(r);
    return out;
  };
  const text = '\ufeffa,b,c\r\n"x, y","line1\nline2","say ""hi"""\n,,\n\nlast,"",z';
  const expected = [
    ['a', 'b', 'c'],
    ['x, y', 'line1\nline2', 'say "hi"'],
    ['', '', ''],
    ['last', '', 'z'],
  ];
  for (const size of [1, 2, 3, 1000]) t.same(await parse(text, size), expected, `chunks of ${size}`);
  // Multi-byte characters split across Buffer chunks.
  const bytes = Buffer.from('é,"日本"\n', 'utf8');
  async function* bufs(): AsyncGenerator<Buffer> {
    for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
  }
  const fromBytes: string[][] = [];
  for await (const r of parseCsv(bufs())) fromBytes.push(r);
  t.same(fromBytes, [['é', '日本']]);
  await t.rejects(parse('"open\n', 4), /unterminated/);
  await t.rejects(parse('"a"b,c\n', 4), /after a closing quote/);
});

t.test('DATASETS lists every name with its expected counts', async (t) => {
  t.same([...DATASET_NAMES].sort(), Object.keys(EXPECTED).sort());
  for (const name of DATASET_NAMES) {
    t.equal(DATASETS[name].events, EXPECTED[name].events, `${name} events`);
    t.equal(DATASETS[name].selfDirected, EXPECTED[name].selfDirected, `${name} self-directed`);
    const sum = Object.values(DATASETS[name].byType).reduce((a, b) => a + b, 0);
    t.equal(sum, EXPECTED[name].events, `${name} byType adds up`);
  }
});

/** The collegemsg labelling, recomputed from the raw file without the converter. */
function collegeMsgIndependent(): { types: Map<string, string>; reply: number; mention: number } {
  const lines = gunzipSync(readFileSync(join(dataDir, 'collegemsg/CollegeMsg.txt.gz')))
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '');
  const rows = lines.map((l) => l.split(' ').map(Number) as [number, number, number]);
  const timesByPair = new Map<string, number[]>();
  for (const [u, v, time] of rows) {
    const key = `${u}>${v}`;
    const list = timesByPair.get(key);
    if (list) list.push(time);
    else timesByPair.set(key, [time]);
  }
  const types = new Map<string, string>();
  let reply = 0;
  let mention = 0;
  rows.forEach(([u, v, time], i) => {
    const earlierBack = (timesByPair.get(`${v}>${u}`) ?? []).some((tb) => tb < time);
    if (earlierBack) reply++;
    else mention++;
    types.set(`cm:${i + 1}`, earlierBack ? 'reply' : 'mention');
  });
  return { types, reply, mention };
}

for (const name of DATASET_NAMES) {
  t.test(`dataset ${name}`, { skip: datasetsSkip }, async (t) => {
    const keepIds = new Set(['btc:1', 'utk:0', 'utk:7552', 'utk:12843', 'utk:14898']);
    const s = await summarise(name, (id) => keepIds.has(id));
    t.equal(s.count, EXPECTED[name].events, 'event count');
    t.same(s.bad, [], 'every event is structurally valid');
    t.same(s.duplicateIds.slice(0, 10), [], 'ids are unique');
    t.equal(s.selfDirected, EXPECTED[name].selfDirected, 'self-directed events');
    t.same(s.byType, DATASETS[name].byType, 'events per type as recorded in DATASETS');

    switch (name) {
      case 'bitcoin-otc':
        t.same(s.sample.get('btc:1'), {
          id: 'btc:1',
          type: 'follow',
          actor: 'btc:6',
          target: 'btc:2',
          occurred_at: '2010-11-08T18:45:11.72836Z',
        });
        break;
      case 'bitcoin-otc-positive':
        t.same(s.skipped, { 'rating <= 0': 3_563 });
        break;
      case 'collegemsg': {
        const ind = collegeMsgIndependent();
        t.equal(ind.reply + ind.mention, 59_835);
        t.equal(s.byType.reply, ind.reply, `replies: ${ind.reply}`);
        t.equal(s.byType.mention, ind.mention, `mentions: ${ind.mention}`);
        let differ = 0;
        for (const [id, type] of ind.types) if (s.typeById.get(id) !== type) differ++;
        t.equal(differ, 0, 'each row gets the same label as the independent pass');
        t.same({ reply: ind.reply, mention: ind.mention }, { reply: 36_124, mention: 23_711 });
        break;
      }
      case 'higgs':
        t.same(s.byType, { repost: 354_930, mention: 171_237, reply: 36_902 }, 'PROVENANCE.md type counts');
        break;
      case 'youtube-spam':
        t.same(s.skipped, { 'empty DATE': 245, 'duplicate COMMENT_ID': 1 }, 'skipped records');
        break;
      case 'utkml-spam':
        t.match(s.sample.get('utk:0'), { occurred_at: '2019-12-01T00:00:00Z', actor: 'utk:author' });
        t.match(s.sample.get('utk:14898'), { occurred_at: '2019-12-01T04:08:18Z' });
        // The two records whose location is split over two fields.
        t.match(s.sample.get('utk:7552'), {
          type: 'post',
          text: '#Virgos are usually very helpful around the house without being asked.',
        });
        t.match(s.sample.get('utk:12843'), {
          type: 'post',
          text: /^TRAITOR California Republicans are Defying Trumps Obamacare Repeal Agenda!/,
        });
        break;
    }
  });
}

t.test('CLI', async (t) => {
  const tsx = join(root, 'node_modules/.bin/tsx');
  const run = (...args: string[]) => spawnSync(tsx, ['scripts/datasets.ts', ...args], { cwd: root, encoding: 'utf8' });

  const list = run('--list');
  t.equal(list.status, 0, '--list exits 0');
  for (const name of DATASET_NAMES) t.match(list.stdout, `${name}\t${DATASETS[name].events}\t`);

  const unknown = run('no-such-dataset');
  t.equal(unknown.status, 2, 'unknown name exits 2');
  t.equal(unknown.stderr.trim().split('\n').length, 1, 'with one line on stderr');
  t.equal(unknown.stdout, '');

  const missing = run('higgs', '--data-dir', join(root, 'no-such-dir'));
  t.equal(missing.status, 2, 'missing file exits 2');
  t.match(missing.stderr, /missing file/);

  if (!datasetsSkip) {
    const some = run('collegemsg', '--data-dir', dataDir, '--limit', '3');
    t.equal(some.status, 0);
    const lines = some.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    t.equal(lines.length, 3, '--limit 3 prints 3 events');
    t.same(lines[0], {
      id: 'cm:1',
      type: 'mention',
      actor: 'cm:1',
      target: 'cm:2',
      occurred_at: '2004-04-15T14:56:01Z',
    });
  }
});
