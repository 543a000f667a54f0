import { createHash } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { digest16, fingerprintOf, textFeatures } from '../../src/domain/text.js';
import { holds } from '../property.js';

/**
 * has_link, is_question and the normalised text behind the fingerprint (SPEC §2), with no
 * database. White space is the Unicode White_Space property, listed here from the Unicode
 * Character Database (PropList.txt), not from the code under test.
 */

const WHITE_SPACE = [
  '\u0009',
  '\u000A',
  '\u000B',
  '\u000C',
  '\u000D',
  '\u0020',
  '\u0085',
  '\u00A0',
  '\u1680',
  '\u2000',
  '\u2001',
  '\u2002',
  '\u2003',
  '\u2004',
  '\u2005',
  '\u2006',
  '\u2007',
  '\u2008',
  '\u2009',
  '\u200A',
  '\u2028',
  '\u2029',
  '\u202F',
  '\u205F',
  '\u3000',
];
/** Characters often taken for white space that lack the property. */
const NOT_WHITE_SPACE = ['\uFEFF', '\u200B', '\u180E', '\u2060', '\u00AD'];

const hex = (b: Buffer | null) => b?.toString('hex') ?? null;
const sha16 = (s: string) => createHash('sha256').update(s, 'utf8').digest().subarray(0, 16).toString('hex');

// ---------------------------------------------------------------------------------------------
// White space
// ---------------------------------------------------------------------------------------------

t.test('each of the 25 White_Space characters separates words and is trimmed', async (t) => {
  for (const c of WHITE_SPACE) {
    const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    t.equal(textFeatures(`${c}a${c}${c}b${c}`).normalised, 'a b', code);
  }
});

t.test('characters without the White_Space property are kept as they are', async (t) => {
  for (const c of NOT_WHITE_SPACE) {
    const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    t.equal(textFeatures(`${c}a${c}b${c}`).normalised, `${c}a${c}b${c}`, code);
  }
});

t.test('a run of mixed white space becomes one space', async (t) => {
  t.equal(textFeatures('hello \t\n\u3000\u00A0 world').normalised, 'hello world');
});

t.test('text of white space only normalises to nothing and has no fingerprint', async (t) => {
  const features = textFeatures(WHITE_SPACE.join(''));
  t.strictSame(features, { hasLink: false, isQuestion: false, normalised: '' });
  t.equal(fingerprintOf(features.normalised), null);
});

t.test('empty text normalises to nothing and has no fingerprint', async (t) => {
  t.strictSame(textFeatures(''), { hasLink: false, isQuestion: false, normalised: '' });
  t.equal(fingerprintOf(''), null);
});

// ---------------------------------------------------------------------------------------------
// Case mapping
// ---------------------------------------------------------------------------------------------

t.test('text is lower-cased beyond ASCII', async (t) => {
  t.equal(textFeatures('ÀÉÎ ÆØ ДОМ').normalised, 'àéî æø дом');
});

t.test('a capital sigma at the end of a word becomes a final sigma', async (t) => {
  // Unicode default case mapping: Σ → ς at the end of a word, σ elsewhere.
  t.equal(textFeatures('ΟΔΟΣ ΣΑΣ').normalised, 'οδο\u03C2 \u03C3α\u03C2');
});

t.test('lower-casing is the default mapping, not a Turkish or other locale', async (t) => {
  // U+0130 İ lower-cases to i + U+0307 (combining dot above) by default; U+212A KELVIN SIGN to k.
  t.equal(textFeatures('İ').normalised, 'i\u0307');
  t.equal(textFeatures('\u212A').normalised, 'k');
  t.equal(textFeatures('I').normalised, 'i');
});

// ---------------------------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------------------------

t.test('http://, https:// and www. in any case start a link', async (t) => {
  for (const text of ['http://x', 'https://x', 'www.x', 'HTTP://X', 'HtTpS://x', 'WwW.x']) {
    t.strictSame(textFeatures(text), { hasLink: true, isQuestion: false, normalised: '' }, text);
  }
});

t.test('a link needs at least one character after its scheme', async (t) => {
  for (const text of ['http://', 'https://', 'www.']) {
    t.strictSame(textFeatures(text), { hasLink: false, isQuestion: false, normalised: text }, text);
  }
});

t.test('other schemes and near misses are not links', async (t) => {
  for (const text of ['ftp://x', 'http:/x', 'http:x', 'wwwx', 'ww.x', 'mailto:a@b']) {
    t.equal(textFeatures(text).hasLink, false, text);
  }
});

t.test('only ASCII letters match the scheme in any case: a long s is not an s', async (t) => {
  // U+017F (ſ) upper-cases to S; it must not make "httpſ://" a link.
  t.equal(textFeatures('httpſ://x').hasLink, false);
});

t.test('a link runs to the next white space, whatever it holds', async (t) => {
  t.strictSame(textFeatures('see https://a.b/c?d=1&e=(f) now'), { hasLink: true, isQuestion: false, normalised: 'see now' });
});

t.test('a link ends at any White_Space character, a no-break space included', async (t) => {
  t.equal(textFeatures('www.a\u00A0b').normalised, 'b');
  t.equal(textFeatures('www.a\u3000b').normalised, 'b');
});

t.test('a link does not end at a character without the White_Space property', async (t) => {
  t.equal(textFeatures('www.a\uFEFFb c').normalised, 'c');
});

t.test('a link may start inside a word', async (t) => {
  t.strictSame(textFeatures('seehttp://x now'), { hasLink: true, isQuestion: false, normalised: 'see now' });
});

t.test('removing a link between two words leaves one space', async (t) => {
  t.equal(textFeatures('Buy https://x.y NOW').normalised, 'buy now');
});

// ---------------------------------------------------------------------------------------------
// Questions
// ---------------------------------------------------------------------------------------------

t.test('a question mark outside links makes a question', async (t) => {
  t.strictSame(textFeatures('What did you think of chapter 3? https://example.com'), {
    hasLink: true,
    isQuestion: true,
    normalised: 'what did you think of chapter 3?',
  });
});

t.test('a question mark inside a link does not make a question', async (t) => {
  t.strictSame(textFeatures('read https://x.y/?q=1'), { hasLink: true, isQuestion: false, normalised: 'read' });
});

t.test('a question mark just before a link is outside it', async (t) => {
  t.strictSame(textFeatures('really?http://x'), { hasLink: true, isQuestion: true, normalised: 'really?' });
});

t.test('only the ASCII question mark makes a question', async (t) => {
  // U+FF1F FULLWIDTH QUESTION MARK, U+00BF INVERTED QUESTION MARK.
  t.equal(textFeatures('本当？').isQuestion, false);
  t.equal(textFeatures('¿qué').isQuestion, false);
});

// ---------------------------------------------------------------------------------------------
// Fingerprints
// ---------------------------------------------------------------------------------------------

t.test('a fingerprint is the first 16 bytes of the SHA-256 of the normalised text', async (t) => {
  // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  t.equal(hex(fingerprintOf('abc')), 'ba7816bf8f01cfea414140de5dae2223');
  t.equal(hex(digest16('abc')), 'ba7816bf8f01cfea414140de5dae2223');
});

t.test('texts that differ only in case, white space and links have one fingerprint', async (t) => {
  const a = fingerprintOf(textFeatures('Buy NOW\u3000 https://shop.example/1').normalised);
  const b = fingerprintOf(textFeatures('  buy\tnow www.other.example ').normalised);
  t.equal(hex(a), sha16('buy now'));
  t.equal(hex(b), hex(a));
});

t.test('texts that differ in words have different fingerprints', async (t) => {
  t.not(hex(fingerprintOf('buy now')), hex(fingerprintOf('buy later')));
});

t.test('text that is only links has no fingerprint', async (t) => {
  t.equal(fingerprintOf(textFeatures('https://a.example www.b.example').normalised), null);
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** Text from pieces that exercise the rules: white space of every kind, link starts, question marks. */
const textArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(...WHITE_SPACE, ...NOT_WHITE_SPACE),
      fc.constantFrom('http://', 'HTTPS://', 'www.', 'WwW.', '?', 'ΟΔΟΣ', 'İ', 'a', 'B', '.', '/'),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 20 },
  )
  .map((parts) => parts.join(''));

t.test('normalised text has no white space but single inner spaces', async (t) => {
  const ws = new RegExp(`[${WHITE_SPACE.join('')}]`, 'u');
  holds(
    t,
    fc.property(textArb, (text) => {
      const n = textFeatures(text).normalised;
      const chars = [...n];
      return (n === '' || (!ws.test(chars[0]!) && !ws.test(chars[chars.length - 1]!))) && chars.every((c, i) => !ws.test(c) || (c === ' ' && chars[i + 1] !== ' '));
    }),
    { seed: 1531, numRuns: 1000 },
  );
});

t.test('normalising normalised text changes nothing and finds no link', async (t) => {
  holds(
    t,
    fc.property(textArb, (text) => {
      const n = textFeatures(text).normalised;
      const again = textFeatures(n);
      return again.normalised === n && !again.hasLink;
    }),
    { seed: 1532, numRuns: 1000 },
  );
});

t.test('a text is a question exactly when its normalised text holds a question mark', async (t) => {
  holds(
    t,
    fc.property(textArb, (text) => {
      const f = textFeatures(text);
      return f.isQuestion === f.normalised.includes('?');
    }),
    { seed: 1533, numRuns: 1000 },
  );
});

t.test('links put between words change neither the normalised text nor the question', async (t) => {
  const wordArb = fc.stringMatching(/^[a-zA-Z?ΣÉ]{1,6}$/);
  const linkArb = fc.constantFrom('https://x.example/?a', 'www.Y.example', 'HTTP://z');
  holds(
    t,
    fc.property(fc.array(wordArb, { minLength: 1, maxLength: 6 }), fc.array(fc.tuple(fc.nat(), linkArb), { maxLength: 4 }), (words, links) => {
      const plain = words.join(' ');
      const withLinks = [...words];
      for (const [at, link] of links) withLinks.splice(at % (withLinks.length + 1), 0, link);
      const a = textFeatures(plain);
      const b = textFeatures(withLinks.join(' '));
      return a.normalised === b.normalised && a.isQuestion === b.isQuestion && b.hasLink === links.length > 0;
    }),
    { seed: 1534, numRuns: 500 },
  );
});
