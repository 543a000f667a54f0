import fc from 'fast-check';
import t from 'tap';
import { clampMicros, formatMicros, MAX_MICROS, MIN_MICROS, parseRfc3339 } from '../../src/domain/time.js';
import { toMicros } from '../reference/naive.js';
import { holds } from '../property.js';

/**
 * RFC 3339 timestamps with an offset (SPEC §2), kept to the microsecond, with no database.
 * Expected instants come from Date.UTC or the reference implementation, not from the code under test.
 */

/** Microseconds since the epoch of a UTC wall time (month 1–12), plus `micros`. */
const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, micros = 0) => BigInt(Date.UTC(y, mo - 1, d, h, mi, s)) * 1000n + BigInt(micros);

t.test('a Z timestamp is read as UTC and written back with six decimals', async (t) => {
  t.strictSame(parseRfc3339('2026-11-20T10:00:00Z'), {
    micros: utc(2026, 11, 20, 10),
    canonical: '2026-11-20T10:00:00.000000Z',
  });
});

t.test('a positive offset is subtracted to give UTC', async (t) => {
  t.strictSame(parseRfc3339('2026-11-20T12:00:00+02:00'), {
    micros: utc(2026, 11, 20, 10),
    canonical: '2026-11-20T10:00:00.000000Z',
  });
});

t.test('a negative offset with minutes is added to give UTC', async (t) => {
  // 10:00 at −05:30 is 15:30 UTC.
  t.equal(parseRfc3339('2026-11-20T10:00:00-05:30')?.canonical, '2026-11-20T15:30:00.000000Z');
});

t.test('an offset can carry the instant into the previous year', async (t) => {
  t.equal(parseRfc3339('2026-01-01T00:30:00+01:00')?.canonical, '2025-12-31T23:30:00.000000Z');
});

t.test('Z, +00:00 and -00:00 name the same instant', async (t) => {
  const z = parseRfc3339('2026-11-20T10:00:00Z');
  t.strictSame(parseRfc3339('2026-11-20T10:00:00+00:00'), z);
  t.strictSame(parseRfc3339('2026-11-20T10:00:00-00:00'), z);
});

t.test('a lower-case t and z, or a space for T, are accepted', async (t) => {
  const expected = parseRfc3339('2026-11-20T10:00:00Z');
  t.strictSame(parseRfc3339('2026-11-20t10:00:00z'), expected);
  t.strictSame(parseRfc3339('2026-11-20 10:00:00Z'), expected);
});

t.test('fractions of a second are kept to the microsecond', async (t) => {
  t.strictSame(parseRfc3339('2026-11-20T10:00:00.5Z'), {
    micros: utc(2026, 11, 20, 10, 0, 0, 500_000),
    canonical: '2026-11-20T10:00:00.500000Z',
  });
  t.equal(parseRfc3339('2026-11-20T10:00:00.000001Z')?.micros, utc(2026, 11, 20, 10, 0, 0, 1));
  t.equal(parseRfc3339('2026-11-20T10:00:00.123456+01:00')?.canonical, '2026-11-20T09:00:00.123456Z');
});

t.test('digits past the sixth are dropped, not rounded', async (t) => {
  t.equal(parseRfc3339('2026-11-20T10:00:00.1234569Z')?.canonical, '2026-11-20T10:00:00.123456Z');
  t.equal(parseRfc3339('2026-11-20T10:00:00.999999999Z')?.canonical, '2026-11-20T10:00:00.999999Z');
});

t.test('a fraction of ten or more digits is valid RFC 3339 and is read like one of nine', async (t) => {
  // RFC 3339 time-secfrac is "." 1*DIGIT: any number of digits.
  t.equal(parseRfc3339('2026-11-20T10:00:00.1234567891Z')?.canonical, '2026-11-20T10:00:00.123456Z');
});

t.test('a timestamp without an offset is refused', async (t) => {
  for (const s of ['2026-11-20T10:00:00', '2026-11-20T10:00:00.5', '2026-11-20']) t.equal(parseRfc3339(s), null, s);
});

t.test('other shapes are refused', async (t) => {
  for (const s of [
    '',
    '2026-11-20T10:00Z', // no seconds
    '2026-11-20T10:00:00+0200', // offset without colon
    '2026-11-20T10:00:00+02', // offset without minutes
    '2026-11-20T10:00:00.Z', // a point with no digit
    '26-11-20T10:00:00Z',
    '2026-11-20T10:00:00Z ', // trailing space
    ' 2026-11-20T10:00:00Z',
    '2026-11-20T10:00:00Z\n',
    '+2026-11-20T10:00:00Z',
    '2026-W47-5T10:00:00Z',
    '１２３４-11-20T10:00:00Z', // full-width digits
  ]) {
    t.equal(parseRfc3339(s), null, JSON.stringify(s));
  }
});

t.test('impossible dates are refused', async (t) => {
  for (const s of [
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-32T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2025-02-29T00:00:00Z', // not a leap year
    '1900-02-29T00:00:00Z', // divisible by 100, not by 400
  ]) {
    t.equal(parseRfc3339(s), null, s);
  }
});

t.test('29 February is accepted in leap years', async (t) => {
  t.equal(parseRfc3339('2024-02-29T00:00:00Z')?.micros, utc(2024, 2, 29));
  t.equal(parseRfc3339('2000-02-29T00:00:00Z')?.micros, utc(2000, 2, 29));
});

t.test('impossible times and offsets are refused', async (t) => {
  for (const s of [
    '2026-11-20T24:00:00Z',
    '2026-11-20T10:60:00Z',
    '2026-12-31T23:59:60Z', // a leap second cannot be stored
    '2026-11-20T10:00:00+24:00',
    '2026-11-20T10:00:00+01:60',
  ]) {
    t.equal(parseRfc3339(s), null, s);
  }
});

t.test('the first and last instants kept are 0001-01-01 and 9999-12-31 UTC', async (t) => {
  t.strictSame(parseRfc3339('0001-01-01T00:00:00Z'), { micros: MIN_MICROS, canonical: '0001-01-01T00:00:00.000000Z' });
  t.strictSame(parseRfc3339('9999-12-31T23:59:59.999999Z'), {
    micros: MAX_MICROS,
    canonical: '9999-12-31T23:59:59.999999Z',
  });
  t.equal(MIN_MICROS, toMicros('0001-01-01T00:00:00Z'));
  t.equal(MAX_MICROS, toMicros('9999-12-31T23:59:59.999999Z'));
});

t.test('an offset that carries a wall time out of the kept range is refused', async (t) => {
  t.equal(parseRfc3339('0001-01-01T00:00:00+00:01'), null);
  t.equal(parseRfc3339('9999-12-31T23:59:59.999999-00:01'), null);
  t.equal(parseRfc3339('0000-12-31T23:59:59Z'), null);
});

t.test('years before 100 are read as written, not as 19xx', async (t) => {
  t.equal(parseRfc3339('0099-06-15T00:00:00Z')?.canonical, '0099-06-15T00:00:00.000000Z');
  t.equal(parseRfc3339('0099-06-15T00:00:00Z')?.micros, toMicros('0099-06-15T00:00:00Z'));
});

t.test('instants before 1970 are written with their microseconds counted forward', async (t) => {
  t.equal(formatMicros(-1n), '1969-12-31T23:59:59.999999Z');
  t.equal(formatMicros(-1_000_000n), '1969-12-31T23:59:59.000000Z');
  t.equal(formatMicros(-1_500_000n), '1969-12-31T23:59:58.500000Z');
  t.equal(formatMicros(0n), '1970-01-01T00:00:00.000000Z');
});

t.test('a computed bound is clamped into the kept range', async (t) => {
  t.equal(clampMicros(MIN_MICROS - 1n), MIN_MICROS);
  t.equal(clampMicros(MAX_MICROS + 1n), MAX_MICROS);
  t.equal(clampMicros(0n), 0n);
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Any RFC 3339 timestamp with at most six decimals, years 2–9998 so no offset leaves the range. */
const timestampArb = fc
  .record({
    y: fc.integer({ min: 2, max: 9998 }),
    mo: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 28 }),
    h: fc.integer({ min: 0, max: 23 }),
    mi: fc.integer({ min: 0, max: 59 }),
    s: fc.integer({ min: 0, max: 59 }),
    frac: fc.option(fc.stringMatching(/^[0-9]{1,6}$/), { nil: undefined }),
    offset: fc.oneof(
      fc.constantFrom('Z', 'z', '+00:00', '-00:00'),
      fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([sign, oh, om]) => `${sign}${pad(oh, 2)}:${pad(om, 2)}`),
    ),
    sep: fc.constantFrom('T', 't', ' '),
  })
  .map(
    ({ y, mo, d, h, mi, s, frac, offset, sep }) =>
      `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${sep}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${frac === undefined ? '' : `.${frac}`}${offset}`,
  );

t.test('every timestamp is read as the same instant as the reference reads it', async (t) => {
  holds(
    t,
    fc.property(timestampArb, (s) => parseRfc3339(s)?.micros === toMicros(s)),
    { seed: 1541, numRuns: 2000 },
  );
});

t.test('the canonical form reads back as the same instant and is its own canonical form', async (t) => {
  holds(
    t,
    fc.property(timestampArb, (s) => {
      const first = parseRfc3339(s);
      const again = first && parseRfc3339(first.canonical);
      return again !== null && again.micros === first!.micros && again.canonical === first!.canonical;
    }),
    { seed: 1542, numRuns: 1000 },
  );
});

t.test('every instant in the kept range is written and read back unchanged', async (t) => {
  holds(
    t,
    fc.property(fc.bigInt({ min: MIN_MICROS, max: MAX_MICROS }), (micros) => {
      const text = formatMicros(micros);
      return parseRfc3339(text)?.micros === micros && toMicros(text) === micros;
    }),
    { seed: 1543, numRuns: 2000 },
  );
});
