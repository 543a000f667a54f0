import { createHash } from 'node:crypto';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { parseEvent, type ParseResult } from '../../src/domain/validate.js';
import type { NormalizedEvent } from '../../src/domain/events.js';
import { holds } from '../property.js';

/**
 * The event rules of SPEC §2, one event at a time, with no database and no server: types and
 * targets, the 5-minute future tolerance, ids, text only on post/reply/mention, lengths counted in
 * characters, control characters, and the identity of id-less events.
 */

const NOW = Date.parse('2026-11-20T12:00:00Z');
const LIKE = { type: 'like', actor: 'tw:alice', target: 'tw:bob', occurred_at: '2026-11-20T10:00:00Z' };
const POST = { type: 'post', actor: 'tw:alice', occurred_at: '2026-11-20T10:00:00Z' };
const INTERACTIONS = ['follow', 'unfollow', 'like', 'reply', 'mention', 'repost'];

const sha16 = (s: string) => createHash('sha256').update(s, 'utf8').digest().subarray(0, 16);
const EMOJI = '\u{1F600}'; // one character, two UTF-16 code units

function accepted(t: Test, input: unknown): NormalizedEvent {
  const r: ParseResult = parseEvent(input, NOW);
  if (!r.ok) t.fail(`refused: ${r.rejection.message}`, { input });
  return (r as { event: NormalizedEvent }).event;
}
const rejection = (input: unknown) => {
  const r = parseEvent(input, NOW);
  return r.ok ? null : r.rejection;
};
const idOf = (input: object) => {
  const r = parseEvent(input, NOW);
  return r.ok ? r.event.id : `refused: ${r.rejection.message}`;
};

// ---------------------------------------------------------------------------------------------
// The example of SPEC §2
// ---------------------------------------------------------------------------------------------

t.test('the example reply of SPEC §2 is stored with its features and without its text', async (t) => {
  const e = accepted(t, {
    id: 'evt_01H',
    type: 'reply',
    actor: 'tw:alice',
    target: 'tw:bob',
    post: 'tw:status/42',
    occurred_at: '2026-11-20T10:00:00Z',
    text: 'What did you think of chapter 3? https://example.com',
  });
  t.strictSame(
    { ...e, contentHash: undefined },
    {
      id: 'evt_01H',
      type: 'reply',
      actor: 'tw:alice',
      target: 'tw:bob',
      post: 'tw:status/42',
      occurredAt: '2026-11-20T10:00:00.000000Z',
      occurredAtMicros: BigInt(Date.UTC(2026, 10, 20, 10)) * 1000n,
      hasLink: true,
      isQuestion: true,
      // lower-cased, link removed, trimmed
      fingerprint: sha16('what did you think of chapter 3?'),
      contentHash: undefined,
    },
  );
  t.equal(e.contentHash.length, 16);
});

// ---------------------------------------------------------------------------------------------
// type and target
// ---------------------------------------------------------------------------------------------

t.test('every type but post is accepted with a target', async (t) => {
  for (const type of INTERACTIONS) t.equal(accepted(t, { ...LIKE, type }).target, 'tw:bob', type);
});

t.test('every type but post is refused without a target', async (t) => {
  for (const type of INTERACTIONS) {
    const { target: _, ...withoutTarget } = { ...LIKE, type };
    t.match(rejection(withoutTarget), { code: 'invalid_event', message: /target/ }, type);
  }
});

t.test('a post is accepted without a target', async (t) => {
  const e = accepted(t, POST);
  t.equal(e.type, 'post');
  t.equal(e.target, null);
});

t.test('a post is refused with a target', async (t) => {
  t.match(rejection({ ...POST, target: 'tw:bob' }), { code: 'invalid_event', message: /target/ });
});

t.test('a null target is read as absent', async (t) => {
  t.equal(accepted(t, { ...POST, target: null }).target, null);
  t.match(rejection({ ...LIKE, target: null }), { code: 'invalid_event', message: /target/ });
});

t.test('an unknown type is refused with the list of types', async (t) => {
  t.strictSame(rejection({ ...LIKE, type: 'share' }), {
    code: 'invalid_event',
    message: 'type: must be one of follow, unfollow, like, reply, mention, repost, post',
  });
  t.match(rejection({ ...LIKE, type: 'Like' }), { code: 'invalid_event', message: /^type:/ });
});

t.test('a self-directed event is accepted: it is stored, though it counts in no metric', async (t) => {
  const e = accepted(t, { ...LIKE, target: 'tw:alice' });
  t.equal(e.actor, e.target);
});

// ---------------------------------------------------------------------------------------------
// occurred_at
// ---------------------------------------------------------------------------------------------

t.test('an event exactly 5 minutes in the future is accepted', async (t) => {
  t.equal(accepted(t, { ...LIKE, occurred_at: '2026-11-20T12:05:00Z' }).occurredAt, '2026-11-20T12:05:00.000000Z');
});

t.test('an event 5 minutes and one microsecond in the future is refused as in the future', async (t) => {
  t.match(rejection({ ...LIKE, occurred_at: '2026-11-20T12:05:00.000001Z' }), { code: 'occurred_at_in_future' });
});

t.test('the future is judged on the instant, whatever the offset', async (t) => {
  t.equal(accepted(t, { ...LIKE, occurred_at: '2026-11-20T14:05:00+02:00' }).occurredAt, '2026-11-20T12:05:00.000000Z');
  t.match(rejection({ ...LIKE, occurred_at: '2026-11-20T14:05:01+02:00' }), { code: 'occurred_at_in_future' });
  t.match(rejection({ ...LIKE, occurred_at: '2026-11-20T12:05:01-00:00' }), { code: 'occurred_at_in_future' });
});

t.test('any past time is accepted as a backfill', async (t) => {
  t.equal(accepted(t, { ...LIKE, occurred_at: '0001-01-01T00:00:00Z' }).occurredAtMicros, -62_135_596_800_000_000n);
  t.equal(accepted(t, { ...LIKE, occurred_at: '1970-01-01T00:00:00Z' }).occurredAtMicros, 0n);
});

t.test('occurred_at is required, and must be an RFC 3339 string with an offset', async (t) => {
  const { occurred_at: _, ...without } = LIKE;
  t.match(rejection(without), { code: 'invalid_event', message: /occurred_at: required/ });
  for (const occurred_at of ['2026-11-20T10:00:00', '2026-11-20', 'yesterday', '', 1795168800, null]) {
    t.match(rejection({ ...LIKE, occurred_at }), { code: 'invalid_event', message: /occurred_at/ }, JSON.stringify(occurred_at));
  }
});

// ---------------------------------------------------------------------------------------------
// Accounts, ids and posts
// ---------------------------------------------------------------------------------------------

t.test('an account of 256 characters is accepted and one of 257 is refused', async (t) => {
  t.equal(accepted(t, { ...LIKE, actor: 'a'.repeat(256) }).actor.length, 256);
  t.match(rejection({ ...LIKE, actor: 'a'.repeat(257) }), { code: 'invalid_event', message: /actor/ });
  t.match(rejection({ ...LIKE, target: 'a'.repeat(257) }), { code: 'invalid_event', message: /target/ });
});

t.test('account length counts characters, not UTF-16 code units', async (t) => {
  t.equal(accepted(t, { ...LIKE, actor: EMOJI.repeat(256) }).actor, EMOJI.repeat(256));
  t.match(rejection({ ...LIKE, actor: EMOJI.repeat(257) }), { code: 'invalid_event', message: /actor/ });
  t.match(rejection({ ...LIKE, target: EMOJI.repeat(512) }), { code: 'invalid_event', message: /target/ });
});

t.test('an empty account is refused', async (t) => {
  t.match(rejection({ ...LIKE, actor: '' }), { code: 'invalid_event', message: /actor/ });
  t.match(rejection({ ...LIKE, target: '' }), { code: 'invalid_event', message: /target/ });
});

t.test('control characters are refused in actor, target, id and post', async (t) => {
  for (const c of ['\u0000', '\t', '\n', '\r', '\u001B', '\u007F', '\u0085', '\u009F']) {
    for (const field of ['actor', 'target', 'id', 'post']) {
      const code = `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')} in ${field}`;
      t.match(rejection({ ...LIKE, [field]: `x${c}y` }), { code: 'invalid_event', message: new RegExp(field) }, code);
    }
  }
});

t.test('format characters that are not control characters are accepted in accounts', async (t) => {
  t.equal(accepted(t, { ...LIKE, actor: 'tw:a\u200Bb\uFEFF' }).actor, 'tw:a\u200Bb\uFEFF');
});

t.test('a lone surrogate is refused in an account', async (t) => {
  t.match(rejection({ ...LIKE, actor: 'tw:\uD800' }), { code: 'invalid_event', message: /actor/ });
  t.match(rejection({ ...LIKE, target: '\uDC00x' }), { code: 'invalid_event', message: /target/ });
});

t.test('an account must be a string', async (t) => {
  t.match(rejection({ ...LIKE, actor: 42 }), { code: 'invalid_event', message: /actor/ });
  t.match(rejection({ ...LIKE, actor: ['tw:alice'] }), { code: 'invalid_event', message: /actor/ });
});

t.test('an id of 1 to 128 characters is kept as given', async (t) => {
  t.equal(accepted(t, { ...LIKE, id: 'x' }).id, 'x');
  t.equal(accepted(t, { ...LIKE, id: 'x'.repeat(128) }).id, 'x'.repeat(128));
  t.equal(accepted(t, { ...LIKE, id: EMOJI.repeat(128) }).id, EMOJI.repeat(128));
});

t.test('an empty id or one of 129 characters is refused', async (t) => {
  t.match(rejection({ ...LIKE, id: '' }), { code: 'invalid_event', message: /id/ });
  t.match(rejection({ ...LIKE, id: 'x'.repeat(129) }), { code: 'invalid_event', message: /id/ });
  t.match(rejection({ ...LIKE, id: EMOJI.repeat(129) }), { code: 'invalid_event', message: /id/ });
});

t.test('a post id of 256 characters is accepted and one of 257 is refused, counting characters', async (t) => {
  t.equal(accepted(t, { ...LIKE, post: 'p'.repeat(256) }).post, 'p'.repeat(256));
  t.match(rejection({ ...LIKE, post: 'p'.repeat(257) }), { code: 'invalid_event', message: /post/ });
  t.match(rejection({ ...LIKE, post: EMOJI.repeat(257) }), { code: 'invalid_event', message: /post/ });
});

// ---------------------------------------------------------------------------------------------
// Identity of id-less events
// ---------------------------------------------------------------------------------------------

t.test('an event without an id is named by a hash of its content', async (t) => {
  t.match(idOf(LIKE), /^h:[0-9a-f]{32}$/);
  t.equal(idOf({ ...LIKE, id: null }), idOf(LIKE));
});

t.test('an identical resend gets the same id', async (t) => {
  t.equal(idOf({ ...LIKE }), idOf(LIKE));
});

t.test('the same instant written with another offset or precision gets the same id', async (t) => {
  t.equal(idOf({ ...LIKE, occurred_at: '2026-11-20T11:00:00+01:00' }), idOf(LIKE));
  t.equal(idOf({ ...LIKE, occurred_at: '2026-11-20T10:00:00.000000Z' }), idOf(LIKE));
});

t.test('texts with the same features and normalised text get the same id', async (t) => {
  const reply = { ...LIKE, type: 'reply' };
  t.equal(idOf({ ...reply, text: 'Great  POST https://a.example' }), idOf({ ...reply, text: 'great post www.b.example' }));
});

t.test('events differing in any stored field get different ids', async (t) => {
  const reply = { ...LIKE, type: 'reply', text: 'hello' };
  const ids = [
    reply,
    { ...reply, type: 'mention' },
    { ...reply, actor: 'tw:carol' },
    { ...reply, target: 'tw:carol' },
    { ...reply, post: 'tw:status/1' },
    { ...reply, occurred_at: '2026-11-20T10:00:00.000001Z' },
    { ...reply, has_link: true },
    { ...reply, is_question: true },
    { ...reply, text: 'hello again' },
    { ...reply, text: undefined },
  ].map(idOf);
  t.equal(new Set(ids).size, ids.length, ids.join(' '));
});

t.test('the content hash ignores the client id, so one content under two ids is recognisable', async (t) => {
  t.strictSame(accepted(t, { ...LIKE, id: 'one' }).contentHash, accepted(t, { ...LIKE, id: 'two' }).contentHash);
  t.strictSame(accepted(t, { ...LIKE, id: 'one' }).contentHash, accepted(t, LIKE).contentHash);
});

// ---------------------------------------------------------------------------------------------
// text, has_link, is_question
// ---------------------------------------------------------------------------------------------

t.test('text is accepted on post, reply and mention', async (t) => {
  for (const type of ['reply', 'mention']) t.equal(accepted(t, { ...LIKE, type, text: 'hi?' }).isQuestion, true, type);
  t.equal(accepted(t, { ...POST, text: 'hi?' }).isQuestion, true, 'post');
});

t.test('text is refused on follow, unfollow, like and repost', async (t) => {
  for (const type of ['follow', 'unfollow', 'like', 'repost']) {
    t.match(rejection({ ...LIKE, type, text: 'hi' }), { code: 'invalid_event', message: /text/ }, type);
  }
});

t.test('a null text is read as absent, on any type', async (t) => {
  t.equal(accepted(t, { ...LIKE, text: null }).fingerprint, null);
});

t.test('text of 10,000 characters is accepted and of 10,001 refused, counting characters', async (t) => {
  t.ok(accepted(t, { ...POST, text: 'a'.repeat(10_000) }).fingerprint);
  t.ok(accepted(t, { ...POST, text: EMOJI.repeat(10_000) }).fingerprint);
  t.match(rejection({ ...POST, text: 'a'.repeat(10_001) }), { code: 'invalid_event', message: /text/ });
  t.match(rejection({ ...POST, text: EMOJI.repeat(10_001) }), { code: 'invalid_event', message: /text/ });
});

t.test('text may hold line breaks and tabs, which are white space', async (t) => {
  const e = accepted(t, { ...POST, text: 'line one\n\tline two\r\n' });
  t.strictSame(e.fingerprint, sha16('line one line two'));
});

t.test('text that normalises to nothing has no fingerprint', async (t) => {
  for (const text of ['', '   ', '\u3000\n', 'https://only.example', 'www.a.example  HTTP://b']) {
    t.equal(accepted(t, { ...POST, text }).fingerprint, null, JSON.stringify(text));
  }
});

t.test('an event without text has no link, no question and no fingerprint by default', async (t) => {
  const e = accepted(t, POST);
  t.strictSame([e.hasLink, e.isQuestion, e.fingerprint], [false, false, null]);
});

t.test('has_link and is_question override what the text would derive', async (t) => {
  const e = accepted(t, { ...POST, text: 'why? https://x.example', has_link: false, is_question: false });
  t.strictSame([e.hasLink, e.isQuestion], [false, false]);
  t.strictSame(e.fingerprint, sha16('why?'));
  const f = accepted(t, { ...POST, text: 'plain', has_link: true, is_question: true });
  t.strictSame([f.hasLink, f.isQuestion], [true, true]);
});

t.test('has_link and is_question may be given without text, on any type', async (t) => {
  const e = accepted(t, { ...LIKE, has_link: true, is_question: true });
  t.strictSame([e.hasLink, e.isQuestion, e.fingerprint], [true, true, null]);
});

t.test('has_link and is_question must be booleans', async (t) => {
  t.match(rejection({ ...POST, has_link: 'yes' }), { code: 'invalid_event', message: /has_link/ });
  t.match(rejection({ ...POST, is_question: 1 }), { code: 'invalid_event', message: /is_question/ });
});

t.test('text is discarded: nothing of it is kept but its features', async (t) => {
  const text = 'Secret words here?';
  const e = accepted(t, { ...POST, text });
  const kept = JSON.stringify(e, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  t.notOk(kept.includes('Secret') || kept.includes('secret words'));
  t.notOk('text' in e);
});

// ---------------------------------------------------------------------------------------------
// Shape
// ---------------------------------------------------------------------------------------------

t.test('an unknown field is refused by name', async (t) => {
  t.match(rejection({ ...LIKE, colour: 'red' }), { code: 'invalid_event', message: /unknown field colour/ });
});

t.test('an event that is not a JSON object is refused', async (t) => {
  for (const input of [null, 'like', 42, [LIKE], true]) {
    t.strictSame(rejection(input), { code: 'invalid_event', message: 'an event must be a JSON object' }, JSON.stringify(input));
  }
});

t.test('every offending field is named in one message', async (t) => {
  const r = rejection({ type: 'like', actor: '', occurred_at: 'soon' });
  t.match(r, { code: 'invalid_event' });
  for (const field of ['actor', 'target', 'occurred_at']) t.match(r?.message, new RegExp(field), field);
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

t.test('any JSON value is either accepted or refused with a reason, never thrown on', async (t) => {
  const fieldArb = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...INTERACTIONS, 'post', 'tw:a', '2026-11-20T10:00:00Z'));
  const inputArb = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(fc.constantFrom('id', 'type', 'actor', 'target', 'post', 'occurred_at', 'text', 'has_link', 'is_question', 'other'), fieldArb),
  );
  holds(
    t,
    fc.property(inputArb, (input) => {
      const r = parseEvent(input, NOW);
      return r.ok ? r.event.occurredAtMicros <= BigInt(NOW + 300_000) * 1000n : r.rejection.message.length > 0;
    }),
    { seed: 1571, numRuns: 1000 },
  );
});

t.test('an event written with any offset gets the same id and instant as in UTC', async (t) => {
  holds(
    t,
    fc.property(fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), fc.constantFrom(...INTERACTIONS), fc.nat({ max: 10_000_000 }), (offsetMinutes, type, secondsAgo) => {
      const utcMs = NOW - secondsAgo * 1000;
      const local = new Date(utcMs + offsetMinutes * 60_000).toISOString().slice(0, 19);
      const sign = offsetMinutes < 0 ? '-' : '+';
      const abs = Math.abs(offsetMinutes);
      const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      const a = parseEvent({ ...LIKE, type, occurred_at: new Date(utcMs).toISOString() }, NOW);
      const b = parseEvent({ ...LIKE, type, occurred_at: `${local}${offset}` }, NOW);
      return a.ok && b.ok && a.event.id === b.event.id && a.event.occurredAtMicros === b.event.occurredAtMicros;
    }),
    { seed: 1572, numRuns: 300 },
  );
});
