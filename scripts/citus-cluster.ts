/**
 * A throwaway Citus cluster on this machine: a coordinator and two workers, each a private
 * PostgreSQL 15 instance (initdb in a temporary folder, a free port on 127.0.0.1, the socket in
 * that folder), with `shared_preload_libraries = 'citus'`, one database with the extension on every
 * node, and the workers registered with the coordinator. Rapport's tables are not distributed
 * here: `rapport migrate` does that itself on a database that has the extension.
 *
 *   tsx scripts/citus-cluster.ts start [--dir DIR] [--database NAME]   prints the coordinator's URL
 *   tsx scripts/citus-cluster.ts stop DIR                                 stops the nodes, removes DIR
 *
 * Needs Citus installed into PostgreSQL 15 (scripts/citus-build.sh). Run as root, the nodes run as
 * the `postgres` user (initdb refuses root); otherwise as the current user.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort } from './loopback.js';

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const HOST = '127.0.0.1';
const WORKERS = 2;

export interface ClusterNode {
  role: 'coordinator' | 'worker';
  port: number;
  data: string;
}

export interface Cluster {
  dir: string;
  database: string;
  /** The coordinator's connection string: what Rapport's DATABASE_URL points at. */
  url: string;
  nodes: ClusterNode[];
}

/** Whether citus.so is installed into the PostgreSQL these binaries belong to. */
export function citusInstalled(): boolean {
  try {
    const lib = execFileSync(join(BIN, 'pg_config'), ['--pkglibdir'], { encoding: 'utf8' }).trim();
    return existsSync(join(lib, 'citus.so'));
  } catch {
    return false;
  }
}

/** initdb and pg_ctl refuse to run as root: as root they run as `postgres`, which owns the folder. */
function asOwner(dir: string): (cmd: string, args: string[]) => string {
  if (process.getuid?.() !== 0) return (cmd, args) => execFileSync(join(BIN, cmd), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
  chownSync(dir, uid, gid);
  return (cmd, args) => execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const urlOf = (port: number, database: string) => `postgres://postgres@${HOST}:${port}/${database}`;

async function sql(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}

export async function startCluster(opts: { dir?: string; database?: string } = {}): Promise<Cluster> {
  if (!citusInstalled()) throw new Error(`Citus is not installed into ${BIN}/..: build it with scripts/citus-build.sh (as root)`);
  const database = opts.database ?? 'rapport';
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`database name ${JSON.stringify(database)}: lower-case letters, digits and _ only`);
  const dir = opts.dir ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'rapport-citus-'));
  mkdirSync(dir, { recursive: true });
  const run = asOwner(dir);
  const cluster: Cluster = { dir, database, url: '', nodes: [] };
  try {
    for (const role of ['coordinator', ...Array<'worker'>(WORKERS).fill('worker')] as const) {
      const data = join(dir, `${role}${cluster.nodes.length}`);
      const port = await freePort(HOST);
      run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
      // The tests and the benchmark open pools of their own on the coordinator, and the coordinator
      // opens connections to every worker per session that touches its shards.
      appendFileSync(
        join(data, 'postgresql.conf'),
        [`port = ${port}`, `listen_addresses = '${HOST}'`, `unix_socket_directories = '${dir}'`, "shared_preload_libraries = 'citus'", 'max_connections = 300', ''].join('\n'),
      );
      run('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, `${role}${cluster.nodes.length}.log`)]);
      cluster.nodes.push({ role, port, data });
      writeFileSync(join(dir, 'cluster.json'), JSON.stringify(cluster, null, 2));
    }
    for (const node of cluster.nodes) {
      await sql(urlOf(node.port, 'postgres'), [`CREATE DATABASE ${database}`]);
      await sql(urlOf(node.port, database), ['CREATE EXTENSION citus']);
    }
    const [coordinator, ...workers] = cluster.nodes;
    cluster.url = urlOf(coordinator!.port, database);
    await sql(cluster.url, [`SELECT citus_set_coordinator_host('${HOST}', ${coordinator!.port})`, ...workers.map((w) => `SELECT citus_add_node('${HOST}', ${w.port})`)]);
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(cluster, null, 2));
    return cluster;
  } catch (err) {
    stopCluster(dir);
    throw err;
  }
}

/** Stops every node the folder's cluster.json names (fast shutdown) and removes the folder. */
export function stopCluster(dir: string): void {
  const file = join(dir, 'cluster.json');
  if (existsSync(file)) {
    const cluster = JSON.parse(readFileSync(file, 'utf8')) as Cluster;
    const run = asOwner(dir);
    for (const node of cluster.nodes) {
      try {
        run('pg_ctl', ['stop', '-D', node.data, '-m', 'fast', '-w', '-t', '30']);
      } catch {
        // already stopped
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { dir: { type: 'string' }, database: { type: 'string' } },
  });
  const [command, dir] = positionals;
  if (command === 'start') {
    const cluster = await startCluster({ dir: values.dir, database: values.database });
    process.stderr.write(
      `citus cluster in ${cluster.dir}: coordinator :${cluster.nodes[0]!.port}, workers ${cluster.nodes
        .slice(1)
        .map((n) => `:${n.port}`)
        .join(' ')}\n`,
    );
    process.stdout.write(`${cluster.url}\n`);
  } else if (command === 'stop' && dir) {
    stopCluster(resolve(dir));
  } else {
    process.stderr.write('usage: tsx scripts/citus-cluster.ts start [--dir DIR] [--database NAME] | stop DIR\n');
    process.exit(2);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`citus-cluster: ${err.message}\n`);
    process.exit(1);
  });
}
