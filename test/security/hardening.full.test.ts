import { readFileSync } from 'node:fs';
import t from 'tap';
import { cliEnv, exited, runCli, startServer } from '../cli/run.js';
import { at, bearer, unique } from '../helpers.js';
import { problemCode, rawConnection, status } from './raw.js';

/**
 * Reproducers of the ways a client could crash or stall the service, against a `rapport serve`
 * process: descriptor limits, timeouts, memory, its exit. The in-process ones: hardening.test.ts.
 */

// Five servers started and stopped, each waiting out a timeout or a load: more than tap's default on a busy 2-core machine.
t.setTimeout(600_000);

/** Peak resident memory of a process, in MB (Linux). */
const peakRssMb = (pid: number) => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function provision(env: Record<string, string>) {
  const name = unique('hard');
  await runCli(env, ['workspaces', 'create', name]);
  const key = (await runCli(env, ['keys', 'create', '--workspace', name])).stdout.trim();
  return key;
}

t.test('half-sent requests to unknown routes are answered at once and closed, and the process survives a low descriptor limit', async (t) => {
  const env = cliEnv(t, { LOAD_SHED_EVENT_LOOP_DELAY_MS: '1000' });
  const key = await provision(env);
  const server = await startServer(env, { fileLimit: 256 });
  t.teardown(() => server.child.kill('SIGKILL'));
  // More than the process has descriptors: each announces a body that never comes.
  const attackers = await Promise.all(
    Array.from({ length: 400 }, () => rawConnection(server.url, 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n').catch(() => null)),
  );
  const answered = await Promise.all(attackers.map((a) => (a ? a.closed(10_000) : Promise.resolve(undefined))));
  const refusals = answered.filter((a) => a && status(a.data) === 404 && problemCode(a.data) === 'not_found' && a.closedByServer);
  const connected = attackers.filter(Boolean).length;
  t.ok(connected > 0, `${connected} attacking connections were accepted`);
  // Past the connection cap the server drops a connection without an answer; every one it took is answered and closed.
  const dropped = answered.filter((a) => a && a.data === '' && a.closedByServer).length;
  t.equal(refusals.length + dropped, connected, `every connection was answered 404 and closed (${refusals.length}) or dropped at the cap (${dropped})`);
  t.ok(refusals.length > 0, 'unknown routes are answered without reading the body');
  // A second wave while the first is still being closed, then the victim.
  await Promise.all(
    Array.from({ length: 400 }, () =>
      rawConnection(server.url, 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n').then(
        (c) => c.closed(10_000),
        () => null,
      ),
    ),
  );
  const res = await fetch(`${server.url}/v1/accounts/victim/scores`, { headers: bearer(key) });
  t.equal(res.status, 200, 'a tenant is served after the attack');
  t.equal(server.child.exitCode, null, 'the process is still running');
  t.equal(server.child.signalCode, null, 'and was not killed');
});

t.test('slow headers are cut after HEADERS_TIMEOUT_MS with a 408 problem, and the process stays up at its descriptor limit', async (t) => {
  const env = cliEnv(t, { HEADERS_TIMEOUT_MS: '1000', LOAD_SHED_EVENT_LOOP_DELAY_MS: '1000' });
  const server = await startServer(env, { fileLimit: 256 });
  t.teardown(() => server.child.kill('SIGKILL'));
  const slow = await Promise.all(Array.from({ length: 300 }, () => rawConnection(server.url, 'GET /healthz HTTP/1.1\r\nHost: a\r\n').catch(() => null)));
  const ends = await Promise.all(slow.map((s) => (s ? s.closed(15_000) : Promise.resolve(undefined))));
  const timedOut = ends.filter((e) => e && status(e.data) === 408);
  t.ok(timedOut.length > 0, `${timedOut.length} slow-header connections got 408`);
  t.ok(
    timedOut.every((e) => problemCode(e!.data) === 'request_timeout' && /application\/problem\+json/.test(e!.data)),
    'as problem+json',
  );
  t.ok(
    ends.every((e) => !e || e.closedByServer),
    'the server closed every one of them',
  );
  t.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the process is still serving');
  t.equal(server.child.exitCode, null, 'and still running');
});

t.test('an authenticated body that stops arriving is cut after REQUEST_TIMEOUT_MS; a silent stream after IDLE_TIMEOUT_MS', async (t) => {
  const env = cliEnv(t, { REQUEST_TIMEOUT_MS: '500', IDLE_TIMEOUT_MS: '1500' });
  const key = await provision(env);
  const server = await startServer(env);
  t.teardown(() => server.child.kill('SIGKILL'));
  const body = await rawConnection(
    server.url,
    `POST /v1/events HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"type":`,
  );
  const cut = await body.closed(10_000);
  t.ok(cut.closedByServer, 'the server closed the connection');
  t.equal(status(cut.data), 408, '408');
  t.equal(problemCode(cut.data), 'request_timeout', 'request_timeout');
  const stream = await rawConnection(
    server.url,
    `POST /v1/events/batch HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n`,
  );
  const line = `${JSON.stringify({ type: 'like', actor: 'a', target: 'b', occurred_at: at(1) })}\n`;
  stream.socket.write(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
  const started = Date.now();
  const silent = await stream.closed(10_000);
  t.ok(silent.closedByServer, `a stream silent for IDLE_TIMEOUT_MS was closed (after ${Date.now() - started} ms)`);
});

t.test('eight concurrent streams of 1 MiB [{},{},…] lines from one key leave the server under 500 MB', async (t) => {
  const env = cliEnv(t, { LOAD_SHED_EVENT_LOOP_DELAY_MS: '1000' });
  const key = await provision(env);
  const server = await startServer(env);
  t.teardown(() => server.child.kill('SIGKILL'));
  const line = `[${'{},'.repeat(349_000)}{}]\n`;
  const statuses = await Promise.all(
    Array.from({ length: 8 }, () =>
      fetch(`${server.url}/v1/events/batch`, {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/x-ndjson' },
        body: line.repeat(16),
      }).then(
        (r) => r.status,
        // A stream refused (429) before it was sent whole has its connection closed under it.
        () => 'closed',
      ),
    ),
  );
  t.ok(statuses.includes(200), `streams answered ${statuses.join(', ')}`);
  t.ok(
    statuses.every((s) => s === 200 || s === 429 || s === 'closed'),
    'each one stored, refused or closed',
  );
  const peak = peakRssMb(server.child.pid!);
  t.ok(peak < 500, `peak RSS ${peak.toFixed(0)} MB`);
  t.equal((await fetch(`${server.url}/v1/accounts/x/scores`, { headers: bearer(key) })).status, 200, 'still serving');
});

t.test('a server keeps running whatever a client does to it (exit check)', async (t) => {
  const env = cliEnv(t);
  const server = await startServer(env);
  // A client that connects and vanishes mid-headers, mid-body and mid-stream.
  for (const first of [
    'GET /heal',
    'POST /v1/events HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n{',
    'POST /v1/events/batch HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n',
  ]) {
    const c = await rawConnection(server.url, first);
    c.socket.destroy();
  }
  t.equal((await fetch(`${server.url}/healthz`)).status, 200);
  server.child.kill('SIGTERM');
  t.equal((await exited(server.child)).code, 0, 'and stops cleanly when told to');
});
