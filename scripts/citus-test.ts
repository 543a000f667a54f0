/**
 * Runs test files on a throwaway Citus cluster: `tsx scripts/citus-test.ts FILE...` starts a
 * coordinator and two workers (scripts/citus-cluster.ts), runs tap on the files with
 * TEST_DATABASE_URL at the coordinator, stops the cluster and exits with tap's status. The files
 * are the argument list (`npm run test:citus` names them in package.json), so adding one is one word.
 *
 * Without Citus installed it says so and exits 0 on a developer's machine; under CI=true it fails,
 * so CI never passes a suite that did not run.
 */
import { spawn } from 'node:child_process';
import { citusInstalled, startCluster, stopCluster } from './citus-cluster.js';
import { RUN_ALONE } from './run-alone.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: tsx scripts/citus-test.ts TEST_FILE...\n');
  process.exit(2);
}

if (!citusInstalled()) {
  const why = 'Citus is not installed into PostgreSQL 15 here: scripts/citus-build.sh (as root) builds and installs it';
  if (process.env.CI === 'true') {
    process.stderr.write(`citus suite: ${why}\n`);
    process.exit(1);
  }
  process.stdout.write(`# citus suite skipped: ${why}\n`);
  process.exit(0);
}

const cluster = await startCluster();
process.stderr.write(`citus suite: coordinator at ${cluster.url}, ${cluster.nodes.length - 1} workers, folder ${cluster.dir}\n`);
let code: number;
try {
  const root = new URL('..', import.meta.url).pathname;
  const tapOn = (list: string[]) => {
    const tap = spawn(`${root}node_modules/.bin/tap`, list, {
      cwd: root,
      env: { ...process.env, TEST_DATABASE_URL: cluster.url, RAPPORT_TEST_CITUS: '1' },
      stdio: 'inherit',
    });
    const stop = () => tap.kill('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return new Promise<number>((resolve) => tap.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  };
  const together = files.filter((f) => !RUN_ALONE.includes(f));
  const alone = files.filter((f) => RUN_ALONE.includes(f));
  code = together.length > 0 ? await tapOn(together) : 0;
  if (alone.length > 0) code = (await tapOn(alone)) || code;
} finally {
  stopCluster(cluster.dir);
}
process.exit(code);
