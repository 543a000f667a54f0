/**
 * Compares Spectral's warnings (JSON on stdin, from `spectral lint -f json`) with the justified
 * counts in docs/openapi.md, rule by rule; exits 1 when they differ, so a new warning is either
 * fixed or justified there.
 */
import { readFileSync } from 'node:fs';

const results = JSON.parse(readFileSync(0, 'utf8')) as { code: string; severity: number }[];
const found = new Map<string, number>();
for (const r of results) if (r.severity === 1) found.set(r.code, (found.get(r.code) ?? 0) + 1);
const justified = new Map<string, number>();
for (const m of readFileSync(new URL('../docs/openapi.md', import.meta.url), 'utf8').matchAll(/^\| `([^`]+)` \| (\d+) \|/gm)) {
  justified.set(m[1]!, Number(m[2]));
}
const rules = [...new Set([...found.keys(), ...justified.keys()])].sort();
const wrong = rules.filter((r) => (found.get(r) ?? 0) !== (justified.get(r) ?? 0));
for (const r of wrong) process.stderr.write(`${r}: ${found.get(r) ?? 0} warnings, docs/openapi.md justifies ${justified.get(r) ?? 0}\n`);
process.stderr.write(wrong.length ? 'fix the warnings or justify them in docs/openapi.md\n' : `${results.length} warnings, each justified in docs/openapi.md\n`);
process.exitCode = wrong.length ? 1 : 0;
