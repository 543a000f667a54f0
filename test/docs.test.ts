import { readFileSync } from 'node:fs';
import t from 'tap';
import { metricsDoc } from '../scripts/docs.js';

t.test('docs/metrics.md is what `npm run docs` generates from the scoring module', async (t) => {
  const committed = readFileSync(new URL('../docs/metrics.md', import.meta.url), 'utf8');
  t.equal(committed, metricsDoc(), 'run `npm run docs` and commit the result');
});
