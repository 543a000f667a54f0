/**
 * How much work parsing a JSON text would be, found without parsing it: a count of its structural
 * tokens (`{`, `[`, `,`, `:` outside strings) and its deepest nesting. Stops as soon as a limit is
 * passed, and skips over strings with indexOf, so the check costs a fraction of JSON.parse.
 */
export function jsonWorkExceeded(text: string, maxTokens: number, maxDepth: number): 'tokens' | 'depth' | null {
  let tokens = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // To the closing quote: one not preceded by an odd number of backslashes.
      for (;;) {
        const close = text.indexOf('"', i + 1);
        if (close === -1) return null; // unterminated: JSON.parse reports it
        let backslashes = 0;
        while (text.charCodeAt(close - 1 - backslashes) === 92 /* \ */) backslashes++;
        i = close;
        if (backslashes % 2 === 0) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return 'depth';
      if (++tokens > maxTokens) return 'tokens';
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
    } else if (c === 44 /* , */ || c === 58 /* : */) {
      if (++tokens > maxTokens) return 'tokens';
    }
  }
  return null;
}
