import { createHash } from 'node:crypto';

/**
 * Characters with the Unicode White_Space property. JavaScript's `\s` is not this set: it adds
 * U+FEFF and misses U+0085, so the class is spelled out.
 */
const WS = '\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';

// "Any case" is ASCII case: a case-insensitive Unicode flag would also let U+017F (ſ) stand for s.
const LINK = new RegExp(`(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\\.)[^${WS}]+`, 'gu');
const WS_RUN = new RegExp(`[${WS}]+`, 'gu');
const WS_EDGES = new RegExp(`^[${WS}]+|[${WS}]+$`, 'gu');

export interface TextFeatures {
  hasLink: boolean;
  isQuestion: boolean;
  /** Normalised text (SPEC §2); empty when nothing remains. */
  normalised: string;
}

export function textFeatures(text: string): TextFeatures {
  const withoutLinks = text.replace(LINK, '');
  const hasLink = withoutLinks.length !== text.length;
  const normalised = text.toLowerCase().replace(LINK, '').replace(WS_RUN, ' ').replace(WS_EDGES, '');
  return { hasLink, isQuestion: withoutLinks.includes('?'), normalised };
}

/** 16 bytes of SHA-256: collisions are out of reach, and the column stays narrow. */
export function digest16(input: string): Buffer {
  return createHash('sha256').update(input, 'utf8').digest().subarray(0, 16);
}

export function fingerprintOf(normalised: string): Buffer | null {
  return normalised === '' ? null : digest16(normalised);
}
