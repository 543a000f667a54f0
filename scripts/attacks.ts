/**
 * Attack run (not part of CI): `npm run attacks -- [--seconds 20] [--history-events 300000] [--phases 1,2,3,4,5,6]`,
 * i.e. `tsx scripts/attacks.ts`.
 *
 * The reproducers of the ways one client could crash or stall the service for every tenant, each run
 * for a bounded time against `rapport serve` started as users run it: the default configuration (only
 * HOST, PORT, ADMIN_TOKEN and METRICS_TOKEN are set), under `ulimit -n 1024`, on the PostgreSQL of
 * DATABASE_URL when it is set, else PGlite in a temporary folder. Loopback only.
 *
 * Two workspaces are created through the admin endpoints: the victim's, seeded lightly, and the
 * attacker's. Throughout the run a victim (a separate process, from its own address 127.0.0.2 so that
 * per-address limits aimed at the attacker on 127.0.0.1 are not what it meets) reads its own account's
 * scores every 100 ms, open-loop. Phases, each `--seconds` long:
 *   0. baseline: nothing but the victim.
 *   1. ~1,100 connections holding half-sent requests (`POST /x`, `Content-Length: 100`, no body), re-opened as closed.
 *   2. one anonymous client looping a 32 MiB `{"a":[{},{},…]}` body to /nope, and POST /healthz, /metrics, /docs/json.
 *   3. 8 concurrent NDJSON streams from one events:write key, of 1 MiB lines `[{},{},…]`, repeated.
 *   4. an account with `--history-events` events (seeded first through NDJSON), then 12 concurrent
 *      `scores?since=0001-01-01T00:00:00Z` reads and 4 `POST /v1/scores/batch` of 100 accounts, looping.
 *   5. 100k alternating follow/unfollow events of one pair (seeded first), then single follows and
 *      unfollows of that pair against those of a pair without history, one at a time: both latencies.
 *   6. invalid keys and wrong admin tokens as fast as 4 connections go (401 against 429), and a valid
 *      key of another tenant sent from the attacker's address once a second. Always last: it gets
 *      the attackers' address refused for a minute.
 *   7. (only when asked) JSON batches of 5,000 alternating follow/unfollow events of one pair that
 *      has history: the cost of a batch with many events of one pair.
 * Phases 3 and 4 honour Retry-After (capped at 1 s), which keeps as many heavy requests admitted as the
 * limits allow; the others ignore every answer, as an attacker would.
 *
 * Per phase: the victim's requests, p50/p99/max latency and answers other than 200; the server's peak
 * RSS (VmRSS every 200 ms, and VmHWM when it rose during the phase); its event-loop lag (max, from its
 * own /metrics); whether it is still running; the attack's own counts. The seeding of phases 4 and 5 is
 * shown too (ordinary ingest by one tenant) but not judged. A table at the end, the figures in
 * bench/results/attacks-<timestamp>.json, and exit code 1 when in any judged phase the victim's p99 is
 * 200 ms or more or it got an answer other than 200, the server's RSS reached 500 MB, or the server exited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort, percentile, watchMemory, type MemoryFigures } from './loopback.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const VICTIM_FLAG = '--internal-victim';
const HOST = '127.0.0.1';
/** The victim's and the observer's own loopback addresses: the attackers use HOST. */
const VICTIM_ADDRESS = '127.0.0.2';
const OBSERVER_ADDRESS = '127.0.0.3';
const FILE_LIMIT = 1024;
const P99_LIMIT_MS = 200;
const RSS_LIMIT_MB = 500;
const VICTIM_EVERY_MS = 100;
const VICTIM_TIMEOUT_MS = 30_000;
const MIB = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};
const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const countsText = (c: Record<string, number>) =>
  Object.entries(c)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${v}`)
    .join(' ') || '0';

// ---------------------------------------------------------------------------------------------
// HTTP on loopback, with a chosen source address
// ---------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
  /** Whether the request went on a kept-alive connection rather than a new one. */
  reused: boolean;
}

interface CallOptions {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  agent?: Agent | false;
  localAddress?: string;
  timeoutMs?: number;
}

/** One request; rejects with the socket error (its `code`) when no answer came. */
function call(port: number, o: CallOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(
      {
        host: HOST,
        port,
        method: o.method,
        path: o.path,
        agent: o.agent ?? false,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        headers: { ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}), ...o.headers },
        timeout: o.timeoutMs ?? 30_000,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8'), ms: performance.now() - started, reused: req.reusedSocket }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(o.body);
  });
}

const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).name ?? 'error';

/** An answer's label: the status, with the problem's code when there is one (`429 rate_limited`). */
function label(a: Answer): string {
  if (a.status === 200 || a.status === 201) return String(a.status);
  try {
    const code = (JSON.parse(a.body) as { code?: unknown }).code;
    return typeof code === 'string' ? `${a.status} ${code}` : String(a.status);
  } catch {
    return String(a.status);
  }
}

// ---------------------------------------------------------------------------------------------
// CPU time, from /proc (Linux): the server's, this process's, and the machine's
// ---------------------------------------------------------------------------------------------

interface CpuReading {
  at: number;
  serverTicks: number;
  attacker: NodeJS.CpuUsage;
  machineBusy: number;
  machineTotal: number;
}

const CLOCK_TICKS_PER_S = 100;

function readCpu(pid: number): CpuReading {
  let serverTicks = NaN;
  let machineBusy = NaN;
  let machineTotal = NaN;
  try {
    // Fields after the command name: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    serverTicks = Number(fields[11]) + Number(fields[12]);
  } catch {
    // the server has exited
  }
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1, 9).map(Number);
    machineTotal = cpu.reduce((a, b) => a + b, 0);
    machineBusy = machineTotal - cpu[3]! - cpu[4]!; // less idle and iowait
  } catch {
    // no /proc
  }
  return { at: performance.now(), serverTicks, attacker: process.cpuUsage(), machineBusy, machineTotal };
}

/** Percentages of one core (server, this process) and of the whole machine between two readings. */
function cpuBetween(a: CpuReading, b: CpuReading) {
  const s = (b.at - a.at) / 1000;
  const r = (x: number) => Math.round(x);
  return {
    server_pct_of_a_core: r(((b.serverTicks - a.serverTicks) / CLOCK_TICKS_PER_S / s) * 100),
    attacker_pct_of_a_core: r(((b.attacker.user + b.attacker.system - a.attacker.user - a.attacker.system) / 1e6 / s) * 100),
    machine_busy_pct: r(((b.machineBusy - a.machineBusy) / (b.machineTotal - a.machineTotal)) * 100),
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL's side: what the service's connections are doing, sampled from pg_stat_activity
// ---------------------------------------------------------------------------------------------

interface DatabaseFigures {
  samples: number;
  /** The service's backends running a statement, on average and at most. */
  active_avg: number;
  active_max: number;
  /** What active backends were waiting for, summed over the samples (`CPU` when nothing). */
  waits: Record<string, number>;
}

/** Samples the service's backends every `everyMs` until stopped; null figures when there is no PostgreSQL. */
async function watchDatabase(url: string | undefined, everyMs = 500) {
  if (!url) return { stop: (): Promise<DatabaseFigures | null> => Promise.resolve(null) };
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let samples = 0;
  let activeSum = 0;
  let activeMax = 0;
  const waits: Record<string, number> = {};
  let running: Promise<void> = Promise.resolve();
  const sample = async () => {
    try {
      const { rows } = await client.query<{ wait: string | null }>(
        `SELECT wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND backend_type = 'client backend'`,
      );
      samples++;
      activeSum += rows.length;
      activeMax = Math.max(activeMax, rows.length);
      for (const r of rows) bump(waits, r.wait ?? 'CPU');
    } catch {
      // a sample the database could not answer is skipped
    }
  };
  const timer = setInterval(() => {
    running = running.then(sample);
  }, everyMs);
  return {
    async stop(): Promise<DatabaseFigures | null> {
      clearInterval(timer);
      await running;
      await client.end().catch(() => undefined);
      return { samples, active_avg: samples ? Math.round((activeSum / samples) * 10) / 10 : NaN, active_max: activeMax, waits };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the victim: a separate process, so the attackers' own work does not delay its clock
// ---------------------------------------------------------------------------------------------

interface VictimSample {
  /** Epoch ms at which the request was sent. */
  at: number;
  ms: number;
  status: string;
  /** Sent on a new connection (the previous one was busy or closed): its time includes connecting. */
  fresh: boolean;
}
type VictimMessage = { samples: VictimSample[]; oldestInFlight: number | null };

async function victim() {
  const port = Number(process.env.VICTIM_PORT);
  const key = process.env.VICTIM_KEY!;
  const path = process.env.VICTIM_PATH!;
  const agent = new Agent({ keepAlive: true });
  const inFlight = new Set<number>();
  let batch: VictimSample[] = [];
  let stop = false;
  process.on('message', (m) => {
    if (m === 'stop') stop = true;
  });
  process.on('disconnect', () => process.exit(0));
  const report = () => {
    const oldest = inFlight.size ? Math.min(...inFlight) : null;
    process.send!({ samples: batch, oldestInFlight: oldest } satisfies VictimMessage);
    batch = [];
  };
  const reporter = setInterval(report, 200);
  const one = async () => {
    const at = Date.now();
    inFlight.add(at);
    let status: string;
    let ms: number;
    let fresh = true;
    const started = performance.now();
    try {
      const a = await call(port, { method: 'GET', path, headers: { authorization: `Bearer ${key}` }, agent, localAddress: VICTIM_ADDRESS, timeoutMs: VICTIM_TIMEOUT_MS });
      status = label(a);
      ms = a.ms;
      fresh = !a.reused;
    } catch (err) {
      status = errorCode(err);
      ms = performance.now() - started;
    }
    inFlight.delete(at);
    batch.push({ at, ms, status, fresh });
  };
  // Open loop: a request every 100 ms whatever the answers do, so a stall shows as latency.
  const t0 = performance.now();
  for (let i = 0; !stop; i++) {
    void one();
    const next = t0 + (i + 1) * VICTIM_EVERY_MS;
    await sleep(Math.max(0, next - performance.now()));
  }
  while (inFlight.size > 0) await sleep(50);
  clearInterval(reporter);
  report();
  process.disconnect();
}

// ---------------------------------------------------------------------------------------------
// the run
// ---------------------------------------------------------------------------------------------

interface PhaseResult {
  phase: string;
  name: string;
  judged: boolean;
  seconds: number;
  victim: {
    requests: number;
    p50_ms: number;
    p99_ms: number;
    max_ms: number;
    not_200: Record<string, number>;
    /** Requests sent on a new connection, and those of 200 ms or more by kind of connection. */
    new_connections: number;
    slow: { new_connection: number; kept_alive: number };
  };
  cpu: ReturnType<typeof cpuBetween>;
  database: DatabaseFigures | null;
  memory: MemoryFigures & { phase_peak_mb: number };
  loop_lag_max_ms: number;
  server_alive: boolean;
  attack: Record<string, unknown>;
  failures: string[];
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      'history-events': { type: 'string', default: '300000' },
      phases: { type: 'string', default: '1,2,3,4,5,6' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (args.help) {
    process.stdout.write(
      'tsx scripts/attacks.ts [--seconds 20] [--history-events 300000] [--phases 1,2,3,4,5,6]\n' +
        '  --seconds N          length of each attack phase (and of the baseline, up to 10 s)\n' +
        '  --history-events N   events of the account read by phase 4 (seeded before it)\n' +
        '  --phases LIST        which phases to run, comma-separated, from 1 (slow bodies), 2 (anonymous 32 MiB bodies),\n' +
        '                       3 (NDJSON of nested lines), 4 (reads of a long history), 5 (a pair with a long\n' +
        '                       follow/unfollow history), 6 (failed authentication, always last); in that order. Not by default:\n' +
        '                       7 (JSON batches of 5,000 follow/unfollow events of one pair with history)\n' +
        'Starts `rapport serve` with the default configuration under ulimit -n 1024, on the PostgreSQL of DATABASE_URL\n' +
        "when set, else PGlite in a temporary folder; a victim reads another tenant's scores every 100 ms throughout.\n" +
        `Exit code 1 when a phase leaves the victim's p99 at ${P99_LIMIT_MS} ms or more or answers it other than 200,\n` +
        `the server's RSS reaches ${RSS_LIMIT_MB} MB, or the server exits. Figures: bench/results/attacks-<timestamp>.json.\n`,
    );
    process.exit(0);
  }
  const num = (name: 'seconds' | 'history-events', min: number, max: number) => {
    const n = Number(args[name]);
    if (!Number.isFinite(n) || n < min || n > max) {
      process.stderr.write(`--${name} must be a number from ${min} to ${max}\n`);
      process.exit(2);
    }
    return n;
  };
  const seconds = num('seconds', 1, 3600);
  const historyEvents = Math.round(num('history-events', 1000, 10_000_000));
  // Failed authentication runs last whatever the order asked: it gets the attackers' address refused for a minute.
  const order = (p: number) => (p === 6 ? 100 : p);
  const phases = [...new Set(args.phases.split(',').map((s) => Number(s.trim())))].sort((a, b) => order(a) - order(b));
  if (phases.length === 0 || phases.some((p) => !Number.isInteger(p) || p < 1 || p > 7)) {
    process.stderr.write('--phases is a comma-separated list of phases from 1 to 7\n');
    process.exit(2);
  }

  // -------------------------------------------------------------------------------------------
  // the server, as users run it, under ulimit -n 1024
  // -------------------------------------------------------------------------------------------

  const databaseUrl = process.env.DATABASE_URL || undefined;
  if (databaseUrl && !['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(new URL(databaseUrl).hostname)) {
    process.stderr.write(`warning: DATABASE_URL points at ${new URL(databaseUrl).hostname}, not loopback; the attacks will load that database\n`);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'rapport-attacks-'));
  const adminToken = randomBytes(24).toString('hex');
  const metricsToken = randomBytes(24).toString('hex');
  const port = await freePort(HOST);
  // The log goes to a file: a pipe the busy attacker might read late would block the server's writes.
  const logFile = join(scratch, 'server.log');
  const logFd = openSync(logFile, 'a');
  const server: ChildProcess = spawn('bash', ['-c', `ulimit -n ${FILE_LIMIT} && exec "$0" "$@"`, process.execPath, '--import', 'tsx', join(ROOT, 'src/cli/index.ts'), 'serve'], {
    cwd: ROOT,
    stdio: ['ignore', logFd, logFd],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST,
      PORT: String(port),
      ADMIN_TOKEN: adminToken,
      METRICS_TOKEN: metricsToken,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: join(scratch, 'data') }),
    },
  });
  closeSync(logFd);
  let serverExit: string | null = null;
  let stopping = false;
  server.on('exit', (code, signal) => {
    serverExit = `code ${code}, signal ${signal}`;
    if (!stopping) process.stderr.write(`\nthe server exited (${serverExit})\n`);
  });
  const alive = () => serverExit === null;
  const logTail = (n = 30) => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').filter(Boolean).slice(-n).join('\n');
    } catch {
      return '';
    }
  };
  let victimProcess: ChildProcess | undefined;
  const cleanup = async () => {
    stopping = true;
    victimProcess?.kill('SIGTERM');
    if (alive()) {
      const exited = new Promise<void>((r) => server.once('exit', () => r()));
      server.kill('SIGTERM');
      const t = setTimeout(() => server.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(scratch, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the server\n`);
      void cleanup().then(() => process.exit(130));
    });
  }

  const observe = (o: Omit<CallOptions, 'localAddress'>) => call(port, { ...o, localAddress: OBSERVER_ADDRESS });
  const adminCall = async (path: string, body: unknown) => {
    const a = await observe({ method: 'POST', path, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (a.status >= 300) throw new Error(`POST ${path}: ${a.status} ${a.body}`);
    return JSON.parse(a.body) as Record<string, unknown>;
  };
  /** The server's event-loop lag since the previous read (prom-client resets its histogram when read). */
  const loopLagMaxMs = async () => {
    try {
      const a = await observe({ method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${metricsToken}` }, timeoutMs: 10_000 });
      const m = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(a.body);
      return m ? Number(m[1]) * 1000 : NaN;
    } catch {
      return NaN;
    }
  };

  const startedAt = new Date();
  const tag =
    startedAt
      .toISOString()
      .replace(/[^0-9]/g, '')
      .slice(0, 14) +
    '-' +
    randomBytes(3).toString('hex');
  const results: PhaseResult[] = [];
  let exitCode = 0;
  try {
    process.stderr.write(
      `starting rapport on http://${HOST}:${port} under ulimit -n ${FILE_LIMIT} (${databaseUrl ? 'PostgreSQL from DATABASE_URL' : 'PGlite in a temporary folder'})\n`,
    );
    const readyBy = Date.now() + 120_000;
    for (;;) {
      if (!alive()) throw new Error(`the server exited before it was ready:\n${logTail()}`);
      if (Date.now() > readyBy) throw new Error(`the server was not ready within 120 s:\n${logTail()}`);
      const ok = await observe({ method: 'GET', path: '/readyz', timeoutMs: 2_000 }).then(
        (a) => a.status === 200,
        () => false,
      );
      if (ok) break;
      await sleep(200);
    }
    const capLine = /MAX_CONNECTIONS lowered to (\d+)/.exec(readFileSync(logFile, 'utf8'));
    process.stderr.write(`ready (pid ${server.pid}${capLine ? `; the server lowered its connection cap to ${capLine[1]}` : ''})\n`);

    // Two tenants: the victim's and the attacker's.
    const victimWs = `victim-${tag}`;
    const attackerWs = `attacker-${tag}`;
    await adminCall('/v1/admin/workspaces', { name: victimWs });
    await adminCall('/v1/admin/workspaces', { name: attackerWs });
    const issue = async (ws: string, scope: string) => (await adminCall(`/v1/admin/workspaces/${ws}/keys`, { scopes: [scope] })).key as string;
    const keys = {
      victimWrite: await issue(victimWs, 'events:write'),
      victimRead: await issue(victimWs, 'scores:read'),
      write: await issue(attackerWs, 'events:write'),
      read: await issue(attackerWs, 'scores:read'),
      read2: await issue(attackerWs, 'scores:read'),
    };

    // The victim's workspace, lightly seeded: 2,000 events around its account over 30 days.
    const now = Date.now();
    const victimEvents = Array.from({ length: 2000 }, (_, i) => {
      const type = ['follow', 'like', 'reply', 'mention', 'repost', 'like'][i % 6]!;
      const other = `v:u${i % 100}`;
      const [actor, target] = i % 2 ? [other, 'v:a'] : ['v:a', other];
      return { id: `v-${i}`, type, actor, target, occurred_at: new Date(now - 30 * 86_400_000 + i * 1_000_000).toISOString() };
    });
    const seeded = await observe({
      method: 'POST',
      path: '/v1/events/batch',
      headers: { authorization: `Bearer ${keys.victimWrite}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: victimEvents }),
    });
    if (seeded.status !== 200) throw new Error(`seeding the victim failed: ${seeded.status} ${seeded.body}`);

    // The victim, from its own address, for the whole run.
    const victimSamples: VictimSample[] = [];
    let victimOldest: number | null = null;
    victimProcess = spawn(process.execPath, ['--import', 'tsx', SELF, VICTIM_FLAG], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, VICTIM_PORT: String(port), VICTIM_KEY: keys.victimRead, VICTIM_PATH: `/v1/accounts/${encodeURIComponent('v:a')}/scores` },
    });
    victimProcess.on('message', (m) => {
      const msg = m as VictimMessage;
      victimSamples.push(...msg.samples);
      victimOldest = msg.oldestInFlight;
    });
    await sleep(2_000); // its first requests open its connection

    /**
     * Runs one phase: the attack until its deadline, then waits for the victim's requests sent
     * during it to be answered, and measures.
     */
    const runPhase = async (phase: string, name: string, judged: boolean, attack: (deadline: number) => Promise<Record<string, unknown>>) => {
      process.stderr.write(`phase ${phase}: ${name} …\n`);
      await loopLagMaxMs(); // resets the server's lag histogram
      const memory = watchMemory(server.pid!, 200);
      const cpuFrom = readCpu(server.pid!);
      const database = await watchDatabase(databaseUrl);
      const from = Date.now();
      const t0 = performance.now();
      let attackFigures: Record<string, unknown>;
      try {
        attackFigures = await attack(from + seconds * 1000);
      } catch (err) {
        attackFigures = { aborted: (err as Error).message };
      }
      const to = Date.now();
      const cpu = cpuBetween(cpuFrom, readCpu(server.pid!));
      const dbFigures = await database.stop();
      const elapsed = (performance.now() - t0) / 1000;
      // Requests the victim sent during the phase count with it, however late they are answered.
      const settleBy = Date.now() + VICTIM_TIMEOUT_MS + 2_000;
      await sleep(400);
      while (victimOldest !== null && victimOldest < to && Date.now() < settleBy) await sleep(100);
      await sleep(400);
      const mem = memory.stop();
      const lag = await loopLagMaxMs();
      const mine = victimSamples.filter((s) => s.at >= from && s.at < to);
      const sorted = mine.map((s) => s.ms).sort((a, b) => a - b);
      const not200: Record<string, number> = {};
      for (const s of mine) if (s.status !== '200') bump(not200, s.status);
      const phasePeak = Math.max(mem.max_rss_mb, mem.hwm_mb > mem.hwm_start_mb ? mem.hwm_mb : 0);
      const r: PhaseResult = {
        phase,
        name,
        judged,
        seconds: Math.round(elapsed * 10) / 10,
        victim: {
          requests: mine.length,
          p50_ms: percentile(sorted, 50),
          p99_ms: percentile(sorted, 99),
          max_ms: sorted[sorted.length - 1] ?? NaN,
          not_200: not200,
          new_connections: mine.filter((s) => s.fresh).length,
          slow: {
            new_connection: mine.filter((s) => s.fresh && s.ms >= P99_LIMIT_MS).length,
            kept_alive: mine.filter((s) => !s.fresh && s.ms >= P99_LIMIT_MS).length,
          },
        },
        cpu,
        database: dbFigures,
        memory: { ...mem, phase_peak_mb: phasePeak },
        loop_lag_max_ms: lag,
        server_alive: alive(),
        attack: attackFigures,
        failures: [],
      };
      if (!r.server_alive) r.failures.push(`the server exited (${serverExit})`);
      if (judged) {
        if (!(r.victim.p99_ms < P99_LIMIT_MS)) r.failures.push(`victim p99 ${f(r.victim.p99_ms)} ms ≥ ${P99_LIMIT_MS} ms`);
        if (Object.keys(not200).length > 0) r.failures.push(`victim answered other than 200: ${countsText(not200)}`);
        if (!(phasePeak < RSS_LIMIT_MB)) r.failures.push(`server RSS ${f(phasePeak)} MB ≥ ${RSS_LIMIT_MB} MB`);
      }
      results.push(r);
      process.stderr.write(
        `  victim ${r.victim.requests} requests, p50 ${f(r.victim.p50_ms)} ms, p99 ${f(r.victim.p99_ms)} ms, max ${f(r.victim.max_ms)} ms, not 200: ${countsText(not200)}; ` +
          `RSS peak ${f(phasePeak)} MB; loop lag max ${f(lag)} ms; CPU server ${cpu.server_pct_of_a_core} %, attacker ${cpu.attacker_pct_of_a_core} %, machine ${cpu.machine_busy_pct} %; ` +
          `server ${r.server_alive ? 'alive' : 'EXITED'}` +
          (dbFigures ? `\n  database: ${dbFigures.active_avg} statements running on average (max ${dbFigures.active_max}); waits ${countsText(dbFigures.waits)}` : '') +
          `\n  attack ${JSON.stringify(attackFigures)}\n`,
      );
      if (!alive()) throw new Error(`the server exited during phase ${phase}; its last lines:\n${logTail()}`);
      await sleep(1_000);
    };

    await runPhase('0', 'baseline (victim only)', true, async (deadline) => {
      await sleep(Math.min(deadline - Date.now(), 10_000));
      return {};
    });
    for (const p of phases) {
      const attack = ATTACKS[p]!;
      if (attack.seed) await runPhase(`${p} seed`, attack.seedName!, false, (deadline) => attack.seed!({ port, keys, historyEvents, deadline: deadline + 3_600_000 }));
      await runPhase(String(p), attack.name, true, (deadline) => attack.run({ port, keys, historyEvents, deadline }));
    }
  } catch (err) {
    process.stderr.write(`attacks aborted: ${(err as Error).stack ?? String(err)}\n`);
    exitCode = 1;
  }

  // The victim stops and the server is checked once more: a late exit counts too.
  if (victimProcess && victimProcess.connected) {
    const gone = new Promise<void>((r) => victimProcess.once('exit', () => r()));
    victimProcess.send('stop');
    await Promise.race([gone, sleep(VICTIM_TIMEOUT_MS + 5_000)]);
  }
  const finalMemory = watchMemory(server.pid!, 200).stop();
  const serverAliveAtEnd = alive();
  const logLines = (() => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  })();
  const levelCounts: Record<string, number> = {};
  for (const line of logLines) {
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level && Number(level) >= 40) bump(levelCounts, { 40: 'warn', 50: 'error', 60: 'fatal' }[Number(level)] ?? level);
  }
  const serverTail = logTail(15);
  await cleanup();

  // -------------------------------------------------------------------------------------------
  // the table
  // -------------------------------------------------------------------------------------------

  const failures = results.flatMap((r) => r.failures.map((x) => `phase ${r.phase}: ${x}`));
  if (!serverAliveAtEnd) failures.push(`the server was not running at the end (${serverExit})`);
  if (finalMemory.samples > 0 && !(finalMemory.hwm_mb < RSS_LIMIT_MB)) failures.push(`server VmHWM ${f(finalMemory.hwm_mb)} MB ≥ ${RSS_LIMIT_MB} MB`);
  const cols = [
    ['phase', 7],
    ['victim req', 10],
    ['p50 ms', 8],
    ['p99 ms', 8],
    ['max ms', 8],
    ['not 200', 18],
    ['RSS peak MB', 11],
    ['HWM MB', 8],
    ['lag max ms', 10],
    ['slow new/kept', 13],
    ['CPU srv/host %', 14],
    ['db active', 9],
    ['alive', 5],
    ['verdict', 7],
  ] as const;
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(cols[i][1]) : c.padStart(cols[i]![1]))).join('  ');
  const lines = [
    '',
    `attacks on rapport (${databaseUrl ? 'PostgreSQL' : 'PGlite'}, default configuration, ulimit -n ${FILE_LIMIT}, ${seconds} s a phase)`,
    row(cols.map(([c]) => c)),
    ...results.map((r) =>
      row([
        r.phase,
        String(r.victim.requests),
        f(r.victim.p50_ms),
        f(r.victim.p99_ms),
        f(r.victim.max_ms),
        countsText(r.victim.not_200),
        f(r.memory.phase_peak_mb),
        f(r.memory.hwm_mb),
        f(r.loop_lag_max_ms),
        `${r.victim.slow.new_connection}/${r.victim.slow.kept_alive}`,
        `${r.cpu.server_pct_of_a_core}/${r.cpu.machine_busy_pct}`,
        r.database ? `${f(r.database.active_avg)}/${r.database.active_max}` : '-',
        r.server_alive ? 'yes' : 'NO',
        r.judged ? (r.failures.length ? 'FAIL' : 'ok') : 'info',
      ]),
    ),
    'not 200: victim answers other than 200; RSS peak: VmRSS sampled every 200 ms (or VmHWM when it rose in the phase); HWM: VmHWM at its end;',
    "lag max: the server's event-loop lag from its /metrics; slow new/kept: victim requests of 200 ms or more sent on a new connection / a kept-alive one;",
    "CPU srv/host: the server's CPU in % of one core / the machine's busy %; db active: the service's statements running in PostgreSQL, mean/max;",
    '"info" rows (seeding) are shown, not judged.',
    '',
    ...results.map((r) => `${r.phase.padEnd(7)} ${r.name}: ${JSON.stringify(r.attack)}`),
    '',
    `server log: ${logLines.length} lines, ${countsText(levelCounts)} at warn or above; final VmHWM ${f(finalMemory.hwm_mb)} MB; ${serverAliveAtEnd ? 'running at the end' : `EXITED (${serverExit})`}`,
    failures.length
      ? `FAILED:\n  ${failures.join('\n  ')}`
      : `passed: every phase left the victim's p99 under ${P99_LIMIT_MS} ms with only 200s, RSS under ${RSS_LIMIT_MB} MB, the server running`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (!serverAliveAtEnd) process.stdout.write(`the server's last lines:\n${serverTail}\n`);

  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `attacks-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        started_at: startedAt.toISOString(),
        database: databaseUrl ? 'postgresql' : 'pglite',
        options: { seconds, history_events: historyEvents, phases },
        thresholds: { victim_p99_ms: P99_LIMIT_MS, rss_mb: RSS_LIMIT_MB, file_limit: FILE_LIMIT },
        phases: results,
        server: { alive_at_end: serverAliveAtEnd, exit: serverExit, final_hwm_mb: finalMemory.hwm_mb, log_lines: logLines.length, log_levels: levelCounts },
        failures,
        passed: failures.length === 0 && exitCode === 0,
      },
      null,
      2,
    )}\n`,
  );
  process.stderr.write(`figures written to ${file}\n`);
  process.exit(failures.length > 0 ? 1 : exitCode);
}

// ---------------------------------------------------------------------------------------------
// the attacks
// ---------------------------------------------------------------------------------------------

interface AttackContext {
  port: number;
  keys: { write: string; read: string; read2: string; victimRead: string };
  historyEvents: number;
  deadline: number;
}

interface Attack {
  name: string;
  seedName?: string;
  seed?(ctx: AttackContext): Promise<Record<string, unknown>>;
  run(ctx: AttackContext): Promise<Record<string, unknown>>;
}

/** Resolves when a request's body may be written again, or when it is over. */
function drainOrClose(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

/** Waits what Retry-After says, at most 1 s and never past the deadline (phases 3 and 4 keep their slots busy). */
async function retryAfter(a: Answer, deadline: number) {
  const s = Number(a.headers['retry-after']) || 1;
  await sleep(Math.max(0, Math.min(s * 1000, 1_000, deadline - Date.now())));
}

/** Streams NDJSON `lines` through one events:write key in sequence, `perStream` lines a request; returns the answers. */
async function ndjsonSeed(port: number, key: string, lines: string[], perStream: number, streams: number) {
  let next = 0;
  const totals = { accepted: 0, duplicates: 0, rejected_total: 0, requests: 0, statuses: {} as Record<string, number> };
  const one = async () => {
    while (next < lines.length) {
      const from = next;
      next += perStream;
      const body = lines.slice(from, from + perStream).join('\n') + '\n';
      for (;;) {
        const a = await call(port, {
          method: 'POST',
          path: '/v1/events/batch',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
          body,
          timeoutMs: 600_000,
        });
        totals.requests++;
        bump(totals.statuses, label(a));
        if (a.status === 429 || a.status === 503) {
          await sleep((Number(a.headers['retry-after']) || 1) * 1000);
          continue;
        }
        if (a.status !== 200) throw new Error(`seeding: ${a.status} ${a.body.slice(0, 300)}`);
        const r = JSON.parse(a.body) as { accepted: number; duplicates: number; rejected_total: number };
        totals.accepted += r.accepted;
        totals.duplicates += r.duplicates;
        totals.rejected_total += r.rejected_total;
        break;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: streams }, one));
  const s = (performance.now() - started) / 1000;
  return { ...totals, seconds: Math.round(s * 10) / 10, events_per_s: Math.round(totals.accepted / s) };
}

const HISTORY_ACCOUNT = 'hist:a';
const HEAVY_PAIR = ['pair:p', 'pair:q'] as const;
const LIGHT_PAIR = ['pair:r', 'pair:s'] as const;
const FLIP_EVENTS = 100_000;

const ATTACKS: Record<number, Attack> = {
  1: {
    name: '~1,100 half-sent requests (POST /x, Content-Length: 100, no body), re-opened as closed',
    async run({ port, deadline }) {
      const TARGET = 1_100;
      const head = `POST /x HTTP/1.1\r\nHost: ${HOST}:${port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
      const answers: Record<string, number> = {};
      const errors: Record<string, number> = {};
      const sockets = new Set<Socket>();
      const held: number[] = [];
      let opened = 0;
      let closedWithoutAnswer = 0;
      let peakOpen = 0;
      const openOne = () => {
        if (Date.now() >= deadline) return;
        const started = performance.now();
        const s = connect({ host: HOST, port });
        sockets.add(s);
        opened++;
        peakOpen = Math.max(peakOpen, sockets.size);
        let answered = false;
        s.on('connect', () => s.write(head));
        s.on('data', (d: Buffer) => {
          if (answered) return;
          answered = true;
          bump(answers, /^HTTP\/1\.1 (\d{3})/.exec(d.toString('latin1'))?.[1] ?? 'other');
        });
        s.on('error', (err) => bump(errors, errorCode(err)));
        s.on('close', () => {
          sockets.delete(s);
          held.push(performance.now() - started);
          if (!answered) closedWithoutAnswer++;
          setImmediate(openOne);
        });
      };
      for (let i = 0; i < TARGET; i++) openOne();
      while (Date.now() < deadline) await sleep(100);
      const stillOpen = sockets.size;
      for (const s of sockets) s.destroy();
      const sorted = held.sort((a, b) => a - b);
      return {
        connections_opened: opened,
        peak_open: peakOpen,
        open_at_end: stillOpen,
        answers,
        closed_without_answer: closedWithoutAnswer,
        errors,
        held_p50_ms: Math.round(percentile(sorted, 50)),
        held_max_ms: Math.round(sorted[sorted.length - 1] ?? NaN),
      };
    },
  },

  2: {
    name: 'one anonymous client looping 32 MiB {"a":[{},{},…]} to /nope, POST /healthz, /metrics, /docs/json',
    async run({ port, deadline }) {
      const size = 32 * MIB;
      const items = Math.floor((size - '{"a":[]}'.length + 1) / 3);
      const body = Buffer.from(`{"a":[${'{},'.repeat(items - 1)}{}]}`);
      const targets = ['/nope', '/healthz', '/metrics', '/docs/json'];
      const by: Record<string, Record<string, number>> = {};
      const latencies: number[] = [];
      let requests = 0;
      for (let i = 0; Date.now() < deadline; i++) {
        const path = targets[i % targets.length]!;
        const started = performance.now();
        let outcome: string;
        try {
          const a = await call(port, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body, timeoutMs: Math.max(1_000, deadline - Date.now()) });
          outcome = label(a);
        } catch (err) {
          outcome = errorCode(err);
        }
        latencies.push(performance.now() - started);
        requests++;
        bump((by[path] ??= {}), outcome);
      }
      const sorted = latencies.sort((a, b) => a - b);
      return { body_bytes: body.length, requests, by_path: by, answer_p50_ms: Math.round(percentile(sorted, 50)), answer_max_ms: Math.round(sorted[sorted.length - 1] ?? NaN) };
    },
  },

  3: {
    name: '8 concurrent NDJSON streams from one events:write key of 1 MiB lines [{},{},…], repeated',
    async run({ port, keys, deadline }) {
      const LINES = 32;
      // 1 + 3k + 3 = 1 MiB: the longest line the service takes.
      const line = Buffer.from(`[${'{},'.repeat((MIB - 4) / 3)}{}]\n`);
      const statuses: Record<string, number> = {};
      let linesSent = 0;
      let rejected = 0;
      let streams = 0;
      const durations: number[] = [];
      const one = async () => {
        while (Date.now() < deadline) {
          const started = performance.now();
          streams++;
          const outcome = await new Promise<{ answer?: Answer; error?: string }>((resolve) => {
            let done = false;
            const finish = (x: { answer?: Answer; error?: string }) => {
              if (done) return;
              done = true;
              resolve(x);
            };
            const req = httpRequest(
              {
                host: HOST,
                port,
                method: 'POST',
                path: '/v1/events/batch',
                agent: false,
                headers: { authorization: `Bearer ${keys.write}`, 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' },
              },
              (res) => {
                const parts: Buffer[] = [];
                res.on('data', (d: Buffer) => parts.push(d));
                res.on('end', () =>
                  finish({
                    answer: { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8'), ms: performance.now() - started, reused: false },
                  }),
                );
                res.on('error', (err) => finish({ error: errorCode(err) }));
              },
            );
            req.on('error', (err) => finish({ error: errorCode(err) }));
            const stopAt = setTimeout(() => req.destroy(Object.assign(new Error('deadline'), { code: 'DEADLINE' })), Math.max(0, deadline - Date.now() + 30_000));
            void (async () => {
              for (let i = 0; i < LINES && !done && Date.now() < deadline; i++) {
                if (!req.write(line)) await drainOrClose(req);
                if (!done) linesSent++;
              }
              if (!done) req.end();
            })();
            req.once('close', () => clearTimeout(stopAt));
          });
          durations.push(performance.now() - started);
          if (outcome.error) {
            bump(statuses, outcome.error);
            continue;
          }
          const a = outcome.answer!;
          bump(statuses, label(a));
          if (a.status === 200) rejected += (JSON.parse(a.body) as { rejected_total: number }).rejected_total;
          if (a.status === 429 || a.status === 503) await retryAfter(a, deadline);
        }
      };
      await Promise.all(Array.from({ length: 8 }, one));
      const sorted = durations.sort((a, b) => a - b);
      return {
        streams,
        answers: statuses,
        lines_sent: linesSent,
        lines_rejected: rejected,
        stream_p50_ms: Math.round(percentile(sorted, 50)),
        stream_max_ms: Math.round(sorted[sorted.length - 1] ?? NaN),
      };
    },
  },

  4: {
    name: '12 concurrent scores?since=0001-01-01 reads and 4 scores/batch of 100 accounts, of an account with a long history',
    seedName: 'seeding the long history (NDJSON, 2 streams)',
    async seed({ port, keys, historyEvents }) {
      const now = Date.now();
      const types = ['follow', 'like', 'like', 'reply', 'mention', 'repost', 'like', 'unfollow'];
      const lines = Array.from({ length: historyEvents }, (_, i) => {
        const other = `hist:u${i % 5000}`;
        const [actor, target] = i % 3 === 0 ? [HISTORY_ACCOUNT, other] : [other, HISTORY_ACCOUNT];
        return JSON.stringify({ id: `h-${i}`, type: types[i % types.length], actor, target, occurred_at: new Date(now - 3_600_000 - (historyEvents - i) * 30_000).toISOString() });
      });
      return ndjsonSeed(port, keys.write, lines, 50_000, 2);
    },
    async run({ port, keys, deadline }) {
      const read = `/v1/accounts/${encodeURIComponent(HISTORY_ACCOUNT)}/scores?since=0001-01-01T00:00:00Z`;
      const batch = JSON.stringify({ accounts: [HISTORY_ACCOUNT, ...Array.from({ length: 99 }, (_, i) => `hist:u${i}`)], since: '0001-01-01T00:00:00Z' });
      const figures = { reads: {} as Record<string, number>, batches: {} as Record<string, number> };
      const served = { reads: [] as number[], batches: [] as number[] };
      const loop = async (kind: 'reads' | 'batches') => {
        while (Date.now() < deadline) {
          const o: CallOptions =
            kind === 'reads'
              ? { method: 'GET', path: read, headers: { authorization: `Bearer ${keys.read}` } }
              : { method: 'POST', path: '/v1/scores/batch', headers: { authorization: `Bearer ${keys.read2}`, 'content-type': 'application/json' }, body: batch };
          try {
            const a = await call(port, { ...o, agent: false, timeoutMs: 60_000 });
            bump(figures[kind], label(a));
            if (a.status === 200) served[kind].push(a.ms);
            if (a.status === 429 || a.status === 503) await retryAfter(a, deadline);
          } catch (err) {
            bump(figures[kind], errorCode(err));
          }
        }
      };
      await Promise.all([...Array.from({ length: 12 }, () => loop('reads')), ...Array.from({ length: 4 }, () => loop('batches'))]);
      const p = (xs: number[], q: number) =>
        Math.round(
          percentile(
            xs.sort((a, b) => a - b),
            q,
          ),
        );
      return {
        reads: figures.reads,
        read_p50_ms: p(served.reads, 50),
        read_max_ms: p(served.reads, 100),
        batches: figures.batches,
        batch_p50_ms: p(served.batches, 50),
        batch_max_ms: p(served.batches, 100),
      };
    },
  },

  5: {
    name: 'single follows/unfollows of a pair with 100k alternating follow/unfollow events, against a pair without history',
    seedName: 'seeding 100k alternating follow/unfollow events of one pair (NDJSON, 1 stream)',
    async seed({ port, keys }) {
      const start = Date.now() - 3_600_000 - FLIP_EVENTS * 20_000;
      const lines = Array.from({ length: FLIP_EVENTS }, (_, i) =>
        JSON.stringify({
          id: `flip-${i}`,
          type: i % 2 ? 'unfollow' : 'follow',
          actor: HEAVY_PAIR[0],
          target: HEAVY_PAIR[1],
          occurred_at: new Date(start + i * 20_000).toISOString(),
        }),
      );
      return ndjsonSeed(port, keys.write, lines, 50_000, 1);
    },
    async run({ port, keys, deadline }) {
      const timings = { heavy: [] as number[], light: [] as number[] };
      const statuses: Record<string, number> = {};
      const first: Record<string, number> = {};
      for (let i = 0; Date.now() < deadline; i++) {
        // After the seed's last event (an unfollow) comes a follow, then an unfollow, and so on.
        const type = i % 2 ? 'unfollow' : 'follow';
        for (const [which, [actor, target]] of [
          ['heavy', HEAVY_PAIR],
          ['light', LIGHT_PAIR],
        ] as const) {
          const a = await call(port, {
            method: 'POST',
            path: '/v1/events',
            headers: { authorization: `Bearer ${keys.write}`, 'content-type': 'application/json' },
            body: JSON.stringify({ id: `one-${which}-${i}`, type, actor, target, occurred_at: new Date().toISOString() }),
          });
          bump(statuses, `${which} ${label(a)}`);
          if (a.status === 201) {
            timings[which].push(a.ms);
            first[which] ??= Math.round(a.ms * 10) / 10;
          }
        }
        await sleep(50);
      }
      const p = (xs: number[], q: number) =>
        Math.round(
          percentile(
            [...xs].sort((a, b) => a - b),
            q,
          ) * 10,
        ) / 10;
      return {
        first_follow_ms: first,
        heavy_pair: { events: timings.heavy.length, p50_ms: p(timings.heavy, 50), p99_ms: p(timings.heavy, 99) },
        light_pair: { events: timings.light.length, p50_ms: p(timings.light, 50), p99_ms: p(timings.light, 99) },
        heavy_over_light_p50: Math.round((p(timings.heavy, 50) / p(timings.light, 50)) * 100) / 100,
        answers: statuses,
      };
    },
  },

  7: {
    name: 'JSON batches of 5,000 alternating follow/unfollow events of one pair that has history (not run by default)',
    async run({ port, keys, deadline }) {
      const [actor, target] = ['burst:p', 'burst:q'];
      const post = (events: unknown[]) =>
        call(port, {
          method: 'POST',
          path: '/v1/events/batch',
          headers: { authorization: `Bearer ${keys.write}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
          timeoutMs: 300_000,
        });
      // One stored event makes the pair one with history: later batches take the recount path.
      const start = Date.now() - 3_600_000 - 20 * 5_000 * 20_000;
      const first = await post([{ id: 'burst-0', type: 'follow', actor, target, occurred_at: new Date(start).toISOString() }]);
      const answers: Record<string, number> = { [`history ${label(first)}`]: 1 };
      const times: number[] = [];
      for (let b = 0; b < 20 && Date.now() < deadline; b++) {
        const events = Array.from({ length: 5_000 }, (_, i) => {
          const n = 1 + b * 5_000 + i;
          return { id: `burst-${n}`, type: n % 2 ? 'unfollow' : 'follow', actor, target, occurred_at: new Date(start + n * 20_000).toISOString() };
        });
        try {
          const a = await post(events);
          bump(answers, label(a));
          times.push(Math.round(a.ms));
        } catch (err) {
          bump(answers, errorCode(err));
          break;
        }
      }
      return { batches: times.length, answers, batch_ms: times };
    },
  },

  6: {
    name: "invalid keys and wrong admin tokens as fast as 4 connections go; another tenant's valid key from the same address",
    async run({ port, keys, deadline }) {
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      const counts = { invalid_key: {} as Record<string, number>, wrong_admin: {} as Record<string, number>, same_address_valid_key: {} as Record<string, number> };
      const started = performance.now();
      const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
      const fakeKey = () => `rpk_${Array.from(randomBytes(12), (b) => alphabet[b % 36]).join('')}_${randomBytes(32).toString('base64url')}`;
      const loop = async (kind: 'invalid_key' | 'wrong_admin') => {
        while (Date.now() < deadline) {
          const o: CallOptions =
            kind === 'invalid_key'
              ? { method: 'GET', path: '/v1/accounts/x/scores', headers: { authorization: `Bearer ${fakeKey()}` } }
              : {
                  method: 'POST',
                  path: '/v1/admin/workspaces',
                  headers: { authorization: `Bearer ${randomBytes(24).toString('hex')}`, 'content-type': 'application/json' },
                  body: '{"name":"x"}',
                };
          try {
            bump(counts[kind], label(await call(port, { ...o, agent, timeoutMs: 10_000 })));
          } catch (err) {
            bump(counts[kind], errorCode(err));
          }
        }
      };
      const probe = async () => {
        while (Date.now() < deadline) {
          try {
            const a = await call(port, {
              method: 'GET',
              path: `/v1/accounts/${encodeURIComponent('v:a')}/scores`,
              headers: { authorization: `Bearer ${keys.victimRead}` },
              timeoutMs: 10_000,
            });
            bump(counts.same_address_valid_key, label(a));
          } catch (err) {
            bump(counts.same_address_valid_key, errorCode(err));
          }
          await sleep(Math.min(1_000, Math.max(0, deadline - Date.now())));
        }
      };
      await Promise.all([loop('invalid_key'), loop('invalid_key'), loop('wrong_admin'), loop('wrong_admin'), probe()]);
      agent.destroy();
      const s = (performance.now() - started) / 1000;
      const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
      return { ...counts, attempts_per_s: Math.round((total(counts.invalid_key) + total(counts.wrong_admin)) / s) };
    },
  },
};

// Last, once every constant above is defined: the run, or the victim when started as one.
if (process.argv.includes(VICTIM_FLAG)) await victim();
else await main();
