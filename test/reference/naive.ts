// Deliberately naive reference implementation of SPEC.md §2 (event rules, text features,
// ingest semantics) and §3 (metrics, without spam_score and flags), for differential tests.
//
// Written independently of src/: no indexes, no incremental state, just loops and filters over
// the whole (deduplicated) event array. Clarity over speed.

export type EventType = 'follow' | 'unfollow' | 'like' | 'reply' | 'mention' | 'repost' | 'post';

export interface RefEvent {
  type: EventType;
  actor: string;
  target?: string;
  occurredAt: Date | string /* RFC 3339 */;
  text?: string;
  hasLink?: boolean;
  isQuestion?: boolean;
  id?: string;
  post?: string;
}

export interface Ratio {
  value: number | null;
  numerator: number;
  denominator: number;
}

export interface RefOptions {
  since?: Date;
  until?: Date;
  churnHours?: number /* default 72 */;
}

// ---------------------------------------------------------------------------------------------
// Text features
// ---------------------------------------------------------------------------------------------

// The characters with the Unicode White_Space property, written out (JS `\s` differs: it has
// U+FEFF and lacks U+0085).
const WS = '\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';

// A link: `http://`, `https://` or `www.` in any (ASCII) case, followed by one or more characters
// that are not white space. Case-insensitivity is spelled out per letter rather than with the `i`
// flag, so that e.g. U+017F (long s) does not count as an `s`.
const LINK_SOURCE = `(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\\.)[^${WS}]+`;

function removeLinks(text: string): string {
  return text.replace(new RegExp(LINK_SOURCE, 'g'), '');
}

export function textFeatures(text: string): { hasLink: boolean; isQuestion: boolean; normalised: string } {
  const hasLink = new RegExp(LINK_SOURCE).test(text);
  const isQuestion = removeLinks(text).includes('?');
  let normalised = text.toLowerCase();
  normalised = removeLinks(normalised);
  normalised = normalised.replace(new RegExp(`[${WS}]+`, 'g'), ' ');
  normalised = normalised.replace(new RegExp(`^[${WS}]+|[${WS}]+$`, 'g'), '');
  return { hasLink, isQuestion, normalised };
}

// ---------------------------------------------------------------------------------------------
// Timestamps: instants as bigint microseconds since the Unix epoch
// ---------------------------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Microseconds since the epoch. Fractions finer than 1 µs are rounded to the nearest µs (half up). */
export function toMicros(t: Date | string): bigint {
  if (t instanceof Date) {
    const ms = t.getTime();
    if (Number.isNaN(ms)) throw new Error('invalid Date');
    return BigInt(ms) * 1000n;
  }
  const m = RFC3339.exec(t);
  if (m === null) throw new Error(`not an RFC 3339 timestamp: ${t}`);
  const [, Y, Mo, D, h, mi, s, frac, , sign, oh, om] = m;
  const days = daysFromCivil(Number(Y), Number(Mo), Number(D));
  let seconds = days * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(s);
  if (sign !== undefined) {
    const offset = Number(oh) * 3600 + Number(om) * 60;
    seconds -= sign === '+' ? offset : -offset;
  }
  let micros = 0n;
  if (frac !== undefined) {
    const digits = (frac + '0000000').slice(0, 7);
    micros = BigInt(digits.slice(0, 6));
    if (Number(digits[6]) >= 5) micros += 1n;
  }
  return BigInt(seconds) * 1_000_000n + micros;
}

const MICROS_PER_HOUR = 3_600_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

function hoursToMicros(hours: number): bigint {
  return BigInt(Math.round(hours * 3600 * 1_000_000));
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

// ---------------------------------------------------------------------------------------------
// Events after ingest
// ---------------------------------------------------------------------------------------------

export interface Stored {
  type: EventType;
  actor: string;
  target: string | null;
  post: string | null;
  t: bigint;
  hasLink: boolean;
  isQuestion: boolean;
  fingerprint: string | null; // null: no text, or text normalising to ''
}

function toStored(e: RefEvent): Stored {
  const features = e.text === undefined ? null : textFeatures(e.text);
  return {
    type: e.type,
    actor: e.actor,
    target: e.target ?? null,
    post: e.post ?? null,
    t: toMicros(e.occurredAt),
    hasLink: e.hasLink ?? features?.hasLink ?? false,
    isQuestion: e.isQuestion ?? features?.isQuestion ?? false,
    fingerprint: features === null || features.normalised === '' ? null : features.normalised,
  };
}

function canonical(s: Stored): string {
  return JSON.stringify([s.type, s.actor, s.target, s.post, s.t.toString(), s.hasLink, s.isQuestion, s.fingerprint]);
}

/**
 * Ingest: with an id, the first event seen with that id stands; without an id, an event whose
 * canonical content equals that of an earlier id-less event is a duplicate.
 */
export function dedupe(events: RefEvent[]): Stored[] {
  const kept: Stored[] = [];
  const keptIds: string[] = [];
  const keptCanon: string[] = [];
  for (const e of events) {
    const s = toStored(e);
    if (e.id !== undefined) {
      if (keptIds.includes(e.id)) continue;
      keptIds.push(e.id);
    } else {
      const c = canonical(s);
      if (keptCanon.includes(c)) continue;
      keptCanon.push(c);
    }
    kept.push(s);
  }
  return kept;
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

// The documented rule: every value that is not a count is answered rounded to 6 decimal places.
function ratio(numerator: number, denominator: number): Ratio {
  return { value: denominator === 0 ? null : Math.round((numerator / denominator) * 1e6) / 1e6, numerator, denominator };
}

const INTERACTIONS: EventType[] = ['like', 'reply', 'mention', 'repost'];

function isInteraction(e: Stored): boolean {
  return INTERACTIONS.includes(e.type);
}

function unique(xs: string[]): string[] {
  return xs.filter((x, i) => xs.indexOf(x) === i);
}

/** Follow state of actor→target: the latest follow/unfollow over ALL events; on a tie unfollow wins. */
function follows(all: Stored[], actor: string, target: string): boolean {
  const relevant = all.filter((e) => (e.type === 'follow' || e.type === 'unfollow') && e.actor === actor && e.target === target);
  if (relevant.length === 0) return false;
  let latest = relevant[0]!.t;
  for (const e of relevant) if (e.t > latest) latest = e.t;
  const atLatest = relevant.filter((e) => e.t === latest);
  return !atLatest.some((e) => e.type === 'unfollow');
}

export interface RefMetrics {
  reciprocity: {
    followers: number;
    following: number;
    mutual: number;
    follow_back_rate: Ratio;
    followers_followed_back: Ratio;
    graph_reciprocity: Ratio;
    following_to_followers: Ratio;
    partners_engaged: number;
    partners_engaging: number;
    partners_mutual: number;
    engagement_reciprocity: Ratio;
    exchange_balance: Ratio;
    response_rate: Ratio;
  };
  engagement: {
    interactions_received: { like: number; reply: number; mention: number; repost: number; total: number };
    engaged_followers: number;
    engaged_follower_ratio: Ratio;
    interactions_per_follower: Ratio;
  };
  spam: {
    posts: number;
    link_post_ratio: Ratio;
    question_ratio: Ratio;
    duplicate_post_ratio: Ratio;
    follows: number;
    quick_unfollows: number;
    follow_churn_ratio: Ratio;
    peak_daily_follows: number;
    like_for_like_ratio: Ratio;
  };
}

export function referenceMetrics(events: RefEvent[], account: string, opts: RefOptions = {}): RefMetrics {
  const A = account;
  const all = dedupe(events);
  // Self-directed events count in no metric.
  const notSelf = all.filter((e) => e.target !== e.actor);
  const since = opts.since === undefined ? null : toMicros(opts.since);
  const until = opts.until === undefined ? null : toMicros(opts.until);
  const inWindow = (t: bigint) => (since === null || t >= since) && (until === null || t < until);
  const win = notSelf.filter((e) => inWindow(e.t));
  const churn = hoursToMicros(opts.churnHours ?? 72);

  // ---- follow graph (current state, ignores the window) ----
  const everyone = unique(notSelf.flatMap((e) => (e.target === null ? [e.actor] : [e.actor, e.target]))).filter((x) => x !== A);
  const followerList = everyone.filter((x) => follows(notSelf, x, A));
  const followingList = everyone.filter((y) => follows(notSelf, A, y));
  const mutualList = followerList.filter((x) => followingList.includes(x));
  const followers = followerList.length;
  const following = followingList.length;
  const mutual = mutualList.length;

  // ---- interactions in the window ----
  const outInteractions = win.filter((e) => isInteraction(e) && e.actor === A && e.target !== A);
  const inInteractions = win.filter((e) => isInteraction(e) && e.target === A && e.actor !== A);
  const engaged = unique(outInteractions.map((e) => e.target!));
  const engaging = unique(inInteractions.map((e) => e.actor));
  const partnersMutual = engaged.filter((x) => engaging.includes(x));

  let balanceNum = 0;
  let balanceDen = 0;
  for (const x of engaged) {
    const out = outInteractions.filter((e) => e.target === x).length;
    const inn = inInteractions.filter((e) => e.actor === x).length;
    balanceNum += Math.min(out, inn);
    balanceDen += out;
  }

  // response_rate: received replies/mentions in the window; the answer may lie anywhere in time.
  const received = inInteractions.filter((e) => e.type === 'reply' || e.type === 'mention');
  const answered = received.filter((r) =>
    notSelf.some((a) => (a.type === 'reply' || a.type === 'mention') && a.actor === A && a.target === r.actor && a.t > r.t && a.t <= r.t + 72n * MICROS_PER_HOUR),
  );

  // ---- engagement ----
  const count = (type: EventType) => inInteractions.filter((e) => e.type === type).length;
  const receivedCounts = {
    like: count('like'),
    reply: count('reply'),
    mention: count('mention'),
    repost: count('repost'),
    total: inInteractions.length,
  };
  const engagedFollowers = followerList.filter((x) => engaging.includes(x)).length;

  // ---- spam ----
  const posts = win.filter((e) => e.type === 'post' && e.actor === A);
  let duplicates = 0;
  for (let i = 0; i < posts.length; i++) {
    const fp = posts[i]!.fingerprint;
    if (fp === null) continue;
    // k equal posts make k−1 duplicates: every one but the first in array order of the group.
    if (posts.slice(0, i).some((p) => p.fingerprint === fp)) duplicates++;
  }

  const followEvents = win.filter((e) => e.type === 'follow' && e.actor === A && e.target !== A);
  const quickUnfollows = followEvents.filter((f) => notSelf.some((u) => u.type === 'unfollow' && u.actor === A && u.target === f.target && u.t > f.t && u.t <= f.t + churn));
  let peak = 0;
  for (const f of followEvents) {
    const day = floorDiv(f.t, MICROS_PER_DAY);
    const n = followEvents.filter((g) => floorDiv(g.t, MICROS_PER_DAY) === day).length;
    if (n > peak) peak = n;
  }

  const liked = unique(win.filter((e) => e.type === 'like' && e.actor === A).map((e) => e.target!));
  const likeForLike = liked.filter(
    (x) =>
      win.some((e) => e.type === 'like' && e.actor === x && e.target === A) &&
      !win.some((e) => (e.type === 'reply' || e.type === 'mention') && ((e.actor === A && e.target === x) || (e.actor === x && e.target === A))),
  );

  return {
    reciprocity: {
      followers,
      following,
      mutual,
      follow_back_rate: ratio(mutual, following),
      followers_followed_back: ratio(mutual, followers),
      graph_reciprocity: ratio(2 * mutual, followers + following),
      following_to_followers: ratio(following, followers),
      partners_engaged: engaged.length,
      partners_engaging: engaging.length,
      partners_mutual: partnersMutual.length,
      engagement_reciprocity: ratio(partnersMutual.length, engaged.length),
      exchange_balance: ratio(balanceNum, balanceDen),
      response_rate: ratio(answered.length, received.length),
    },
    engagement: {
      interactions_received: receivedCounts,
      engaged_followers: engagedFollowers,
      engaged_follower_ratio: ratio(engagedFollowers, followers),
      interactions_per_follower: ratio(receivedCounts.total, followers),
    },
    spam: {
      posts: posts.length,
      link_post_ratio: ratio(posts.filter((p) => p.hasLink).length, posts.length),
      question_ratio: ratio(posts.filter((p) => p.isQuestion).length, posts.length),
      duplicate_post_ratio: ratio(duplicates, posts.length),
      follows: followEvents.length,
      quick_unfollows: quickUnfollows.length,
      follow_churn_ratio: ratio(quickUnfollows.length, followEvents.length),
      peak_daily_follows: peak,
      like_for_like_ratio: ratio(likeForLike.length, liked.length),
    },
  };
}
