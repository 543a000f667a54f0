import { INTERACTION_TYPES, type EventType, type InteractionType } from '../domain/events.js';
import { answeredCount, churnBuckets, type Counts } from './pairs.js';
import type { Summary } from './summary.js';

/** An event of A's, as a windowed read loads it. */
export interface WindowEvent {
  type: EventType;
  /** The other account: the target of A's own events, the actor of events aimed at A; null for posts. */
  other: string | null;
  at: bigint;
  hasLink: boolean;
  isQuestion: boolean;
  fingerprint: string | null;
}

export interface WindowInput {
  /** [since, until) in microseconds; open ends are null. */
  since: bigint | null;
  until: bigint | null;
  churnHours: number;
  /** Events by A to others (never to A itself), from `since` to past `until` by the answer and churn horizons. */
  outgoing: WindowEvent[];
  /** Events by others aimed at A, inside the window. */
  incoming: WindowEvent[];
  /** The current follow graph counts (whatever the window). */
  graph: Pick<Summary, 'followers' | 'following' | 'mutual'>;
  /** Which of the accounts in `incoming` follow A now. */
  isFollower: (account: string) => boolean;
}

const isInteraction = (t: EventType): t is InteractionType => (INTERACTION_TYPES as readonly string[]).includes(t);
const isConversation = (t: EventType) => t === 'reply' || t === 'mention';
const DAY = 86_400_000_000n;

function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A Summary over the events of a window (SPEC §3's activity metrics), for reads with since/until. */
export function windowSummary(w: WindowInput): Summary {
  const inWindow = (at: bigint) => (w.since === null || at >= w.since) && (w.until === null || at < w.until);
  const out = w.outgoing.filter((e) => inWindow(e.at));
  const perPartner = new Map<string, { out: Counts; in: Counts }>();
  const partner = (x: string) => {
    let p = perPartner.get(x);
    if (!p) perPartner.set(x, (p = { out: { like: 0, reply: 0, mention: 0, repost: 0 }, in: { like: 0, reply: 0, mention: 0, repost: 0 } }));
    return p;
  };
  for (const e of out) if (e.other !== null && isInteraction(e.type)) partner(e.other).out[e.type]++;
  for (const e of w.incoming) if (e.other !== null && isInteraction(e.type)) partner(e.other).in[e.type]++;

  const total = (c: Counts) => c.like + c.reply + c.mention + c.repost;
  let partnersEngaged = 0;
  let partnersEngaging = 0;
  let partnersMutual = 0;
  let exchangeMin = 0;
  let interactionsSent = 0;
  let engagedFollowers = 0;
  let likedAccounts = 0;
  let likeForLikeAccounts = 0;
  for (const [x, p] of perPartner) {
    const sent = total(p.out);
    const got = total(p.in);
    interactionsSent += sent;
    if (sent > 0) partnersEngaged++;
    if (got > 0) partnersEngaging++;
    if (sent > 0 && got > 0) partnersMutual++;
    exchangeMin += Math.min(sent, got);
    if (got > 0 && w.isFollower(x)) engagedFollowers++;
    if (p.out.like > 0) {
      likedAccounts++;
      if (p.in.like > 0 && p.out.reply + p.out.mention + p.in.reply + p.in.mention === 0) likeForLikeAccounts++;
    }
  }

  // Answers may lie past `until`, so they come from every loaded outgoing event.
  const answersTo = new Map<string, bigint[]>();
  for (const e of w.outgoing) {
    if (e.other !== null && isConversation(e.type)) push(answersTo, e.other, e.at);
  }
  const receivedFrom = new Map<string, bigint[]>();
  for (const e of w.incoming) {
    if (e.other !== null && isConversation(e.type)) push(receivedFrom, e.other, e.at);
  }
  let conversationsReceived = 0;
  let conversationsAnswered = 0;
  for (const [x, times] of receivedFrom) {
    conversationsReceived += times.length;
    conversationsAnswered += answeredCount(times, answersTo.get(x) ?? []);
  }

  const posts = out.filter((e) => e.type === 'post');
  const fingerprints = new Map<string, number>();
  for (const p of posts) if (p.fingerprint) fingerprints.set(p.fingerprint, (fingerprints.get(p.fingerprint) ?? 0) + 1);

  // Unfollows may lie past `until`; churnBuckets rounds each delay up to whole hours.
  const follows = out.filter((e) => e.type === 'follow' && e.other !== null);
  const unfollowsOf = new Map<string, bigint[]>();
  for (const e of w.outgoing) {
    if (e.type === 'unfollow' && e.other !== null) push(unfollowsOf, e.other, e.at);
  }
  let quickUnfollows = 0;
  const followsOf = new Map<string, bigint[]>();
  for (const f of follows) push(followsOf, f.other!, f.at);
  for (const [x, times] of followsOf) {
    quickUnfollows += churnBuckets(times, unfollowsOf.get(x) ?? []).filter((b) => b !== null && b <= w.churnHours).length;
  }
  const perDay = new Map<bigint, number>();
  for (const f of follows) {
    const day = f.at >= 0n ? f.at / DAY : (f.at - DAY + 1n) / DAY;
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }

  const received = { like: 0, reply: 0, mention: 0, repost: 0 };
  for (const e of w.incoming) if (isInteraction(e.type)) received[e.type]++;

  return {
    ...w.graph,
    partnersEngaged,
    partnersEngaging,
    partnersMutual,
    exchangeMin,
    interactionsSent,
    received,
    engagedFollowers,
    conversationsReceived,
    conversationsAnswered,
    posts: posts.length,
    linkPosts: posts.filter((p) => p.hasLink).length,
    questionPosts: posts.filter((p) => p.isQuestion).length,
    duplicatePosts: [...fingerprints.values()].reduce((n, k) => n + k - 1, 0),
    follows: follows.length,
    quickUnfollows,
    peakDailyFollows: [...perDay.values()].reduce((m, n) => Math.max(m, n), 0),
    likedAccounts,
    likeForLikeAccounts,
  };
}
