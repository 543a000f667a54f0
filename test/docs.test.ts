import { readFileSync } from 'node:fs';
import t from 'tap';
import { metricsDoc } from '../scripts/docs.js';
import { bearer, tenantApp } from './helpers.js';

t.test('docs/metrics.md is what `npm run docs` generates from the scoring module', async (t) => {
  const committed = readFileSync(new URL('../docs/metrics.md', import.meta.url), 'utf8');
  t.equal(committed, metricsDoc(), 'run `npm run docs` and commit the result');
});

t.test('docs/metrics.md shows flags as the API returns them and no internal names', async (t) => {
  const doc = metricsDoc();
  t.notOk(doc.includes('likedAccounts'), 'no internal field name');
  t.match(doc, /"flags": \[\n\s+\{\n\s+"flag": "link_spam",\n\s+"description": /, 'flags are objects');
});

t.test('the README’s batch example posts a file the repository ships and gets the answer it shows', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const m = /--data-binary @(\S+)\n# → (\{.*\})\n/.exec(readme);
  t.ok(m, 'the README posts a file and shows the answer');
  const body = readFileSync(new URL(`../${m![1]}`, import.meta.url), 'utf8');
  const { app, tenant } = await tenantApp(t);
  const send = () => app.inject({ method: 'POST', url: '/v1/events/batch', headers: { ...bearer(tenant.writeKey), 'content-type': 'application/x-ndjson' }, payload: body });
  t.strictSame((await send()).json(), JSON.parse(m![2]!));
  t.match((await send()).json(), { accepted: 0, duplicates: body.trim().split('\n').length, rejected_total: 0 }, 'sent again: all duplicates');
  t.notOk(/npm run datasets[^\n]*>/.test(readme), 'a redirected `npm run` is --silent');
});
