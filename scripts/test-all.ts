/**
 * The full tier (`npm run test:all`): every test file on PostgreSQL, then the Citus suite.
 * TEST_DATABASE_URL names a database the tests may write to; unset, the local server's `test`
 * database. Without a PostgreSQL there it stops at once and says so. The Citus suite
 * (`npm run test:citus`) says why and passes when Citus is not installed, except under CI=true.
 * Exits non-zero when either run failed.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { RUN_ALONE } from './run-alone.js';

const url = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const root = new URL('..', import.meta.url).pathname;
/** The URL as printed: without its user and password. */
const shown = url.replace(/\/\/[^@/]*@/, '//');

const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
try {
  await client.connect();
  await client.end();
} catch (e) {
  process.stderr.write(`test:all needs a PostgreSQL database the tests may write to at ${shown} (set TEST_DATABASE_URL): ${(e as Error).message}\n`);
  process.exit(1);
}

function run(command: string, args: string[]): Promise<number> {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, TEST_DATABASE_URL: url }, stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

process.stdout.write(`# full tier: every test file on ${shown}\n`);
const together = await run(
  `${root}node_modules/.bin/tap`,
  RUN_ALONE.map((f) => `--exclude=${f}`),
);
const all = (await run(`${root}node_modules/.bin/tap`, RUN_ALONE)) || together;
const citus = await run('npm', ['run', '--silent', 'test:citus']);
process.exit(all !== 0 || citus !== 0 ? 1 : 0);
