import type { Database } from '../db/client.js';
import { LIMITS } from '../domain/events.js';
import { jsonWorkExceeded } from '../domain/json.js';
import { ingestBatch, type AppendListener, type BatchResult, type IngestObserver, type Rejected } from './batch.js';

/** At most this many rejections are listed in an answer; `rejected_total` counts them all. */
export const MAX_LISTED_REJECTIONS = 1_000;

/** Events per transaction when a stream is ingested. */
export const STREAM_CHUNK_EVENTS = 2_000;

type Line = { index: number; text: string } | { index: number; tooLong: true };

/**
 * Splits a byte stream into lines without ever holding more than one line (capped) and one
 * chunk: memory stays constant however long the stream. Lines are numbered from 0; a final line
 * without a newline counts.
 */
export async function* ndjsonLines(stream: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let index = 0;
  const finish = (): Line => {
    const line: Line = tooLong ? { index, tooLong: true } : { index, text: Buffer.concat(parts, size).toString('utf8') };
    parts = [];
    size = 0;
    tooLong = false;
    index++;
    return line;
  };
  for await (const raw of stream) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (!tooLong) parts.push(chunk.subarray(start, nl));
      size += nl - start;
      if (size > maxLineBytes) tooLong = true;
      yield finish();
      start = nl + 1;
    }
    if (start < chunk.length) {
      size += chunk.length - start;
      if (size > maxLineBytes) {
        tooLong = true;
        parts = [];
      }
      if (!tooLong) parts.push(Buffer.from(chunk.subarray(start)));
    }
  }
  if (size > 0 || tooLong) yield finish();
}

export interface StreamResult extends BatchResult {
  rejected_total: number;
}

export interface StreamOptions {
  chunkEvents?: number;
  maxLineBytes?: number;
  /** Called after each stored chunk, for progress reports. */
  onChunk?(soFar: StreamResult & { lines: number }): void;
  observer?: IngestObserver | undefined;
  projector?: AppendListener | undefined;
}

/** Chunks of one stream stored at once: parsing the next chunk and storing two keeps both the service and the database busy. */
export const STREAM_CHUNKS_IN_FLIGHT = 2;

/**
 * Ingests an NDJSON stream chunk by chunk, each chunk in its own transaction, so that what was
 * stored stays stored if the stream breaks off. Blank lines are skipped but keep their number.
 * Up to STREAM_CHUNKS_IN_FLIGHT chunks are stored concurrently while the next one is read; the
 * answer waits for all of them, and the first failure ends the stream.
 */
export async function ingestNdjson(db: Database, workspaceId: number, stream: AsyncIterable<Buffer | string>, opts: StreamOptions = {}): Promise<StreamResult> {
  const chunkEvents = opts.chunkEvents ?? STREAM_CHUNK_EVENTS;
  const total: StreamResult = { accepted: 0, duplicates: 0, rejected: [], rejected_total: 0 };
  let lines = 0;
  // Rejections of the chunks were observed by ingestBatch; the stream's own ones are observed here.
  const reject = (r: Rejected) => {
    total.rejected_total++;
    total.rejected.push(r);
    // Chunks finish in any order: keep the lowest line numbers, whatever order they arrive in.
    if (total.rejected.length >= 2 * MAX_LISTED_REJECTIONS) keepFirstRejections();
  };
  const refuse = (r: Rejected) => {
    opts.observer?.rejected(r.code);
    reject(r);
  };
  const keepFirstRejections = () => {
    total.rejected.sort((a, b) => a.index - b.index);
    total.rejected.length = Math.min(total.rejected.length, MAX_LISTED_REJECTIONS);
  };
  let values: unknown[] = [];
  let indexes: number[] = [];
  let bytes = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const store = (chunk: unknown[], chunkIndexes: number[]) => {
    const done: Promise<void> = ingestBatch(db, workspaceId, chunk, { indexes: chunkIndexes, observer: opts.observer, projector: opts.projector })
      .then((r) => {
        total.accepted += r.accepted;
        total.duplicates += r.duplicates;
        r.rejected.forEach(reject);
        opts.onChunk?.({ ...total, lines });
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  const settle = async (limit: number) => {
    while (inFlight.size > limit) await Promise.race(inFlight);
    if (failure) {
      await Promise.all(inFlight);
      throw failure.error;
    }
  };
  const flush = async () => {
    if (values.length === 0) return;
    await settle(STREAM_CHUNKS_IN_FLIGHT - 1);
    store(values, indexes);
    values = [];
    indexes = [];
    bytes = 0;
  };
  try {
    for await (const line of ndjsonLines(stream, opts.maxLineBytes ?? LIMITS.ndjsonMaxLineBytes)) {
      lines = line.index + 1;
      if ('tooLong' in line) {
        refuse({ index: line.index, code: 'line_too_long', message: `a line may hold at most ${LIMITS.ndjsonMaxLineBytes} bytes` });
        continue;
      }
      if (line.text.trim() === '') continue;
      // An event is a flat object: a line that would parse into thousands of values is refused unparsed.
      if (jsonWorkExceeded(line.text, LIMITS.eventMaxJsonTokens, LIMITS.jsonMaxDepth)) {
        refuse({
          index: line.index,
          code: 'invalid_event',
          message: `an event is a flat JSON object; this line holds more than ${LIMITS.eventMaxJsonTokens} JSON values or nests too deeply`,
        });
        continue;
      }
      try {
        values.push(JSON.parse(line.text));
        indexes.push(line.index);
        bytes += line.text.length;
      } catch {
        refuse({ index: line.index, code: 'invalid_json', message: 'the line is not valid JSON' });
      }
      if (values.length >= chunkEvents || bytes >= LIMITS.ndjsonChunkMaxBytes) await flush();
    }
    await flush();
  } finally {
    // A broken stream still waits for the chunks already sent, so nothing is written after the answer.
    await Promise.all(inFlight);
  }
  await settle(0);
  keepFirstRejections();
  opts.onChunk?.({ ...total, lines });
  return total;
}
