import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Test } from 'tap';
import { main } from '../../src/cli/main.js';
import { TEST_DATABASE_URL, testDatabase } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
/** The CLI from its sources, so a stale build can never be what is tested. */
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/index.ts')];

/** The environment of a CLI process: the test database, or a private PGlite folder. */
export function cliEnv(t: Test, extra: Record<string, string> = {}): Record<string, string> {
  // As in testApp: no rate limits or load shedding unless a test asks, so a loaded CI machine cannot shed a test's requests.
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
    // As in testApp: webhooks are sent only by the tests about them.
    WEBHOOK_SENDER: 'false',
  };
  if (TEST_DATABASE_URL) base.DATABASE_URL = TEST_DATABASE_URL;
  else {
    const dir = mkdtempSync(join(tmpdir(), 'rapport-cli-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    base.DATA_DIR = dir;
  }
  return { ...base, ...extra };
}

export interface CliResult {
  code: number | null;
  pid: number;
  stdout: string;
  stderr: string;
}

/** Runs Node with `args` (from the repository's root) to its end: exit code, pid and all it printed. */
export function runNode(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, pid: child.pid!, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export function runCli(env: Record<string, string>, args: string[], stdin?: string): Promise<CliResult> {
  return runNode([...CLI, ...args], env, stdin);
}

/**
 * Runs the CLI's `main` in this process on the test database: its exit code and all it printed.
 * What a process adds (a fresh database folder, the real stdin, the exit status) is tested by
 * runCli in process.full.test.ts; everything else runs here, without a Node start per command.
 */
export async function cli(args: string[], stdin = '', env: Record<string, string> = {}): Promise<Omit<CliResult, 'pid'>> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        write(String(chunk));
        cb();
      },
    });
  const code = await main(['node', 'rapport', ...args], {
    env: { LOG_LEVEL: 'warn', ...env },
    stdin: Readable.from(stdin ? [Buffer.from(stdin)] : []),
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    db: await testDatabase(),
  });
  return { code, stdout, stderr };
}

/**
 * Starts `rapport serve` on a free port and resolves once it listens; with `fileLimit`, under that
 * `ulimit -n`, as a small container or a default systemd unit would run it.
 */
export function startServer(env: Record<string, string>, opts: { fileLimit?: number } = {}): Promise<{ child: ChildProcess; url: string; logs: () => string }> {
  const [command, args] = opts.fileLimit
    ? ['bash', ['-c', `ulimit -n ${opts.fileLimit} && exec "$0" "$@"`, process.execPath, ...CLI, 'serve']]
    : [process.execPath, [...CLI, 'serve']];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (d: Buffer) => {
      output += String(d);
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) resolve({ child, url: m[1]!, logs: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not listen within 60 s:\n${output}`));
    }, 60_000).unref();
  });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
