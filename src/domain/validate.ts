import { z } from 'zod';
import { EVENT_TYPES, LIMITS, TEXT_TYPES, type NormalizedEvent } from './events.js';
import { digest16, fingerprintOf, textFeatures } from './text.js';
import { clip } from '../errors.js';
import { parseRfc3339 } from './time.js';

const CONTROL = /\p{Cc}/u;

/** A string stored as given: well-formed Unicode (PostgreSQL cannot keep lone surrogates), no control characters. */
const storedString = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    // zod counts characters (code points), as SPEC's limits and JSON Schema's maxLength do.
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')
    .refine((s) => s.isWellFormed(), 'must be well-formed Unicode (no lone surrogates)');

export const accountSchema = storedString(LIMITS.accountMaxChars).describe(
  'An account: an opaque string chosen by the client, 1–256 characters, no control characters (e.g. `tw:jane_writes`).',
);

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema.optional());

/** The wire shape of one event (SPEC §2). `null` is read as absent. */
export const eventInputSchema = z
  .strictObject({
    id: optional(storedString(LIMITS.idMaxChars)).describe(
      'Client-chosen id, 1–128 characters, unique per workspace. When absent, the identity is a hash of the content, so an identical resend is a duplicate.',
    ),
    type: z.enum(EVENT_TYPES).describe('What happened.'),
    actor: accountSchema.describe('The account that acted.'),
    target: optional(accountSchema).describe('The account acted upon: required for every type but `post`, forbidden for `post`.'),
    post: optional(storedString(LIMITS.postMaxChars)).describe('Optional post id: the post liked, replied to or reposted, or the post published.'),
    occurred_at: z
      .string()
      .max(64, 'must be an RFC 3339 date-time with an offset')
      .refine((s) => parseRfc3339(s) !== null, 'must be an RFC 3339 date-time with an offset, from 0001-01-01 to 9999-12-31 UTC')
      .describe('When it happened: RFC 3339 with an offset, at most 5 minutes in the future. Kept to the microsecond.')
      .meta({ format: 'date-time' }),
    text: optional(z.string().max(LIMITS.textMaxChars, `must be at most ${LIMITS.textMaxChars} characters`)).describe(
      '`post`, `reply` and `mention` only, at most 10,000 characters. Turned into `has_link`, `is_question` and a fingerprint, then discarded: never stored, never logged.',
    ),
    has_link: optional(z.boolean()).describe('Overrides what `text` would derive; default false.'),
    is_question: optional(z.boolean()).describe('Overrides what `text` would derive; default false.'),
  })
  .meta({
    id: 'Event',
    examples: [
      {
        id: 'evt-42',
        type: 'reply',
        actor: 'tw:alice',
        target: 'tw:bob',
        post: 'tw:status/42',
        occurred_at: '2026-11-20T10:00:00Z',
        text: 'What did you think of chapter 3? https://example.com',
      },
      { type: 'follow', actor: 'tw:bob', target: 'tw:alice', occurred_at: '2026-11-20T10:05:00+01:00' },
    ],
  })
  .superRefine((e, ctx) => {
    if (e.type === 'post' && e.target !== undefined) ctx.addIssue({ code: 'custom', path: ['target'], message: 'forbidden for type post' });
    if (e.type !== 'post' && e.target === undefined) ctx.addIssue({ code: 'custom', path: ['target'], message: `required for type ${e.type}` });
    if (e.text !== undefined && !TEXT_TYPES.includes(e.type)) ctx.addIssue({ code: 'custom', path: ['text'], message: `only allowed for types ${TEXT_TYPES.join(', ')}` });
  });

export type EventInput = z.infer<typeof eventInputSchema>;

export type RejectionCode = 'invalid_event' | 'occurred_at_in_future' | 'id_conflict';

export interface Rejection {
  code: RejectionCode;
  message: string;
}

export type ParseResult = { ok: true; event: NormalizedEvent } | { ok: false; rejection: Rejection };

function describeIssues(error: z.ZodError): string {
  const text = error.issues
    .slice(0, 20)
    .map((i) => {
      const field = clip(i.path.join('.'), 100);
      if (i.code === 'unrecognized_keys') {
        const names = i.keys.slice(0, 5).map((k) => clip(k, 100));
        return `unknown field${i.keys.length > 1 ? 's' : ''} ${names.join(', ')}${i.keys.length > 5 ? ', …' : ''}`;
      }
      if (i.code === 'invalid_type' && field === '') return 'an event must be a JSON object';
      if (i.code === 'invalid_type' && i.input === undefined) return `${field}: required`;
      if (i.code === 'invalid_value' && field === 'type') return `type: must be one of ${EVENT_TYPES.join(', ')}`;
      return `${field}: ${i.message}`;
    })
    .join('; ');
  // A client's field names end up in the message: it stays short whatever they send.
  return clip(text, 2_000);
}

/** Validates one event and derives what is stored from it; `nowMs` bounds `occurred_at`. */
export function parseEvent(input: unknown, nowMs: number): ParseResult {
  const parsed = eventInputSchema.safeParse(input);
  if (!parsed.success) return { ok: false, rejection: { code: 'invalid_event', message: describeIssues(parsed.error) } };
  const e = parsed.data;
  // The schema has already refused what does not parse.
  const instant = parseRfc3339(e.occurred_at)!;
  if (instant.micros > BigInt(nowMs + LIMITS.futureToleranceMs) * 1000n) {
    return {
      ok: false,
      rejection: { code: 'occurred_at_in_future', message: 'occurred_at is more than 5 minutes in the future' },
    };
  }
  const features = e.text === undefined ? null : textFeatures(e.text);
  const hasLink = e.has_link ?? features?.hasLink ?? false;
  const isQuestion = e.is_question ?? features?.isQuestion ?? false;
  const fingerprint = features ? fingerprintOf(features.normalised) : null;
  const contentHash = digest16(JSON.stringify([e.type, e.actor, e.target ?? null, e.post ?? null, instant.canonical, hasLink, isQuestion, fingerprint?.toString('hex') ?? null]));
  return {
    ok: true,
    event: {
      id: e.id ?? `h:${contentHash.toString('hex')}`,
      type: e.type,
      actor: e.actor,
      target: e.target ?? null,
      post: e.post ?? null,
      occurredAt: instant.canonical,
      occurredAtMicros: instant.micros,
      hasLink,
      isQuestion,
      fingerprint,
      contentHash,
    },
  };
}
