import fc from 'fast-check';
import t from 'tap';
import {
  answeredCount,
  answeredDelta,
  churnBuckets,
  churnDelta,
  pairContribution,
  type Counts,
  type PairContribution,
  type PairState,
  type Timed,
} from '../../src/scoring/pairs.js';
import { referenceMetrics, type RefEvent } from '../reference/naive.js';
import { holds } from '../property.js';

/**
 * The per-pair building blocks of the counters (src/scoring/pairs.ts), with no database: small
 * fixtures worked out by hand from SPEC §3, and properties against test/reference/naive.ts.
 */

const HOUR = 3_600_000_000n; // µs
const T0 = 1_767_225_600_000_000n; // 2026-01-01T00:00:00Z in µs since the epoch

/** RFC 3339 with microseconds, for the reference implementation (written here, not taken from src). */
function iso(micros: bigint): string {
  const ms = new Date(Number(micros / 1000n)).toISOString().slice(0, 23);
  return `${ms}${(micros % 1000n).toString().padStart(3, '0')}Z`;
}

const NOTHING: PairContribution = {
  followers: 0,
  following: 0,
  mutual: 0,
  partnersEngaged: 0,
  partnersEngaging: 0,
  partnersMutual: 0,
  exchangeMin: 0,
  interactionsSent: 0,
  receivedLike: 0,
  receivedReply: 0,
  receivedMention: 0,
  receivedRepost: 0,
  engagedFollowers: 0,
  likedAccounts: 0,
  likeForLikeAccounts: 0,
};
const contribution = (c: Partial<PairContribution>): PairContribution => ({ ...NOTHING, ...c });
const counts = (c: Partial<Counts> = {}): Counts => ({ like: 0, reply: 0, mention: 0, repost: 0, ...c });
const state = (s: { outFollows?: boolean; inFollows?: boolean; out?: Partial<Counts>; in?: Partial<Counts> }): PairState => ({
  outFollows: s.outFollows ?? false,
  inFollows: s.inFollows ?? false,
  out: counts(s.out),
  in: counts(s.in),
});
const add = (a: PairContribution, b: PairContribution): PairContribution => {
  const sum = { ...a };
  for (const k of Object.keys(NOTHING) as (keyof PairContribution)[]) sum[k] += b[k];
  return sum;
};

// ---------------------------------------------------------------------------------------------
// pairContribution
// ---------------------------------------------------------------------------------------------

t.test('a pair with no follow and no interaction contributes nothing', async (t) => {
  t.strictSame(pairContribution(state({})), NOTHING);
});

t.test('a follow from X makes X one follower of A and no followee', async (t) => {
  t.strictSame(pairContribution(state({ inFollows: true })), contribution({ followers: 1 }));
});

t.test('a follow by A makes X one followee of A and no follower', async (t) => {
  t.strictSame(pairContribution(state({ outFollows: true })), contribution({ following: 1 }));
});

t.test('follows both ways make X a follower, a followee and a mutual', async (t) => {
  t.strictSame(pairContribution(state({ outFollows: true, inFollows: true })), contribution({ followers: 1, following: 1, mutual: 1 }));
});

t.test('interactions A directs at X make X one engaged partner and count every one as sent', async (t) => {
  // 2 likes + 1 reply + 1 repost = 4 sent, nothing back: exchange min(4, 0) = 0; X was liked.
  t.strictSame(pairContribution(state({ out: { like: 2, reply: 1, repost: 1 } })), contribution({ partnersEngaged: 1, interactionsSent: 4, likedAccounts: 1 }));
});

t.test('interactions received from X are counted by type and make X an engaging partner', async (t) => {
  t.strictSame(
    pairContribution(state({ in: { like: 1, reply: 2, mention: 3, repost: 4 } })),
    contribution({ partnersEngaging: 1, receivedLike: 1, receivedReply: 2, receivedMention: 3, receivedRepost: 4 }),
  );
});

t.test('interactions both ways make a mutual partner whose exchange is the smaller side', async (t) => {
  // out: 3 mentions; in: 5 reposts → min(3, 5) = 3.
  t.strictSame(
    pairContribution(state({ out: { mention: 3 }, in: { repost: 5 } })),
    contribution({
      partnersEngaged: 1,
      partnersEngaging: 1,
      partnersMutual: 1,
      exchangeMin: 3,
      interactionsSent: 3,
      receivedRepost: 5,
    }),
  );
});

t.test('a follower who interacted with A is an engaged follower', async (t) => {
  t.strictSame(pairContribution(state({ inFollows: true, in: { like: 1 } })), contribution({ followers: 1, partnersEngaging: 1, receivedLike: 1, engagedFollowers: 1 }));
});

t.test('an account A follows that interacts with A, without following A, is not an engaged follower', async (t) => {
  t.strictSame(pairContribution(state({ outFollows: true, in: { like: 1 } })), contribution({ following: 1, partnersEngaging: 1, receivedLike: 1 }));
});

t.test('a follower to whom only A directed interactions is not an engaged follower', async (t) => {
  t.strictSame(pairContribution(state({ inFollows: true, out: { reply: 1 } })), contribution({ followers: 1, partnersEngaged: 1, interactionsSent: 1 }));
});

t.test('likes each way with no conversation make X a like-for-like account', async (t) => {
  t.strictSame(
    pairContribution(state({ out: { like: 1 }, in: { like: 2 } })),
    contribution({
      partnersEngaged: 1,
      partnersEngaging: 1,
      partnersMutual: 1,
      exchangeMin: 1,
      interactionsSent: 1,
      receivedLike: 2,
      likedAccounts: 1,
      likeForLikeAccounts: 1,
    }),
  );
});

t.test('a reply or mention in either direction spoils like-for-like', async (t) => {
  for (const talk of [{ out: { reply: 1 } }, { out: { mention: 1 } }, { in: { reply: 1 } }, { in: { mention: 1 } }]) {
    const s = state({ out: { like: 1, ...talk.out }, in: { like: 1, ...talk.in } });
    t.equal(pairContribution(s).likedAccounts, 1, JSON.stringify(talk));
    t.equal(pairContribution(s).likeForLikeAccounts, 0, JSON.stringify(talk));
  }
});

t.test('reposts do not spoil like-for-like: only replies and mentions are conversation', async (t) => {
  t.equal(pairContribution(state({ out: { like: 1, repost: 2 }, in: { like: 1, repost: 1 } })).likeForLikeAccounts, 1);
});

t.test('a like received without one given makes neither a liked account nor like-for-like', async (t) => {
  const c = pairContribution(state({ in: { like: 3 } }));
  t.equal(c.likedAccounts, 0);
  t.equal(c.likeForLikeAccounts, 0);
});

// ---------------------------------------------------------------------------------------------
// a change of a pair's state: what the projector's fold adds to A's counters (after − before)
// ---------------------------------------------------------------------------------------------

const contributionDelta = (before: PairState, after: PairState): PairContribution => {
  const a = pairContribution(after);
  const b = pairContribution(before);
  return Object.fromEntries(Object.keys(NOTHING).map((k) => [k, a[k as keyof PairContribution] - b[k as keyof PairContribution]])) as PairContribution;
};

t.test('the delta from a state to itself is zero everywhere', async (t) => {
  const s = state({ outFollows: true, inFollows: true, out: { like: 2 }, in: { reply: 1 } });
  t.strictSame(contributionDelta(s, s), NOTHING);
});

t.test('the delta of a follow back is one follower and one mutual', async (t) => {
  t.strictSame(contributionDelta(state({ outFollows: true }), state({ outFollows: true, inFollows: true })), contribution({ followers: 1, mutual: 1 }));
});

t.test('the delta of an unfollow by a follower who had interacted takes away the engaged follower too', async (t) => {
  t.strictSame(contributionDelta(state({ inFollows: true, in: { mention: 1 } }), state({ in: { mention: 1 } })), contribution({ followers: -1, engagedFollowers: -1 }));
});

t.test('the delta of a reply to a like-for-like partner ends the like-for-like and adds to the exchange', async (t) => {
  // before: out 1 like, in 1 like → exchange 1, sent 1, lfl 1. after: out 1 like + 1 reply → exchange
  // min(2, 1) = 1, sent 2, lfl 0.
  t.strictSame(
    contributionDelta(state({ out: { like: 1 }, in: { like: 1 } }), state({ out: { like: 1, reply: 1 }, in: { like: 1 } })),
    contribution({ interactionsSent: 1, likeForLikeAccounts: -1 }),
  );
});

const countsArb = fc.record({
  like: fc.nat({ max: 3 }),
  reply: fc.nat({ max: 2 }),
  mention: fc.nat({ max: 2 }),
  repost: fc.nat({ max: 2 }),
});
const stateArb: fc.Arbitrary<PairState> = fc.record({
  outFollows: fc.boolean(),
  inFollows: fc.boolean(),
  out: countsArb,
  in: countsArb,
});

t.test('deltas summed over any sequence of states telescope to the last contribution minus the first', async (t) => {
  holds(
    t,
    fc.property(fc.array(stateArb, { minLength: 1, maxLength: 12 }), (states) => {
      let sum = NOTHING;
      for (let i = 1; i < states.length; i++) sum = add(sum, contributionDelta(states[i - 1]!, states[i]!));
      const first = pairContribution(states[0]!);
      const last = pairContribution(states[states.length - 1]!);
      return JSON.stringify(add(sum, first)) === JSON.stringify(last);
    }),
    { seed: 1501, numRuns: 300 },
  );
});

t.test('the delta back undoes the delta forth', async (t) => {
  holds(
    t,
    fc.property(stateArb, stateArb, (a, b) => {
      const there = contributionDelta(a, b);
      const back = contributionDelta(b, a);
      return Object.values(add(there, back)).every((v) => v === 0);
    }),
    { seed: 1502, numRuns: 300 },
  );
});

// ---------------------------------------------------------------------------------------------
// pairContribution summed over partners against the reference implementation
// ---------------------------------------------------------------------------------------------

const PAIR_TYPES = ['follow', 'unfollow', 'like', 'reply', 'mention', 'repost'] as const;
const PARTNERS = ['x', 'y', 'z'] as const;

/** A's view of the pair (A, x), worked out from the events: follow state by the reference, counts by counting. */
function pairState(events: RefEvent[], x: string): PairState {
  const between = events.filter((e) => (e.actor === 'a' && e.target === x) || (e.actor === x && e.target === 'a'));
  const graph = referenceMetrics(between, 'a').reciprocity;
  const n = (actor: string, target: string, type: string) => between.filter((e) => e.actor === actor && e.target === target && e.type === type).length;
  const side = (actor: string, target: string): Counts => ({
    like: n(actor, target, 'like'),
    reply: n(actor, target, 'reply'),
    mention: n(actor, target, 'mention'),
    repost: n(actor, target, 'repost'),
  });
  return { outFollows: graph.following === 1, inFollows: graph.followers === 1, out: side('a', x), in: side(x, 'a') };
}

t.test("the contributions of A's pairs sum to the reference's counts for A, self-directed events and ties included", async (t) => {
  // Few distinct hours, so follows and unfollows of a pair often tie; actor = target happens too.
  const eventArb = fc.record({
    type: fc.constantFrom(...PAIR_TYPES),
    actor: fc.constantFrom('a', ...PARTNERS),
    target: fc.constantFrom('a', ...PARTNERS),
    hour: fc.nat({ max: 5 }),
  });
  holds(
    t,
    fc.property(fc.array(eventArb, { maxLength: 30 }), (drawn) => {
      const events: RefEvent[] = drawn.map((e, i) => ({
        id: `e${i}`,
        type: e.type,
        actor: e.actor,
        target: e.target,
        occurredAt: iso(T0 + BigInt(e.hour) * HOUR),
      }));
      const total = PARTNERS.reduce((sum, x) => add(sum, pairContribution(pairState(events, x))), NOTHING);
      const m = referenceMetrics(events, 'a');
      const expected: PairContribution = {
        followers: m.reciprocity.followers,
        following: m.reciprocity.following,
        mutual: m.reciprocity.mutual,
        partnersEngaged: m.reciprocity.partners_engaged,
        partnersEngaging: m.reciprocity.partners_engaging,
        partnersMutual: m.reciprocity.partners_mutual,
        exchangeMin: m.reciprocity.exchange_balance.numerator,
        interactionsSent: m.reciprocity.exchange_balance.denominator,
        receivedLike: m.engagement.interactions_received.like,
        receivedReply: m.engagement.interactions_received.reply,
        receivedMention: m.engagement.interactions_received.mention,
        receivedRepost: m.engagement.interactions_received.repost,
        engagedFollowers: m.engagement.engaged_followers,
        likedAccounts: m.spam.like_for_like_ratio.denominator,
        likeForLikeAccounts: m.spam.like_for_like_ratio.numerator,
      };
      return JSON.stringify(total) === JSON.stringify(expected);
    }),
    { seed: 1503, numRuns: 200 },
  );
});

// ---------------------------------------------------------------------------------------------
// answeredCount: "within 72 hours after t" is t < u ≤ t + 72 h
// ---------------------------------------------------------------------------------------------

t.test('a message answered exactly 72 hours later is answered', async (t) => {
  t.equal(answeredCount([T0], [T0 + 72n * HOUR]), 1);
});

t.test('a message answered 72 hours and one microsecond later is not answered', async (t) => {
  t.equal(answeredCount([T0], [T0 + 72n * HOUR + 1n]), 0);
});

t.test('an answer at the same instant as the message does not answer it', async (t) => {
  t.equal(answeredCount([T0], [T0]), 0);
});

t.test('an answer one microsecond after the message answers it', async (t) => {
  t.equal(answeredCount([T0], [T0 + 1n]), 1);
});

t.test('an answer before the message does not answer it', async (t) => {
  t.equal(answeredCount([T0], [T0 - 1n]), 0);
});

t.test('one answer answers every message of the 72 hours before it', async (t) => {
  // received at 0 h, 1 h, 70 h; one answer at 72 h: all three lie in [72 h − 72 h, 72 h).
  t.equal(answeredCount([T0, T0 + HOUR, T0 + 70n * HOUR], [T0 + 72n * HOUR]), 3);
});

t.test('answers given in any order are found', async (t) => {
  // 0 h is answered by 5 h; 100 h by 101 h; 200 h by nothing (the 300 h answer is 100 h late).
  t.equal(answeredCount([T0 + 200n * HOUR, T0, T0 + 100n * HOUR], [T0 + 300n * HOUR, T0 + 101n * HOUR, T0 + 5n * HOUR]), 2);
});

t.test('no messages or no answers make nothing answered', async (t) => {
  t.equal(answeredCount([], [T0]), 0);
  t.equal(answeredCount([T0], []), 0);
});

// ---------------------------------------------------------------------------------------------
// answeredDelta
// ---------------------------------------------------------------------------------------------

const old = (at: bigint): Timed => ({ at, isNew: false });
const fresh = (at: bigint): Timed => ({ at, isNew: true });

t.test('a change with no new event changes nothing answered', async (t) => {
  t.equal(answeredDelta([old(T0)], [old(T0 + HOUR)]), 0);
});

t.test('a new answer makes an earlier stored message answered', async (t) => {
  t.equal(answeredDelta([old(T0)], [fresh(T0 + 3n * HOUR)]), 1);
});

t.test('a new message already followed by a stored answer is answered on arrival', async (t) => {
  t.equal(answeredDelta([fresh(T0)], [old(T0 + 72n * HOUR)]), 1);
});

t.test('a new answer to a message already answered changes nothing', async (t) => {
  t.equal(answeredDelta([old(T0)], [old(T0 + HOUR), fresh(T0 + 2n * HOUR)]), 0);
});

t.test('a new answer more than 72 hours after the message changes nothing', async (t) => {
  t.equal(answeredDelta([old(T0)], [fresh(T0 + 72n * HOUR + 1n)]), 0);
});

t.test('a new message with no answer is not answered', async (t) => {
  t.equal(answeredDelta([fresh(T0)], [old(T0 - HOUR)]), 0);
});

// ---------------------------------------------------------------------------------------------
// churnBuckets: hours rounded up from a follow to the first later unfollow
// ---------------------------------------------------------------------------------------------

t.test('an unfollow exactly 72 hours after the follow lands in bucket 72', async (t) => {
  t.strictSame(churnBuckets([T0], [T0 + 72n * HOUR]), [72]);
});

t.test('an unfollow 72 hours and one microsecond after the follow lands in bucket 73', async (t) => {
  t.strictSame(churnBuckets([T0], [T0 + 72n * HOUR + 1n]), [73]);
});

t.test('an unfollow one microsecond after the follow lands in bucket 1', async (t) => {
  t.strictSame(churnBuckets([T0], [T0 + 1n]), [1]);
});

t.test('an unfollow at the same instant as the follow does not undo it after', async (t) => {
  t.strictSame(churnBuckets([T0], [T0]), [null]);
});

t.test('an unfollow before the follow does not count', async (t) => {
  t.strictSame(churnBuckets([T0], [T0 - HOUR]), [null]);
});

t.test('the first unfollow after the follow decides its bucket, whatever the order given', async (t) => {
  t.strictSame(churnBuckets([T0], [T0 + 100n * HOUR, T0 - HOUR, T0 + 2n * HOUR + 1n]), [3]);
});

t.test('each of several follows before one unfollow gets its own bucket', async (t) => {
  // follows at 0 h and 1 h 30 min, unfollow at 2 h: 2 h → 2; 30 min → 1.
  t.strictSame(churnBuckets([T0, T0 + HOUR + HOUR / 2n], [T0 + 2n * HOUR]), [2, 1]);
});

t.test('an unfollow exactly 8,760 hours after the follow lands in the last bucket', async (t) => {
  t.strictSame(churnBuckets([T0], [T0 + 8760n * HOUR]), [8760]);
});

t.test('an unfollow more than 8,760 hours after the follow has no bucket', async (t) => {
  t.strictSame(churnBuckets([T0], [T0 + 8760n * HOUR + 1n]), [null]);
});

t.test('a follow never undone has no bucket', async (t) => {
  t.strictSame(churnBuckets([T0, T0 + HOUR], []), [null, null]);
});

// ---------------------------------------------------------------------------------------------
// churnDelta
// ---------------------------------------------------------------------------------------------

const histogram = (m: Map<number, number>) => [...m.entries()].sort(([a], [b]) => a - b);

t.test('a change with no new event leaves the histogram alone', async (t) => {
  t.strictSame(histogram(churnDelta([old(T0)], [old(T0 + HOUR)])), []);
});

t.test('a new unfollow puts a stored follow into its bucket', async (t) => {
  t.strictSame(histogram(churnDelta([old(T0)], [fresh(T0 + 5n * HOUR)])), [[5, 1]]);
});

t.test('a new follow before a stored unfollow goes into its bucket', async (t) => {
  t.strictSame(histogram(churnDelta([fresh(T0)], [old(T0 + 72n * HOUR)])), [[72, 1]]);
});

t.test('a new unfollow before the stored one moves the follow to a smaller bucket', async (t) => {
  t.strictSame(histogram(churnDelta([old(T0)], [old(T0 + 50n * HOUR), fresh(T0 + 3n * HOUR)])), [
    [3, 1],
    [50, -1],
  ]);
});

t.test('a new unfollow after the stored one changes nothing', async (t) => {
  t.strictSame(histogram(churnDelta([old(T0)], [old(T0 + 3n * HOUR), fresh(T0 + 4n * HOUR)])), []);
});

t.test('a new follow with no unfollow after it changes nothing', async (t) => {
  t.strictSame(histogram(churnDelta([fresh(T0 + 10n * HOUR)], [old(T0 + 5n * HOUR)])), []);
});

// ---------------------------------------------------------------------------------------------
// Batches in any order against the reference's recount of every event
// ---------------------------------------------------------------------------------------------

const BATCHES = 4;

/** Times on a grid that hits the horizons exactly, one microsecond either side, and ties. */
const timeAt = (hours: readonly number[]) => fc.tuple(fc.constantFrom(...hours), fc.constantFrom(0n, 0n, 0n, 1n, -1n)).map(([h, d]) => T0 + BigInt(h) * HOUR + d);

/** The events of batch `b` are new; those of earlier batches are stored; later ones have not arrived. */
function arrived<E extends { batch: number; at: bigint }>(events: E[], b: number, keep: (e: E) => boolean): Timed[] {
  return events.filter((e) => e.batch <= b && keep(e)).map((e) => ({ at: e.at, isNew: e.batch === b }));
}

/** Only what the function's contract promises: the events within `margin` of the new ones. */
function near(timed: Timed[], news: bigint[], margin: bigint): Timed[] {
  if (news.length === 0) return timed;
  const lo = news.reduce((m, x) => (x < m ? x : m)) - margin;
  const hi = news.reduce((m, x) => (x > m ? x : m)) + margin;
  return timed.filter((e) => e.at >= lo && e.at <= hi);
}

t.test('answered deltas summed over batches arriving in any order equal the reference count on all events', async (t) => {
  const messageArb = fc.record({
    from: fc.constantFrom('a', 'x'),
    type: fc.constantFrom('reply', 'mention'),
    at: timeAt([0, 1, 2, 24, 71, 72, 73, 74, 96, 143, 144, 145, 216]),
    batch: fc.nat({ max: BATCHES - 1 }),
  });
  holds(
    t,
    fc.property(fc.array(messageArb, { maxLength: 24 }), (messages) => {
      const answered = { a: 0, x: 0, aNear: 0, xNear: 0 };
      for (let b = 0; b < BATCHES; b++) {
        const fromA = arrived(messages, b, (m) => m.from === 'a');
        const fromX = arrived(messages, b, (m) => m.from === 'x');
        answered.a += answeredDelta(fromX, fromA);
        answered.x += answeredDelta(fromA, fromX);
        const news = messages.filter((m) => m.batch === b).map((m) => m.at);
        const w = 72n * HOUR;
        answered.aNear += answeredDelta(near(fromX, news, w), near(fromA, news, w));
        answered.xNear += answeredDelta(near(fromA, news, w), near(fromX, news, w));
      }
      const events: RefEvent[] = messages.map((m, i) => ({
        id: `m${i}`,
        type: m.type,
        actor: m.from,
        target: m.from === 'a' ? 'x' : 'a',
        occurredAt: iso(m.at),
      }));
      const forA = referenceMetrics(events, 'a').reciprocity.response_rate.numerator;
      const forX = referenceMetrics(events, 'x').reciprocity.response_rate.numerator;
      return answered.a === forA && answered.x === forX && answered.aNear === forA && answered.xNear === forX;
    }),
    { seed: 1504, numRuns: 400 },
  );
});

t.test('churn histograms summed over batches arriving in any order give the reference quick_unfollows for every churn_hours', async (t) => {
  const markArb = fc.record({
    type: fc.constantFrom('follow', 'unfollow'),
    at: timeAt([0, 1, 2, 71, 72, 73, 100, 8759, 8760, 8761, 8832, 17520]),
    batch: fc.nat({ max: BATCHES - 1 }),
  });
  const CHURN_HOURS = [1, 2, 71, 72, 73, 8759, 8760];
  holds(
    t,
    fc.property(fc.array(markArb, { maxLength: 20 }), (marks) => {
      const whole = new Map<number, number>();
      const trimmed = new Map<number, number>();
      const bump = (into: Map<number, number>, change: Map<number, number>) => {
        for (const [bucket, n] of change) {
          if (n === 0) return false; // a delta never carries an empty entry
          into.set(bucket, (into.get(bucket) ?? 0) + n);
        }
        return true;
      };
      for (let b = 0; b < BATCHES; b++) {
        const follows = arrived(marks, b, (m) => m.type === 'follow');
        const unfollows = arrived(marks, b, (m) => m.type === 'unfollow');
        if (!bump(whole, churnDelta(follows, unfollows))) return false;
        const news = marks.filter((m) => m.batch === b).map((m) => m.at);
        const w = 8760n * HOUR;
        if (!bump(trimmed, churnDelta(near(follows, news, w), near(unfollows, news, w)))) return false;
      }
      if ([...whole.values(), ...trimmed.values()].some((n) => n < 0)) return false;
      const events: RefEvent[] = marks.map((m, i) => ({
        id: `f${i}`,
        type: m.type,
        actor: 'a',
        target: 'x',
        occurredAt: iso(m.at),
      }));
      const upTo = (h: Map<number, number>, hours: number) => [...h].reduce((n, [bucket, k]) => (bucket <= hours ? n + k : n), 0);
      return CHURN_HOURS.every((hours) => {
        const expected = referenceMetrics(events, 'a', { churnHours: hours }).spam.quick_unfollows;
        return upTo(whole, hours) === expected && upTo(trimmed, hours) === expected;
      });
    }),
    { seed: 1505, numRuns: 300 },
  );
});

t.test('answeredCount and churnBuckets do not depend on the order of the events given', async (t) => {
  const timesArb = fc.array(timeAt([0, 1, 72, 73, 8760, 8761]), { maxLength: 10 });
  holds(
    t,
    fc.property(timesArb, timesArb, fc.nat(), (xs, ys, seed) => {
      const shuffled = fc.sample(fc.shuffledSubarray(ys, { minLength: ys.length, maxLength: ys.length }), { seed, numRuns: 1 })[0]!;
      return answeredCount(xs, ys) === answeredCount(xs, shuffled) && JSON.stringify(churnBuckets(xs, ys)) === JSON.stringify(churnBuckets(xs, shuffled));
    }),
    { seed: 1506, numRuns: 200 },
  );
});
