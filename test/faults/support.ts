/**
 * Shared by the fault-injection tests: a private PostgreSQL that a test may stop and restart, a
 * provisioned workspace and key, the spawned `rapport serve` (always killed in teardown), plain
 * HTTP calls with a deadline, and a deterministic event factory.
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { createKey, createWorkspace } from '../../src/db/workspaces.js';
import { cliEnv, exited, startServer } from '../cli/run.js';
import { at, unique } from '../helpers.js';

const run = promisify(execFile);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The environment of a spawned server. Load shedding is off: @fastify/under-pressure 9.2 reports
 * an event-loop delay of Infinity whenever its histogram took no sample during one 100 ms interval
 * (a busy loop), so under steady ingest it sheds the odd request with 503 `overloaded` ("the
 * eventLoopDelay limit is exceeded") whatever LOAD_SHED_EVENT_LOOP_DELAY_MS is, even 30 s. That is
 * not the fault these tests inject, and a 503 of the wrong kind would blur what they check.
 */
export const SERVER_OVERRIDES = { LOAD_SHED_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_PER_MINUTE: '0' } as const;

export function serverEnv(t: Test, extra: Record<string, string> = {}): Record<string, string> {
  return cliEnv(t, { ...SERVER_OVERRIDES, ...extra });
}

export interface Provisioned {
  name: string;
  key: string;
}

/** Workspaces, each with an events:write + scores:read key, made directly in the database (before any server owns a PGlite folder). */
export async function provision(env: Record<string, string>, count = 1): Promise<Provisioned[]> {
  const db = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR, poolSize: 2 });
  try {
    await migrate(db);
    const out: Provisioned[] = [];
    for (let i = 0; i < count; i++) {
      const { workspace } = await createWorkspace(db, unique('fault'));
      const { key } = await createKey(db, workspace, ['events:write', 'scores:read']);
      out.push({ name: workspace.name, key });
    }
    return out;
  } finally {
    await db.close();
  }
}

/** Every stored event id of a workspace, with its multiplicity (a direct connection; for PGlite only while no server owns the folder). */
export async function storedEvents(env: Record<string, string>, workspace: string): Promise<{ ids: Set<string>; rows: number }> {
  const db = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR, poolSize: 1 });
  try {
    const rows = await db.query<{ event_id: string }>(
      'SELECT e.event_id FROM events e JOIN workspaces w ON w.id = e.workspace_id WHERE w.name = $1',
      [workspace],
    );
    return { ids: new Set(rows.map((r) => r.event_id)), rows: rows.length };
  } finally {
    await db.close();
  }
}

export interface Server {
  child: ChildProcess;
  url: string;
  logs: () => string;
}

/** Whether the spawned process is still running. */
export const alive = (server: Server) => server.child.exitCode === null && server.child.signalCode === null;

/** `rapport serve` from the sources; killed at teardown whatever happens to the test. */
export async function serve(t: Test, env: Record<string, string>): Promise<Server> {
  const server = await startServer(env);
  t.teardown(async () => {
    if (alive(server)) {
      server.child.kill('SIGKILL');
      await exited(server.child);
    }
  });
  return server;
}

/** SIGTERM, then SIGKILL if the process has not exited within `ms`. */
export async function stopServer(server: Server, ms = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), ms);
  try {
    return await exited(server.child);
  } finally {
    clearTimeout(timer);
  }
}

export interface Answer {
  /** 0 when no HTTP answer came (connection refused or reset, or the deadline passed). */
  status: number;
  body: any;
  contentType: string;
  retryAfter: string | null;
  ms: number;
  error?: string;
}

/** One HTTP call that always resolves, with its duration; `deadlineMs` turns a hang into status 0. */
export async function call(
  url: string,
  init: { method?: string; key?: string; json?: unknown; ndjson?: string; deadlineMs?: number } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.ndjson !== undefined) {
    headers['content-type'] = 'application/x-ndjson';
    body = init.ndjson;
  }
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: AbortSignal.timeout(init.deadlineMs ?? 30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return {
      status: res.status,
      body: parsed,
      contentType: res.headers.get('content-type') ?? '',
      retryAfter: res.headers.get('retry-after'),
      ms: performance.now() - started,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { status: 0, body: null, contentType: '', retryAfter: null, ms: performance.now() - started, error: `${e.name}: ${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}` };
  }
}

export interface TestEvent {
  id: string;
  type: string;
  actor: string;
  target?: string;
  post?: string;
  occurred_at: string;
  text?: string;
}

/**
 * Deterministic events touching a small set of accounts (so batches contend on the same derived
 * rows): every type, follows and unfollows of the same pairs, replies that answer each other.
 */
export function makeEvents(prefix: string, n: number, opts: { accounts?: number; offset?: number } = {}): TestEvent[] {
  const accounts = opts.accounts ?? 40;
  const offset = opts.offset ?? 0;
  const types = ['follow', 'like', 'reply', 'like', 'mention', 'repost', 'unfollow', 'follow', 'post', 'like'];
  return Array.from({ length: n }, (_, j) => {
    const i = j + offset;
    const type = types[(i * 7 + (i >> 3)) % types.length]!;
    const actor = `acct${(i * 13) % accounts}`;
    const target = `acct${(i * 13 + 1 + ((i >> 2) % (accounts - 1))) % accounts}`;
    const e: TestEvent = { id: `${prefix}-${i}`, type, actor, occurred_at: at(i % 5_000) };
    if (type !== 'post') e.target = target;
    if (type === 'post' || type === 'reply' || type === 'mention') e.text = i % 3 === 0 ? `hello ${i % 11}? https://example.com` : `note ${i % 17}`;
    if (type === 'like' || type === 'repost' || type === 'post') e.post = `p${i % 50}`;
    return e;
  });
}

export const ndjsonOf = (events: readonly unknown[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

/** The accounts `makeEvents` uses. */
export const accountsOf = (n = 40) => Array.from({ length: n }, (_, i) => `acct${i}`);

// ---------------------------------------------------------------------------------------------
// A private PostgreSQL: its own data folder, port and socket folder; stopped and removed at teardown.

function postgresBin(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    // 15 first: the version CI's shared server runs.
    candidates.push(join(root, '15', 'bin'), ...versions.map((v) => join(root, v, 'bin')));
  }
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  url: string;
  port: number;
  start(): Promise<void>;
  /** `pg_ctl stop -m <mode>`: waits until the server is down. */
  stop(mode?: 'fast' | 'immediate' | 'smart'): Promise<void>;
  log(): string;
  running(): boolean;
}

/**
 * initdb refuses to run as root: as root (CI), the folder is given to the `postgres` user and
 * every PostgreSQL binary runs through `runuser -u postgres`.
 */
export async function privatePostgres(t: Test): Promise<PrivatePostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin; set PG_BIN');
  const asRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const { stdout: uid } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    owner = { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'rapport-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { cwd: dir })
      : run(join(bin, tool), args, { cwd: dir });
  const port = await freePort();
  let running = false;
  // Should the test process die before its teardown runs, the postmaster must not outlive it.
  const onExit = () => {
    if (!running) return;
    const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
    try {
      if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args], { stdio: 'ignore' });
      else execFileSync(join(bin, 'pg_ctl'), args, { stdio: 'ignore' });
    } catch {
      // already down
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  t.teardown(async () => {
    process.removeListener('exit', onExit);
    if (running) await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  // fsync only matters when the machine itself crashes; these tests stop processes, not machines.
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const instance: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      // -l: the postmaster must not inherit this process's pipes, or execFile would wait for it.
      await pg('pg_ctl', ['-D', data, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']);
      running = true;
    },
    async stop(mode = 'fast') {
      await pg('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      running = false;
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    running: () => running,
  };
  await instance.start();
  return instance;
}

/** Polls `fn` until it returns true or `ms` pass; whether it did. */
export async function until(fn: () => Promise<boolean> | boolean, ms: number, every = 100): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(every);
  }
}
