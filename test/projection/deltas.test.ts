import fc from 'fast-check';
import t from 'tap';
import { nearestUnfollows, unfollowGaps, type PairEvent } from '../../src/projection/deltas.js';
import { holds } from '../property.js';

/**
 * The gap search of the churn recount (src/projection/deltas.ts), with no database: each gap's
 * answer is computed here by brute force over a pair's stored unfollows, and the answer per
 * instant is held against a plain scan.
 */

const mark = (actor: string, target: string, at: number): PairEvent =>
  ({ id: `${actor}-${target}-${at}`, type: 'follow', actor, target, occurredAtMicros: BigInt(at) }) as PairEvent;
const format = (micros: bigint) => String(micros);
const bound = (s: string) => (s === 'infinity' ? Infinity : s === '-infinity' ? -Infinity : Number(s));

/** What a database would answer for each gap: the stored unfollow in (lo, hi] nearest its instant. */
function inGaps(gaps: ReturnType<typeof unfollowGaps>, stored: Map<string, number[]>, before: boolean) {
  return gaps.map((g) => {
    const hits = (stored.get(`${g.actor}>${g.target}`) ?? []).filter((u) => u > bound(g.lo) && u <= bound(g.hi));
    if (hits.length === 0) return undefined;
    return BigInt(before ? Math.max(...hits) : Math.min(...hits));
  });
}

t.test('a hand-worked pair: each instant gets the stored unfollow next to it, across empty gaps', async (t) => {
  const stored = new Map([['a>b', [5, 30]]]);
  const instants = [mark('a', 'b', 10), mark('a', 'b', 20), mark('a', 'b', 30), mark('a', 'b', 40)];
  const after = unfollowGaps(instants, false, format);
  const next = nearestUnfollows(after, inGaps(after, stored, false), false).get('a\nb')!;
  // after 10: 30 (the gap (10, 20] is empty, so 20's answer); after 20: 30; after 30 and 40: none.
  t.strictSame([...next.entries()].sort(), [
    [10n, 30n],
    [20n, 30n],
  ]);
  const before = unfollowGaps(instants, true, format);
  const last = nearestUnfollows(before, inGaps(before, stored, true), true).get('a\nb')!;
  // at or before 10: 5; 20: 5; 30: 30 (at counts); 40: 30.
  t.strictSame([...last.entries()].sort(), [
    [10n, 5n],
    [20n, 5n],
    [30n, 30n],
    [40n, 30n],
  ]);
});

t.test('for any stored unfollows and instants, of any pairs, the gaps give what a scan of each pair gives', async (t) => {
  const pair = fc.constantFrom('a>b', 'b>a', 'a>c');
  holds(
    t,
    fc.property(
      fc.array(fc.tuple(pair, fc.integer({ min: 0, max: 60 })), { maxLength: 30 }),
      fc.array(fc.tuple(pair, fc.integer({ min: 0, max: 60 })), { minLength: 1, maxLength: 30 }),
      fc.boolean(),
      (storedList, instantList, before) => {
        const stored = new Map<string, number[]>();
        for (const [p, at] of storedList) stored.set(p, [...(stored.get(p) ?? []), at]);
        const instants = instantList.map(([p, at]) => mark(p.split('>')[0]!, p.split('>')[1]!, at));
        const gaps = unfollowGaps(instants, before, format);
        const found = nearestUnfollows(gaps, inGaps(gaps, stored, before), before);
        return instants.every((e) => {
          const all = stored.get(`${e.actor}>${e.target}`) ?? [];
          const t0 = Number(e.occurredAtMicros);
          const candidates = all.filter((u) => (before ? u <= t0 : u > t0));
          const expected = candidates.length === 0 ? undefined : BigInt(before ? Math.max(...candidates) : Math.min(...candidates));
          return found.get(`${e.actor}\n${e.target}`)?.get(e.occurredAtMicros) === expected;
        });
      },
    ),
    { seed: 0x6a95, numRuns: 500 },
  );
});
