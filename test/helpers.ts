import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import tap, { type Test } from 'tap';
import { buildApp, type App } from '../src/app.js';
import { defaultConfig, type Config } from '../src/config.js';
import { MIGRATIONS_FOLDER, openDatabase, type Database } from '../src/db/client.js';
import { hasCitus } from '../src/db/distribution.js';
import { migrate } from '../src/db/migrate.js';
import { backlog } from '../src/db/projection.js';
import { createKey, createWorkspace, type Workspace } from '../src/db/workspaces.js';
import type { Scope } from '../src/domain/keys.js';
import { contractViolation } from './contract.js';

/** The real PostgreSQL when TEST_DATABASE_URL is set, an in-memory PGlite otherwise. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

/** The public datasets (see their PROVENANCE.md): beside the repository in ../shared/data, or DATASETS_DIR. */
export const DATASETS_DIR = process.env.DATASETS_DIR ?? fileURLToPath(new URL('../../shared/data', import.meta.url));

/** Why a test of the real datasets is skipped here (they are third-party, not in the repository), or false. */
export const datasetsSkip = existsSync(DATASETS_DIR) ? false : `needs the public datasets in ${DATASETS_DIR} (or DATASETS_DIR)`;

let shared: Promise<Database> | undefined;

/**
 * An empty, migrated PGlite database as a dump, made once per set of migrations and PGlite version
 * and kept in node_modules/.cache: each test file starts from it instead of paying for initdb and
 * every migration (seconds of CPU per file).
 */
async function migratedPgliteDump(): Promise<Blob> {
  const hash = createHash('sha256').update(readFileSync(new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url)));
  for (const file of readdirSync(MIGRATIONS_FOLDER, { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join(MIGRATIONS_FOLDER, file);
    if (file.endsWith('.sql') || file.endsWith('.json')) hash.update(file).update(readFileSync(path));
  }
  const cache = fileURLToPath(new URL('../node_modules/.cache/rapport-test', import.meta.url));
  const file = join(cache, `pglite-${hash.digest('hex').slice(0, 16)}.tar`);
  if (existsSync(file)) return new Blob([readFileSync(file)]);
  const db = await openDatabase({});
  await migrate(db);
  const dump = await db.withConnection((c) => (c.kind === 'pglite' ? c.client.dumpDataDir('none') : Promise.reject(new Error('not PGlite'))));
  await db.close();
  // Written aside and renamed: test files running in parallel never read half a dump.
  mkdirSync(cache, { recursive: true });
  const partial = `${file}.${process.pid}`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, file);
  return dump;
}

/** One migrated database per test file, closed when the file's tests end. */
export function testDatabase(): Promise<Database> {
  if (!shared) {
    const opened = (async () => {
      const pgliteDump = TEST_DATABASE_URL ? undefined : await migratedPgliteDump();
      const db = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 8, pgliteDump });
      await migrate(db);
      return db;
    })();
    shared = opened;
    tap.teardown(async () => {
      shared = undefined;
      await (await opened).close();
    });
  }
  return shared;
}

/**
 * Why a Citus-only test is skipped here, or false on a Citus coordinator. The Citus suite
 * (`npm run test:citus`) sets RAPPORT_TEST_CITUS, and there a database without Citus is an error,
 * never a skip.
 */
export async function citusSkip(): Promise<string | false> {
  const citus = TEST_DATABASE_URL !== undefined && (await hasCitus(await testDatabase()));
  if (citus) return false;
  if (process.env.RAPPORT_TEST_CITUS) throw new Error(`RAPPORT_TEST_CITUS is set but the test database has no citus extension (TEST_DATABASE_URL=${TEST_DATABASE_URL})`);
  return 'needs a Citus coordinator: npm run test:citus';
}

export const unique = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

export interface Tenant {
  workspace: Workspace;
  /** events:write and scores:read */
  key: string;
  writeKey: string;
  readKey: string;
}

/** A fresh workspace with a key of each kind, so no test sees another's rows. */
export async function newTenant(db: Database): Promise<Tenant> {
  const { workspace } = await createWorkspace(db, unique('ws'));
  const mk = async (scopes: Scope[]) => (await createKey(db, workspace, scopes)).key;
  return {
    workspace,
    key: await mk(['events:write', 'scores:read']),
    writeKey: await mk(['events:write']),
    readKey: await mk(['scores:read']),
  };
}

export interface TestApp {
  app: App;
  db: Database;
  logs: string[];
}

/** The real app on the test database; its logs are captured for inspection. */
export async function testApp(t: Test, overrides: Partial<Config> = {}): Promise<TestApp> {
  const db = await testDatabase();
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  // Rate limiting, failed-authentication throttling and load shedding are off unless a test turns
  // them on: property tests send thousands of requests (bad credentials among them) from one
  // address, and a loaded CI machine lags the event loop.
  const config = defaultConfig({
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: 0,
    AUTH_FAILURES_PER_MINUTE: 1_000_000,
    LOAD_SHED_EVENT_LOOP_DELAY_MS: 0,
    // Every test file's app shares the database: only a test about webhooks sends them, with its own settings.
    WEBHOOK_SENDER: false,
    ...overrides,
  });
  const app = await buildApp({ config, db, logStream: stream });
  t.teardown(() => app.close());
  checkAnswers(t, app);
  return { app, db, logs };
}

/** The real app on the test database and a fresh tenant in it: the opening of most tests. */
export async function tenantApp(t: Test, overrides: Partial<Config> = {}): Promise<TestApp & { tenant: Tenant }> {
  const ctx = await testApp(t, overrides);
  return { ...ctx, tenant: await newTenant(ctx.db) };
}

/**
 * Every answer a test receives through `inject` is checked against the committed OpenAPI document
 * (status, media type, body): an answer the document does not describe fails the test.
 */
function checkAnswers(t: Test, app: App) {
  const inject = app.inject.bind(app) as (opts: unknown) => Promise<import('light-my-request').Response>;
  (app as { inject: unknown }).inject = async (opts: unknown) => {
    if (opts === undefined) throw new Error('use app.inject(options): the chained form bypasses the contract check');
    const res = await inject(opts);
    const o = (typeof opts === 'string' ? { url: opts } : opts) as { method?: string; url?: string; path?: string };
    const violation = contractViolation({
      method: o.method ?? 'GET',
      url: o.url ?? o.path ?? '/',
      status: res.statusCode,
      contentType: res.headers['content-type'] as string | undefined,
      body: res.body,
    });
    if (violation) t.fail(`the answer is not what openapi/openapi.json documents: ${violation}`);
    return res;
  };
}

/**
 * Every answer a test receives through `fetch` from a server on loopback (a `rapport serve` it
 * started, or a test app listening) is checked the same way; the root test fails on a violation.
 */
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const res = await realFetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') {
    const violation = contractViolation({
      method: init?.method ?? (input instanceof Request ? input.method : 'GET'),
      url: url.pathname + url.search,
      status: res.status,
      contentType: res.headers.get('content-type') ?? undefined,
      body: await res.clone().text(),
    });
    if (violation) tap.fail(`the answer from ${url.pathname} is not what openapi/openapi.json documents: ${violation}`);
  }
  return res;
};

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The secret part of `rpk_<id>_<secret>`: everything after the id, since base64url secrets may hold `_` too. */
export const secretOf = (key: string) => key.slice(key.indexOf('_', 'rpk_'.length) + 1);

/** Deterministic event factory; `at` is minutes after a fixed origin. */
export const ORIGIN = Date.parse('2026-01-01T00:00:00Z');
export const at = (minutes: number) => new Date(ORIGIN + minutes * 60_000).toISOString();

/** Resolves once the projector has folded in every acknowledged event of the workspace. */
export async function projected(db: Database, workspaceId: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await backlog(db, workspaceId)).pending > 0) {
    if (Date.now() > deadline) throw new Error(`workspace ${workspaceId} still has events to project after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Every derived table of a workspace, row by row, workspace column aside, once the projector has
 * caught up: equal iff the derived state is.
 */
export async function derivedState(db: Database, workspaceId: number): Promise<Record<string, string[]>> {
  await projected(db, workspaceId);
  const tables = await db.query<{ table_name: string }>(
    `SELECT DISTINCT table_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'workspace_id'
        AND table_name NOT IN ('events', 'api_keys', 'workspaces', 'pending_events') ORDER BY table_name`,
  );
  const state: Record<string, string[]> = {};
  for (const { table_name: table } of tables) {
    const rows = await db.query<{ r: Record<string, unknown> }>(`SELECT to_jsonb(x) - 'workspace_id' AS r FROM "${table}" x WHERE workspace_id = $1`, [workspaceId]);
    // prev_* columns are scratch space of the last upsert (the row before it), not state; a delay
    // bucket that incremental folds brought back to 0 is no bucket.
    state[table] = rows
      .filter(({ r }) => !(table === 'unfollow_delays' && r.follows === 0))
      .map(({ r }) =>
        JSON.stringify(
          Object.fromEntries(
            Object.entries(r)
              .filter(([k]) => !k.startsWith('prev_'))
              .sort(),
          ),
        ),
      )
      .sort();
  }
  return state;
}
