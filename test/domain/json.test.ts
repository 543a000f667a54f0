import fc from 'fast-check';
import t from 'tap';
import { jsonWorkExceeded } from '../../src/domain/json.js';
import { holds } from '../property.js';

/**
 * The work bound checked before JSON.parse: structural tokens (`{ [ , :`) outside strings and the
 * deepest nesting, with no server.
 */

const LOTS = 1_000_000;

t.test('an object with a nested array counts each brace, bracket, comma and colon once', async (t) => {
  // { : , : [ , → 6 tokens; depth 2.
  const text = '{"a":1,"b":[2,3]}';
  t.equal(jsonWorkExceeded(text, 6, 2), null);
  t.equal(jsonWorkExceeded(text, 5, 2), 'tokens');
  t.equal(jsonWorkExceeded(text, 6, 1), 'depth');
});

t.test('structural characters inside strings do not count', async (t) => {
  // Only the outer { and : count; the key and the value are strings full of { [ , : ] }.
  const text = JSON.stringify({ 'a,b:{[': 'x,y:]}[{' });
  t.equal(jsonWorkExceeded(text, 2, 1), null);
  t.equal(jsonWorkExceeded(text, 1, 1), 'tokens');
});

t.test('an escaped quote does not end a string', async (t) => {
  // ["a\"b,c",1]: the string is a"b,c; tokens [ and , → 2.
  const text = '["a\\"b,c",1]';
  t.equal(jsonWorkExceeded(text, 2, 1), null);
  t.equal(jsonWorkExceeded(text, 1, 1), 'tokens');
});

t.test('an escaped backslash before a quote does end the string', async (t) => {
  // ["a\\",{}]: the string is a\ ; then , and { → [ , { = 3 tokens, depth 2.
  const text = '["a\\\\",{}]';
  t.equal(JSON.parse(text)[0], 'a\\');
  t.equal(jsonWorkExceeded(text, 3, 2), null);
  t.equal(jsonWorkExceeded(text, 2, 2), 'tokens');
  t.equal(jsonWorkExceeded(text, 3, 1), 'depth');
});

t.test('an escaped backslash followed by an escaped quote keeps the string open', async (t) => {
  // ["\\\",{[",1]: the string is \",{[ ; tokens [ and , → 2.
  const text = '["\\\\\\",{[",1]';
  t.equal(JSON.parse(text)[0], '\\",{[');
  t.equal(jsonWorkExceeded(text, 2, 1), null);
  t.equal(jsonWorkExceeded(text, 1, 1), 'tokens');
});

t.test('deep nesting is caught even with few tokens', async (t) => {
  t.equal(jsonWorkExceeded('[[[[]]]]', LOTS, 3), 'depth');
  t.equal(jsonWorkExceeded('[[[[]]]]', LOTS, 4), null);
});

t.test('closing brackets bring the depth back down', async (t) => {
  // Two siblings of depth 2 under one array: depth 3 at most, never 5.
  t.equal(jsonWorkExceeded('[[[]],[[]]]', LOTS, 3), null);
});

t.test('scalars and empty containers cost at most one token', async (t) => {
  t.equal(jsonWorkExceeded('"a string, with: commas"', 0, 0), null);
  t.equal(jsonWorkExceeded('12345', 0, 0), null);
  t.equal(jsonWorkExceeded('{}', 1, 1), null);
  t.equal(jsonWorkExceeded('[]', 0, 1), 'tokens');
});

t.test('an unterminated string is left for JSON.parse to refuse', async (t) => {
  t.equal(jsonWorkExceeded('["abc,:,:,:', 1, 1), null);
});

t.test('a megabyte of empty objects is refused long before its end', async (t) => {
  const text = `[${'{},'.repeat(350_000)}{}]`;
  t.equal(jsonWorkExceeded(text, 250_000, 16), 'tokens');
});

// ---------------------------------------------------------------------------------------------
// Properties: against a count taken on the parsed value
// ---------------------------------------------------------------------------------------------

/** Strings made of the characters that could fool a scanner. */
const nasty = fc.string({ unit: fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', 'a', ' ', '\n', 'é'), maxLength: 6 });
const { value: valueArb } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    nasty,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nasty, tie('value'), { maxKeys: 4 }),
  ),
}));

/** Tokens and depth of a JSON value, counted on the value rather than on its text. */
function work(v: unknown): { tokens: number; depth: number } {
  if (v === null || typeof v !== 'object') return { tokens: 0, depth: 0 };
  const children = Array.isArray(v) ? v : Object.values(v);
  const keys = Array.isArray(v) ? 0 : children.length; // one colon per key
  const inner = children.map(work);
  return {
    tokens: 1 + Math.max(children.length - 1, 0) + keys + inner.reduce((n, c) => n + c.tokens, 0),
    depth: 1 + inner.reduce((d, c) => Math.max(d, c.depth), 0),
  };
}

t.test('any JSON text passes exactly when its tokens and depth are within the limits, compact or indented', async (t) => {
  holds(
    t,
    fc.property(valueArb, fc.nat({ max: 30 }), fc.nat({ max: 6 }), fc.boolean(), (value, maxTokens, maxDepth, indent) => {
      const text = indent ? JSON.stringify(value, null, 2) : JSON.stringify(value);
      const { tokens, depth } = work(value);
      const result = jsonWorkExceeded(text, maxTokens, maxDepth);
      if (tokens <= maxTokens && depth <= maxDepth) return result === null;
      if (tokens <= maxTokens) return result === 'depth';
      if (depth <= maxDepth) return result === 'tokens';
      return result === 'tokens' || result === 'depth';
    }),
    { seed: 1551, numRuns: 2000 },
  );
});
