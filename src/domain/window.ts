import { formatMicros, parseRfc3339 } from './time.js';

/** The span a read's activity metrics cover, [since, until), and what counts as a quick unfollow in it. */
export interface Window {
  /** Microseconds; null for an open end. */
  since: bigint | null;
  until: bigint | null;
  churnHours: number;
}

/** A window whose end is not after its start; `field` is the bound at fault, for the caller to name as its interface does. */
export class EmptyWindowError extends Error {
  readonly field = 'until';

  constructor() {
    super('must be later than since');
  }
}

/** A window from RFC 3339 bounds already checked to be valid instants. */
export function parseWindow(q: { since?: string | undefined; until?: string | undefined; churnHours: number }): Window {
  const since = q.since === undefined ? null : parseRfc3339(q.since)!.micros;
  const until = q.until === undefined ? null : parseRfc3339(q.until)!.micros;
  if (since !== null && until !== null && until <= since) throw new EmptyWindowError();
  return { since, until, churnHours: q.churnHours };
}

/** The window as every answer states it: canonical UTC instants, null for an open end. */
export const describeWindow = (w: Window) => ({
  since: w.since === null ? null : formatMicros(w.since),
  until: w.until === null ? null : formatMicros(w.until),
  churn_hours: w.churnHours,
});
