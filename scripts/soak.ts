/**
 * Soak run (not part of CI): `npm run soak -- [--minutes 10]`, i.e. `tsx scripts/soak.ts`.
 *
 * Starts Rapport as a child process on 127.0.0.1 (PGlite in a temporary folder, or the PostgreSQL of
 * DATABASE_URL when it is set), creates a workspace and keys through the admin endpoints, seeds it
 * with `--seed-events` events of the mix (reads grow with history: capacity measured on an empty
 * workspace would be more than the service sustains once the run has filled it), measures what the
 * service sustains with a short closed-loop burst of mixed traffic, then drives the same mix
 * open-loop at half that rate for `--minutes`: ingest (JSON batches of 100–1,000 events, single
 * events, NDJSON streams) and reads (scores, sections, scores batches, rankings, lists).
 *
 * Every `--sample-seconds` it prints a row: requests, errors by status (none expected), p50/p99
 * latency, and the server's RSS and heap read from its own /metrics. At the end: a summary with the
 * memory slope in MB/minute (expected flat once warm), the samples written to
 * bench/results/soak-<timestamp>.json, and exit code 1 when any request failed, the server's event
 * counters disagree with what clients were told, or memory grew by more than the thresholds.
 *
 * Options: --minutes N (10), --seed-events N (1,000,000), --capacity-seconds N (15), --concurrency N (16, capacity phase),
 * --rate N (requests/s; skips the capacity phase), --sample-seconds N (10), --warmup-minutes N
 * (1, excluded from the memory verdict), --max-heap-growth-mb N (64), --max-rss-growth-mb N (256).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, percentile } from './loopback.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = '127.0.0.1';
const MAX_MINUTES = 24 * 60;
const MAX_IN_FLIGHT = 256;
const REQUEST_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'capacity-seconds': { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string' },
    'seed-events': { type: 'string', default: '1000000' },
    'sample-seconds': { type: 'string', default: '10' },
    'warmup-minutes': { type: 'string', default: '1' },
    'max-heap-growth-mb': { type: 'string', default: '64' },
    'max-rss-growth-mb': { type: 'string', default: '256' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (args.help) {
  process.stdout.write(
    'tsx scripts/soak.ts [--minutes 10] [--seed-events 1000000] [--capacity-seconds 15] [--concurrency 16] [--rate N] [--sample-seconds 10]\n' +
      '                    [--warmup-minutes 1] [--max-heap-growth-mb 64] [--max-rss-growth-mb 256]\n' +
      'PGlite in a temporary folder by default; PostgreSQL when DATABASE_URL is set. Loopback only.\n',
  );
  process.exit(0);
}

function num(name: keyof typeof args, min: number, max: number): number {
  const raw = args[name];
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n < min || n > max) {
    process.stderr.write(`--${name} must be a number from ${min} to ${max}\n`);
    process.exit(2);
  }
  return n;
}

const opts = {
  minutes: num('minutes', 0.1, MAX_MINUTES),
  capacitySeconds: num('capacity-seconds', 1, 600),
  concurrency: Math.round(num('concurrency', 1, MAX_IN_FLIGHT)),
  rate: args.rate === undefined ? undefined : num('rate', 0.1, 100_000),
  seedEvents: Math.round(num('seed-events', 0, 100_000_000)),
  sampleSeconds: num('sample-seconds', 1, 600),
  warmupMinutes: num('warmup-minutes', 0, MAX_MINUTES),
  maxHeapGrowthMb: num('max-heap-growth-mb', 0, 1_000_000),
  maxRssGrowthMb: num('max-rss-growth-mb', 0, 1_000_000),
};

// ---------------------------------------------------------------------------------------------
// the server, as a child process on loopback
// ---------------------------------------------------------------------------------------------

const databaseUrl = process.env.DATABASE_URL || undefined;
if (databaseUrl) {
  const host = new URL(databaseUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(host)) {
    process.stderr.write(`warning: DATABASE_URL points at ${host}, not loopback; the soak will load that database\n`);
  }
}
const dataDir = databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'rapport-soak-'));
const adminToken = randomBytes(24).toString('hex');
const metricsToken = randomBytes(24).toString('hex');
const port = await freePort(HOST);
const base = `http://${HOST}:${port}`;
const serverLog: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let stopping = false;
let childExited = false;

const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/index.ts'), 'serve'], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: {
    ...process.env,
    HOST,
    PORT: String(port),
    ADMIN_TOKEN: adminToken,
    METRICS_TOKEN: metricsToken,
    LOG_LEVEL: 'warn',
    // The limiter stays on (its per-key store is part of what is soaked) but far above the load.
    RATE_LIMIT_PER_MINUTE: '10000000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir!, DATABASE_URL: '' }),
  },
});
const keepLog = (chunk: Buffer) => {
  serverLog.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  if (serverLog.length > 200) serverLog.splice(0, serverLog.length - 200);
};
child.stdout?.on('data', keepLog);
child.stderr?.on('data', keepLog);
child.on('exit', (code, signal) => {
  childExited = true;
  if (!stopping) {
    process.stderr.write(`\nthe server exited unexpectedly (code ${code}, signal ${signal}); its last lines:\n${serverLog.slice(-30).join('\n')}\n`);
    cleanup();
    process.exit(1);
  }
});

function cleanup() {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
async function stopServer() {
  stopping = true;
  if (childExited) return cleanup();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
  cleanup();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the server\n`);
    void stopServer().then(() => process.exit(130));
  });
}

async function waitReady() {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`the server did not become ready within 120 s; its last lines:\n${serverLog.slice(-30).join('\n')}`);
}

/** An admin call; a 503 (the process may still be shedding load from its start-up) is retried after Retry-After, as clients should. */
async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status === 503 && attempt < 12) {
      await res.text();
      await sleep(Math.min(5, Number(res.headers.get('retry-after')) || 1) * 1000);
      continue;
    }
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }
}

interface Memory {
  rssMb: number;
  heapMb: number;
  events: { accepted: number; duplicate: number };
}

/** The server's own view: process memory and event counters from /metrics. */
async function serverMetrics(): Promise<Memory> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).text();
  const gauge = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const events = { accepted: 0, duplicate: 0 };
  for (const m of text.matchAll(/^rapport_events_total\{([^}]*)\} ([0-9.e+-]+)$/gm)) {
    const outcome = /outcome="(\w+)"/.exec(m[1]!)?.[1];
    if (outcome === 'accepted' || outcome === 'duplicate') events[outcome] += Number(m[2]);
  }
  return { rssMb: gauge('process_resident_memory_bytes') / 2 ** 20, heapMb: gauge('nodejs_heap_size_used_bytes') / 2 ** 20, events };
}

// ---------------------------------------------------------------------------------------------
// the traffic mix
// ---------------------------------------------------------------------------------------------

const ACCOUNTS = 5_000;
const TYPES = ['follow', 'follow', 'unfollow', 'like', 'like', 'like', 'reply', 'mention', 'repost', 'post'] as const;
const DAY_MS = 86_400_000;
const now0 = Date.now();

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
/** Skewed: low account numbers are much busier, as real audiences are. */
const account = () => `soak:u${Math.floor(ACCOUNTS * Math.random() ** 2)}`;
const enc = (a: string) => encodeURIComponent(a);

function event(): Record<string, unknown> {
  const type = pick(TYPES);
  const actor = account();
  const e: Record<string, unknown> = {
    type,
    actor,
    occurred_at: new Date(now0 - Math.floor(Math.random() * 90 * DAY_MS)).toISOString(),
  };
  if (type !== 'post') e.target = account();
  if (type === 'post' || type === 'reply' || type === 'mention') {
    e.text = Math.random() < 0.3 ? `check out https://example.com/${between(1, 20)}` : `what do you think of part ${between(1, 500)}?`;
  }
  if (Math.random() < 0.5) e.id = `soak-${randomBytes(9).toString('base64url')}`;
  return e;
}

interface Op {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  key: 'write' | 'read';
  body?: string;
  contentType?: string;
  /** Events in the body, to check the server's counters at the end. */
  events?: number;
}

const recentSingles: string[] = [];
const windowQuery = () => {
  const since = new Date(now0 - between(7, 60) * DAY_MS).toISOString();
  return `since=${since}&until=${new Date(now0).toISOString()}`;
};

const MIX: [number, () => Op][] = [
  [
    10,
    () => {
      const events = Array.from({ length: between(100, 1000) }, event);
      return { name: 'batch', method: 'POST', path: '/v1/events/batch', key: 'write', body: JSON.stringify({ events }), events: events.length };
    },
  ],
  [
    4,
    () => {
      const n = between(100, 1000);
      const body = Array.from({ length: n }, () => JSON.stringify(event())).join('\n') + '\n';
      return { name: 'ndjson', method: 'POST', path: '/v1/events/batch', key: 'write', body, contentType: 'application/x-ndjson', events: n };
    },
  ],
  [
    22,
    () => {
      // One in ten resends an earlier event: a duplicate (200), which must change nothing.
      const body = Math.random() < 0.1 && recentSingles.length > 0 ? pick(recentSingles) : JSON.stringify({ ...event(), id: `soak-${randomBytes(9).toString('base64url')}` });
      if (recentSingles.length < 1000) recentSingles.push(body);
      else recentSingles[between(0, 999)] = body;
      return { name: 'single', method: 'POST', path: '/v1/events', key: 'write', body, events: 1 };
    },
  ],
  [20, () => ({ name: 'scores', method: 'GET', path: `/v1/accounts/${enc(account())}/scores`, key: 'read' })],
  [5, () => ({ name: 'scores-window', method: 'GET', path: `/v1/accounts/${enc(account())}/scores?${windowQuery()}&churn_hours=48`, key: 'read' })],
  [6, () => ({ name: 'section', method: 'GET', path: `/v1/accounts/${enc(account())}/${pick(['reciprocity', 'engagement', 'spam'])}`, key: 'read' })],
  [
    8,
    () => ({
      name: 'scores-batch',
      method: 'POST',
      path: '/v1/scores/batch',
      key: 'read',
      body: JSON.stringify({ accounts: Array.from({ length: between(10, 50) }, account) }),
    }),
  ],
  [
    6,
    () => ({
      name: 'ranking',
      method: 'GET',
      path: `/v1/accounts?sort=${pick(['spam_score', 'followers', 'follow_back_rate', 'engagement_reciprocity'])}&limit=${between(10, 200)}&min_followers=${between(0, 5)}`,
      key: 'read',
    }),
  ],
  [14, () => ({ name: 'list', method: 'GET', path: `/v1/accounts/${enc(account())}/${pick(['non-followers', 'fans', 'partners'])}?limit=100`, key: 'read' })],
  [
    5,
    () => ({ name: 'activity-hours', method: 'GET', path: `/v1/accounts/${enc(account())}/activity-hours?tz=${pick(['UTC', 'Europe/Paris', 'America/New_York'])}`, key: 'read' }),
  ],
];
const MIX_TOTAL = MIX.reduce((s, [w]) => s + w, 0);
function nextOp(): Op {
  let r = Math.random() * MIX_TOTAL;
  for (const [w, make] of MIX) if ((r -= w) < 0) return make();
  return MIX[0]![1]();
}

// ---------------------------------------------------------------------------------------------
// measurement
// ---------------------------------------------------------------------------------------------

interface Tally {
  requests: number;
  latencies: number[];
  statuses: Record<string, number>;
  errors: Record<string, number>;
  late: number;
}
const newTally = (): Tally => ({ requests: 0, latencies: [], statuses: {}, errors: {}, late: 0 });

const newTotals = () => ({ requests: 0, statuses: {} as Record<string, number>, errors: {} as Record<string, number>, byOp: {} as Record<string, number[]>, late: 0 });
/** The soak phase's counts (the capacity phase has its own); `told` spans both, as the server's counters do. */
let totals = newTotals();
const told = { accepted: 0, duplicate: 0 };
const errorSamples: string[] = [];

const EXPECTED = new Set([200, 201]);
let keys: { write: string[]; read: string[] } = { write: [], read: [] };
let inFlight = 0;

async function send(op: Op, w: Tally) {
  inFlight++;
  const started = performance.now();
  let status: string;
  try {
    const res = await fetch(`${base}${op.path}`, {
      method: op.method,
      headers: {
        authorization: `Bearer ${pick(keys[op.key])}`,
        ...(op.body === undefined ? {} : { 'content-type': op.contentType ?? 'application/json' }),
      },
      ...(op.body === undefined ? {} : { body: op.body }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    status = String(res.status);
    if (!EXPECTED.has(res.status)) {
      if (errorSamples.length < 20) errorSamples.push(`${op.method} ${op.path.slice(0, 80)} → ${res.status} ${text.slice(0, 300)}`);
    } else if (op.events !== undefined) {
      const body = JSON.parse(text) as { accepted?: number; duplicates?: number; rejected?: unknown[]; status?: string };
      if (op.name === 'single') told[body.status === 'accepted' ? 'accepted' : 'duplicate']++;
      else {
        told.accepted += body.accepted ?? 0;
        told.duplicate += body.duplicates ?? 0;
        if ((body.rejected?.length ?? 0) > 0) {
          status = 'rejected';
          if (errorSamples.length < 20) errorSamples.push(`${op.name}: rejected ${JSON.stringify(body.rejected).slice(0, 300)}`);
        }
      }
    }
  } catch (err) {
    status = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network';
    if (errorSamples.length < 20) errorSamples.push(`${op.method} ${op.path.slice(0, 80)} → ${status}: ${(err as Error).message}`);
  } finally {
    inFlight--;
  }
  const ms = performance.now() - started;
  w.requests++;
  w.latencies.push(ms);
  w.statuses[status] = (w.statuses[status] ?? 0) + 1;
  totals.requests++;
  totals.statuses[status] = (totals.statuses[status] ?? 0) + 1;
  (totals.byOp[op.name] ??= []).push(ms);
  if (!EXPECTED.has(Number(status))) {
    w.errors[status] = (w.errors[status] ?? 0) + 1;
    totals.errors[status] = (totals.errors[status] ?? 0) + 1;
  }
}

/**
 * Loads `n` events of the mix before anything is measured: reads cost more as history grows, so
 * capacity measured on an empty workspace would overstate what the service sustains ten minutes
 * in. Two streams at a time, 50,000 events each; counted in `told` like every other ingest.
 */
async function seed(n: number) {
  const started = performance.now();
  let next = 0;
  let accepted = 0;
  const stream = async () => {
    while (next < n) {
      const size = Math.min(50_000, n - next);
      next += size;
      const body = Array.from({ length: size }, () => JSON.stringify(event())).join('\n') + '\n';
      const res = await fetch(`${base}/v1/events/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.write[0]}`, 'content-type': 'application/x-ndjson' },
        body,
      });
      const result = (await res.json()) as { accepted: number; duplicates: number; rejected_total: number };
      if (res.status !== 200 || result.rejected_total > 0) throw new Error(`seeding failed: ${res.status} ${JSON.stringify(result).slice(0, 300)}`);
      told.accepted += result.accepted;
      told.duplicate += result.duplicates;
      accepted += result.accepted;
    }
  };
  await Promise.all([stream(), stream()]);
  return { accepted, seconds: (performance.now() - started) / 1000 };
}

/** Closed loop: `concurrency` clients back to back for `seconds`; what the service completes is its capacity for this mix. */
async function measureCapacity(seconds: number, concurrency: number) {
  const w = newTally();
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await send(nextOp(), w);
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const sorted = w.latencies.sort((a, b) => a - b);
  const served = (w.statuses['200'] ?? 0) + (w.statuses['201'] ?? 0);
  // Saturating the service is the point here, so shedding (503 overloaded) is expected; anything else is not.
  const { '503': shed = 0, ...errors } = w.errors;
  return { seconds: elapsed, concurrency, requests: w.requests, served, shed, rps: served / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), errors };
}

interface Sample {
  t: number;
  requests: number;
  rps: number;
  errors: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
  late: number;
  rssMb: number;
  heapMb: number;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pad = (s: string, n: number) => s.padStart(n);
const errText = (e: Record<string, number>) =>
  Object.entries(e)
    .map(([k, v]) => `${k}:${v}`)
    .join(' ') || '0';

// ---------------------------------------------------------------------------------------------
// the run
// ---------------------------------------------------------------------------------------------

const startedAt = new Date();
let exitCode = 0;
try {
  process.stderr.write(`starting rapport on ${base} (${databaseUrl ? 'PostgreSQL from DATABASE_URL' : `PGlite in ${dataDir}`})\n`);
  await waitReady();
  const workspace = `soak-${startedAt
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  await admin('POST', '/v1/admin/workspaces', { name: workspace });
  const issue = async (scopes: string[]) => ((await admin('POST', `/v1/admin/workspaces/${workspace}/keys`, { scopes })) as { key: string }).key;
  keys = {
    write: [await issue(['events:write']), await issue(['events:write']), await issue(['events:write']), await issue(['events:write'])],
    read: [await issue(['scores:read']), await issue(['scores:read']), await issue(['scores:read']), await issue(['scores:read'])],
  };
  const memStart = await serverMetrics();
  process.stderr.write(`workspace ${workspace}, 8 keys; server RSS ${f(memStart.rssMb)} MB, heap ${f(memStart.heapMb)} MB\n`);

  if (opts.seedEvents > 0) {
    process.stderr.write(`seeding ${opts.seedEvents} events of the same mix through NDJSON streams …\n`);
    const seeded = await seed(opts.seedEvents);
    process.stderr.write(`seeded ${seeded.accepted} events in ${f(seeded.seconds)} s (${f(seeded.accepted / seeded.seconds, 0)} events/s)\n`);
  }

  let capacity: Awaited<ReturnType<typeof measureCapacity>> | null = null;
  let rate: number;
  if (opts.rate !== undefined) {
    rate = opts.rate;
    process.stderr.write(`rate given: ${rate} requests/s (no capacity phase)\n`);
  } else {
    process.stderr.write(`capacity: ${opts.capacitySeconds} s of mixed load at concurrency ${opts.concurrency} …\n`);
    capacity = await measureCapacity(opts.capacitySeconds, opts.concurrency);
    rate = Math.max(0.5, capacity.rps / 2);
    process.stderr.write(
      `capacity: ${f(capacity.rps)} requests/s served (${capacity.served} of ${capacity.requests}; ${capacity.shed} shed with 503; p50 ${f(capacity.p50)} ms, p99 ${f(capacity.p99)} ms; other errors ${errText(capacity.errors)}); soaking at ${f(rate)} requests/s\n`,
    );
    if (Object.keys(capacity.errors).length > 0) exitCode = 1;
  }
  totals = newTotals();

  // Open loop: requests are started on a schedule whatever the answers do, so a slowing server
  // shows up as latency (and as `late` when MAX_IN_FLIGHT is reached), not as a politely lower rate.
  const header = `${pad('t(s)', 6)} ${pad('req', 7)} ${pad('req/s', 7)} ${pad('errors', 10)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} ${pad('max ms', 8)} ${pad('late', 5)} ${pad('RSS MB', 8)} ${pad('heap MB', 8)}`;
  process.stdout.write(`${header}\n`);
  const samples: Sample[] = [];
  const durationMs = opts.minutes * 60_000;
  const soakStart = performance.now();
  let issued = 0;
  let w = newTally();
  let windowStart = soakStart;
  let nextSample = soakStart + opts.sampleSeconds * 1000;
  const pending = new Set<Promise<void>>();
  while (performance.now() - soakStart < durationMs) {
    const due = Math.floor(((performance.now() - soakStart) / 1000) * rate);
    while (issued < due) {
      issued++;
      if (inFlight >= MAX_IN_FLIGHT) {
        w.late++;
        totals.late++;
        continue;
      }
      const p = send(nextOp(), w);
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    if (performance.now() >= nextSample) {
      const done = w;
      const seconds = (performance.now() - windowStart) / 1000;
      w = newTally();
      windowStart = performance.now();
      nextSample += opts.sampleSeconds * 1000;
      // A sample the server cannot answer is recorded without memory figures rather than ending the run.
      const mem = await serverMetrics().catch((): Memory => ({ rssMb: NaN, heapMb: NaN, events: { accepted: NaN, duplicate: NaN } }));
      const sorted = done.latencies.sort((a, b) => a - b);
      const s: Sample = {
        t: Math.round((performance.now() - soakStart) / 1000),
        requests: done.requests,
        rps: done.requests / seconds,
        errors: done.errors,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? NaN,
        late: done.late,
        rssMb: mem.rssMb,
        heapMb: mem.heapMb,
      };
      samples.push(s);
      process.stdout.write(
        `${pad(String(s.t), 6)} ${pad(String(s.requests), 7)} ${pad(f(s.rps), 7)} ${pad(errText(s.errors), 10)} ${pad(f(s.p50), 8)} ${pad(f(s.p99), 8)} ${pad(f(s.max), 8)} ${pad(String(s.late), 5)} ${pad(f(s.rssMb), 8)} ${pad(f(s.heapMb), 8)}\n`,
      );
    }
    await sleep(5);
  }
  await Promise.all(pending);
  const memEnd = await serverMetrics();

  // Memory: the slope over the samples after the warm-up, and the growth it implies over that span.
  const warm = samples.filter((s) => s.t >= opts.warmupMinutes * 60);
  const used = (warm.length >= 3 ? warm : samples).filter((s) => Number.isFinite(s.rssMb) && Number.isFinite(s.heapMb));
  const minutes = used.map((s) => s.t / 60);
  const rssSlope = slope(
    minutes,
    used.map((s) => s.rssMb),
  );
  const heapSlope = slope(
    minutes,
    used.map((s) => s.heapMb),
  );
  const span = used.length >= 2 ? minutes[minutes.length - 1]! - minutes[0]! : 0;
  const rssGrowth = rssSlope * span;
  const heapGrowth = heapSlope * span;

  const countersAgree = memEnd.events.accepted === told.accepted && memEnd.events.duplicate === told.duplicate;
  const failures: string[] = [];
  if (Object.keys(totals.errors).length > 0) failures.push(`requests failed: ${errText(totals.errors)}`);
  if (!countersAgree)
    failures.push(
      `server counters (accepted ${memEnd.events.accepted}, duplicate ${memEnd.events.duplicate}) differ from the answers (accepted ${told.accepted}, duplicate ${told.duplicate})`,
    );
  if (Number.isFinite(heapGrowth) && heapGrowth > opts.maxHeapGrowthMb) failures.push(`heap grew ${f(heapGrowth)} MB after warm-up (limit ${opts.maxHeapGrowthMb})`);
  if (Number.isFinite(rssGrowth) && rssGrowth > opts.maxRssGrowthMb) failures.push(`RSS grew ${f(rssGrowth)} MB after warm-up (limit ${opts.maxRssGrowthMb})`);
  if (exitCode !== 0 && capacity) failures.push(`the capacity phase had errors: ${errText(capacity.errors)}`);

  const p99s = samples
    .map((s) => s.p99)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const summary = {
    database: databaseUrl ? 'postgresql' : 'pglite',
    minutes: opts.minutes,
    target_rps: rate,
    achieved_rps: totals.requests / ((performance.now() - soakStart) / 1000),
    requests: totals.requests,
    by_operation: Object.fromEntries(
      Object.entries(totals.byOp).map(([name, ms]) => {
        const sorted = [...ms].sort((a, b) => a - b);
        return [name, { requests: ms.length, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99) }];
      }),
    ),
    statuses: totals.statuses,
    errors: totals.errors,
    late: totals.late,
    events: { accepted: told.accepted, duplicate: told.duplicate, server_counters: memEnd.events, agree: countersAgree },
    memory: {
      start: { rss_mb: memStart.rssMb, heap_mb: memStart.heapMb },
      end: { rss_mb: memEnd.rssMb, heap_mb: memEnd.heapMb },
      after_warmup_minutes: warm.length >= 3 ? opts.warmupMinutes : 0,
      rss_slope_mb_per_min: rssSlope,
      heap_slope_mb_per_min: heapSlope,
      rss_growth_mb: rssGrowth,
      heap_growth_mb: heapGrowth,
    },
    worst_window_p99_ms: p99s[p99s.length - 1] ?? null,
    median_window_p99_ms: percentile(p99s, 50),
    failures,
    passed: failures.length === 0,
  };

  process.stdout.write(
    [
      '',
      `summary (${summary.database}, ${opts.minutes} min at ${f(rate)} req/s target, ${f(summary.achieved_rps)} achieved)`,
      `  requests   ${totals.requests}  statuses ${JSON.stringify(totals.statuses)}  late ${totals.late}`,
      `  events     accepted ${told.accepted}, duplicates ${told.duplicate}; server counters ${countersAgree ? 'agree' : 'DISAGREE'}`,
      `  latency    p99 per window: median ${f(summary.median_window_p99_ms)} ms, worst ${f(summary.worst_window_p99_ms ?? NaN)} ms`,
      ...Object.entries(summary.by_operation)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, o]) => `    ${name.padEnd(15)} ${pad(String(o.requests), 7)} requests  p50 ${pad(f(o.p50_ms), 7)} ms  p99 ${pad(f(o.p99_ms), 7)} ms`),
      `  memory     RSS ${f(memStart.rssMb)} → ${f(memEnd.rssMb)} MB, heap ${f(memStart.heapMb)} → ${f(memEnd.heapMb)} MB`,
      `  slope      ${warm.length >= 3 ? `after the ${opts.warmupMinutes} min warm-up` : 'over every sample (the run is too short to drop a warm-up)'}: RSS ${f(rssSlope, 2)} MB/min, heap ${f(heapSlope, 2)} MB/min (growth ${f(rssGrowth)} / ${f(heapGrowth)} MB)`,
      ...(errorSamples.length ? ['  first errors:', ...errorSamples.slice(0, 5).map((e) => `    ${e}`)] : []),
      failures.length ? `  FAILED: ${failures.join('; ')}` : '  passed',
      '',
    ].join('\n'),
  );

  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `soak-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ started_at: startedAt.toISOString(), options: opts, capacity, summary, samples, error_samples: errorSamples }, null, 2)}\n`);
  process.stderr.write(`samples written to ${file}\n`);
  if (failures.length > 0) exitCode = 1;
} catch (err) {
  process.stderr.write(`soak aborted: ${(err as Error).stack ?? String(err)}\n`);
  exitCode = 1;
} finally {
  await stopServer();
}
process.exit(exitCode);
