import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import t from 'tap';
import type { Database } from '../../src/db/client.js';
import { STREAM_CHUNK_EVENTS } from '../../src/ingest/ndjson.js';
import { newTenant, testApp, TEST_DATABASE_URL, type Tenant } from '../helpers.js';
import { call, makeEvents, ndjsonOf, sleep, until, type TestEvent } from './fixtures/support.js';

/**
 * A client sends part of an NDJSON stream (whole chunks, more complete lines, then half a line)
 * and drops the connection. Each chunk of STREAM_CHUNK_EVENTS is committed on its own, so what
 * stays stored must be exactly a prefix of whole chunks: never the lines of an unfinished chunk,
 * never the half line. The server stays healthy and a resend of the whole stream stores the rest.
 *
 * The app runs in this process on a real socket (app.listen), so the database can be read while
 * it serves, on PGlite too.
 */

const CHUNK = STREAM_CHUNK_EVENTS;
/** Whole chunks sent before the cut (fewer on PGlite, which stores a chunk several times slower). */
const FULL_CHUNKS = TEST_DATABASE_URL ? 5 : 3;
/** Complete lines of a chunk that never completes. */
const EXTRA = Math.round(CHUNK * 0.35);

interface Served {
  db: Database;
  url: string;
  port: number;
  logs: string[];
}

async function served(t: Test): Promise<Served> {
  const { app, db, logs } = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { db, url: `http://127.0.0.1:${port}`, port, logs };
}

async function storedIds(db: Database, tenant: Tenant): Promise<{ ids: Set<string>; rows: number }> {
  const rows = await db.query<{ event_id: string }>('SELECT event_id FROM events WHERE workspace_id = $1', [tenant.workspace.id]);
  return { ids: new Set(rows.map((r) => r.event_id)), rows: rows.length };
}

/**
 * Starts sending `lines` complete lines of `events` and then the first half of the next one over
 * a raw request, honouring back-pressure. `written` resolves once all of it is handed to the
 * socket; `cut()` destroys the socket, whether or not everything was written.
 */
function openStream(s: Served, tenant: Tenant, requestId: string, events: TestEvent[], lines: number) {
  const req = request({
    host: '127.0.0.1',
    port: s.port,
    method: 'POST',
    path: '/v1/events/batch',
    headers: { authorization: `Bearer ${tenant.writeKey}`, 'content-type': 'application/x-ndjson', 'x-request-id': requestId },
  });
  let answered: number | undefined;
  req.on('response', (res) => {
    answered = res.statusCode;
    res.resume();
  });
  req.on('error', () => {}); // "socket hang up": the point of the test
  let cut = false;
  const write = (text: string) =>
    new Promise<void>((resolve) => {
      if (req.write(text)) resolve();
      else {
        req.once('drain', resolve);
        req.once('close', resolve);
      }
    });
  const written = (async () => {
    for (let i = 0; i < lines && !cut; i += 250) await write(ndjsonOf(events.slice(i, Math.min(lines, i + 250))));
    const next = JSON.stringify(events[lines]);
    if (!cut) await write(next.slice(0, Math.floor(next.length / 2)));
    return !cut;
  })();
  return {
    /** Whether everything was written before the cut. */
    written,
    /** Closes the connection: FIN, so what was sent still arrives. */
    cut() {
      cut = true;
      req.destroy();
    },
    /** Breaks the connection: RST, so what the server has not read yet is lost with it. */
    reset() {
      cut = true;
      if (req.socket) req.socket.resetAndDestroy();
      else req.destroy();
    },
    answered: () => answered,
  };
}

/**
 * The server is done with the broken request once its handler has failed (it logs the request
 * as failed); should that log line change, once the stored rows have not moved for 2 s.
 */
async function settled(s: Served, tenant: Tenant, requestId: string): Promise<boolean> {
  let last = -1;
  let since = Date.now();
  return until(
    async () => {
      if (s.logs.some((l) => l.includes(`"reqId":"${requestId}"`) && /"msg":"request (failed|completed|aborted)"/.test(l))) return true;
      const n = (await storedIds(s.db, tenant)).rows;
      if (n !== last) {
        last = n;
        since = Date.now();
      }
      return Date.now() - since >= 2_000;
    },
    60_000,
    50,
  );
}

async function healthy(t: Test, s: Served, tenant: Tenant) {
  t.equal((await call(`${s.url}/healthz`)).status, 200, '/healthz answers 200');
  t.equal((await call(`${s.url}/readyz`)).status, 200, '/readyz answers 200');
  const one = await call(`${s.url}/v1/events`, {
    key: tenant.writeKey,
    json: { type: 'follow', actor: 'after-cut-a', target: 'after-cut-b', occurred_at: '2026-01-02T00:00:00Z' },
  });
  t.equal(one.status, 201, 'a new request is served normally');
  if (s.db.kind === 'postgres') {
    // The pool is shared by the app and this test; this test holds no connection while it looks.
    const idle = await until(() => {
      const p = s.db.poolStats();
      return p.total === p.idle && p.waiting === 0;
    }, 10_000);
    t.ok(idle, `no database connection is left checked out by the broken request (${JSON.stringify(s.db.poolStats())})`);
  }
}

async function resendWhole(t: Test, s: Served, tenant: Tenant, events: TestEvent[], storedBefore: number) {
  const res = await call(`${s.url}/v1/events/batch`, { key: tenant.writeKey, ndjson: ndjsonOf(events), deadlineMs: 180_000 });
  t.equal(res.status, 200, 'the resent stream completes');
  t.same(
    res.body,
    { accepted: events.length - storedBefore, duplicates: storedBefore, rejected: [], rejected_total: 0 },
    'the resend accepts exactly the remainder and answers the stored chunks as duplicates',
  );
  const after = await storedIds(s.db, tenant);
  t.equal(after.rows, events.length + 1, 'every event of the stream is stored once (plus the one sent after the cut)');
  t.ok(
    events.every((e) => after.ids.has(e.id)),
    'the whole stream is stored',
  );
}

/**
 * A stream of FULL_CHUNKS whole chunks, EXTRA more lines and half a line, being sent: the test
 * decides when and how the connection goes.
 */
async function streamToBeCut(t: Test, idPrefix: string, requestId: string) {
  const s = await served(t);
  const tenant = await newTenant(s.db);
  const events = makeEvents(idPrefix, FULL_CHUNKS * CHUNK + EXTRA + 1);
  const sentLines = FULL_CHUNKS * CHUNK + EXTRA;
  const client = openStream(s, tenant, requestId, events, sentLines);
  return { s, tenant, events, sentLines, requestId, client };
}

t.test(`the connection drops with ${FULL_CHUNKS} chunks committed, ${EXTRA} more lines read and half a line pending: exactly the ${FULL_CHUNKS} chunks stay`, async (t) => {
  const { s, tenant, events, sentLines, requestId, client } = await streamToBeCut(t, 'cut', 'fault-disconnect-late');
  t.ok(await client.written, 'every line and the half line were written');
  const committed = await until(async () => (await storedIds(s.db, tenant)).rows >= FULL_CHUNKS * CHUNK, 150_000, 50);
  t.ok(committed, `${FULL_CHUNKS} chunks were committed while the stream was still open`);
  await sleep(300); // the extra lines and the half line are read by now: they sit in an unfinished chunk
  client.cut();
  t.ok(await settled(s, tenant, requestId), 'the server finished with the broken request');
  t.equal(client.answered(), undefined, 'no answer reached the client');

  const stored = await storedIds(s.db, tenant);
  t.equal(stored.rows, FULL_CHUNKS * CHUNK, `exactly ${FULL_CHUNKS} whole chunks are stored (${stored.rows} events)`);
  t.equal(stored.ids.size, stored.rows, 'each once');
  const prefix = events.slice(0, FULL_CHUNKS * CHUNK);
  t.ok(
    prefix.every((e) => stored.ids.has(e.id)),
    'they are the first lines of the stream',
  );
  t.notOk(stored.ids.has(events[sentLines]!.id), 'the half line is not stored');
  t.notOk(
    events.slice(FULL_CHUNKS * CHUNK, sentLines).some((e) => stored.ids.has(e.id)),
    'no line of the unfinished chunk is stored',
  );

  await healthy(t, s, tenant);
  await resendWhole(t, s, tenant, events, stored.rows);
});

t.test('the connection is reset while the next chunks are being read and stored: a prefix of whole chunks stays, never part of one', async (t) => {
  const { s, tenant, events, sentLines, requestId, client } = await streamToBeCut(t, 'cut-early', 'fault-disconnect-early');
  // As soon as the first chunk is in, the next one is being read or stored: cut then, mid-stream.
  t.ok(await until(async () => (await storedIds(s.db, tenant)).rows >= CHUNK, 150_000, 20), 'the first chunk was committed');
  client.reset();
  t.comment((await client.written) ? 'everything was written before the reset' : 'the reset came before everything was written');
  t.ok(await settled(s, tenant, requestId), 'the server finished with the broken request');

  const stored = await storedIds(s.db, tenant);
  t.equal(stored.ids.size, stored.rows, 'each event once');
  t.equal(stored.rows % CHUNK, 0, `a whole number of chunks is stored (${stored.rows} events = ${stored.rows / CHUNK} chunks)`);
  t.ok(stored.rows >= CHUNK && stored.rows <= FULL_CHUNKS * CHUNK, 'at least the committed chunk, at most the whole ones sent');
  t.ok(
    events.slice(0, stored.rows).every((e) => stored.ids.has(e.id)),
    'they are the first lines of the stream',
  );
  t.notOk(stored.ids.has(events[sentLines]!.id), 'the half line is not stored');

  await healthy(t, s, tenant);
  await resendWhole(t, s, tenant, events, stored.rows);
});
