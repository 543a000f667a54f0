/**
 * Benchmark: `npm run bench -- [--scale 1] [--only a,b,1,...] [--out FILE] [--data-dir DIR] [--citus]`,
 * i.e. `tsx scripts/bench.ts`. Loopback only, PostgreSQL only, bounded by a deadline (555 s).
 * `--citus` runs the same phases on a throwaway Citus cluster (a coordinator and two workers on this
 * machine, scripts/citus-cluster.ts) instead of DATABASE_URL's server, baselines included: the COPY
 * goes into a table distributed like `events`, the lookup is a router query through the coordinator.
 *
 * Every target is a ratio to a baseline this run measures itself:
 *   (a) COPY of the very events the ingest phases send, normalised by the service's own parseEvent,
 *       into `bench_copy (LIKE events INCLUDING ALL)`: rows/s (synthetic events for target 1, higgs for 2);
 *   (b) a bare Fastify app (child process) answering GET /lookup/:id with one primary-key lookup on
 *       `events` through a pg.Pool of the service's DATABASE_POOL_SIZE, under autocannon at 50 connections.
 * Targets: 1 JSON batch ingest (4 clients) ≥ 0.8× the ceiling (a's events alone through the service's
 * INSERT) acknowledged, and ≥ 0.3×(a) end to end, until a default read reflects the last event (the phase
 * waits for it, as the other ingest phases wait for the projector, so no phase inherits another's
 * backlog); 2 `rapport import` of higgs, which ends once its events are projected, ≥ 0.3×(a) with peak
 * RSS < 300 MB; 3 server RSS < 300 MB through a 1M-event NDJSON stream; 4 single POST /v1/events
 * ≥ 0.6×(b) req/s, all 201; 5 scores p99 ≤ 2×(b) p99 and ≤ 1.2× a 1k-event account's, ranking p99
 * < 50 ms over ≥ 100k accounts; 6 two serve processes on one database: exactly-once under overlapping
 * duplicates, and more events/s together than one process alone; 7 phase 1 again with half of all
 * interactions aimed at one account, end to end ≥ 0.9× phase 1's; 8 events sent at half phase 1's
 * end-to-end rate: projection lag p99 ≤ 1 s; 9 a default read on an idle workspace, p99 ≤ 1.2× the
 * same read with consistency=eventual; 10 phase 5's reads again after VACUUM ANALYZE. The run order
 * is not the numbers' (7 and 8 follow 1, whose figure they use; 10 comes last, as maintenance changes
 * what every later phase would meet). A summary at the end lists the targets with their results.
 * README.md "Benchmark" says what each row means.
 *
 * The service under test is compiled from src/ into a private temporary folder (like `npm run build`,
 * without touching dist/) and run as `node …/dist/cli/index.js serve|import|migrate|workspaces`: the way
 * it runs in production, and without tsx's loader thread (~55 MB of RSS that is not the service's).
 *
 * Phases that cannot finish their work in their time budget (ingest is slow at present) stop at the
 * budget and report the rate over what they did, marked "bounded" in the table and the JSON.
 * Exit status: 0 every target met, 1 a target failed or could not be measured, 2 a usage mistake or
 * the benchmark itself broke (no database, deadline passed). Figures go to stdout and to the JSON file
 * (default bench/results/bench-<timestamp>.json); progress goes to stderr.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import split2 from 'split2';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { compare } from '../src/projection/deltas.js';
import { DISTRIBUTION } from '../src/db/distribution.js';
import { insertEvents } from '../src/db/events.js';
import type { NormalizedEvent } from '../src/domain/events.js';
import { parseEvent } from '../src/domain/validate.js';
import { startCluster, stopCluster, type Cluster } from './citus-cluster.js';
import { freePort, percentile, watchMemory } from './loopback.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = '127.0.0.1';
const SELF = fileURLToPath(import.meta.url);
const LOOKUP_SERVER_FLAG = '--internal-lookup-server';

// ---------------------------------------------------------------------------------------------
// the baseline (b) server: a bare Fastify app, run as a child process of the benchmark
// ---------------------------------------------------------------------------------------------

/** Runs in the child: one route, one primary-key lookup, a pool as big as the service's. */
async function lookupServer(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const pool = new pg.Pool({ connectionString: process.env.LOOKUP_DATABASE_URL, max: Number(process.env.LOOKUP_POOL_SIZE) });
  const workspaceId = Number(process.env.LOOKUP_WORKSPACE_ID);
  const app = Fastify();
  app.get<{ Params: { id: string } }>('/lookup/:id', async (request, reply) => {
    const { rows } = await pool.query('SELECT event_id, type, actor, target, occurred_at FROM events WHERE workspace_id = $1 AND event_id = $2', [workspaceId, request.params.id]);
    return rows[0] ?? reply.code(404).send({ error: 'not found' });
  });
  await app.listen({ port: Number(process.env.LOOKUP_PORT), host: HOST });
  process.stdout.write('lookup server ready\n');
  process.once(
    'SIGTERM',
    () =>
      void app
        .close()
        .then(() => pool.end())
        .then(() => process.exit(0)),
  );
}

// ---------------------------------------------------------------------------------------------
// options, sizes and time budgets
// ---------------------------------------------------------------------------------------------

const PHASES = ['a', 'b', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10'] as const;
type Phase = (typeof PHASES)[number];
/** What each phase needs measured before it: its baseline, or the data it reads. */
const NEEDS: Record<Phase, Phase[]> = {
  a: [],
  b: ['a'],
  '1': ['a'],
  '2': ['a'],
  '3': [],
  '4': ['b'],
  '5': ['b', '3'],
  '6': [],
  '7': ['1'],
  '8': ['1'],
  '9': ['3'],
  '10': ['5'],
};

const HIGGS_EVENTS = 563_069;
/** The whole run stops here, so that with its cleanup it stays under 10 minutes. */
const DEADLINE_S = 555;
/** Per phase: the most it may take, and what it is guaranteed (taken off earlier phases' budgets). */
const BUDGET_S: Record<Phase | 'setup', { budget: number; reserve: number }> = {
  setup: { budget: 90, reserve: 30 },
  a: { budget: 75, reserve: 30 },
  b: { budget: 25, reserve: 20 },
  '1': { budget: 60, reserve: 25 },
  '2': { budget: 120, reserve: 30 },
  '3': { budget: 200, reserve: 40 },
  '4': { budget: 20, reserve: 18 },
  '5': { budget: 80, reserve: 75 },
  '6': { budget: 60, reserve: 45 },
  '7': { budget: 60, reserve: 25 },
  '8': { budget: 45, reserve: 30 },
  '9': { budget: 30, reserve: 20 },
  // VACUUM ANALYZE of everything the earlier phases wrote (some 3M events at scale 1), then the reads.
  '10': { budget: 100, reserve: 70 },
};

interface Options {
  scale: number;
  phases: Phase[];
  out: string;
  dataDir: string;
  adminUrl: string;
  citus: boolean;
}

function usage(): never {
  process.stdout.write(
    'tsx scripts/bench.ts [--scale 1] [--only a,b,1,2,3,4,5,6,7,8,9,10] [--out FILE] [--data-dir DIR] [--citus]\n' +
      'PostgreSQL from DATABASE_URL (admin connection; default postgres://postgres@127.0.0.1:5432/postgres);\n' +
      'the benchmark creates and drops a database of its own there. Loopback only; under 10 minutes.\n' +
      '--citus: on a Citus cluster of a coordinator and two workers started for the run and removed after it.\n',
  );
  process.exit(0);
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        scale: { type: 'string', default: '1' },
        only: { type: 'string' },
        out: { type: 'string' },
        'data-dir': { type: 'string' },
        citus: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
  } catch (err) {
    fail(`${(err as Error).message}; --help for usage`);
  }
  const { values } = parsed;
  if (values.help) usage();
  const scale = Number(values.scale);
  if (!Number.isFinite(scale) || scale < 0.001 || scale > 1) fail('--scale must be a number from 0.001 to 1');
  let phases: Phase[] = [...PHASES];
  if (values.only !== undefined) {
    const asked = values.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = asked.filter((p) => !(PHASES as readonly string[]).includes(p));
    if (asked.length === 0 || unknown.length > 0) fail(`--only takes a comma-separated list of ${PHASES.join(',')}`);
    phases = withNeeds(asked as Phase[]);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    scale,
    phases,
    out: resolve(values.out ?? join(ROOT, 'bench/results', `bench-${stamp}.json`)),
    dataDir: resolve(values['data-dir'] ?? join(ROOT, '../shared/data')),
    adminUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    citus: values.citus,
  };
}

/** The asked phases and, transitively, what they need, in run order. */
function withNeeds(asked: Phase[]): Phase[] {
  const chosen = new Set<Phase>();
  const add = (p: Phase) => {
    if (chosen.has(p)) return;
    chosen.add(p);
    NEEDS[p].forEach(add);
  };
  asked.forEach(add);
  return PHASES.filter((p) => chosen.has(p));
}

/** Work sizes at a scale: the issue's sizes at 1. */
function sizesAt(scale: number) {
  const n = (full: number, min: number) => Math.max(min, Math.round(full * scale));
  return {
    /** Events prepared for target 1 (and baseline a's synthetic COPY). */
    synthetic: n(300_000, 2_000),
    /** Accounts the synthetic mix draws from, zipf-like. */
    population: n(100_000, 500),
    higgs: scale >= 1 ? HIGGS_EVENTS : n(HIGGS_EVENTS, 1_000),
    stream: n(1_000_000, 2_000),
    followers: n(100_000, 200),
    /** Events of target 6's stream. */
    duo: n(50_000, 2_000),
    /** Target 8: seconds of traffic at a fixed rate, after a second of warm-up. */
    freshS: Math.max(3, Math.round(20 * scale)),
    /** autocannon: a warm-up (2 s at full scale, 200 requests below), then measured seconds (whole: autocannon's unit). */
    warmup: scale >= 1 ? { duration: 2 } : { amount: 200 },
    loadS: Math.max(1, Math.round(10 * scale)),
    connections: 50,
  };
}
type Sizes = ReturnType<typeof sizesAt>;

// ---------------------------------------------------------------------------------------------
// small utilities
// ---------------------------------------------------------------------------------------------

const T0 = performance.now();
const elapsedS = () => (performance.now() - T0) / 1000;
const log = (line: string) => void process.stderr.write(`[${elapsedS().toFixed(1).padStart(6)} s] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : NaN);

/** Deterministic 32-bit generator (mulberry32): the same seed gives the same events in every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 1..n-1, log-uniform: rank r is drawn with probability ∝ 1/r, as audiences concentrate on few accounts. */
const zipf = (rand: () => number, n: number) => Math.floor(Math.exp(rand() * Math.log(n)));

/** Rejects when `signal` aborts, so a phase stuck on anything still ends at its deadline. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error(String(signal.reason)));
  return new Promise<T>((resolveWork, reject) => {
    const onAbort = () => reject(new Error(String(signal.reason)));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolveWork, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

// ---------------------------------------------------------------------------------------------
// child processes: tracked so that every one is ended at the end, whatever happened
// ---------------------------------------------------------------------------------------------

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

/** Like exitOf, once its output has been read to the end too. */
function closeOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((r) => child.once('close', (code, signal) => r({ code, signal })));
}

/** SIGTERM, then SIGKILL if it lingers: the service drains in-flight requests on SIGTERM. */
async function stopChild(child: ChildProcess, graceMs = 8_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = exitOf(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (or until `signal`), collecting its output. */
async function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal, stdoutFile?: string): Promise<RunResult> {
  const child = track(spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  const fileDone = stdoutFile ? pipeline(child.stdout!, createWriteStream(stdoutFile)) : Promise.resolve();
  if (!stdoutFile) child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-20_000)));
  const onAbort = () => child.kill('SIGKILL');
  signal.addEventListener('abort', onAbort, { once: true });
  const { code } = await closeOf(child);
  signal.removeEventListener('abort', onAbort);
  await fileDone.catch(() => undefined);
  if (signal.aborted) throw new Error(`${args.slice(0, 3).join(' ')}: stopped (${String(signal.reason)})`);
  return { code, stdout, stderr };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: the benchmark's own database
// ---------------------------------------------------------------------------------------------

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function workspaceId(url: string, name: string): Promise<number> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ id: number }>('SELECT id FROM workspaces WHERE name = $1', [name]);
    if (!rows[0]) throw new Error(`workspace ${name} not found`);
    return rows[0].id;
  });
}

async function countRows(url: string, sql: string, params: unknown[]): Promise<number> {
  return withClient(url, async (c) => Number((await c.query<{ n: string }>(sql, params)).rows[0]?.n ?? NaN));
}

/**
 * Waits until the projector has folded in every acknowledged event of the database (or the
 * deadline passes): the end of an ingest, end to end, and no backlog left for the next phase.
 */
async function waitProjected(url: string, deadline: number): Promise<{ seconds: number; drained: boolean }> {
  const started = performance.now();
  while ((await countRows(url, 'SELECT count(*) AS n FROM pending_events', [])) > 0) {
    if (Date.now() > deadline) return { seconds: (performance.now() - started) / 1000, drained: false };
    await sleep(100);
  }
  return { seconds: (performance.now() - started) / 1000, drained: true };
}

// ---------------------------------------------------------------------------------------------
// the events: a synthetic mix, the star account's history, higgs
// ---------------------------------------------------------------------------------------------

type WireEvent = Record<string, string | boolean>;
const HISTORY_START_MS = Date.UTC(2025, 0, 1);
const at = (ms: number) => new Date(ms).toISOString();

const TEXTS = [
  'what did you think of part %?',
  'new chapter is up: https://example.com/ch/%',
  'thanks for the follow, %!',
  'agreed on point %',
  'has anyone tried recipe %?',
  'check this out https://example.com/deal/% free followers',
];

function textOf(rand: () => number): string {
  return TEXTS[Math.floor(rand() * TEXTS.length)]!.replace('%', String(Math.floor(rand() * 50)));
}

const SYNTHETIC_TYPES: [string, number][] = [
  ['follow', 22],
  ['unfollow', 4],
  ['like', 30],
  ['reply', 9],
  ['mention', 7],
  ['repost', 13],
  ['post', 15],
];
const SYNTHETIC_TOTAL = SYNTHETIC_TYPES.reduce((s, [, w]) => s + w, 0);

function syntheticType(rand: () => number): string {
  let r = rand() * SYNTHETIC_TOTAL;
  for (const [type, w] of SYNTHETIC_TYPES) if ((r -= w) < 0) return type;
  return 'like';
}

/**
 * The mixed traffic of many accounts: every type, texts on posts, replies and mentions (some with
 * links, some questions, some repeated), actors and targets drawn zipf-like from `population`.
 */
function syntheticEvent(rand: () => number, i: number, population: number, idPrefix = 'syn'): WireEvent {
  const type = syntheticType(rand);
  const account = () => `syn:u${zipf(rand, population)}`;
  const e: WireEvent = { id: `${idPrefix}:${i}`, type, actor: account(), occurred_at: at(HISTORY_START_MS + i * 10_000 + Math.floor(rand() * 10_000)) };
  if (type !== 'post') e.target = account();
  if (type === 'post' || type === 'reply' || type === 'mention') e.text = textOf(rand);
  return e;
}

/** The first `n` synthetic events, the same ones in every run and phase. */
function* syntheticEvents(n: number, population: number): Generator<WireEvent> {
  const rand = prng(0x5eed);
  for (let i = 0; i < n; i++) yield syntheticEvent(rand, i, population);
}

const STAR = 'bench:star';
const SMALL = 'bench:small';

/**
 * An account's history: `followers` distinct accounts follow it first, then they like, reply to,
 * mention and repost it (the busiest followers most), while it posts and replies now and then.
 */
function* accountHistory(account: string, n: number, followers: number, seed: number): Generator<WireEvent> {
  const rand = prng(seed);
  const prefix = `${account}:f`;
  for (let i = 0; i < n; i++) {
    const id = `${account}:${i}`;
    const occurred_at = at(HISTORY_START_MS + i * 5_000);
    if (i < followers) {
      yield { id, type: 'follow', actor: `${prefix}${i}`, target: account, occurred_at };
      continue;
    }
    const fan = `${prefix}${zipf(rand, followers)}`;
    const r = rand();
    if (r < 0.015) yield { id, type: 'post', actor: account, occurred_at, text: textOf(rand) };
    else if (r < 0.03) yield { id, type: 'reply', actor: account, target: fan, occurred_at, text: textOf(rand) };
    else if (r < 0.55) yield { id, type: 'like', actor: fan, target: account, occurred_at };
    else if (r < 0.7) yield { id, type: 'reply', actor: fan, target: account, occurred_at, text: textOf(rand) };
    else if (r < 0.8) yield { id, type: 'mention', actor: fan, target: account, occurred_at, text: textOf(rand) };
    else yield { id, type: 'repost', actor: fan, target: account, occurred_at };
  }
}

/** JSON batch bodies of 1,000–5,000 events (or `fixed`), prepared before any clock starts. */
function jsonBatches(events: Iterable<WireEvent>, rand: () => number, fixed?: number): { body: string; events: number }[] {
  const batches: { body: string; events: number }[] = [];
  let current: string[] = [];
  let size = fixed ?? 1_000 + Math.floor(rand() * 4_001);
  const flush = () => {
    if (current.length === 0) return;
    batches.push({ body: `{"events":[${current.join(',')}]}`, events: current.length });
    current = [];
    size = fixed ?? 1_000 + Math.floor(rand() * 4_001);
  };
  for (const e of events) {
    current.push(JSON.stringify(e));
    if (current.length >= size) flush();
  }
  flush();
  return batches;
}

// ---------------------------------------------------------------------------------------------
// baseline (a): COPY text of normalised events
// ---------------------------------------------------------------------------------------------

const COPY_COLUMNS = 'workspace_id, event_id, type, actor, target, post, occurred_at, has_link, is_question, fingerprint, content_hash';
const copyText = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
const copyNullable = (s: string | null) => (s === null ? '\\N' : copyText(s));
const copyBytea = (b: Buffer | null) => (b === null ? '\\N' : `\\\\x${b.toString('hex')}`);

/** One COPY line, as src/db/events.ts maps a NormalizedEvent to the columns of `events`. */
function copyLine(workspace: number, e: NormalizedEvent): string {
  return `${workspace}\t${copyText(e.id)}\t${e.type}\t${copyText(e.actor)}\t${copyNullable(e.target)}\t${copyNullable(e.post)}\t${e.occurredAt}\t${e.hasLink ? 't' : 'f'}\t${e.isQuestion ? 't' : 'f'}\t${copyBytea(e.fingerprint)}\t${copyBytea(e.contentHash)}\n`;
}

/** Normalises events with the service's parseEvent into COPY text, in ~1 MB pieces (and keeps the events when asked). */
async function copyPayload(
  events: AsyncIterable<unknown> | Iterable<unknown>,
  workspace: number,
  keep = false,
): Promise<{ pieces: Buffer[]; rows: number; ids: string[]; events: NormalizedEvent[] }> {
  const now = Date.now();
  const pieces: Buffer[] = [];
  const ids: string[] = [];
  const kept: NormalizedEvent[] = [];
  let text = '';
  for await (const input of events) {
    const parsed = parseEvent(input, now);
    if (!parsed.ok) throw new Error(`an event the benchmark made is invalid: ${parsed.rejection.message}`);
    ids.push(parsed.event.id);
    if (keep) kept.push(parsed.event);
    text += copyLine(workspace, parsed.event);
    if (text.length >= 1 << 20) {
      pieces.push(Buffer.from(text));
      text = '';
    }
  }
  if (text) pieces.push(Buffer.from(text));
  return { pieces, rows: ids.length, ids, events: kept };
}

/** Batches of target 1's average size for the ceiling measurement. */
const CEILING_BATCH = 3_000;

/**
 * Ingest's ceiling: the same events through the service's own INSERT into `events` (insertEvents,
 * one transaction per batch of CEILING_BATCH, one connection), without any derived state. Leaves
 * the rows stored under `workspace`, where baseline b reads them. Rows/s.
 */
async function timedEventsOnly(url: string, workspace: number, events: readonly NormalizedEvent[]): Promise<number> {
  const db = await openDatabase({ url, poolSize: 1 });
  try {
    const started = performance.now();
    for (let i = 0; i < events.length; i += CEILING_BATCH) {
      const batch = events.slice(i, i + CEILING_BATCH).sort((x, y) => compare(x.id, y.id));
      await db.transaction((tx) => insertEvents(tx, workspace, batch));
    }
    return (performance.now() - started) / 1000;
  } finally {
    await db.close();
  }
}

/** Times only the COPY of prepared text into a fresh copy of the events table (on Citus, distributed as events is). */
async function timedCopy(url: string, pieces: Buffer[]): Promise<number> {
  return withClient(url, async (c) => {
    await c.query('DROP TABLE IF EXISTS bench_copy');
    await c.query('CREATE TABLE bench_copy (LIKE events INCLUDING ALL)');
    if ((await c.query("SELECT 1 FROM pg_extension WHERE extname = 'citus'")).rowCount) {
      await c.query("SELECT create_distributed_table('bench_copy', 'workspace_id', colocate_with => 'events')");
    }
    const started = performance.now();
    await pipeline(Readable.from(pieces), c.query(copyFrom(`COPY bench_copy (${COPY_COLUMNS}) FROM STDIN`)));
    return (performance.now() - started) / 1000;
  });
}

async function* ndjsonFile(file: string): AsyncGenerator<unknown> {
  for await (const line of createReadStream(file).pipe(split2())) if (line) yield JSON.parse(line as string);
}

// ---------------------------------------------------------------------------------------------
// the service under test
// ---------------------------------------------------------------------------------------------

interface Service {
  name: string;
  child: ChildProcess;
  base: string;
  logTail(): string;
}

interface Context {
  opts: Options;
  sizes: Sizes;
  url: string;
  work: string;
  /** `node <work>/dist/cli/index.js`: the compiled service. */
  cli: string;
  adminToken: string;
  poolSize: number;
  higgsFile: string;
  /** Filled by baseline a, read by baseline b. */
  lookup?: { workspaceId: number; ids: string[] };
}

/** The bearer for the service's /metrics, which the benchmark reads to follow a stream's progress. */
const METRICS_TOKEN = randomBytes(24).toString('hex');

/**
 * The one setting in which the service under test departs from its defaults (log level included),
 * with the reason the run prints beside its table.
 */
const SERVICE_OVERRIDES = { RATE_LIMIT_PER_MINUTE: '0' } as const;
const OVERRIDES_WHY =
  'the default 3,000 requests a minute per key would answer most of phases 4, 5, 9 and 10 with 429 ' +
  '(50 connections on one key, thousands of requests a second), measuring the limiter instead of the service; ' +
  'its per-request bookkeeping is therefore not in the figures';

function serviceEnv(ctx: Context, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Whatever the benchmark's own environment sets for the service is dropped: only the settings below differ from the defaults.
  const settings = loadConfig({});
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !(name in settings)));
  return {
    ...inherited,
    DATABASE_URL: ctx.url,
    DATABASE_POOL_SIZE: String(ctx.poolSize),
    ADMIN_TOKEN: ctx.adminToken,
    METRICS_TOKEN,
    HOST,
    ...SERVICE_OVERRIDES,
    ...extra,
  };
}

/** Polls `url` until it answers 2xx; fails early when the process exits. */
async function waitReady(url: string, child: ChildProcess, tail: () => string, signal: AbortSignal): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until && !signal.aborted) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process behind ${url} exited before it was ready:\n${tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} was not ready within 60 s:\n${tail()}`);
}

/** The last lines of a file that may be large: its last 8 KiB. */
function fileTail(file: string, lines = 20): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(size, 8_192));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

async function startService(ctx: Context, name: string, signal: AbortSignal): Promise<Service> {
  const port = await freePort(HOST);
  // Its logs (a line per request at the default level) go to a file: a sink that costs the service what
  // a log collector's pipe would, without the benchmark's process reading them on the cores it shares.
  const logFile = join(ctx.work, `serve-${name}.log`);
  const logFd = openSync(logFile, 'a');
  const child = track(spawn(process.execPath, [ctx.cli, 'serve'], { cwd: ROOT, env: serviceEnv(ctx, { PORT: String(port) }), stdio: ['ignore', logFd, logFd] }));
  closeSync(logFd);
  const base = `http://${HOST}:${port}`;
  const logTail = () => fileTail(logFile);
  await waitReady(`${base}/readyz`, child, logTail, signal);
  log(`${name}: rapport serve on ${base} (pid ${child.pid})`);
  return { name, child, base, logTail };
}

async function admin(ctx: Context, service: Service, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${service.base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A workspace of its own for a phase, and a key with both scopes. */
async function tenant(ctx: Context, service: Service, workspace: string): Promise<string> {
  await admin(ctx, service, '/v1/admin/workspaces', { name: workspace });
  const created = (await admin(ctx, service, `/v1/admin/workspaces/${workspace}/keys`, { scopes: ['events:write', 'scores:read'] })) as { key: string };
  return created.key;
}

// ---------------------------------------------------------------------------------------------
// ingest clients
// ---------------------------------------------------------------------------------------------

interface IngestTally {
  requests: number;
  /** 503 answers retried after Retry-After, as clients should. */
  retries: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Requests that failed for good; the first few, for the report. */
  failures: number;
  failureSamples: string[];
}

const newTally = (): IngestTally => ({ requests: 0, retries: 0, accepted: 0, duplicates: 0, rejected: 0, failures: 0, failureSamples: [] });

function noteFailure(tally: IngestTally, what: string) {
  tally.failures++;
  if (tally.failureSamples.length < 5) tally.failureSamples.push(what.slice(0, 300));
}

function countAnswer(tally: IngestTally, answer: { accepted: number; duplicates: number; rejected_total?: number; rejected: unknown[] }) {
  tally.accepted += answer.accepted;
  tally.duplicates += answer.duplicates;
  tally.rejected += answer.rejected_total ?? answer.rejected.length;
}

/** POSTs one JSON batch; a 503 is retried after its Retry-After, anything else but 200 is a failure. Whether it was answered 200. */
async function postBatch(base: string, key: string, body: string, tally: IngestTally, signal: AbortSignal): Promise<boolean> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    tally.requests++;
    try {
      const res = await fetch(`${base}/v1/events/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(120_000)]),
      });
      const text = await res.text();
      if (res.status === 503 && attempt < 10) {
        tally.retries++;
        await sleep(Math.min(5, Number(res.headers.get('retry-after')) || 1) * 1000);
        continue;
      }
      if (res.status !== 200) {
        noteFailure(tally, `${res.status} ${text}`);
        return false;
      }
      countAnswer(tally, JSON.parse(text) as Parameters<typeof countAnswer>[1]);
      return true;
    } catch (err) {
      if (!signal.aborted) noteFailure(tally, String(err));
      return false;
    }
  }
  return false;
}

/** `clients` concurrent senders drain `batches` in order; none starts a batch after `stopAt` (ms, Date.now()). */
async function sendBatches(
  base: string,
  key: string,
  batches: { body: string; events: number }[],
  clients: number,
  stopAt: number,
  signal: AbortSignal,
): Promise<{ tally: IngestTally; seconds: number; sent: number; bounded: boolean }> {
  const tally = newTally();
  let next = 0;
  let sent = 0;
  let bounded = false;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < batches.length && !signal.aborted) {
        if (Date.now() >= stopAt) {
          bounded = true;
          return;
        }
        const batch = batches[next++]!;
        sent += batch.events;
        await postBatch(base, key, batch.body, tally, signal);
      }
    }),
  );
  return { tally, seconds: (performance.now() - started) / 1000, sent, bounded };
}

/**
 * Sends default reads (consistency strong) of `account`'s scores until one answers 200: that one
 * reflects every event acknowledged before it began. A read that waited READ_WAIT_MS in vain answers
 * 503 projection_lagging, and the next one goes out at once. Seconds until then, from the call.
 */
async function untilReadReflects(
  base: string,
  key: string,
  account: string,
  deadline: number,
  signal: AbortSignal,
): Promise<{ seconds: number; reflected: boolean; reads: number; answer: unknown }> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  let reads = 0;
  while (Date.now() < deadline) {
    reads++;
    let res: Response;
    try {
      res = await fetch(`${base}/v1/accounts/${encodeURIComponent(account)}/scores`, {
        headers: { authorization: `Bearer ${key}` },
        signal: AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, deadline - Date.now()))]),
      });
    } catch (err) {
      if (signal.aborted || Date.now() < deadline) throw err;
      break;
    }
    const text = await res.text();
    if (res.status === 200) return { seconds: seconds(), reflected: true, reads, answer: JSON.parse(text) };
    if (res.status !== 503) throw new Error(`a default read of ${account} answered ${res.status}: ${text.slice(0, 300)}`);
    // A 503 that is not projection_lagging (shed load) comes at once: no busy loop on it.
    await sleep(20);
  }
  return { seconds: seconds(), reflected: false, reads, answer: null };
}

/** Events the service has stored so far, from its own counters (a fresh process: only this phase's). */
async function storedByService(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, signal: AbortSignal.timeout(5_000) })).text();
  let stored = 0;
  for (const m of text.matchAll(/^rapport_events_total\{([^}]*)\} ([0-9.e+-]+)$/gm)) {
    if (/outcome="(accepted|duplicate)"/.test(m[1]!)) stored += Number(m[2]);
  }
  return stored;
}

/**
 * Streams an NDJSON body made on the fly (never held whole) through one POST. It keeps at most
 * `maxAhead` events beyond what the service has stored, so that when it stops making events at
 * `stopAt` the service finishes within seconds instead of draining megabytes of socket buffers.
 */
async function postStream(
  base: string,
  key: string,
  events: Iterator<WireEvent>,
  stopAt: number,
  signal: AbortSignal,
  maxAhead = 10_000,
): Promise<{ status: number; answer: string; sent: number; bounded: boolean }> {
  let sent = 0;
  let stored = 0;
  let bounded = false;
  let streaming = true;
  const poller = (async () => {
    while (streaming && !signal.aborted) {
      stored = await storedByService(base).catch(() => stored);
      await sleep(200);
    }
  })();
  async function* pieces() {
    for (;;) {
      while (sent - stored > maxAhead && Date.now() < stopAt && !signal.aborted) await sleep(20);
      if (Date.now() >= stopAt) {
        bounded = true;
        return;
      }
      let piece = '';
      for (let i = 0; i < 500; i++) {
        const next = events.next();
        if (next.done) {
          if (piece) yield piece;
          return;
        }
        piece += `${JSON.stringify(next.value)}\n`;
        sent++;
      }
      yield piece;
    }
  }
  const body = Readable.from(pieces());
  try {
    return await new Promise((resolveStream, reject) => {
      const req = httpRequest(
        new URL('/v1/events/batch', base),
        { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' }, signal },
        (res) => {
          let answer = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (answer += d));
          res.on('end', () => resolveStream({ status: res.statusCode ?? 0, answer, sent, bounded }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      body.on('error', reject);
      body.pipe(req);
    });
  } finally {
    streaming = false;
    await poller;
  }
}

// ---------------------------------------------------------------------------------------------
// fixed-connection load with autocannon
// ---------------------------------------------------------------------------------------------

interface LoadFigures {
  connections: number;
  seconds: number;
  requests: number;
  ok: number;
  non_2xx: number;
  errors: number;
  timeouts: number;
  statuses: Record<string, number>;
  /** Every answer of the run, first rounds included, all requests of the cycle together. */
  all: { requests: number; non_2xx: number; statuses: Record<string, number> };
  /** 2xx answers per second. */
  rps: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

type CannonOptions = Omit<autocannon.Options, 'url' | 'duration' | 'amount' | 'connections'>;

/** The answers to one of the requests a connection cycles through. */
interface Bucket {
  statuses: Record<string, number>;
  latencies: number[];
}

function figuresOf(bucket: Bucket, result: autocannon.Result, connections: number): LoadFigures {
  const sorted = Float64Array.from(bucket.latencies).sort();
  const requests = Object.values(bucket.statuses).reduce((a, b) => a + b, 0);
  return {
    connections,
    seconds: result.duration,
    requests,
    ok: sorted.length,
    non_2xx: requests - sorted.length,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses: bucket.statuses,
    all: {
      requests: result.requests.total,
      non_2xx: result.non2xx,
      statuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0])),
    },
    rps: round(sorted.length / result.duration),
    p50_ms: round(percentile(sorted, 50), 2),
    p99_ms: round(percentile(sorted, 99), 2),
    max_ms: round(sorted[sorted.length - 1] ?? NaN, 2),
  };
}

/**
 * One autocannon run. Latencies are kept from each 2xx response (µs precision, where autocannon's
 * histogram keeps whole ms), per position in `options.requests`: each connection sends those in
 * turn, one at a time, so its n-th answer is to request n mod their count. Each connection's first
 * round is left out of the figures (autocannon's own counts still have it).
 */
function cannon(url: string, length: { duration: number } | { amount: number }, connections: number, options: CannonOptions, signal: AbortSignal): Promise<LoadFigures[]> {
  const cycle = Math.max(1, options.requests?.length ?? 1);
  const buckets: Bucket[] = Array.from({ length: cycle }, () => ({ statuses: {}, latencies: [] }));
  const answered = new Map<object, number>();
  return new Promise((resolveLoad, reject) => {
    const instance = autocannon({ url, ...length, connections, timeout: 30, ...options }, (err, result) => {
      signal.removeEventListener('abort', stop);
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      if (signal.aborted) return reject(new Error(String(signal.reason)));
      resolveLoad(buckets.map((b) => figuresOf(b, result, connections)));
    });
    instance.on('response', (client, status, _bytes, ms) => {
      const n = answered.get(client) ?? 0;
      answered.set(client, n + 1);
      // A connection's first round pays for opening it, and always on the same request of the cycle.
      if (n < cycle) return;
      const bucket = buckets[n % cycle]!;
      bucket.statuses[status] = (bucket.statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) bucket.latencies.push(ms);
    });
    const stop = () => instance.stop();
    signal.addEventListener('abort', stop, { once: true });
  });
}

/** A warm-up run (discarded), then the measured one: figures per request of `options.requests`. */
async function loadEach(ctx: Context, url: string, options: CannonOptions, signal: AbortSignal): Promise<LoadFigures[]> {
  await cannon(url, ctx.sizes.warmup, ctx.sizes.connections, options, signal);
  return cannon(url, { duration: ctx.sizes.loadS }, ctx.sizes.connections, options, signal);
}

async function load(ctx: Context, url: string, options: CannonOptions, signal: AbortSignal): Promise<LoadFigures> {
  return (await loadEach(ctx, url, options, signal))[0]!;
}

// ---------------------------------------------------------------------------------------------
// results
// ---------------------------------------------------------------------------------------------

/**
 * The targets the summary lists, in order: the write path's, then the read, memory and exactly-once
 * targets kept from before it. A check that answers one names it.
 */
const GOALS = {
  ack: 'acknowledged JSON batch ingest (4 clients) ≥ 0.8 × the ceiling row',
  batchE2E: 'the batch phase end to end ≥ 0.3 × COPY',
  importE2E: 'the higgs import end to end ≥ 0.3 × COPY',
  single: 'single POST /v1/events ≥ 0.6 × (b)',
  hot: 'a hot account, end to end ≥ 0.9 × the uniform run',
  fresh: 'at half the end-to-end capacity, projection lag p99 ≤ 1 s',
  idle: 'default read on an idle workspace ≤ 1.2 × consistency=eventual (p99)',
  afterIngest: '1M-event account read vs 1k-event, right after ingest (≤ 1.2 ×)',
  afterMaintenance: '1M-event account read vs 1k-event, after VACUUM ANALYZE (≤ 1.2 ×)',
  readVsB: 'scores p99 ≤ 2 × (b) p99',
  ranking: 'ranking p99 < 50 ms over ≥ 100k accounts',
  importRss: 'rapport import peak RSS < 300 MB',
  streamRss: 'server peak RSS < 300 MB through a 1M-event stream',
  exactlyOnce: 'two processes: every event stored exactly once',
  twoProcesses: 'two processes > 1 × one',
} as const;
type Goal = keyof typeof GOALS;

interface Check {
  phase: Phase;
  what: string;
  figure: number;
  unit: string;
  baseline: number | null;
  baseline_label: string | null;
  ratio: number | null;
  target: string;
  pass: boolean;
  goal?: Goal;
}

interface Results {
  started_at: string;
  finished_at?: string;
  seconds?: number;
  options: { scale: number; phases: Phase[]; out: string };
  sizes: Sizes;
  environment: Record<string, unknown>;
  baselines: { a?: Record<string, unknown>; b?: Record<string, unknown> };
  targets: Partial<Record<Phase, { checks: Check[]; details: Record<string, unknown> }>>;
  errors: Partial<Record<Phase | 'setup', string>>;
  /** Per target the summary lists: what answers it, and whether it is met (null: not measured). */
  summary?: { goal: Goal; target: string; phase: Phase | null; figure: number | null; unit: string | null; ratio: number | null; pass: boolean | null }[];
  passed?: boolean;
}

const ratioOf = (figure: number, baseline: number) => (Number.isFinite(figure) && Number.isFinite(baseline) && baseline > 0 ? round(figure / baseline, 3) : NaN);

function check(phase: Phase, what: string, figure: number, unit: string, target: string, pass: boolean, baseline?: { value: number; label: string }, goal?: Goal): Check {
  return {
    ...(goal ? { goal } : {}),
    phase,
    what,
    figure,
    unit,
    baseline: baseline ? baseline.value : null,
    baseline_label: baseline ? baseline.label : null,
    ratio: baseline ? ratioOf(figure, baseline.value) : null,
    target,
    pass: pass && Number.isFinite(figure),
  };
}

// ---------------------------------------------------------------------------------------------
// the phases
// ---------------------------------------------------------------------------------------------

async function setup(ctx: Context, signal: AbortSignal): Promise<Record<string, unknown>> {
  // A private build of the current sources: dist/ is left alone for whoever else works in this tree.
  const started = performance.now();
  const tsc = await run(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(ctx.work, 'dist')],
    process.env,
    signal,
  );
  if (!existsSync(ctx.cli)) throw new Error(`the build produced nothing:\n${tsc.stdout}${tsc.stderr}`);
  // Type errors do not stop the build's output; a tree mid-edit is still measured, with a warning.
  if (tsc.code !== 0) log(`warning: tsc reported errors (measuring the emitted code anyway):\n${tsc.stdout.slice(0, 2_000)}`);
  symlinkSync(join(ROOT, 'node_modules'), join(ctx.work, 'node_modules'));
  symlinkSync(join(ROOT, 'migrations'), join(ctx.work, 'migrations'));
  copyFileSync(join(ROOT, 'package.json'), join(ctx.work, 'package.json'));
  const buildS = (performance.now() - started) / 1000;
  log(`built the service in ${buildS.toFixed(1)} s`);

  const migrated = await run(process.execPath, [ctx.cli, 'migrate'], serviceEnv(ctx), signal);
  if (migrated.code !== 0) throw new Error(`rapport migrate failed:\n${migrated.stderr}`);
  const server = await withClient(ctx.url, async (c) => (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version);

  let higgsS = NaN;
  if (ctx.opts.phases.includes('a') || ctx.opts.phases.includes('2')) {
    const t = performance.now();
    const limit = ctx.sizes.higgs;
    const made = await run(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts/datasets.ts'), 'higgs', '--data-dir', ctx.opts.dataDir, '--limit', String(limit)],
      process.env,
      signal,
      ctx.higgsFile,
    );
    if (made.code !== 0) throw new Error(`scripts/datasets.ts higgs failed: ${made.stderr.trim()}`);
    higgsS = (performance.now() - t) / 1000;
    log(`higgs: ${limit} events written to ${ctx.higgsFile} in ${higgsS.toFixed(1)} s (untimed)`);
  }
  return { build_seconds: round(buildS), type_errors: tsc.code !== 0, postgresql: server, higgs_ndjson_seconds: round(higgsS) };
}

async function baselineCopy(ctx: Context, results: Results, signal: AbortSignal): Promise<void> {
  const lookupWs = await withClient(ctx.url, async (c) => (await c.query<{ id: number }>("INSERT INTO workspaces (name) VALUES ('bench-lookup') RETURNING id")).rows[0]!.id);
  const measure = async (label: string, events: AsyncIterable<unknown> | Iterable<unknown>, keep = false) => {
    const t = performance.now();
    const payload = await abortable(copyPayload(events, lookupWs, keep), signal);
    const prepS = (performance.now() - t) / 1000;
    const seconds = await abortable(timedCopy(ctx.url, payload.pieces), signal);
    const figures = { rows: payload.rows, prepare_seconds: round(prepS), copy_seconds: round(seconds, 3), rows_per_s: Math.round(payload.rows / seconds) };
    log(`a: COPY of ${payload.rows} ${label} events: ${figures.rows_per_s} rows/s (${seconds.toFixed(2)} s; prepared in ${prepS.toFixed(1)} s, untimed)`);
    return { figures, ids: payload.ids, events: payload.events };
  };
  const synthetic = await measure('synthetic', syntheticEvents(ctx.sizes.synthetic, ctx.sizes.population), true);
  // The ceiling also stores the rows the lookup baseline reads: the synthetic ones, under a workspace of their own.
  const onlyS = await abortable(timedEventsOnly(ctx.url, lookupWs, synthetic.events), signal);
  const eventsOnly = { rows_per_s: Math.round(synthetic.events.length / onlyS), batch: CEILING_BATCH, connections: 1 };
  const ceilingRatio = ratioOf(eventsOnly.rows_per_s, synthetic.figures.rows_per_s);
  log(`a: the same events through the service's INSERT alone, no derived state: ${eventsOnly.rows_per_s} rows/s = ${ceilingRatio} × COPY`);
  const higgs = await measure('higgs', ndjsonFile(ctx.higgsFile));
  await withClient(ctx.url, (c) => c.query('DROP TABLE bench_copy'));
  ctx.lookup = { workspaceId: lookupWs, ids: synthetic.ids };
  results.baselines.a = {
    table: 'bench_copy (LIKE events INCLUDING ALL), fresh for each COPY',
    synthetic: { ...synthetic.figures, events_only: { ...eventsOnly, ratio: ceilingRatio } },
    higgs: higgs.figures,
  };
}

async function baselineLookup(ctx: Context, results: Results, signal: AbortSignal): Promise<void> {
  const lookup = ctx.lookup;
  if (!lookup) throw new Error('baseline b needs the rows baseline a loads');
  const port = await freePort(HOST);
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', SELF, LOOKUP_SERVER_FLAG], {
      cwd: ROOT,
      env: { ...process.env, LOOKUP_DATABASE_URL: ctx.url, LOOKUP_POOL_SIZE: String(ctx.poolSize), LOOKUP_WORKSPACE_ID: String(lookup.workspaceId), LOOKUP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const base = `http://${HOST}:${port}`;
  try {
    await waitReady(`${base}/lookup/${encodeURIComponent(lookup.ids[0]!)}`, child, () => output, signal);
    // Ids in a shuffled order, so lookups spread over the index as real reads would.
    const rand = prng(7);
    const ids = Array.from({ length: Math.min(50_000, lookup.ids.length) }, () => encodeURIComponent(lookup.ids[Math.floor(rand() * lookup.ids.length)]!));
    let next = 0;
    const figures = await load(ctx, `${base}/lookup/x`, { requests: [{ setupRequest: (req) => ({ ...req, path: `/lookup/${ids[next++ % ids.length]}` }) }] }, signal);
    if (figures.all.non_2xx > 0 || figures.errors > 0) throw new Error(`baseline b: ${figures.all.non_2xx} lookups failed, ${figures.errors} errors`);
    results.baselines.b = { route: 'GET /lookup/:id, bare Fastify, one primary-key SELECT on events', pool_size: ctx.poolSize, ...figures };
    log(`b: ${figures.rps} req/s, p50 ${figures.p50_ms} ms, p99 ${figures.p99_ms} ms (${figures.all.requests} requests)`);
  } finally {
    await stopChild(child);
  }
}

const baselineA = (results: Results, set: 'synthetic' | 'higgs') => Number((results.baselines.a?.[set] as { rows_per_s?: number } | undefined)?.rows_per_s ?? NaN);
const baselineB = (results: Results, figure: 'rps' | 'p99_ms') => Number(results.baselines.b?.[figure] ?? NaN);
const baselineCeiling = (results: Results) => Number((results.baselines.a?.synthetic as { events_only?: { rows_per_s?: number } } | undefined)?.events_only?.rows_per_s ?? NaN);

/** The synthetic mix's busiest account (zipf rank 1): the one phases 1 and 8 read. */
const BUSIEST = 'syn:u1';

/**
 * Phase 1's measurement, which phase 7 repeats on other events: `batches` from 4 clients into a fresh
 * workspace of a fresh service, then default reads of `account` until one reflects the last event.
 * The acknowledged rate, and the end-to-end one: accepted events over both times together.
 */
async function batchesEndToEnd(ctx: Context, phase: Phase, workspace: string, batches: { body: string; events: number }[], account: string, signal: AbortSignal, deadline: number) {
  const prepared = batches.reduce((n, b) => n + b.events, 0);
  const service = await startService(ctx, phase, signal);
  try {
    const key = await tenant(ctx, service, workspace);
    // Leave time for the batches in flight to finish inside the phase's budget.
    const stopAt = deadline - 10_000;
    log(`${phase}: ${batches.length} JSON batches (${prepared} events), 4 clients…`);
    const r = await sendBatches(service.base, key, batches, 4, stopAt, signal);
    const rate = Math.round(r.tally.accepted / r.seconds);
    const ok = r.tally.failures === 0 && r.tally.rejected === 0 && r.tally.accepted === r.sent;
    const read = await untilReadReflects(service.base, key, account, deadline - 2_000, signal);
    const endToEnd = Math.round(r.tally.accepted / (r.seconds + read.seconds));
    log(
      `${phase}: ${r.tally.accepted} accepted in ${r.seconds.toFixed(1)} s = ${rate} events/s${r.bounded ? ' (bounded by time)' : ''}; ` +
        `a default read reflected them ${read.seconds.toFixed(1)} s later${read.reflected ? '' : ' (not by the deadline)'} = ${endToEnd} events/s end to end`,
    );
    const details = {
      events_prepared: prepared,
      events_sent: r.sent,
      ...tallyFigures(r.tally),
      seconds: round(r.seconds, 2),
      events_per_s: rate,
      bounded: r.bounded,
      projection_seconds_after: round(read.seconds, 2),
      projected: read.reflected,
      default_reads: read.reads,
      end_to_end_events_per_s: endToEnd,
    };
    return { r, rate, ok, read, endToEnd, details };
  } finally {
    await stopChild(service.child);
  }
}

async function targetBatchIngest(ctx: Context, results: Results, signal: AbortSignal, deadline: number): Promise<void> {
  const batches = jsonBatches(syntheticEvents(ctx.sizes.synthetic, ctx.sizes.population), prng(11));
  const { rate, ok, read, endToEnd, details } = await batchesEndToEnd(ctx, '1', 'bench-batch', batches, BUSIEST, signal, deadline);
  const a = baselineA(results, 'synthetic');
  const ceiling = baselineCeiling(results);
  results.targets['1'] = {
    checks: [
      check('1', 'JSON batch ingest (4 clients), acknowledged', rate, 'events/s', '≥ 0.8 × ceiling', ok && rate >= 0.8 * ceiling, { value: ceiling, label: 'ceiling' }, 'ack'),
      check('1', 'JSON batch ingest, end to end', endToEnd, 'events/s', '≥ 0.3 × a', ok && read.reflected && endToEnd >= 0.3 * a, { value: a, label: 'a synthetic' }, 'batchE2E'),
    ],
    details,
  };
}

/** The account phase 7 aims half of all interactions at. */
const HOT = 'bench:hot';
/** The types interactions_received counts. */
const RECEIVED_TYPES = new Set(['like', 'reply', 'mention', 'repost']);

/** Phase 1's events, but half of those aimed at an account (every type but post) aimed at HOT instead. */
function* hotEvents(n: number, population: number): Generator<WireEvent> {
  const aim = prng(0x407);
  for (const e of syntheticEvents(n, population)) {
    if (e.target !== undefined && aim() < 0.5) e.target = HOT;
    yield e;
  }
}

/** Target 7: phase 1 again, with half of all interactions on one account's rows. */
async function targetHotAccount(ctx: Context, results: Results, signal: AbortSignal, deadline: number): Promise<void> {
  const uniform = Number(results.targets['1']?.details.end_to_end_events_per_s ?? NaN);
  const events = [...hotEvents(ctx.sizes.synthetic, ctx.sizes.population)];
  const aimed = events.filter((e) => e.target === HOT).length;
  // Same batch sizes as phase 1 (same seed): only the targets differ.
  const batches = jsonBatches(events, prng(11));
  log(`7: ${aimed} of ${events.filter((e) => e.target !== undefined).length} interactions aimed at ${HOT}`);
  const { r, rate, ok, read, endToEnd, details } = await batchesEndToEnd(ctx, '7', 'bench-hot', batches, HOT, signal, deadline);
  // The read that ended the clock must count every like, reply, mention and repost of HOT (when all were sent).
  const expected = events.filter((e) => e.target === HOT && RECEIVED_TYPES.has(e.type as string)).length;
  const received = (read.answer as { engagement?: { interactions_received?: { total?: number } } } | null)?.engagement?.interactions_received?.total ?? NaN;
  const exact = r.bounded || received === expected;
  const uniformAck = Number(results.targets['1']?.details.events_per_s ?? NaN);
  results.targets['7'] = {
    checks: [
      check(
        '7',
        `hot account (½ of interactions on ${HOT}), end to end`,
        endToEnd,
        'events/s',
        '≥ 0.9 × uniform',
        ok && read.reflected && exact && endToEnd >= 0.9 * uniform,
        { value: uniform, label: '1 end to end' },
        'hot',
      ),
      check('7', 'hot account, acknowledged (no target)', rate, 'events/s', 'info', ok, { value: uniformAck, label: '1 acknowledged' }),
    ],
    details: { ...details, hot_account: HOT, interactions_aimed: aimed, received_expected: expected, received_read: received },
  };
}

function tallyFigures(t: IngestTally) {
  return {
    accepted: t.accepted,
    duplicates: t.duplicates,
    rejected: t.rejected,
    requests: t.requests,
    retries_503: t.retries,
    failures: t.failures,
    failure_samples: t.failureSamples,
  };
}

async function targetImport(ctx: Context, results: Results, signal: AbortSignal, deadline: number): Promise<void> {
  const env = serviceEnv(ctx);
  const created = await run(process.execPath, [ctx.cli, 'workspaces', 'create', 'bench-import'], env, signal);
  if (created.code !== 0) throw new Error(`rapport workspaces create failed: ${created.stderr}`);
  const wsId = await workspaceId(ctx.url, 'bench-import');
  log(`2: rapport import of ${ctx.sizes.higgs} higgs events…`);
  const started = performance.now();
  const child = track(spawn(process.execPath, [ctx.cli, 'import', ctx.higgsFile, '--workspace', 'bench-import'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const memory = watchMemory(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4_000)));
  // Bounded by time: past the budget the import is stopped; its committed chunks stay and are counted.
  const timer = setTimeout(() => child.kill('SIGTERM'), Math.max(0, deadline - Date.now() - 3_000));
  const onAbort = () => child.kill('SIGKILL');
  signal.addEventListener('abort', onAbort, { once: true });
  const exit = await closeOf(child);
  const seconds = (performance.now() - started) / 1000;
  clearTimeout(timer);
  signal.removeEventListener('abort', onAbort);
  const mem = memory.stop();
  const bounded = exit.signal === 'SIGTERM';
  if (!bounded && exit.code !== 0) throw new Error(`rapport import exited with ${exit.code ?? exit.signal}: ${stderr.slice(-1_000)}`);
  const stored = await countRows(ctx.url, 'SELECT count(*) AS n FROM events WHERE workspace_id = $1', [wsId]);
  const rate = Math.round(stored / seconds);
  const a = baselineA(results, 'higgs');
  const summary = bounded ? null : (JSON.parse(stdout.trim().split('\n').pop() ?? 'null') as Record<string, unknown> | null);
  const complete = bounded || stored === ctx.sizes.higgs;
  results.targets['2'] = {
    checks: [
      check('2', 'rapport import, higgs, end to end', rate, 'events/s', '≥ 0.3 × a', complete && rate >= 0.3 * a, { value: a, label: 'a higgs' }, 'importE2E'),
      check('2', 'rapport import, peak RSS', mem.peak_mb, 'MB', '< 300 MB', mem.peak_mb < 300, undefined, 'importRss'),
    ],
    details: { events: ctx.sizes.higgs, stored, seconds: round(seconds, 2), events_per_s: rate, bounded, exit: exit.code ?? exit.signal, summary, memory: mem },
  };
  log(`2: ${stored} events in ${seconds.toFixed(1)} s = ${rate} events/s${bounded ? ' (bounded by time: stopped)' : ''}; peak RSS ${mem.peak_mb} MB`);
}

async function targetStream(ctx: Context, results: Results, signal: AbortSignal, deadline: number): Promise<void> {
  const service = await startService(ctx, '3', signal);
  try {
    const key = await tenant(ctx, service, 'bench-star');
    const memory = watchMemory(service.child.pid!);
    log(`3: streaming ${ctx.sizes.stream} events of ${STAR} (${ctx.sizes.followers} followers) as one NDJSON request…`);
    const started = performance.now();
    const history = accountHistory(STAR, ctx.sizes.stream, ctx.sizes.followers, 3);
    const r = await postStream(service.base, key, history, deadline - 8_000, signal);
    const seconds = (performance.now() - started) / 1000;
    const projection = await waitProjected(ctx.url, deadline - 2_000);
    const mem = memory.stop();
    if (r.status !== 200) throw new Error(`the stream answered ${r.status}: ${r.answer.slice(0, 500)}\n${service.logTail()}`);
    const answer = JSON.parse(r.answer) as { accepted: number; duplicates: number; rejected_total: number };
    const rate = Math.round(answer.accepted / seconds);
    const complete = answer.accepted + answer.duplicates === r.sent && answer.rejected_total === 0;
    results.targets['3'] = {
      checks: [
        check('3', 'NDJSON stream, server peak RSS', mem.peak_mb, 'MB', '< 300 MB', complete && mem.peak_mb < 300, undefined, 'streamRss'),
        check('3', 'NDJSON stream rate (no target)', rate, 'events/s', 'info', true),
        check('3', 'NDJSON stream, until projected (no target)', Math.round(answer.accepted / (seconds + projection.seconds)), 'events/s', 'info', projection.drained),
      ],
      details: {
        events_planned: ctx.sizes.stream,
        events_sent: r.sent,
        ...answer,
        seconds: round(seconds, 2),
        events_per_s: rate,
        bounded: r.bounded,
        memory: mem,
        projection_seconds_after: round(projection.seconds, 2),
        projected: projection.drained,
      },
    };
    log(
      `3: ${answer.accepted} accepted of ${r.sent} sent in ${seconds.toFixed(1)} s = ${rate} events/s${r.bounded ? ' (bounded by time)' : ''}; projected ${projection.seconds.toFixed(1)} s later; server peak RSS ${mem.peak_mb} MB`,
    );
  } finally {
    await stopChild(service.child);
  }
}

async function targetSingle(ctx: Context, results: Results, signal: AbortSignal): Promise<void> {
  const service = await startService(ctx, '4', signal);
  try {
    const key = await tenant(ctx, service, 'bench-single');
    const rand = prng(4);
    const run = randomBytes(3).toString('hex');
    let n = 0;
    // A fresh id per request (never a duplicate), from the synthetic mix.
    const setupRequest = (req: autocannon.Request) => ({ ...req, body: JSON.stringify(syntheticEvent(rand, n++, ctx.sizes.population, `one-${run}`)) });
    const figures = await load(
      ctx,
      `${service.base}/v1/events`,
      { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, requests: [{ setupRequest }] },
      signal,
    );
    const created = figures.all.statuses['201'] ?? 0;
    const b = baselineB(results, 'rps');
    const allCreated = created === figures.all.requests && figures.errors === 0;
    results.targets['4'] = {
      checks: [
        check('4', 'POST /v1/events (50 conns)', figures.rps, 'req/s', '≥ 0.6 × b, all 201', allCreated && figures.rps >= 0.6 * b, { value: b, label: 'b req/s' }, 'single'),
      ],
      details: { ...figures, created, not_201: figures.all.requests - created },
    };
    log(`4: ${figures.rps} req/s, p99 ${figures.p99_ms} ms, ${created} of ${figures.all.requests} answered 201, ${figures.errors} errors`);
  } finally {
    await stopChild(service.child);
  }
}

async function targetReads(ctx: Context, results: Results, signal: AbortSignal): Promise<void> {
  const service = await startService(ctx, '5', signal);
  try {
    const key = await tenant(ctx, service, 'bench-star'); // the same workspace as phase 3: idempotent, a new key
    const small = jsonBatches(accountHistory(SMALL, 1_000, 100, 5), prng(5), 1_000);
    const tally = newTally();
    for (const batch of small) await postBatch(service.base, key, batch.body, tally, signal);
    // Reads are measured on a projection that is up to date: what earlier phases left, and the small account, folded first.
    await waitProjected(ctx.url, Date.now() + 120_000);
    if (tally.failures > 0) throw new Error(`ingesting ${SMALL} failed: ${tally.failureSamples.join('; ')}`);
    const wsId = await workspaceId(ctx.url, 'bench-star');
    const accounts = await countRows(ctx.url, 'SELECT count(*) AS n FROM account_stats WHERE workspace_id = $1', [wsId]);
    const starEvents = await countRows(ctx.url, 'SELECT count(*) AS n FROM events WHERE workspace_id = $1 AND (actor = $2 OR target = $2)', [wsId, STAR]);
    const get = { headers: { authorization: `Bearer ${key}` } };
    const scores = (account: string) => ({ path: `/v1/accounts/${encodeURIComponent(account)}/scores` });
    // The two accounts' reads alternate on every connection, so both meet the same conditions.
    const [star, smallRead] = (await loadEach(ctx, `${service.base}/`, { ...get, requests: [scores(STAR), scores(SMALL)] }, signal)) as [LoadFigures, LoadFigures];
    const ranking = await load(ctx, `${service.base}/v1/accounts?sort=spam_score&order=desc&limit=50`, get, signal);
    // Follower changes of the star: a tenth of its followers unfollow it after its history, so that
    // both lists have pages to read; then the first page of each, in a run of its own (a page costs
    // several times a score read: alternating, the second of the two would get few answers).
    const churn = newTally();
    const unfollows = Array.from({ length: Math.ceil(ctx.sizes.followers / 10) }, (_, i): WireEvent => ({
      id: `${STAR}:unfollow:${i}`,
      type: 'unfollow',
      actor: `${STAR}:f${i * 10}`,
      target: STAR,
      occurred_at: at(HISTORY_START_MS + ctx.sizes.stream * 5_000 + i * 1_000),
    }));
    for (const batch of jsonBatches(unfollows, prng(5), 1_000)) await postBatch(service.base, key, batch.body, churn, signal);
    await waitProjected(ctx.url, Date.now() + 120_000);
    if (churn.failures > 0) throw new Error(`ingesting ${STAR}'s unfollows failed: ${churn.failureSamples.join('; ')}`);
    const list = (name: string) => `${service.base}/v1/accounts/${encodeURIComponent(STAR)}/${name}?limit=100`;
    const changes = await load(ctx, list('follower-changes'), get, signal);
    const unfollowers = await load(ctx, list('unfollowers'), get, signal);
    const clean = (f: LoadFigures) => f.all.non_2xx === 0 && f.errors === 0;
    const bP99 = baselineB(results, 'p99_ms');
    results.targets['5'] = {
      checks: [
        check('5', `scores of ${STAR}, p99`, star.p99_ms, 'ms', '≤ 2 × b p99', clean(star) && star.p99_ms <= 2 * bP99, { value: bP99, label: 'b p99' }, 'readVsB'),
        check(
          '5',
          `scores ${STAR} vs ${SMALL}, p99`,
          star.p99_ms,
          'ms',
          '≤ 1.2 × small',
          clean(star) && clean(smallRead) && star.p99_ms <= 1.2 * smallRead.p99_ms,
          {
            value: smallRead.p99_ms,
            label: `${SMALL} p99`,
          },
          'afterIngest',
        ),
        check(
          '5',
          `ranking by spam_score, p99 (${accounts} accounts)`,
          ranking.p99_ms,
          'ms',
          '< 50 ms, ≥ 100k accounts',
          clean(ranking) && ranking.p99_ms < 50 && accounts >= 100_000,
          undefined,
          'ranking',
        ),
        check('5', `follower-changes of ${STAR}, first page of 100, p99 (no target)`, changes.p99_ms, 'ms', 'info', clean(changes)),
        check('5', `unfollowers of ${STAR}, first page of 100, p99 (no target)`, unfollowers.p99_ms, 'ms', 'info', clean(unfollowers)),
      ],
      details: {
        accounts_in_workspace: accounts,
        star_events: starEvents,
        small_events: tally.accepted + tally.duplicates,
        star_scores: star,
        small_scores: smallRead,
        ranking,
        star_unfollows: unfollows.length,
        follower_changes: changes,
        unfollowers,
      },
    };
    log(
      `5: ${STAR} p99 ${star.p99_ms} ms (${star.rps} req/s), ${SMALL} p99 ${smallRead.p99_ms} ms, ranking p99 ${ranking.p99_ms} ms over ${accounts} accounts; follower-changes p99 ${changes.p99_ms} ms, unfollowers p99 ${unfollowers.p99_ms} ms`,
    );
  } finally {
    await stopChild(service.child);
  }
}

/** Target 6: two processes, one database, overlapping input; then one process alone with the same events. */
async function targetTwoProcesses(ctx: Context, results: Results, signal: AbortSignal): Promise<void> {
  const n = ctx.sizes.duo;
  const batchSize = 1_000;
  const all = [...syntheticEvents(n, ctx.sizes.population)];
  const cut = (from: number, to: number) => jsonBatches(all.slice(Math.floor(from * n), Math.floor(to * n)), prng(6), batchSize);
  // Both processes start with the shared 20 %, so the duplicates really race each other; then each its own part.
  const overlap = cut(0.4, 0.6);
  const queueA = [...overlap, ...cut(0, 0.4)];
  const queueB = [...overlap, ...cut(0.6, 1)];
  const overlapEvents = Math.floor(0.6 * n) - Math.floor(0.4 * n);
  const [a, b] = await Promise.all([startService(ctx, '6a', signal), startService(ctx, '6b', signal)]);
  try {
    const never = Date.now() + 3_600_000;
    // One process alone first, 4 clients: the same client concurrency as the pair below.
    const soloKey = await tenant(ctx, a, 'bench-solo');
    const solo = await sendBatches(a.base, soloKey, cut(0, 1), 4, never, signal);
    const soloRate = Math.round(n / solo.seconds);
    log(`6: one process: ${solo.tally.accepted} accepted in ${solo.seconds.toFixed(1)} s = ${soloRate} events/s`);
    // The pair starts with nothing left to project, as the one process did.
    await waitProjected(ctx.url, never);

    const keyA = await tenant(ctx, a, 'bench-duo');
    const keyB = await tenant(ctx, b, 'bench-duo');
    const started = performance.now();
    const [ra, rb] = await Promise.all([sendBatches(a.base, keyA, queueA, 2, never, signal), sendBatches(b.base, keyB, queueB, 2, never, signal)]);
    const seconds = (performance.now() - started) / 1000;
    const duoRate = Math.round(n / seconds);
    const rows = await countRows(ctx.url, 'SELECT count(*) AS n FROM events WHERE workspace_id = $1', [await workspaceId(ctx.url, 'bench-duo')]);
    const accepted = ra.tally.accepted + rb.tally.accepted;
    const duplicates = ra.tally.duplicates + rb.tally.duplicates;
    const failures = ra.tally.failures + rb.tally.failures + solo.tally.failures;
    const exact = rows === n && accepted === n && duplicates === overlapEvents && failures === 0 && ra.tally.rejected + rb.tally.rejected === 0;
    results.targets['6'] = {
      checks: [
        check(
          '6',
          'two processes, combined',
          duoRate,
          'events/s',
          '> 1 × one process',
          exact && solo.tally.accepted === n && duoRate > soloRate,
          { value: soloRate, label: 'one process' },
          'twoProcesses',
        ),
        check('6', 'two processes, rows stored', rows, 'rows', `= N (${n}), dups = ${overlapEvents}`, exact, { value: n, label: 'N' }, 'exactlyOnce'),
      ],
      details: {
        events: n,
        overlap: overlapEvents,
        rows,
        accepted,
        duplicates,
        seconds: round(seconds, 2),
        events_per_s: duoRate,
        process_a: tallyFigures(ra.tally),
        process_b: tallyFigures(rb.tally),
        one_process: { ...tallyFigures(solo.tally), seconds: round(solo.seconds, 2), events_per_s: soloRate },
      },
    };
    log(`6: two processes: ${rows} rows, ${accepted} accepted, ${duplicates} duplicates (overlap ${overlapEvents}) in ${seconds.toFixed(1)} s = ${duoRate} events/s`);
  } finally {
    await Promise.all([stopChild(a.child), stopChild(b.child)]);
  }
}

/** Target 8: the fixed-rate stream sends one batch every this many milliseconds. */
const FRESH_TICK_MS = 100;

/**
 * Target 8: freshness under a steady load. Batches go out at half of phase 1's end-to-end rate, on a
 * fixed schedule whatever the answers take (open loop), for sizes.freshS seconds after a second of
 * warm-up. A batch's lag runs from its acknowledgement until a default read sent right then answers:
 * such a read waits until the projector has folded in everything acknowledged before it began, the
 * batch included, so the lag is what a client that reads its own writes waits. /v1/ingest/status is
 * sampled alongside, for the queue's view of the same lag.
 */
async function targetFreshness(ctx: Context, results: Results, signal: AbortSignal, deadline: number): Promise<void> {
  const capacity = Number(results.targets['1']?.details.end_to_end_events_per_s ?? NaN);
  if (!(capacity > 0)) throw new Error("phase 8 needs phase 1's end-to-end rate");
  const perBatch = Math.max(1, Math.round(((capacity / 2) * FRESH_TICK_MS) / 1000));
  const offered = (perBatch * 1000) / FRESH_TICK_MS;
  const warmupBatches = 1000 / FRESH_TICK_MS;
  const count = warmupBatches + (ctx.sizes.freshS * 1000) / FRESH_TICK_MS;
  const batches = jsonBatches(syntheticEvents(count * perBatch, ctx.sizes.population), prng(8), perBatch);
  const service = await startService(ctx, '8', signal);
  try {
    const key = await tenant(ctx, service, 'bench-fresh');
    log(`8: ${offered} events/s (half of phase 1's ${capacity} end to end) as ${perBatch}-event batches every ${FRESH_TICK_MS} ms, ${ctx.sizes.freshS} s after 1 s of warm-up…`);
    const tally = newTally();
    const lagsMs: number[] = [];
    const acksMs: number[] = [];
    let unreflected = 0;
    let sending = true;
    const status: { pending: number; oldestMs: number }[] = [];
    const sampler = (async () => {
      while (sending && !signal.aborted) {
        try {
          const res = await fetch(`${service.base}/v1/ingest/status`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(5_000) });
          const body = (await res.json()) as { pending_events: number; oldest_pending_seconds: number };
          if (res.ok) status.push({ pending: body.pending_events, oldestMs: body.oldest_pending_seconds * 1000 });
        } catch {
          // a sample lost is a sample fewer
        }
        await sleep(FRESH_TICK_MS);
      }
    })();
    const stopAt = deadline - 8_000;
    let bounded = false;
    const inFlight: Promise<void>[] = [];
    const started = performance.now();
    for (const [i, batch] of batches.entries()) {
      await sleep(started + i * FRESH_TICK_MS - performance.now());
      if (Date.now() >= stopAt || signal.aborted) {
        bounded = true;
        break;
      }
      inFlight.push(
        (async () => {
          const sent = performance.now();
          if (!(await postBatch(service.base, key, batch.body, tally, signal))) return;
          const acked = performance.now();
          const read = await untilReadReflects(service.base, key, BUSIEST, deadline - 2_000, signal);
          if (i < warmupBatches) return;
          acksMs.push(acked - sent);
          lagsMs.push(read.seconds * 1000);
          if (!read.reflected) unreflected++;
        })(),
      );
    }
    await Promise.all(inFlight);
    const seconds = (performance.now() - started) / 1000;
    sending = false;
    await sampler;
    await waitProjected(ctx.url, deadline - 1_000);
    const lags = Float64Array.from(lagsMs).sort();
    const ackSorted = Float64Array.from(acksMs).sort();
    const oldest = Float64Array.from(status.map((x) => x.oldestMs)).sort();
    const ms = (sorted: Float64Array, p: number) => round(percentile(sorted, p), 1);
    const p99 = ms(lags, 99);
    const ok = tally.failures === 0 && tally.rejected === 0 && unreflected === 0 && !bounded;
    results.targets['8'] = {
      checks: [
        check('8', 'fixed-rate stream, offered (no target)', offered, 'events/s', 'info', ok, { value: capacity, label: '1 end to end' }),
        check('8', 'projection lag p50 (ack → default read answers)', ms(lags, 50), 'ms', 'info', ok),
        check('8', 'projection lag p99 (ack → default read answers)', p99, 'ms', '≤ 1 s', ok && p99 <= 1_000, undefined, 'fresh'),
        check('8', 'ingest/status oldest pending, p99 of samples', ms(oldest, 99), 'ms', 'info', status.length > 0),
      ],
      details: {
        capacity_end_to_end_events_per_s: capacity,
        offered_events_per_s: offered,
        batch_events: perBatch,
        batch_every_ms: FRESH_TICK_MS,
        measured_seconds: ctx.sizes.freshS,
        warmup_batches_left_out: warmupBatches,
        seconds: round(seconds, 2),
        ...tallyFigures(tally),
        bounded,
        lag_ms: { batches: lags.length, p50: ms(lags, 50), p99, max: round(lags[lags.length - 1] ?? NaN, 1), unreflected },
        ack_ms: { p50: ms(ackSorted, 50), p99: ms(ackSorted, 99) },
        status_samples: {
          samples: status.length,
          oldest_pending_ms_p50: ms(oldest, 50),
          oldest_pending_ms_p99: ms(oldest, 99),
          max_pending_events: Math.max(0, ...status.map((x) => x.pending)),
        },
      },
    };
    log(
      `8: lag p50 ${ms(lags, 50)} ms, p99 ${p99} ms over ${lags.length} batches (ack p99 ${ms(ackSorted, 99)} ms); ingest/status oldest pending p99 ${ms(oldest, 99)} ms over ${status.length} samples`,
    );
  } finally {
    await stopChild(service.child);
  }
}

/** Targets 9 and 10 read these: phase 3's account and phase 5's small one. */
const scoresPath = (account: string) => `/v1/accounts/${encodeURIComponent(account)}/scores`;

/**
 * Target 9: what waiting for the projection costs when there is nothing to wait for. Phase 3's
 * workspace, idle, its star account's scores read by default and with consistency=eventual,
 * alternating on every connection so both meet the same conditions.
 */
async function targetIdleRead(ctx: Context, results: Results, signal: AbortSignal): Promise<void> {
  const service = await startService(ctx, '9', signal);
  try {
    const key = await tenant(ctx, service, 'bench-star');
    await waitProjected(ctx.url, Date.now() + 60_000);
    const path = scoresPath(STAR);
    const [strong, eventual] = (await loadEach(
      ctx,
      `${service.base}/`,
      { headers: { authorization: `Bearer ${key}` }, requests: [{ path }, { path: `${path}?consistency=eventual` }] },
      signal,
    )) as [LoadFigures, LoadFigures];
    const clean = [strong, eventual].every((f) => f.all.non_2xx === 0 && f.errors === 0);
    results.targets['9'] = {
      checks: [
        check(
          '9',
          `idle workspace, default read of ${STAR} scores, p99`,
          strong.p99_ms,
          'ms',
          '≤ 1.2 × eventual',
          clean && strong.p99_ms <= 1.2 * eventual.p99_ms,
          { value: eventual.p99_ms, label: 'eventual p99' },
          'idle',
        ),
      ],
      details: { default_read: strong, eventual_read: eventual },
    };
    log(`9: default read p99 ${strong.p99_ms} ms (${strong.rps} req/s), consistency=eventual p99 ${eventual.p99_ms} ms (${eventual.rps} req/s)`);
  } finally {
    await stopChild(service.child);
  }
}

/**
 * Target 10: phase 5's two account reads again once the tables are maintained. Every table of the
 * service is named, as Citus runs VACUUM and ANALYZE on a distributed table's shards only when it is.
 */
async function targetMaintainedReads(ctx: Context, results: Results, signal: AbortSignal): Promise<void> {
  const afterIngest = results.targets['5']?.details as { star_scores?: LoadFigures; small_scores?: LoadFigures } | undefined;
  const started = performance.now();
  await withClient(ctx.url, (c) => c.query(`VACUUM (ANALYZE) ${DISTRIBUTION.map((d) => d.table).join(', ')}`));
  const vacuumS = (performance.now() - started) / 1000;
  log(`10: VACUUM (ANALYZE) of every table in ${vacuumS.toFixed(1)} s`);
  const service = await startService(ctx, '10', signal);
  try {
    const key = await tenant(ctx, service, 'bench-star');
    const [star, small] = (await loadEach(
      ctx,
      `${service.base}/`,
      { headers: { authorization: `Bearer ${key}` }, requests: [{ path: scoresPath(STAR) }, { path: scoresPath(SMALL) }] },
      signal,
    )) as [LoadFigures, LoadFigures];
    const clean = (f: LoadFigures) => f.all.non_2xx === 0 && f.errors === 0;
    const starBefore = afterIngest?.star_scores?.p99_ms ?? NaN;
    results.targets['10'] = {
      checks: [
        check(
          '10',
          `after VACUUM ANALYZE: ${STAR} vs ${SMALL}, p99`,
          star.p99_ms,
          'ms',
          '≤ 1.2 × small',
          clean(star) && clean(small) && star.p99_ms <= 1.2 * small.p99_ms,
          { value: small.p99_ms, label: `${SMALL} p99` },
          'afterMaintenance',
        ),
        check('10', `${STAR} p99 right after ingest (5), vs after VACUUM ANALYZE`, starBefore, 'ms', 'info', true, { value: star.p99_ms, label: 'after VACUUM' }),
      ],
      details: {
        vacuum_analyze_seconds: round(vacuumS, 2),
        star_scores: star,
        small_scores: small,
        right_after_ingest: { star_p99_ms: starBefore, small_p99_ms: afterIngest?.small_scores?.p99_ms ?? NaN },
      },
    };
    log(
      `10: after VACUUM ANALYZE, ${STAR} p99 ${star.p99_ms} ms, ${SMALL} p99 ${small.p99_ms} ms (right after ingest: ${starBefore} ms, ${afterIngest?.small_scores?.p99_ms ?? NaN} ms)`,
    );
  } finally {
    await stopChild(service.child);
  }
}

// ---------------------------------------------------------------------------------------------
// the table
// ---------------------------------------------------------------------------------------------

function fmt(x: number | null, unit = ''): string {
  if (x === null) return '—';
  if (!Number.isFinite(x)) return 'n/a';
  const s = Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : String(round(x, 2));
  return unit ? `${s} ${unit}` : s;
}

function table(results: Results): string {
  const rows: string[][] = [['phase', 'measure', 'figure', 'baseline', 'ratio', 'target', 'result']];
  const a = results.baselines.a as Record<string, { rows_per_s: number; events_only?: { rows_per_s: number; ratio: number } }> | undefined;
  if (a) for (const set of ['synthetic', 'higgs'] as const) rows.push(['a', `COPY, ${set} events`, fmt(a[set]?.rows_per_s ?? NaN, 'rows/s'), '', '', 'baseline', '']);
  const ceiling = a?.synthetic?.events_only;
  if (ceiling)
    rows.push([
      'a',
      'ceiling: INSERT of the events alone (1 conn)',
      fmt(ceiling.rows_per_s, 'rows/s'),
      `${fmt(a.synthetic!.rows_per_s)} (a synthetic)`,
      fmt(ceiling.ratio),
      '—',
      '',
    ]);
  const b = results.baselines.b as LoadFigures | undefined;
  if (b) {
    rows.push(['b', 'PK lookup, bare Fastify (50 conns)', fmt(b.rps, 'req/s'), '', '', 'baseline', '']);
    rows.push(['b', 'PK lookup, p50 / p99', `${fmt(b.p50_ms)} / ${fmt(b.p99_ms, 'ms')}`, '', '', 'baseline', '']);
  }
  for (const phase of PHASES) {
    const t = results.targets[phase];
    if (t) {
      const bounded = t.details.bounded === true ? ' [bounded]' : '';
      for (const c of t.checks) {
        const result = c.target === 'info' ? '' : c.pass ? 'PASS' : 'FAIL';
        rows.push([
          c.phase,
          c.what + (c.unit === 'events/s' ? bounded : ''),
          fmt(c.figure, c.unit),
          c.baseline === null ? '—' : `${fmt(c.baseline)} (${c.baseline_label})`,
          c.ratio === null ? '—' : fmt(c.ratio),
          c.target === 'info' ? '—' : c.target,
          result,
        ]);
      }
    }
    const error = results.errors[phase];
    if (error) rows.push([phase, error.startsWith('not run') ? error : `not measured: ${error.split('\n')[0]!.slice(0, 60)}`, '', '', '', '', 'FAIL']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === 2 || i === 4 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Per target of GOALS, the check that answers it (null: not measured). */
function goalsMet(results: Results): { goal: Goal; target: string; check: Check | null }[] {
  const checks = Object.values(results.targets).flatMap((t) => t.checks);
  return (Object.entries(GOALS) as [Goal, string][]).map(([goal, target]) => ({ goal, target, check: checks.find((c) => c.goal === goal) ?? null }));
}

/** One line per target of GOALS: the figure and ratio that answer it, PASS, MISS or not measured. */
function summary(results: Results): string {
  const rows: string[][] = [['target', 'phase', 'measured', 'ratio', 'result']];
  for (const { target, check: c } of goalsMet(results)) {
    if (!c) rows.push([target, '', 'not measured', '', '—']);
    else rows.push([target, c.phase, fmt(c.figure, c.unit), c.ratio === null ? '—' : fmt(c.ratio), c.pass ? 'PASS' : 'MISS']);
  }
  const overrides = Object.entries(SERVICE_OVERRIDES)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  rows.push(['the service in its default configuration', '', `log level ${loadConfig({}).LOG_LEVEL}; ${overrides} (note)`, '', '—']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === 2 || i === 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return ['summary of the targets', line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// the run
// ---------------------------------------------------------------------------------------------

/** Which sources were measured: the commit, and whether the tree differed from it. */
function sourceVersion(): { commit: string | null; uncommitted_changes: boolean | null } {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', 'HEAD'), uncommitted_changes: git('status', '--porcelain', '--', 'src').length > 0 };
  } catch {
    return { commit: null, uncommitted_changes: null };
  }
}

/** How busy the machine was: other work on it skews every figure, so the JSON keeps this beside them. */
function machineLoad(): { loadavg_1m: number; cpu_pressure_avg60: number } {
  let pressure = NaN;
  try {
    pressure = Number(/some avg10=[\d.]+ avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? NaN);
  } catch {
    // no PSI on this kernel
  }
  return { loadavg_1m: round(loadavg()[0]!, 2), cpu_pressure_avg60: pressure };
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const sizes = sizesAt(opts.scale);
  const host = new URL(opts.adminUrl).hostname;
  if (!opts.citus && !['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(host)) fail(`the database must be on loopback (DATABASE_URL points at ${host})`);
  const dbName = `rapport_bench_${process.pid}`;
  const poolSize = loadConfig({ DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE }).DATABASE_POOL_SIZE;
  // The whole run ends at the deadline, whatever a phase is doing; SIGINT ends it the same way.
  const deadline = Date.now() + DEADLINE_S * 1000;
  const stopAll = new AbortController();
  const deadlineTimer = setTimeout(() => stopAll.abort(`the ${DEADLINE_S}-second deadline passed`), DEADLINE_S * 1000);
  process.once('SIGINT', () => stopAll.abort('interrupted'));
  process.once('SIGTERM', () => stopAll.abort('terminated'));

  let broke = false;
  // On Citus the cluster is the run's own, database included; it goes when the run ends.
  let cluster: Cluster | undefined;
  try {
    if (opts.citus) cluster = await startCluster({ database: dbName });
    else await withClient(opts.adminUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
  } catch (err) {
    fail(
      opts.citus
        ? `cannot start a Citus cluster: ${(err as Error).message}`
        : `cannot create the benchmark database through ${opts.adminUrl.replace(/:[^:@/]*@/, ':***@')}: ${(err as Error).message}`,
    );
  }
  const work = mkdtempSync(join(tmpdir(), 'rapport-bench-'));
  const ctx: Context = {
    opts,
    sizes,
    url: cluster?.url ?? databaseUrl(opts.adminUrl, dbName),
    work,
    cli: join(work, 'dist/cli/index.js'),
    adminToken: randomBytes(24).toString('hex'),
    poolSize,
    higgsFile: join(work, 'higgs.ndjson'),
  };
  const results: Results = {
    started_at: new Date().toISOString(),
    options: { scale: opts.scale, phases: opts.phases, out: opts.out },
    sizes,
    environment: {
      node: process.version,
      platform: process.platform,
      cpus: cpus().length,
      database: dbName,
      citus: cluster ? { coordinator: 1, workers: cluster.nodes.length - 1, all_on_this_machine: true } : false,
      pool_size: poolSize,
      service_overrides: { ...SERVICE_OVERRIDES, why: OVERRIDES_WHY },
      source: sourceVersion(),
      busy_at_start: machineLoad(),
    },
    baselines: {},
    targets: {},
    errors: {},
  };

  log(`database ${dbName}${cluster ? ` on a Citus cluster (${cluster.url})` : ''}; phases ${opts.phases.join(',')}; scale ${opts.scale}; pool size ${poolSize}`);
  const busy = results.environment.busy_at_start as ReturnType<typeof machineLoad>;
  if (busy.loadavg_1m > cpus().length / 2) log(`warning: the machine is busy (load average ${busy.loadavg_1m}): other work skews the figures`);
  try {
    const steps: [Phase | 'setup', (signal: AbortSignal, until: number) => Promise<void>][] = [
      ['setup', async (s) => void Object.assign(results.environment, await setup(ctx, s))],
      ['a', (s) => baselineCopy(ctx, results, s)],
      ['b', (s) => baselineLookup(ctx, results, s)],
      ['1', (s, until) => targetBatchIngest(ctx, results, s, until)],
      ['7', (s, until) => targetHotAccount(ctx, results, s, until)],
      ['8', (s, until) => targetFreshness(ctx, results, s, until)],
      ['2', (s, until) => targetImport(ctx, results, s, until)],
      ['3', (s, until) => targetStream(ctx, results, s, until)],
      ['4', (s) => targetSingle(ctx, results, s)],
      ['5', (s) => targetReads(ctx, results, s)],
      ['9', (s) => targetIdleRead(ctx, results, s)],
      ['6', (s) => targetTwoProcesses(ctx, results, s)],
      ['10', (s) => targetMaintainedReads(ctx, results, s)],
    ];
    const selected = steps.filter(([p]) => p === 'setup' || opts.phases.includes(p));
    for (const [i, [phase, step]] of selected.entries()) {
      if (stopAll.signal.aborted) {
        results.errors[phase] = `not run: ${String(stopAll.signal.reason)}`;
        continue;
      }
      // A phase gets its budget, less what the phases after it are guaranteed.
      const later = selected.slice(i + 1).reduce((s, [p]) => s + BUDGET_S[p].reserve, 0) * 1000;
      // On Citus baseline a's ceiling (300k rows through the service's INSERT) goes via the
      // coordinator and takes longer; the phases after it keep their reserves.
      const budget = BUDGET_S[phase].budget * (opts.citus && phase === 'a' ? 1.6 : 1);
      const until = Math.min(Date.now() + budget * 1000, deadline - later);
      const phaseStop = new AbortController();
      const timer = setTimeout(() => phaseStop.abort(`phase ${phase} ran past its time budget`), Math.max(0, until - Date.now()));
      const signal = AbortSignal.any([stopAll.signal, phaseStop.signal]);
      log(`phase ${phase}: up to ${Math.round((until - Date.now()) / 1000)} s`);
      try {
        await abortable(step(signal, until), signal);
      } catch (err) {
        results.errors[phase] = (err as Error).message;
        log(`phase ${phase} failed: ${(err as Error).message}`);
        if (phase === 'setup') {
          broke = true;
          break;
        }
      } finally {
        clearTimeout(timer);
        phaseStop.abort('phase over');
      }
    }
  } finally {
    clearTimeout(deadlineTimer);
    await Promise.all([...children].map((c) => stopChild(c, 3_000)));
    if (cluster) stopCluster(cluster.dir);
    else {
      await withClient(opts.adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch((err: Error) =>
        log(`warning: could not drop ${dbName}: ${err.message}`),
      );
    }
    rmSync(work, { recursive: true, force: true });
  }

  results.environment.busy_at_end = machineLoad();
  const checks = Object.values(results.targets)
    .flatMap((t) => t.checks)
    .filter((c) => c.target !== 'info');
  const missing = opts.phases.filter((p) => /^\d+$/.test(p) && !results.targets[p]);
  results.passed = !broke && missing.length === 0 && checks.every((c) => c.pass);
  results.summary = goalsMet(results).map(({ goal, target, check: c }) => ({
    goal,
    target,
    phase: c?.phase ?? null,
    figure: c?.figure ?? null,
    unit: c?.unit ?? null,
    ratio: c?.ratio ?? null,
    pass: c ? c.pass : null,
  }));
  results.finished_at = new Date().toISOString();
  results.seconds = round(elapsedS());
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);

  const notes = [
    `the service runs with its defaults (log level ${loadConfig({}).LOG_LEVEL}, request logs to a file) but ${Object.entries(SERVICE_OVERRIDES)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}: ${OVERRIDES_WHY}`,
    ...PHASES.filter((p) => results.targets[p]?.details.bounded === true).map(
      (p) => `phase ${p} was bounded by its time budget: its rate is over the events it got through, not all of them`,
    ),
    ...(opts.scale !== 1 ? [`scale ${opts.scale}: the targets are defined at scale 1; these figures are not a verdict`] : []),
  ];
  process.stdout.write(`\n${table(results)}\n\n${summary(results)}\n\n${notes.map((n) => `note: ${n}\n`).join('')}`);
  const verdict = stopAll.signal.aborted ? `stopped (${String(stopAll.signal.reason)})` : results.passed ? 'every target met' : 'some targets not met';
  process.stdout.write(`${verdict} in ${results.seconds} s; figures in ${opts.out}\n`);
  if (broke || stopAll.signal.aborted) return 2;
  return results.passed ? 0 : 1;
}

if (process.argv.includes(LOOKUP_SERVER_FLAG)) await lookupServer();
else process.exit(await main());
