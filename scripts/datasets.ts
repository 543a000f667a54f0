/**
 * Converters from the public datasets in /work/shared/data (see each folder's PROVENANCE.md) to the
 * event format of SPEC.md §2, as a module and as a command-line tool.
 *
 *   npx tsx scripts/datasets.ts NAME [--data-dir DIR] [--limit N]   NDJSON events on stdout
 *   npx tsx scripts/datasets.ts --list                             names and expected counts
 *
 * The default data directory is `../shared/data` relative to the current directory. Errors (unknown
 * name, missing file, malformed input) print one line on stderr and exit with status 2.
 *
 * Mappings (one event per source row unless noted):
 * - bitcoin-otc: `SOURCE,TARGET,RATING,TIME` -> follow btc:SOURCE -> btc:TARGET at TIME, every rating
 *   (positive and negative). The fractional seconds of TIME are copied digit for digit (at most 6, the
 *   data has at most 5), never through a float. id `btc:<line number>` (1-based, no header).
 * - bitcoin-otc-positive: the same, only rows with RATING > 0 (ids keep the original line numbers).
 * - collegemsg: `u v t` -> mention cm:u -> cm:v at t, or a reply when v messaged u strictly earlier
 *   (some `v u t'` with t' < t; an equal timestamp does not count). id `cm:<line number>`.
 * - higgs: higgs-activity_time `A B t RT|MT|RE` -> repost|mention|reply hg:A -> hg:B at t; self-loops
 *   are kept. id `higgs:<line number>`.
 * - youtube-spam: the five CSVs in file order, one post per record by `yt:<AUTHOR>` (AUTHOR verbatim,
 *   inner and outer spaces included) with text = CONTENT (cut to 10,000 UTF-16 code units without
 *   splitting a surrogate pair), occurred_at = DATE read as UTC with up to 6 fractional digits, id
 *   `yt:<COMMENT_ID>`. Skipped records (reported through `onSkip`, or as a one-line note on stderr):
 *     - empty DATE: the 245 spam records of Youtube04-Eminem.csv (there is no time to give them);
 *     - a COMMENT_ID already emitted: Youtube05-Shakira.csv repeats one record verbatim (same id, same
 *       content), which the service would count as a duplicate; emitting it twice would break id
 *       uniqueness within the dataset. (Eminem repeats two ids too, but those records have no DATE.)
 *     - AUTHOR empty, longer than 256 UTF-16 code units, or with a control character (none in the data);
 *     - DATE that is not a valid `YYYY-MM-DDTHH:MM:SS[.frac]` time (none in the data).
 * - utkml-spam: train.csv, one post per record (is_retweet=1 rows too: a repost needs a target account
 *   the data lacks) by the synthetic account `utk:author`, text = Tweet (cut as above),
 *   occurred_at = 2019-12-01T00:00:00Z + i seconds and id `utk:<i>`, where i is the 0-based index of
 *   the record after the header. The 2 malformed records (i = 7552 and 12843), whose location is split
 *   over two fields so that Type sits in the 8th column, are recognised and kept: only Tweet is used,
 *   and it is the first field in every record.
 *
 * No event carries `post`, `has_link` or `is_question`: the service derives the last two from `text`.
 *
 * API: `datasetEvents(name, dataDir, { onSkip })` yields events one by one; `datasetEventBatches`
 * yields the same events in arrays (one per input chunk), which is several times cheaper per event
 * for big datasets (the CLI uses it). `DATASETS` gives each dataset's files and expected counts;
 * `parseCsv` is the RFC 4180 record parser. Files are streamed through node:zlib and split into lines
 * by hand rather than with node:readline, whose per-line await made a higgs pass about twice as
 * slow under tap.
 */
import { createReadStream, realpathSync } from 'node:fs';
import { access, constants as fsConstants } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';

export type EventType = 'follow' | 'unfollow' | 'like' | 'reply' | 'mention' | 'repost' | 'post';

export interface DatasetEvent {
  id: string;
  type: EventType;
  actor: string;
  target?: string;
  occurred_at: string;
  text?: string;
}

export const DATASET_NAMES = ['bitcoin-otc', 'bitcoin-otc-positive', 'collegemsg', 'higgs', 'youtube-spam', 'utkml-spam'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface DatasetInfo {
  description: string;
  /** Input files, relative to the data directory, in the order they are read. */
  files: readonly string[];
  /** Number of events `datasetEvents` yields (counted by running it over the full data). */
  events: number;
  /** Events with actor === target (stored by the service but counted in no metric). */
  selfDirected: number;
  /** Events per type. */
  byType: Partial<Record<EventType, number>>;
  /** Source records not turned into an event, per reason. */
  skipped: Record<string, number>;
}

const YOUTUBE_FILES = ['Youtube01-Psy.csv', 'Youtube02-KatyPerry.csv', 'Youtube03-LMFAO.csv', 'Youtube04-Eminem.csv', 'Youtube05-Shakira.csv'].map(
  (f) => `spam-posts/youtube-spam-collection/${f}`,
);

export const DATASETS: Readonly<Record<DatasetName, DatasetInfo>> = {
  'bitcoin-otc': {
    description: 'SNAP soc-sign-bitcoin-otc: every trust rating (positive and negative) as a follow',
    files: ['bitcoin-otc/soc-sign-bitcoinotc.csv.gz'],
    events: 35_592,
    selfDirected: 0,
    byType: { follow: 35_592 },
    skipped: {},
  },
  'bitcoin-otc-positive': {
    description: 'SNAP soc-sign-bitcoin-otc: positive trust ratings only, as follows',
    files: ['bitcoin-otc/soc-sign-bitcoinotc.csv.gz'],
    events: 32_029,
    selfDirected: 0,
    byType: { follow: 32_029 },
    skipped: { 'rating <= 0': 3_563 },
  },
  collegemsg: {
    description: 'SNAP CollegeMsg: messages as mentions, or replies when the recipient wrote first',
    files: ['collegemsg/CollegeMsg.txt.gz'],
    events: 59_835,
    selfDirected: 0,
    byType: { reply: 36_124, mention: 23_711 },
    skipped: {},
  },
  higgs: {
    description: 'SNAP Higgs Twitter activity: retweets, mentions and replies (self-loops kept)',
    files: ['higgs-twitter/higgs-activity_time.txt.gz'],
    events: 563_069,
    selfDirected: 7_588,
    byType: { repost: 354_930, mention: 171_237, reply: 36_902 },
    skipped: {},
  },
  'youtube-spam': {
    description: 'YouTube Spam Collection: comments as posts with text',
    files: YOUTUBE_FILES,
    events: 1_710,
    selfDirected: 0,
    byType: { post: 1_710 },
    skipped: { 'empty DATE': 245, 'duplicate COMMENT_ID': 1 },
  },
  'utkml-spam': {
    description: 'UtkMl Twitter spam (train.csv): tweets as posts by one synthetic account',
    files: ['spam-posts/utkml-twitter-spam/train.csv.gz'],
    events: 14_899,
    selfDirected: 0,
    byType: { post: 14_899 },
    skipped: {},
  },
};

/** A user-facing failure: unknown dataset, missing file, malformed input. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

export interface DatasetOptions {
  /**
   * Called for each source record that is skipped. Without it, the generator writes one summary line
   * to stderr when it finishes (or is stopped) having skipped anything.
   */
  onSkip?: (reason: string, where: string) => void;
}

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

// ---------------------------------------------------------------------------------------------------
// Input helpers

/** A text stream over a file, gunzipped when the name ends in `.gz`; read errors surface in the stream. */
function openText(file: string): Readable {
  const raw = createReadStream(file);
  if (!file.endsWith('.gz')) {
    raw.setEncoding('utf8');
    return raw;
  }
  const gz = createGunzip();
  raw.on('error', (err) => gz.destroy(err));
  raw.pipe(gz);
  gz.setEncoding('utf8');
  // Make sure the file descriptor is released when the consumer stops early.
  gz.on('close', () => raw.destroy());
  return gz;
}

/**
 * Lines of a (gzipped) text file, in batches (one per decompressed chunk) so that a consumer pays one
 * await per chunk rather than per line. Splits on LF and drops a CR before it, like readline with
 * `crlfDelay: Infinity`; a last line without a line break still counts.
 */
async function* readLineBatches(file: string): AsyncGenerator<string[]> {
  const input = openText(file);
  let rest = '';
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() as string;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
      }
      if (lines.length > 0) yield lines;
    }
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(`${file}: ${(err as Error).message}`);
  } finally {
    input.destroy();
  }
  if (rest !== '') yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest];
}

/**
 * RFC 4180 records from a stream of text chunks: fields separated by `,`, records by CRLF or LF,
 * fields optionally enclosed in `"` with `""` standing for a quote; quoted fields may hold commas and
 * line breaks. A `"` inside an unquoted field is kept as a literal character (lenient, as most
 * readers are); anything but `,` or a line break after a closing quote is an error. Blank lines are
 * skipped. A leading byte order mark is dropped.
 */
export async function* parseCsv(chunks: AsyncIterable<string | Buffer>, where = 'CSV'): AsyncGenerator<string[]> {
  for await (const batch of parseCsvBatches(chunks, where)) yield* batch;
}

/** As parseCsv, yielding the records completed by each input chunk together. */
export async function* parseCsvBatches(chunks: AsyncIterable<string | Buffer>, where = 'CSV'): AsyncGenerator<string[][]> {
  const FIELD_START = 0;
  const UNQUOTED = 1;
  const QUOTED = 2;
  const QUOTE_IN_QUOTED = 3; // saw `"` inside a quoted field: either `""` or the closing quote
  let state = FIELD_START;
  let field = '';
  let record: string[] = [];
  let pendingCR = false; // saw `\r` outside quotes; it ends the record if `\n` follows
  let first = true;
  let recordNo = 1;
  let ready: string[][] = [];
  const decoder = new TextDecoder('utf-8'); // for Buffer chunks: keeps a character split across chunks

  const endRecord = (): void => {
    record.push(field);
    field = '';
    state = FIELD_START;
    if (!(record.length === 1 && record[0] === '')) ready.push(record);
    record = [];
    recordNo++;
  };

  for await (const chunk of chunks) {
    let s = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first) {
      if (s.length === 0) continue;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      first = false;
    }
    for (let i = 0; i < s.length; i++) {
      const c = s[i] as string;
      if (pendingCR) {
        pendingCR = false;
        if (c === '\n') {
          endRecord();
          continue;
        }
        // A lone CR outside quotes is ordinary content of an unquoted field.
        if (state === QUOTE_IN_QUOTED) {
          throw new DatasetError(`${where}: record ${recordNo}: character after a closing quote`);
        }
        field += '\r';
        state = UNQUOTED;
      }
      switch (state) {
        case FIELD_START:
          if (c === '"') state = QUOTED;
          else if (c === ',') record.push('');
          else if (c === '\n') endRecord();
          else if (c === '\r') pendingCR = true;
          else {
            field = c;
            state = UNQUOTED;
          }
          break;
        case UNQUOTED: {
          // Fast path: copy up to the next delimiter.
          let j = i;
          while (j < s.length) {
            const d = s.charCodeAt(j);
            if (d === 44 /* , */ || d === 10 /* \n */ || d === 13 /* \r */) break;
            j++;
          }
          field += s.slice(i, j);
          i = j;
          if (j === s.length) break;
          const d = s[j];
          if (d === ',') {
            record.push(field);
            field = '';
            state = FIELD_START;
          } else if (d === '\n') endRecord();
          else pendingCR = true;
          break;
        }
        case QUOTED: {
          const j = s.indexOf('"', i);
          if (j < 0) {
            field += s.slice(i);
            i = s.length;
          } else {
            field += s.slice(i, j);
            i = j;
            state = QUOTE_IN_QUOTED;
          }
          break;
        }
        case QUOTE_IN_QUOTED:
          if (c === '"') {
            field += '"';
            state = QUOTED;
          } else if (c === ',') {
            record.push(field);
            field = '';
            state = FIELD_START;
          } else if (c === '\n') endRecord();
          else if (c === '\r') pendingCR = true;
          else throw new DatasetError(`${where}: record ${recordNo}: character after a closing quote`);
          break;
      }
    }
    if (ready.length > 0) {
      yield ready;
      ready = [];
    }
  }
  if (state === QUOTED) throw new DatasetError(`${where}: record ${recordNo}: unterminated quoted field`);
  if (pendingCR || state !== FIELD_START || field !== '' || record.length > 0) endRecord();
  if (ready.length > 0) yield ready;
}

/** CSV records of a (gzipped) file, in batches. */
async function* readCsvBatches(file: string): AsyncGenerator<string[][]> {
  const input = openText(file);
  try {
    yield* parseCsvBatches(input, file);
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(`${file}: ${(err as Error).message}`);
  } finally {
    input.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------
// Value helpers

const UNSIGNED = /^\d+$/;
const CONTROL = /\p{Cc}/u;
const MAX_TEXT = 10_000;

/** `secs` (decimal string, optional fraction) as RFC 3339 UTC; fraction digits copied, at most 6. */
function unixToRfc3339(secs: string, where: string): string {
  if (secs === lastSecs) return lastIso; // rows are sorted by time: consecutive rows often share it
  const m = /^(\d+)(?:\.(\d+))?$/.exec(secs);
  if (!m) throw new DatasetError(`${where}: bad Unix time ${JSON.stringify(secs)}`);
  const whole = Number(m[1]);
  const date = new Date(whole * 1000);
  if (!Number.isSafeInteger(whole) || Number.isNaN(date.getTime())) {
    throw new DatasetError(`${where}: bad Unix time ${JSON.stringify(secs)}`);
  }
  const frac = m[2] ? `.${m[2].slice(0, 6)}` : '';
  lastSecs = secs;
  lastIso = `${date.toISOString().slice(0, 19)}${frac}Z`;
  return lastIso;
}
let lastSecs = '';
let lastIso = '';

/** A zone-less ISO local time read as UTC, or undefined when it is not a valid time. */
function localToUtc(value: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?$/.exec(value);
  if (!m || m[1] === undefined) return undefined;
  const date = new Date(`${m[1]}Z`);
  // Rejects impossible dates such as 2015-02-30, which Date would roll over.
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== m[1]) return undefined;
  return `${m[1]}${m[2] ? `.${m[2].slice(0, 6)}` : ''}Z`;
}

/** At most 10,000 UTF-16 code units (hence at most 10,000 code points), never half a surrogate pair. */
function truncateText(text: string): string {
  if (text.length <= MAX_TEXT) return text;
  let end = MAX_TEXT;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end);
}

function validAccount(account: string): boolean {
  return account.length >= 1 && account.length <= 256 && !CONTROL.test(account);
}

// ---------------------------------------------------------------------------------------------------
// Converters. Each yields batches of events (one per input chunk): with one await per batch instead
// of per event, a full higgs run stays fast even under async_hooks (as in a tap test).

type Skip = (reason: string, where: string) => void;

async function* bitcoinOtc(file: string, positiveOnly: boolean, skip: Skip): AsyncGenerator<DatasetEvent[]> {
  let lineNo = 0;
  for await (const lines of readLineBatches(file)) {
    const out: DatasetEvent[] = [];
    for (const line of lines) {
      lineNo++;
      if (line === '') continue;
      const cols = line.split(',');
      const [source, target, rating, time] = cols;
      if (
        cols.length !== 4 ||
        source === undefined ||
        target === undefined ||
        rating === undefined ||
        time === undefined ||
        !UNSIGNED.test(source) ||
        !UNSIGNED.test(target) ||
        !/^-?\d+$/.test(rating)
      ) {
        throw new DatasetError(`${file}:${lineNo}: expected SOURCE,TARGET,RATING,TIME, got ${JSON.stringify(line)}`);
      }
      if (positiveOnly && Number(rating) <= 0) {
        skip('rating <= 0', `${file}:${lineNo}`);
        continue;
      }
      out.push({
        id: `btc:${lineNo}`,
        type: 'follow',
        actor: `btc:${source}`,
        target: `btc:${target}`,
        occurred_at: unixToRfc3339(time, `${file}:${lineNo}`),
      });
    }
    if (out.length > 0) yield out;
  }
}

function parseCollegeLine(line: string, where: () => string): [string, string, number] {
  const cols = line.split(' ');
  const [u, v, t] = cols;
  if (cols.length !== 3 || u === undefined || v === undefined || t === undefined || !UNSIGNED.test(u) || !UNSIGNED.test(v) || !UNSIGNED.test(t)) {
    throw new DatasetError(`${where()}: expected SRC DST UNIXTS, got ${JSON.stringify(line)}`);
  }
  return [u, v, Number(t)];
}

async function* collegeMsg(file: string): AsyncGenerator<DatasetEvent[]> {
  // Pass 1: the earliest time of each directed pair. A row `v u t'` with t' < t exists iff
  // earliest(v→u) < t, whatever the row order.
  const earliest = new Map<string, number>();
  let lineNo = 0;
  for await (const lines of readLineBatches(file)) {
    for (const line of lines) {
      lineNo++;
      if (line === '') continue;
      const [u, v, t] = parseCollegeLine(line, () => `${file}:${lineNo}`);
      const key = `${u} ${v}`;
      const seen = earliest.get(key);
      if (seen === undefined || t < seen) earliest.set(key, t);
    }
  }
  // Pass 2: emit.
  lineNo = 0;
  for await (const lines of readLineBatches(file)) {
    const out: DatasetEvent[] = [];
    for (const line of lines) {
      lineNo++;
      if (line === '') continue;
      const [u, v, t] = parseCollegeLine(line, () => `${file}:${lineNo}`);
      const back = earliest.get(`${v} ${u}`);
      out.push({
        id: `cm:${lineNo}`,
        type: back !== undefined && back < t ? 'reply' : 'mention',
        actor: `cm:${u}`,
        target: `cm:${v}`,
        occurred_at: unixToRfc3339(String(t), `${file}:${lineNo}`),
      });
    }
    if (out.length > 0) yield out;
  }
}

const HIGGS_TYPES: Readonly<Record<string, EventType>> = { RT: 'repost', MT: 'mention', RE: 'reply' };

async function* higgs(file: string): AsyncGenerator<DatasetEvent[]> {
  let lineNo = 0;
  for await (const lines of readLineBatches(file)) {
    const out: DatasetEvent[] = [];
    for (const line of lines) {
      lineNo++;
      if (line === '') continue;
      const cols = line.split(' ');
      const [a, b, t, kind] = cols;
      const type = kind === undefined ? undefined : HIGGS_TYPES[kind];
      if (cols.length !== 4 || a === undefined || b === undefined || t === undefined || type === undefined || !UNSIGNED.test(a) || !UNSIGNED.test(b)) {
        throw new DatasetError(`${file}:${lineNo}: expected userA userB timestamp RT|MT|RE, got ${JSON.stringify(line)}`);
      }
      out.push({
        id: `higgs:${lineNo}`,
        type,
        actor: `hg:${a}`,
        target: `hg:${b}`,
        occurred_at: unixToRfc3339(t, `${file}:${lineNo}`),
      });
    }
    if (out.length > 0) yield out;
  }
}

function columnIndex(header: string[], name: string, file: string): number {
  const i = header.indexOf(name);
  if (i < 0) throw new DatasetError(`${file}: header has no ${name} column (got ${header.join(',')})`);
  return i;
}

async function* youtubeSpam(files: string[], skip: Skip): AsyncGenerator<DatasetEvent[]> {
  const emitted = new Set<string>();
  for (const file of files) {
    let header: string[] | undefined;
    let cId = 0;
    let cAuthor = 0;
    let cDate = 0;
    let cContent = 0;
    let recordNo = 0;
    for await (const records of readCsvBatches(file)) {
      const out: DatasetEvent[] = [];
      for (const record of records) {
        if (header === undefined) {
          header = record;
          cId = columnIndex(header, 'COMMENT_ID', file);
          cAuthor = columnIndex(header, 'AUTHOR', file);
          cDate = columnIndex(header, 'DATE', file);
          cContent = columnIndex(header, 'CONTENT', file);
          continue;
        }
        recordNo++;
        const where = `${file} record ${recordNo}`;
        if (record.length !== header.length) {
          throw new DatasetError(`${where}: ${record.length} fields, expected ${header.length}`);
        }
        const id = record[cId] ?? '';
        const author = record[cAuthor] ?? '';
        const date = record[cDate] ?? '';
        const content = record[cContent] ?? '';
        if (id === '' || id.length > 125 || CONTROL.test(id)) {
          throw new DatasetError(`${where}: bad COMMENT_ID ${JSON.stringify(id)}`);
        }
        if (date === '') {
          skip('empty DATE', where);
          continue;
        }
        const occurredAt = localToUtc(date);
        if (occurredAt === undefined) {
          skip('invalid DATE', where);
          continue;
        }
        const actor = `yt:${author}`;
        if (author === '' || !validAccount(actor)) {
          skip('invalid AUTHOR', where);
          continue;
        }
        const eventId = `yt:${id}`;
        if (emitted.has(eventId)) {
          skip('duplicate COMMENT_ID', where);
          continue;
        }
        emitted.add(eventId);
        out.push({ id: eventId, type: 'post', actor, occurred_at: occurredAt, text: truncateText(content) });
      }
      if (out.length > 0) yield out;
    }
    if (header === undefined) throw new DatasetError(`${file}: empty file`);
  }
}

const UTK_EPOCH_MS = Date.UTC(2019, 11, 1); // 2019-12-01T00:00:00Z

async function* utkmlSpam(file: string): AsyncGenerator<DatasetEvent[]> {
  let header: string[] | undefined;
  let index = -1;
  for await (const records of readCsvBatches(file)) {
    const out: DatasetEvent[] = [];
    for (const record of records) {
      if (header === undefined) {
        header = record;
        if (header[0] !== 'Tweet') throw new DatasetError(`${file}: expected a header starting with Tweet`);
        continue;
      }
      index++;
      // Well-formed records have 8 fields (the header's trailing comma adds an empty 8th); in the two
      // malformed ones the location spans fields 6-7 and Type is the 8th. Type is checked only to
      // catch a misparse.
      const type = record[7] !== '' ? record[7] : record[6];
      if (record.length !== 8 || (type !== 'Quality' && type !== 'Spam')) {
        throw new DatasetError(`${file} record ${index + 1}: unexpected shape ${JSON.stringify(record)}`);
      }
      out.push({
        id: `utk:${index}`,
        type: 'post',
        actor: 'utk:author',
        occurred_at: new Date(UTK_EPOCH_MS + index * 1000).toISOString().replace('.000Z', 'Z'),
        text: truncateText(record[0] ?? ''),
      });
    }
    if (out.length > 0) yield out;
  }
}

/**
 * The events of a dataset in batches (in order; one batch per input chunk), streamed from the files
 * under `dataDir`. Throws DatasetError for an unknown name, a missing file or malformed input.
 */
export async function* datasetEventBatches(name: DatasetName, dataDir: string, options: DatasetOptions = {}): AsyncGenerator<DatasetEvent[], void, undefined> {
  if (!isDatasetName(name)) {
    throw new DatasetError(`unknown dataset ${JSON.stringify(name)} (known: ${DATASET_NAMES.join(', ')})`);
  }
  const files = DATASETS[name].files.map((f) => join(dataDir, f));
  for (const file of files) {
    try {
      await access(file, fsConstants.R_OK);
    } catch {
      throw new DatasetError(`missing file ${file}`);
    }
  }
  const skipped = new Map<string, number>();
  const skip: Skip = (reason, where) => {
    skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
    options.onSkip?.(reason, where);
  };
  const first = files[0] as string;
  try {
    switch (name) {
      case 'bitcoin-otc':
        yield* bitcoinOtc(first, false, skip);
        break;
      case 'bitcoin-otc-positive':
        yield* bitcoinOtc(first, true, skip);
        break;
      case 'collegemsg':
        yield* collegeMsg(first);
        break;
      case 'higgs':
        yield* higgs(first);
        break;
      case 'youtube-spam':
        yield* youtubeSpam(files, skip);
        break;
      case 'utkml-spam':
        yield* utkmlSpam(first);
        break;
    }
  } finally {
    if (!options.onSkip && skipped.size > 0) {
      const parts = [...skipped].map(([reason, n]) => `${n} ${reason}`);
      const total = [...skipped.values()].reduce((a, b) => a + b, 0);
      process.stderr.write(`datasets: ${name}: skipped ${total} source rows (${parts.join(', ')})\n`);
    }
  }
}

/**
 * The events of a dataset, one at a time, streamed from the files under `dataDir`. Throws
 * DatasetError for an unknown name, a missing file or malformed input.
 */
export async function* datasetEvents(name: DatasetName, dataDir: string, options: DatasetOptions = {}): AsyncGenerator<DatasetEvent, void, undefined> {
  for await (const batch of datasetEventBatches(name, dataDir, options)) {
    for (const event of batch) yield event; // cheaper than yield* over an array
  }
}

// ---------------------------------------------------------------------------------------------------
// CLI

const USAGE = 'usage: datasets.ts NAME [--data-dir DIR] [--limit N] | --list';

async function writeOut(chunk: string): Promise<void> {
  if (!process.stdout.write(chunk)) {
    await new Promise<void>((resolveDrain, reject) => {
      const onDrain = (): void => {
        process.stdout.off('error', onError);
        resolveDrain();
      };
      const onError = (err: Error): void => {
        process.stdout.off('drain', onDrain);
        reject(err);
      };
      process.stdout.once('drain', onDrain);
      process.stdout.once('error', onError);
    });
  }
}

async function main(argv: string[]): Promise<void> {
  let name: string | undefined;
  let dataDir = resolve(process.cwd(), '../shared/data');
  let limit = Infinity;
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new DatasetError(`${flag} needs a value; ${USAGE}`);
      return v;
    };
    if (flag === '--list') list = true;
    else if (flag === '--data-dir') dataDir = resolve(value());
    else if (flag === '--limit') {
      const v = value();
      if (!UNSIGNED.test(v)) throw new DatasetError(`--limit must be a non-negative integer, got ${JSON.stringify(v)}`);
      limit = Number(v);
    } else if (flag === '-h' || flag === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return;
    } else if (arg.startsWith('-')) throw new DatasetError(`unknown option ${arg}; ${USAGE}`);
    else if (name === undefined) name = arg;
    else throw new DatasetError(`unexpected argument ${JSON.stringify(arg)}; ${USAGE}`);
  }
  if (list) {
    let out = 'name\tevents\tself_directed\tdescription\n';
    for (const n of DATASET_NAMES) {
      const d = DATASETS[n];
      out += `${n}\t${d.events}\t${d.selfDirected}\t${d.description}\n`;
    }
    await writeOut(out);
    return;
  }
  if (name === undefined) throw new DatasetError(`missing dataset name; ${USAGE}`);
  if (!isDatasetName(name)) {
    throw new DatasetError(`unknown dataset ${JSON.stringify(name)} (known: ${DATASET_NAMES.join(', ')})`);
  }
  if (limit === 0) return;
  let buffer = '';
  let count = 0;
  outer: for await (const batch of datasetEventBatches(name, dataDir)) {
    for (const event of batch) {
      buffer += `${JSON.stringify(event)}\n`;
      if (++count >= limit) break outer;
    }
    if (buffer.length >= 1 << 16) {
      await writeOut(buffer);
      buffer = '';
    }
  }
  if (buffer) await writeOut(buffer);
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  // A closed pipe (e.g. `| head`) is a normal way to stop.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  main(process.argv.slice(2)).catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') process.exit(0);
    process.stderr.write(`datasets: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(2);
  });
}
