import fc from 'fast-check';

/**
 * Follower changes (SPEC §8) worked out the plain way from a list of follow/unfollow events,
 * straight from the documented rules, for property tests to compare the service with.
 */

export interface Change {
  account: string;
  change: 'follow' | 'unfollow';
  at: string;
  followed_for_seconds: number | null;
  followed_back: boolean;
  quick: boolean;
}

export interface Mark {
  type: 'follow' | 'unfollow';
  actor: string;
  target: string;
  /** Whole milliseconds, in microseconds. */
  micros: number;
}

/** The marks of actor→target by instant: an unfollow wins its instant. */
function marksOf(events: Mark[], actor: string, target: string): Map<number, 'follow' | 'unfollow'> {
  const marks = new Map<number, 'follow' | 'unfollow'>();
  for (const e of events) {
    if (e.actor !== actor || e.target !== target) continue;
    if (e.type === 'unfollow' || !marks.has(e.micros)) marks.set(e.micros, e.type);
  }
  return marks;
}

/** A mark as the lists describe it: X's latest follow before it, and the account's own mark towards X at that instant. */
function describeMark(events: Mark[], account: string, x: string, micros: number, kind: 'follow' | 'unfollow', churnHours: number): Change {
  const mine = marksOf(events, x, account);
  const follows = [...mine].filter(([m, k]) => k === 'follow' && m < micros).map(([m]) => m);
  const lastFollow = kind === 'unfollow' && follows.length > 0 ? Math.max(...follows) : null;
  const back = [...marksOf(events, account, x)].filter(([m]) => m <= micros).sort(([a], [b]) => b - a)[0];
  const forMicros = lastFollow === null ? null : micros - lastFollow;
  return {
    account: x,
    change: kind,
    at: new Date(micros / 1000).toISOString().replace('Z', '000Z'),
    followed_for_seconds: forMicros === null ? null : forMicros / 1e6,
    followed_back: back?.[1] === 'follow',
    quick: forMicros !== null && forMicros <= churnHours * 3_600e6,
  };
}

const newestFirst = (a: Change, b: Change) => (a.at !== b.at ? (a.at < b.at ? 1 : -1) : a.account < b.account ? 1 : a.account > b.account ? -1 : 0);

/** Every mark of X towards the account that differs from X's previous mark. */
export function modelChanges(events: Mark[], account: string, churnHours: number): Change[] {
  const out: Change[] = [];
  for (const x of new Set(events.filter((e) => e.target === account && e.actor !== account).map((e) => e.actor))) {
    let previous: string | null = null;
    for (const [micros, kind] of [...marksOf(events, x, account)].sort(([a], [b]) => a - b)) {
      if (kind !== previous) out.push(describeMark(events, account, x, micros, kind, churnHours));
      previous = kind;
    }
  }
  return out.sort(newestFirst);
}

/** Each X whose latest mark towards the account is an unfollow, with that mark. */
export function modelUnfollowers(events: Mark[], account: string, churnHours: number): Change[] {
  const out: Change[] = [];
  for (const x of new Set(events.filter((e) => e.target === account && e.actor !== account).map((e) => e.actor))) {
    const [latest] = [...marksOf(events, x, account)].sort(([a], [b]) => b - a);
    if (latest?.[1] === 'unfollow') out.push(describeMark(events, account, x, latest[0], 'unfollow', churnHours));
  }
  return out.sort(newestFirst);
}

const ACCOUNTS = ['a', 'b', 'c', 'd', 'e'];
const BASE = Date.parse('2026-02-01T00:00:00Z');
// Few instants, so that ties (one pair, or several accounts, on one instant) are common; half an hour
// apart, so that churn_hours 1 and 2 mark some unfollows quick and not others.
export const markArb = fc.record({
  type: fc.constantFrom<Mark['type']>('follow', 'unfollow', 'follow'),
  actor: fc.constantFrom(...ACCOUNTS),
  target: fc.constantFrom('a', 'a', 'a', ...ACCOUNTS),
  micros: fc.integer({ min: 0, max: 8 }).map((h) => (BASE + h * 1_800_000) * 1000),
});

/** The marks as events to ingest, each with an id of its own (two marks alike are two events). */
export const marksToEvents = (marks: Mark[]) =>
  marks.map((m, i) => ({ id: `m${i}`, type: m.type, actor: m.actor, target: m.target, occurred_at: new Date(m.micros / 1000).toISOString() }));
