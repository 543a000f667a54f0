/**
 * RFC 3339 timestamps, kept to the microsecond (PostgreSQL's precision) so that the stored
 * instant, the canonical string and the content hash agree. Digits past the sixth are dropped.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** The instants Rapport keeps: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z (UTC). */
export const MIN_MICROS = -62_135_596_800_000_000n;
export const MAX_MICROS = 253_402_300_799_999_999n;

/** Keeps a computed bound (a window widened by hours) inside the representable range. */
export const clampMicros = (micros: bigint) => (micros < MIN_MICROS ? MIN_MICROS : micros > MAX_MICROS ? MAX_MICROS : micros);

export interface Instant {
  /** Microseconds since the Unix epoch. */
  micros: bigint;
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ` */
  canonical: string;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/** Parses an RFC 3339 date-time with a required offset; null when it is not one. */
export function parseRfc3339(value: string): Instant | null {
  const m = RFC3339.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  // A leap second (60) cannot be represented by PostgreSQL or JavaScript; it is refused, not rounded.
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const micros = BigInt(date.getTime() - offsetMinutes * 60_000) * 1000n + BigInt(fraction);
  // An offset can carry a wall time of year 1 or 9999 out of range once it is made UTC.
  if (micros < MIN_MICROS || micros > MAX_MICROS) return null;
  return { micros, canonical: formatMicros(micros) };
}

export function formatMicros(micros: bigint): string {
  const ms = Number(micros / 1000n) - (micros % 1000n < 0n ? 1 : 0);
  const subMicros = Number(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n);
  const d = new Date(ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    `.${pad(subMicros, 6)}Z`
  );
}

/** A time zone the runtime knows but the database's zone data does not (old aliases such as US/Pacific-New). */
export class UnknownTimeZoneError extends Error {
  constructor(readonly zone: string) {
    super(`the database does not know the time zone ${JSON.stringify(zone)}`);
  }
}
