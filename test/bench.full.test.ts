import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { runNode } from './cli/run.js';
import { TEST_DATABASE_URL } from './helpers.js';

/**
 * `npm run bench` at a tiny scale: every phase runs end to end against a real PostgreSQL (the
 * test database's server, or the local one the benchmark defaults to: never skipped), and the
 * JSON it writes holds every baseline and every target with numeric figures. Pass or fail is not
 * asserted: at 1 % of the sizes the targets mean nothing.
 */

const ROOT = new URL('..', import.meta.url).pathname;
const ADMIN_URL = TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Check {
  phase: string;
  figure: number;
  baseline: number | null;
  ratio: number | null;
  target: string;
  pass: boolean;
}

function runBench(out: string) {
  return runNode(['--import', 'tsx', join(ROOT, 'scripts/bench.ts'), '--scale', '0.01', '--out', out], { ...process.env, DATABASE_URL: ADMIN_URL });
}

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

t.test('the benchmark at scale 0.01 measures every baseline and target, writes them to JSON and drops its database', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rapport-bench-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'bench.json');
  const run = await runBench(out);
  // 0: every target met, 1: some not met (expected at this scale); 2 would mean the benchmark broke.
  t.ok(run.code === 0 || run.code === 1, `exit ${run.code}\n${run.stderr.slice(-3_000)}`);

  const results = JSON.parse(readFileSync(out, 'utf8')) as {
    baselines: {
      a: Record<string, { rows: number; rows_per_s: number; events_only?: { rows_per_s: number; ratio: number } }>;
      b: Record<string, number> & { all: { non_2xx: number } };
    };
    targets: Record<string, { checks: Check[]; details: Record<string, unknown> }>;
    errors: Record<string, string>;
    summary: { goal: string; pass: boolean | null }[];
  };
  t.same(results.errors, {}, 'no phase failed to run');
  for (const set of ['synthetic', 'higgs']) {
    t.ok(isNumber(results.baselines.a[set]?.rows_per_s) && results.baselines.a[set].rows_per_s > 0, `baseline a, ${set}: rows/s`);
  }
  const ceiling = results.baselines.a.synthetic?.events_only;
  t.ok(isNumber(ceiling?.rows_per_s) && ceiling.rows_per_s > 0 && isNumber(ceiling.ratio), 'the ceiling: events alone through the service INSERT, rows/s and ratio to COPY');
  t.match(run.stdout, /ceiling: INSERT of the events alone/, 'the ceiling is in the table');
  for (const figure of ['rps', 'p50_ms', 'p99_ms']) t.ok(isNumber(results.baselines.b[figure]), `baseline b: ${figure}`);
  t.equal(results.baselines.b.all.non_2xx, 0, 'every lookup found its row');

  for (const phase of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']) {
    const checks = results.targets[phase]?.checks ?? [];
    t.ok(checks.length > 0, `target ${phase} is reported`);
    for (const c of checks) {
      t.ok(isNumber(c.figure), `target ${phase}: numeric figure (${c.figure})`);
      if (c.baseline !== null) t.ok(isNumber(c.baseline) && isNumber(c.ratio), `target ${phase}: numeric baseline and ratio`);
      t.type(c.pass, 'boolean');
    }
  }
  // Exactly-once across two processes holds at any scale, unlike the speed targets.
  const six = results.targets['6']!.details;
  t.equal(six.rows, six.events, 'target 6: every event stored once');
  t.equal(six.duplicates, six.overlap, 'target 6: the overlap reported as duplicates');

  // The read that ends the hot account's clock reflects every interaction aimed at it, at any scale too.
  const seven = results.targets['7']!.details;
  t.equal(seven.received_read, seven.received_expected, 'target 7: the default read counts every interaction aimed at the hot account');
  const eight = results.targets['8']!.details as {
    offered_events_per_s: number;
    capacity_end_to_end_events_per_s: number;
    lag_ms: { batches: number; p99: number; unreflected: number };
  };
  // One batch every 100 ms, of whole events: within 5 events/s of half.
  t.ok(Math.abs(eight.offered_events_per_s - eight.capacity_end_to_end_events_per_s / 2) <= 5, 'target 8: offered at half the end-to-end rate');
  t.ok(eight.lag_ms.batches > 0 && isNumber(eight.lag_ms.p99) && eight.lag_ms.unreflected === 0, 'target 8: a lag for every batch, each reflected by a default read');
  t.ok(isNumber(results.targets['10']!.details.vacuum_analyze_seconds), 'target 10: the maintenance is timed');

  t.match(run.stdout, /phase\s+measure\s+figure\s+baseline\s+ratio\s+target\s+result/, 'the table is printed');
  t.match(run.stdout, /summary of the targets\n.*target\s+phase\s+measured\s+ratio\s+result/, 'the summary is printed');
  t.notMatch(run.stdout, /not measured/, 'the summary has every target measured');
  t.ok(results.summary.length > 0 && results.summary.every((s) => typeof s.pass === 'boolean'), 'the JSON summary has every target, each met or not');
  t.match(run.stdout, /note: the service runs with its defaults \(log level info, .*\) but RATE_LIMIT_PER_MINUTE=0: /, 'the one setting that differs is said, with why');
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const left = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [`rapport_bench_${run.pid}`]);
  await admin.end();
  t.equal(left.rowCount, 0, 'the benchmark database is dropped');
});
