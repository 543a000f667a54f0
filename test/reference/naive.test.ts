// Hand-computed fixtures for the naive reference implementation (SPEC.md §2 and §3).
// Every expected number below was worked out by hand in the comments next to it.
import t from 'tap';
import { referenceMetrics, textFeatures, toMicros, type RefEvent, type EventType, type Ratio } from './naive.js';

const A = 'a';

function ev(type: EventType, actor: string, target: string | undefined, occurredAt: string | Date, extra: Partial<RefEvent> = {}): RefEvent {
  const e: RefEvent = { type, actor, occurredAt, ...extra };
  if (target !== undefined) e.target = target;
  return e;
}
function post(actor: string, occurredAt: string, text?: string, extra: Partial<RefEvent> = {}): RefEvent {
  return ev('post', actor, undefined, occurredAt, text === undefined ? extra : { text, ...extra });
}
function r(numerator: number, denominator: number): Ratio {
  return { value: denominator === 0 ? null : Math.round((numerator / denominator) * 1e6) / 1e6, numerator, denominator }; // 6 decimal places, as answered
}
const NULL = r(0, 0);

// ---------------------------------------------------------------------------------------------
t.test('text features', async (t) => {
  // U+0085 is White_Space: it separates and is trimmed.
  t.strictSame(textFeatures('a\u0085b\u0085'), { hasLink: false, isQuestion: false, normalised: 'a b' });
  // U+FEFF is NOT White_Space (unlike JS \s): kept, not trimmed, not collapsed.
  t.strictSame(textFeatures('\uFEFF'), { hasLink: false, isQuestion: false, normalised: '\uFEFF' });
  t.strictSame(textFeatures(' x\uFEFF y '), { hasLink: false, isQuestion: false, normalised: 'x\uFEFF y' });
  // U+200B zero width space is not White_Space either.
  t.equal(textFeatures('\u200B').normalised, '\u200B');
  // Only white space: normalises to ''.
  t.strictSame(textFeatures(' \t\n\r\u000B\u000C\u00A0\u1680\u2000\u200A\u2028\u2029\u202F\u205F\u3000 '), {
    hasLink: false,
    isQuestion: false,
    normalised: '',
  });
  t.strictSame(textFeatures(''), { hasLink: false, isQuestion: false, normalised: '' });
  // Mixed-case links; the `?` are inside links only -> not a question; 'look at  and ' -> 'look at and'.
  t.strictSame(textFeatures('Look at HtTpS://X.com?a and wWw.Foo.org?'), {
    hasLink: true,
    isQuestion: false,
    normalised: 'look at and',
  });
  t.strictSame(textFeatures('HTTP://x.y/?q'), { hasLink: true, isQuestion: false, normalised: '' });
  // A `?` outside the link remains.
  t.strictSame(textFeatures('x?http://y'), { hasLink: true, isQuestion: true, normalised: 'x?' });
  // A link ends at white space, including U+0085; U+FEFF does not end it.
  t.strictSame(textFeatures('www.a\u0085b'), { hasLink: true, isQuestion: false, normalised: 'b' });
  t.strictSame(textFeatures('www.a\uFEFF?b'), { hasLink: true, isQuestion: false, normalised: '' });
  // Scheme/www. must be followed by at least one non-white-space character.
  t.strictSame(textFeatures('http://'), { hasLink: false, isQuestion: false, normalised: 'http://' });
  t.strictSame(textFeatures('see http:// now?'), { hasLink: false, isQuestion: true, normalised: 'see http:// now?' });
  t.strictSame(textFeatures('www.'), { hasLink: false, isQuestion: false, normalised: 'www.' });
  t.strictSame(textFeatures('ftp://x'), { hasLink: false, isQuestion: false, normalised: 'ftp://x' });
  // A link may start inside a word.
  t.strictSame(textFeatures('foohttp://x bar'), { hasLink: true, isQuestion: false, normalised: 'foo bar' });
  t.strictSame(textFeatures('  Hello\t\tWORLD  '), { hasLink: false, isQuestion: false, normalised: 'hello world' });
});

t.test('timestamps', async (t) => {
  t.equal(toMicros('2026-11-20T12:00:00+02:00'), toMicros('2026-11-20T10:00:00Z'));
  t.equal(toMicros('2026-11-20T10:00:00.000001Z') - toMicros('2026-11-20T10:00:00Z'), 1n);
  t.equal(toMicros(new Date('2026-11-20T10:00:00.123Z')), toMicros('2026-11-20T10:00:00.123000Z'));
  t.equal(toMicros('1970-01-01T00:00:00Z'), 0n);
  t.equal(toMicros('1969-12-31T23:59:59.999999Z'), -1n);
  t.equal(toMicros('2026-11-19T20:30:00-05:30'), toMicros('2026-11-20T02:00:00Z'));
});

// ---------------------------------------------------------------------------------------------
t.test('follow graph: ties, out-of-order arrival, self, duplicates; window-independent', async (t) => {
  const events: RefEvent[] = [
    ev('follow', 'b', A, '2026-11-20T10:00:00Z'), // b -> a active
    ev('follow', A, 'b', '2026-11-20T11:00:00Z'), // a -> b active (mutual b)
    ev('follow', 'c', A, '2026-11-20T10:00:00Z'), // tie with the unfollow below:
    ev('unfollow', 'c', A, '2026-11-20T10:00:00Z'), //   unfollow wins -> c not a follower
    ev('unfollow', 'd', A, '2026-11-20T12:00:00Z'), // arrives first, but is the latest -> d not a follower
    ev('follow', 'd', A, '2026-11-20T09:00:00Z'),
    ev('follow', 'e', A, '2026-11-20T12:00:00Z'), // arrives first, is the latest -> e follower
    ev('unfollow', 'e', A, '2026-11-20T09:00:00Z'),
    ev('follow', A, 'f', '2026-11-20T10:00:00Z'), // a -> f active
    ev('follow', A, 'g', '2026-11-20T10:00:00Z'), // tie (same instant, other offset):
    ev('unfollow', A, 'g', '2026-11-20T12:00:00+02:00'), //   unfollow wins -> not following g
    ev('follow', A, 'h', '2026-11-20T10:00:00Z'),
    ev('unfollow', A, 'h', '2026-11-20T10:30:00Z'), // 30 min after a follow: a quick unfollow
    ev('follow', A, 'h', '2026-11-20T11:00:00Z'), // latest -> following h
    ev('follow', A, A, '2026-11-20T10:00:00Z'), // self: ignored everywhere
    ev('follow', A, 'f', '2026-11-20T11:00:00+01:00'), // identical resend of a -> f (same instant): duplicate
  ];
  // followers {b, e} = 2; following {b, f, h} = 3; mutual {b} = 1.
  // follows by a (not self, deduped): b, f, g, h(10:00), h(11:00) = 5; all on 2026-11-20 -> peak 5.
  // quick unfollows (72 h): g's unfollow is at the same instant (not after) -> no; h(10:00) -> 10:30 yes;
  // h(11:00): the only unfollow is before -> no. => 1.
  const expected = {
    reciprocity: {
      followers: 2,
      following: 3,
      mutual: 1,
      follow_back_rate: r(1, 3),
      followers_followed_back: r(1, 2),
      graph_reciprocity: r(2, 5),
      following_to_followers: r(3, 2),
      partners_engaged: 0,
      partners_engaging: 0,
      partners_mutual: 0,
      engagement_reciprocity: NULL,
      exchange_balance: NULL,
      response_rate: NULL,
    },
    engagement: {
      interactions_received: { like: 0, reply: 0, mention: 0, repost: 0, total: 0 },
      engaged_followers: 0,
      engaged_follower_ratio: r(0, 2),
      interactions_per_follower: r(0, 2),
    },
    spam: {
      posts: 0,
      link_post_ratio: NULL,
      question_ratio: NULL,
      duplicate_post_ratio: NULL,
      follows: 5,
      quick_unfollows: 1,
      follow_churn_ratio: r(1, 5),
      peak_daily_follows: 5,
      like_for_like_ratio: NULL,
    },
  };
  t.strictSame(referenceMetrics(events, A), expected);
  // Any permutation of arrival gives the same state.
  t.strictSame(referenceMetrics([...events].reverse(), A), expected);

  // A window after everything: graph unchanged, activity empty.
  const later = referenceMetrics(events, A, { since: new Date('2026-12-01T00:00:00Z') });
  t.strictSame(later.reciprocity, expected.reciprocity);
  t.strictSame(later.spam, {
    ...expected.spam,
    follows: 0,
    quick_unfollows: 0,
    follow_churn_ratio: NULL,
    peak_daily_follows: 0,
  });

  // From b's point of view: followers {a}, following {a} -> mutual 1, graph 2/2.
  const b = referenceMetrics(events, 'b');
  t.equal(b.reciprocity.followers, 1);
  t.equal(b.reciprocity.following, 1);
  t.strictSame(b.reciprocity.graph_reciprocity, r(2, 2));
  // Unknown account: zeros and nulls.
  const unknown = referenceMetrics(events, 'nobody');
  t.equal(unknown.reciprocity.followers, 0);
  t.strictSame(unknown.reciprocity.graph_reciprocity, NULL);
  t.strictSame(unknown.engagement.interactions_per_follower, NULL);
});

// ---------------------------------------------------------------------------------------------
t.test('interactions in a window: partners, balance, engagement, like-for-like', async (t) => {
  const events: RefEvent[] = [
    // graph, all before the window (still counts: the graph ignores the window)
    ev('follow', 'b', A, '2026-11-01T00:00:00Z'),
    ev('follow', 'c', A, '2026-11-01T00:00:00Z'),
    ev('follow', A, 'b', '2026-11-01T00:00:00Z'),
    // received
    ev('like', 'b', A, '2026-11-20T01:00:00Z'), // in
    ev('like', 'b', A, '2026-11-20T02:00:00Z'), // in
    ev('reply', 'b', A, '2026-11-20T03:00:00Z', { text: 'nice?' }), // in
    ev('repost', 'c', A, '2026-11-19T23:59:59.999Z'), // before since: out
    ev('mention', 'c', A, '2026-11-21T00:00:00Z'), // at until (exclusive): out
    ev('like', 'd', A, '2026-11-20T04:00:00Z'), // in (d is no follower)
    ev('repost', 'd', A, '2026-11-20T05:00:00Z'), // in
    ev('mention', A, A, '2026-11-20T06:00:00Z'), // self: ignored
    ev('like', A, A, '2026-11-20T06:00:00Z'), // self: ignored
    // given
    ev('like', A, 'b', '2026-11-20T07:00:00Z'),
    ev('reply', A, 'e', '2026-11-20T08:00:00Z'),
    ev('reply', A, 'e', '2026-11-20T09:00:00Z'),
    ev('like', A, 'd', '2026-11-20T10:00:00Z'),
    ev('like', A, 'f', '2026-11-20T11:00:00Z'),
    ev('like', A, 'f', '2026-11-20T11:00:00Z'), // identical resend: duplicate
    ev('like', A, 'c', '2026-11-21T01:00:00Z'), // after the window
  ];
  const opts = { since: new Date('2026-11-20T00:00:00Z'), until: new Date('2026-11-21T00:00:00Z') };
  // received in window: like b, b, d = 3; reply b = 1; mention 0; repost d = 1; total 5.
  // engaging {b, d}; engaged {b, e, d, f} (c's like is outside) ; mutual partners {b, d}.
  // exchange: b out 1 / in 3 -> 1; e out 2 / in 0 -> 0; d out 1 / in 2 -> 1; f out 1 / in 0 -> 0 => 2/5.
  // response_rate: received replies/mentions: b's reply; a never replied to/mentioned b => 0/1.
  // followers {b, c}; following {b}; mutual {b}. engaged followers: b (c only engaged outside) => 1/2.
  // like-for-like: a liked {b, d, f}; b liked a but replied to a -> no; d liked a, no conversation -> yes;
  // f did not like a -> no. => 1/3.
  t.strictSame(referenceMetrics(events, A, opts), {
    reciprocity: {
      followers: 2,
      following: 1,
      mutual: 1,
      follow_back_rate: r(1, 1),
      followers_followed_back: r(1, 2),
      graph_reciprocity: r(2, 3),
      following_to_followers: r(1, 2),
      partners_engaged: 4,
      partners_engaging: 2,
      partners_mutual: 2,
      engagement_reciprocity: r(2, 4),
      exchange_balance: r(2, 5),
      response_rate: r(0, 1),
    },
    engagement: {
      interactions_received: { like: 3, reply: 1, mention: 0, repost: 1, total: 5 },
      engaged_followers: 1,
      engaged_follower_ratio: r(1, 2),
      interactions_per_follower: r(5, 2),
    },
    spam: {
      posts: 0,
      link_post_ratio: NULL,
      question_ratio: NULL,
      duplicate_post_ratio: NULL,
      follows: 0,
      quick_unfollows: 0,
      follow_churn_ratio: NULL,
      peak_daily_follows: 0,
      like_for_like_ratio: r(1, 3),
    },
  });

  // All time: received adds c's repost and mention: like 3, reply 1, mention 1, repost 2, total 7.
  // engaging {b, c, d}; engaged {b, c, d, e, f}; mutual {b, c, d} -> 3/5.
  // exchange: b 1, e 0, d 1, f 0, c out 1 / in 2 -> 1 => 3/6.
  // response_rate: b's reply and c's mention: unanswered => 0/2.
  // engaged followers {b, c} => 2/2; per follower 7/2.
  // like-for-like: liked {b, d, f, c}: c never liked a -> still only d => 1/4. follows: 1 (a -> b).
  const allTime = referenceMetrics(events, A);
  t.strictSame(allTime.engagement, {
    interactions_received: { like: 3, reply: 1, mention: 1, repost: 2, total: 7 },
    engaged_followers: 2,
    engaged_follower_ratio: r(2, 2),
    interactions_per_follower: r(7, 2),
  });
  t.equal(allTime.reciprocity.partners_engaged, 5);
  t.equal(allTime.reciprocity.partners_engaging, 3);
  t.equal(allTime.reciprocity.partners_mutual, 3);
  t.strictSame(allTime.reciprocity.engagement_reciprocity, r(3, 5));
  t.strictSame(allTime.reciprocity.exchange_balance, r(3, 6));
  t.strictSame(allTime.reciprocity.response_rate, r(0, 2));
  t.strictSame(allTime.spam.like_for_like_ratio, r(1, 4));
  t.equal(allTime.spam.follows, 1);
  t.equal(allTime.spam.peak_daily_follows, 1);
});

t.test('like-for-like: a conversation in either direction, or outside the window', async (t) => {
  const events: RefEvent[] = [
    ev('like', A, 'p', '2026-11-20T01:00:00Z'),
    ev('like', 'p', A, '2026-11-20T02:00:00Z'), // p: pure like exchange -> counts
    ev('like', A, 'q', '2026-11-20T01:00:00Z'),
    ev('like', 'q', A, '2026-11-20T02:00:00Z'),
    ev('mention', A, 'q', '2026-11-20T03:00:00Z'), // a mentioned q -> not like-for-like
    ev('like', A, 's', '2026-11-20T01:00:00Z'),
    ev('like', 's', A, '2026-11-20T02:00:00Z'),
    ev('reply', 's', A, '2026-11-25T03:00:00Z'), // s replied, but outside the window -> counts
    ev('like', A, 'u', '2026-11-20T01:00:00Z'),
    ev('like', 'u', A, '2026-11-19T02:00:00Z'), // u liked a only before the window -> no
    ev('like', A, 'v', '2026-11-20T01:00:00Z'),
    ev('repost', 'v', A, '2026-11-20T02:00:00Z'), // a repost is not a like -> no
    ev('like', A, A, '2026-11-20T01:00:00Z'), // self: ignored
  ];
  // liked in window: {p, q, s, u, v} = 5; like-for-like: p, s = 2.
  const m = referenceMetrics(events, A, { since: new Date('2026-11-20T00:00:00Z'), until: new Date('2026-11-21T00:00:00Z') });
  t.strictSame(m.spam.like_for_like_ratio, r(2, 5));
  // all time: s's reply now counts -> s drops out; u's like (the 19th) now counts -> u joins: p, u => 2/5.
  t.strictSame(referenceMetrics(events, A).spam.like_for_like_ratio, r(2, 5));
});

// ---------------------------------------------------------------------------------------------
t.test('response_rate: 72-hour boundary, answer past until, strictly after', async (t) => {
  const events: RefEvent[] = [
    ev('reply', 'x', A, '2026-11-20T00:00:00Z'),
    ev('reply', A, 'x', '2026-11-23T00:00:00Z'), // exactly 72 h after -> answered
    ev('mention', 'y', A, '2026-11-20T00:00:00Z'),
    ev('mention', A, 'y', '2026-11-23T00:00:00.001Z'), // 72 h + 1 ms -> not answered
    ev('reply', 'z', A, '2026-11-20T00:00:00Z'),
    ev('mention', A, 'z', '2026-11-20T00:00:00Z'), // same instant, not after -> not answered
    ev('reply', 'w', A, '2026-11-20T12:00:00Z'),
    ev('reply', A, 'w', '2026-11-21T12:00:00Z'), // past `until`, within 72 h -> answered
    ev('mention', 'v', A, '2026-11-19T12:00:00Z'), // received before the window: not in the denominator
    ev('mention', A, 'v', '2026-11-20T01:00:00Z'),
    ev('like', 'u', A, '2026-11-20T01:00:00Z'), // a like is no message to answer
    ev('reply', A, 'u', '2026-11-20T02:00:00Z'),
    ev('mention', 's', A, '2026-11-20T00:00:00Z'),
    ev('mention', A, 's', '2026-11-23T00:00:00.000001Z'), // 72 h + 1 µs -> not answered
    ev('reply', 'q', A, '2026-11-20T00:00:00.000001Z'),
    ev('reply', A, 'q', '2026-11-23T00:00:00.000001Z'), // exactly 72 h at µs precision -> answered
    ev('reply', 'o', A, '2026-11-20T06:00:00Z'),
    ev('like', A, 'o', '2026-11-20T07:00:00Z'), // a like is no answer
    ev('repost', A, 'o', '2026-11-20T07:00:00Z'), // nor a repost
    ev('reply', A, 'p', '2026-11-20T07:00:00Z'), // an answer to another account is no answer to o
    ev('reply', A, A, '2026-11-20T07:00:00Z'), // self: ignored
  ];
  // denominator: x, y, z, w, s, q, o = 7 ; answered: x, w, q = 3.
  const opts = { since: new Date('2026-11-20T00:00:00Z'), until: new Date('2026-11-21T00:00:00Z') };
  t.strictSame(referenceMetrics(events, A, opts).reciprocity.response_rate, r(3, 7));
  // all time: + v (answered 13 h later) => 4/8.
  t.strictSame(referenceMetrics(events, A).reciprocity.response_rate, r(4, 8));
  // Window [2026-11-20T00:00:00, 00:00:01): received x, y, z, s (00:00:00) and q (00:00:00.000001)
  // = 5; their answers lie far past `until` and still count: x, q answered => 2/5.
  t.strictSame(referenceMetrics(events, A, { since: new Date('2026-11-20T00:00:00Z'), until: new Date('2026-11-20T00:00:01Z') }).reciprocity.response_rate, r(2, 5));
});

// ---------------------------------------------------------------------------------------------
t.test('posts: links, questions, duplicates, empty normalised text, ids', async (t) => {
  const events: RefEvent[] = [
    post(A, '2026-11-20T01:00:00Z', 'Buy now https://Example.com/x?ref=1'), // p1 link; '?' in link; fp 'buy now'
    post(A, '2026-11-20T02:00:00Z', 'buy   NOW\u0085'), // p2 fp 'buy now' -> duplicate
    post(A, '2026-11-20T03:00:00Z', 'Buy now'), // p3 fp 'buy now' -> duplicate (3 equal -> 2)
    post(A, '2026-11-20T04:00:00Z', 'WWW.spam.example'), // p4 link; fp none (empty)
    post(A, '2026-11-20T05:00:00Z', 'HTTP://x.y/?q'), // p5 link; '?' only in link; fp none
    post(A, '2026-11-20T06:00:00Z', undefined, { hasLink: true }), // p6 explicit link; no text
    post(A, '2026-11-20T07:00:00Z', 'Any thoughts?', { isQuestion: false }), // p7 override: no question
    post(A, '2026-11-20T08:00:00Z', 'any thoughts?'), // p8 question; duplicate of p7
    post(A, '2026-11-20T09:00:00Z', '\uFEFFbuy now'), // p9 U+FEFF is not white space: own fp
    post(A, '2026-11-20T10:00:00Z', 'what? http://a.b'), // p10 link + question; fp 'what?'
    post(A, '2026-11-20T03:00:00Z', 'Buy now'), // identical resend of p3: dropped
    post(A, '2026-11-20T03:00:00+00:00', 'BUY  now '), // same instant, same fingerprint, no id: dropped
    post(A, '2026-11-20T11:00:00Z', 'hello', { id: 'p-1' }), // p12 fp 'hello'
    post(A, '2026-11-20T11:30:00Z', 'different?', { id: 'p-1' }), // same id: the first stands -> dropped
    post(A, '2026-11-20T11:00:00Z', 'hello', { id: 'p-2' }), // p14 same content, other id: kept; duplicate
    post(A, '2026-11-20T12:00:00Z', 'same instant', { id: 'q1' }), // p15
    post(A, '2026-11-20T12:00:00Z', 'same instant', { id: 'q2' }), // p16 same instant -> 1 duplicate
    post(A, '2026-11-20T13:00:00Z', 'see http:// now?'), // p17 no link; question
    post(A, '2026-11-20T14:00:00Z', ' \u3000\t'), // p18 normalises to '' -> no fp
    post(A, '2026-11-20T15:00:00Z', '\u00A0'), // p19 normalises to '' -> no fp, not a duplicate of p18
    post(A, '2026-11-20T16:00:00Z', 'www.x?', { hasLink: false, isQuestion: true }), // p20 overrides both
    post('b', '2026-11-20T01:00:00Z', 'Buy now https://x'), // other author: not counted
  ];
  // posts: p1..p10 (10) + p12, p14, p15, p16, p17, p18, p19, p20 (8) = 18.
  // has_link: p1, p4, p5, p6, p10 = 5 (p17 no, p20 overridden false).
  // is_question: p8, p10, p17, p20 = 4 (p7 overridden false; p1, p5 only inside links).
  // duplicates: 'buy now' p1,p2,p3 -> 2; 'any thoughts?' p7,p8 -> 1; 'hello' p12,p14 -> 1;
  //             'same instant' p15,p16 -> 1 => 5. Empty ones (p4, p5, p18, p19, p20) and textless p6 never.
  const m = referenceMetrics(events, A);
  t.strictSame(m.spam, {
    posts: 18,
    link_post_ratio: r(5, 18),
    question_ratio: r(4, 18),
    duplicate_post_ratio: r(5, 18),
    follows: 0,
    quick_unfollows: 0,
    follow_churn_ratio: NULL,
    peak_daily_follows: 0,
    like_for_like_ratio: NULL,
  });
  // Window [02:30, 11:00): p3 (03:00), p4..p10 = 8 posts; 'buy now': p3 alone (p1, p2 outside) -> 0;
  // p7, p8 -> 1 => 1/8. links: p4, p5, p6, p10 = 4. questions: p8, p10 = 2.
  const w = referenceMetrics(events, A, { since: new Date('2026-11-20T02:30:00Z'), until: new Date('2026-11-20T11:00:00Z') });
  t.equal(w.spam.posts, 8);
  t.strictSame(w.spam.duplicate_post_ratio, r(1, 8));
  t.strictSame(w.spam.link_post_ratio, r(4, 8));
  t.strictSame(w.spam.question_ratio, r(2, 8));
  // k identical posts (k = 4, distinct instants) -> 3 duplicates.
  const four = [1, 2, 3, 4].map((h) => post(A, `2026-11-20T0${h}:00:00Z`, 'Same'));
  t.strictSame(referenceMetrics(four, A).spam.duplicate_post_ratio, r(3, 4));
  // k identical posts with ids at the same instant (k = 3) -> 2 duplicates.
  const three = ['i1', 'i2', 'i3'].map((id) => post(A, '2026-11-20T01:00:00Z', 'Same', { id }));
  t.strictSame(referenceMetrics(three, A).spam.duplicate_post_ratio, r(2, 3));
});

// ---------------------------------------------------------------------------------------------
t.test('follows: quick unfollows, churnHours, window cutting a pair, UTC days', async (t) => {
  const events: RefEvent[] = [
    ev('follow', A, 'b', '2026-11-20T10:00:00Z'),
    ev('unfollow', A, 'b', '2026-11-21T10:00:00Z'), // 24 h after
    ev('follow', A, 'c', '2026-11-20T11:00:00Z'),
    ev('unfollow', A, 'c', '2026-11-22T11:00:00Z'), // 48 h after
    ev('follow', A, 'd', '2026-11-20T12:00:00Z'),
    ev('unfollow', A, 'd', '2026-11-21T00:00:00Z'), // 12 h after
    ev('follow', A, 'e', '2026-11-20T23:59:59.999Z'), // last ms of the 20th (UTC)
    ev('follow', A, 'f', '2026-11-21T00:00:00Z'), // the 21st
    ev('unfollow', A, 'f', '2026-11-21T01:00:00Z'), // 1 h after
    ev('follow', A, 'g', '2026-11-20T05:00:00+06:00'), // = 2026-11-19T23:00Z: the 19th in UTC
    ev('follow', A, 'h', '2026-11-19T01:00:00Z'),
    ev('follow', A, 'i', '2026-11-19T02:00:00Z'),
    ev('follow', A, A, '2026-11-20T10:00:00Z'), // self: ignored
    ev('unfollow', A, A, '2026-11-20T11:00:00Z'), // self: ignored
    ev('follow', 'z', 'b', '2026-11-20T10:00:00Z'), // someone else's follow
    ev('unfollow', A, 'z', '2026-11-20T10:30:00Z'), // unfollow of a target a never followed
  ];
  const day20 = { since: new Date('2026-11-20T00:00:00Z'), until: new Date('2026-11-21T00:00:00Z') };
  // Window = the 20th: follows b, c, d, e = 4 (g is the 19th UTC; f is at `until`, excluded).
  // Unfollows past `until` still count. 72 h: b, c, d => 3/4. Peak: 4 on the 20th.
  // Graph (window-independent): following e, g, h, i = 4 (b, c, d, f unfollowed); followers 0.
  t.strictSame(referenceMetrics(events, A, day20), {
    reciprocity: {
      followers: 0,
      following: 4,
      mutual: 0,
      follow_back_rate: r(0, 4),
      followers_followed_back: NULL,
      graph_reciprocity: r(0, 4),
      following_to_followers: r(4, 0), // value null, numerator 4
      partners_engaged: 0,
      partners_engaging: 0,
      partners_mutual: 0,
      engagement_reciprocity: NULL,
      exchange_balance: NULL,
      response_rate: NULL,
    },
    engagement: {
      interactions_received: { like: 0, reply: 0, mention: 0, repost: 0, total: 0 },
      engaged_followers: 0,
      engaged_follower_ratio: NULL,
      interactions_per_follower: NULL,
    },
    spam: {
      posts: 0,
      link_post_ratio: NULL,
      question_ratio: NULL,
      duplicate_post_ratio: NULL,
      follows: 4,
      quick_unfollows: 3,
      follow_churn_ratio: r(3, 4),
      peak_daily_follows: 4,
      like_for_like_ratio: NULL,
    },
  });
  // churnHours 24: b (exactly 24 h) and d (12 h) => 2/4.
  t.strictSame(referenceMetrics(events, A, { ...day20, churnHours: 24 }).spam.follow_churn_ratio, r(2, 4));
  // churnHours 12: d (exactly 12 h) => 1/4.
  t.strictSame(referenceMetrics(events, A, { ...day20, churnHours: 12 }).spam.follow_churn_ratio, r(1, 4));
  // churnHours 11.5: none => 0/4.
  t.strictSame(referenceMetrics(events, A, { ...day20, churnHours: 11.5 }).spam.follow_churn_ratio, r(0, 4));
  // Window from the 21st: the unfollows of b, c, d are inside but their follows are not -> only f counts.
  // f: unfollow 1 h later => 1/1; peak 1.
  const from21 = referenceMetrics(events, A, { since: new Date('2026-11-21T00:00:00Z'), until: new Date('2026-11-23T00:00:00Z') });
  t.equal(from21.spam.follows, 1);
  t.strictSame(from21.spam.follow_churn_ratio, r(1, 1));
  t.equal(from21.spam.peak_daily_follows, 1);
  // All time: follows b, c, d, e, f, g, h, i = 8; quick (72 h): b, c, d, f = 4.
  // Days: 19th g, h, i = 3; 20th b, c, d, e = 4; 21st f = 1 => peak 4.
  const all = referenceMetrics(events, A);
  t.equal(all.spam.follows, 8);
  t.strictSame(all.spam.follow_churn_ratio, r(4, 8));
  t.equal(all.spam.peak_daily_follows, 4);
  // Window = the 19th: g, h, i => peak 3, no unfollows => 0/3.
  const day19 = referenceMetrics(events, A, { since: new Date('2026-11-19T00:00:00Z'), until: new Date('2026-11-20T00:00:00Z') });
  t.equal(day19.spam.peak_daily_follows, 3);
  t.strictSame(day19.spam.follow_churn_ratio, r(0, 3));
});

t.test('a follow re-made after a quick unfollow; one unfollow serves two follows', async (t) => {
  const events: RefEvent[] = [
    ev('follow', A, 'b', '2026-11-20T00:00:00Z'),
    ev('follow', A, 'b', '2026-11-20T01:00:00Z'),
    ev('unfollow', A, 'b', '2026-11-20T02:00:00Z'), // within 72 h of both follows
    ev('follow', A, 'b', '2026-11-20T03:00:00Z'), // never unfollowed again
  ];
  // follows 3; quick: the first two => 2/3; following b (latest is a follow) => 1.
  const m = referenceMetrics(events, A);
  t.strictSame(m.spam.follow_churn_ratio, r(2, 3));
  t.equal(m.reciprocity.following, 1);
});

// ---------------------------------------------------------------------------------------------
t.test('ingest: ids and identity of id-less events', async (t) => {
  const events: RefEvent[] = [
    ev('follow', 'b', A, '2026-11-20T10:00:00Z', { id: 'x1' }),
    ev('unfollow', 'b', A, '2026-11-20T11:00:00Z', { id: 'x1' }), // id conflict: first stands -> b follows a
    ev('like', 'c', A, '2026-11-20T10:00:00Z'),
    ev('like', 'c', A, '2026-11-20T10:00:00Z'), // identical resend, no id -> 1
    ev('like', 'c', A, new Date('2026-11-20T10:00:00Z')), // same instant as a Date -> still the same
    ev('like', 'c', A, '2026-11-20T10:00:00Z', { post: 'p1' }), // differs by post -> counts
    ev('like', 'd', A, '2026-11-20T10:00:00Z', { id: 'l1' }),
    ev('like', 'd', A, '2026-11-20T10:00:00Z', { id: 'l2' }), // distinct ids -> both count
    ev('like', 'd', A, '2026-11-20T10:00:00Z', { id: 'l2' }), // repeat of l2 -> ignored
    ev('like', 'd', A, '2026-11-20T10:00:00.000001Z'), // 1 µs later -> distinct
    ev('reply', 'e', A, '2026-11-20T10:00:00Z', { text: 'Hi' }),
    ev('reply', 'e', A, '2026-11-20T10:00:00Z', { text: 'hi ' }), // same fingerprint -> duplicate
    ev('reply', 'e', A, '2026-11-20T10:00:00Z', { text: 'hi?' }), // different -> counts
  ];
  // likes: c 2 (plain + post p1), d 3 (l1, l2, +1µs) = 5; replies: e 2. total 7. followers {b}.
  const m = referenceMetrics(events, A);
  t.equal(m.reciprocity.followers, 1);
  t.strictSame(m.engagement.interactions_received, { like: 5, reply: 2, mention: 0, repost: 0, total: 7 });
  t.strictSame(m.engagement.interactions_per_follower, r(7, 1));
  t.equal(m.engagement.engaged_followers, 0); // b never interacted
});

// ---------------------------------------------------------------------------------------------
t.test('handles 2,000 events quickly', async (t) => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const types: EventType[] = ['follow', 'unfollow', 'like', 'reply', 'mention', 'repost', 'post'];
  const events: RefEvent[] = [];
  for (let i = 0; i < 2000; i++) {
    const type = types[rand(types.length)]!;
    const actor = `u${rand(60)}`;
    const at = new Date(Date.UTC(2026, 10, 1) + rand(30 * 24 * 3600) * 1000).toISOString();
    events.push(type === 'post' ? post(actor, at, `text ${rand(5)}`) : ev(type, actor, `u${rand(60)}`, at));
  }
  const start = performance.now();
  for (const acct of ['u0', 'u1', 'u2']) referenceMetrics(events, acct, { since: new Date('2026-11-05T00:00:00Z') });
  const ms = (performance.now() - start) / 3;
  t.ok(ms < 1000, `one call took ${ms.toFixed(1)} ms`);
});
