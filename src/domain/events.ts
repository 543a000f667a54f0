/** The event vocabulary of SPEC §2: one definition, used by validation, storage and scoring. */
export const EVENT_TYPES = ['follow', 'unfollow', 'like', 'reply', 'mention', 'repost', 'post'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Types that an account directs at another account and that count as interactions (SPEC §3). */
export const INTERACTION_TYPES = ['like', 'reply', 'mention', 'repost'] as const;
export type InteractionType = (typeof INTERACTION_TYPES)[number];

/** Types that may carry `text`. */
export const TEXT_TYPES: readonly EventType[] = ['post', 'reply', 'mention'];

export const LIMITS = {
  accountMaxChars: 256,
  idMaxChars: 128,
  postMaxChars: 256,
  textMaxChars: 10_000,
  /** How far in the future `occurred_at` may lie. */
  futureToleranceMs: 5 * 60 * 1000,
  /** Events in one JSON batch. */
  batchMaxEvents: 5_000,
  /** Bytes in one line of an NDJSON stream. */
  ndjsonMaxLineBytes: 1024 * 1024,
  /** A stream's chunk is stored once it holds this many bytes, even short of its event count: memory stays bounded. */
  ndjsonChunkMaxBytes: 8 * 1024 * 1024,
  /**
   * Parsing is bounded by work as well as bytes: a megabyte of `[{},{},…]` is hundreds of thousands
   * of objects. A JSON text may hold at most this many structural tokens (`{ [ , :`) and nesting.
   * A flat event has about 25; a full batch about 130,000.
   */
  eventMaxJsonTokens: 200,
  bodyMaxJsonTokens: 250_000,
  jsonMaxDepth: 16,
  /** Bytes of any request body but a JSON batch of events (which MAX_BODY_BYTES bounds) or a stream. */
  smallBodyMaxBytes: 1024 * 1024,
} as const;

/** A validated event, as stored: `text` has been turned into features and dropped. */
export interface NormalizedEvent {
  /** The client's id, or one derived from the content hash. */
  id: string;
  type: EventType;
  actor: string;
  target: string | null;
  post: string | null;
  /** Canonical RFC 3339 UTC instant with microseconds: the stored timestamp. */
  occurredAt: string;
  /** Microseconds since the Unix epoch, for ordering without reparsing. */
  occurredAtMicros: bigint;
  hasLink: boolean;
  isQuestion: boolean;
  /** 16 bytes of SHA-256 of the normalised text; null when there is no text or it normalises to empty. */
  fingerprint: Buffer | null;
  /** 16 bytes of SHA-256 of the canonical content, compared to detect `id_conflict`. */
  contentHash: Buffer;
}
