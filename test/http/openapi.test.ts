import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DOCUMENT_CONFIG, DOCUMENT_PATH, serialize } from '../../scripts/openapi.js';
import { DEFINITIONS } from '../../src/scoring/metrics.js';
import { SCOPES } from '../../src/domain/keys.js';
import { testApp } from '../helpers.js';

type Operation = {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema?: unknown; example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

const committed = () => readFileSync(DOCUMENT_PATH, 'utf8');
const HIDDEN = new Set(['/openapi.json', '/metrics', '/docs', '/docs/*', '/docs/static/*', '/docs/json', '/docs/yaml', '/docs/uiConfig', '/docs/initOAuth']);

t.test('the served document equals the committed openapi/openapi.json', async (t) => {
  const { app } = await testApp(t, { ADMIN_TOKEN: DOCUMENT_CONFIG.ADMIN_TOKEN });
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  t.equal(res.statusCode, 200);
  t.equal(serialize(res.json()), committed(), 'run `npm run openapi` and commit the result');
});

t.test('the document lists every route the service has, and only those', async (t) => {
  const { app } = await testApp(t, { ADMIN_TOKEN: DOCUMENT_CONFIG.ADMIN_TOKEN });
  await app.ready();
  // printRoutes draws a tree: each level indents by four characters and adds its segment to its parent's.
  const served = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const url = stack.join('');
    if (!m[3] || HIDDEN.has(url) || url.startsWith('/docs')) continue;
    for (const method of m[3].split(', ')) if (method !== 'HEAD') served.add(`${method} ${url.replace(/:(\w+)/g, '{$1}')}`);
  }
  const doc = JSON.parse(committed()) as Document;
  const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
  t.same([...documented].sort(), [...served].sort());
  t.ok(served.size >= 19, `${served.size} operations`);
});

t.test('every operation is documented for SDK generators: id, summary, description, tags, security, answers', async (t) => {
  const doc = JSON.parse(committed()) as Document;
  const ids = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const where = `${method.toUpperCase()} ${path}`;
      t.match(op.operationId, /^[a-z][A-Za-z]+$/, `${where}: operationId`);
      t.notOk(ids.has(op.operationId!), `${where}: operationId is unique`);
      ids.add(op.operationId!);
      t.ok(op.summary && op.description && op.tags?.length, `${where}: summary, description, tags`);
      t.ok(Array.isArray(op.security), `${where}: security declared`);
      const codes = Object.keys(op.responses);
      t.ok(
        codes.some((c) => c.startsWith('2')),
        `${where}: a 2xx answer`,
      );
      for (const c of ['400', '500', '503'].filter((c) => method !== 'get' || c !== '400' || path.includes('{') || op.operationId !== 'getHealth')) {
        if (c === '400' && (op.operationId === 'getHealth' || op.operationId === 'getReadiness')) continue;
        t.ok(op.responses[c]?.content?.['application/problem+json'], `${where}: ${c} as problem+json`);
      }
      const scope = op.security?.[0]?.apiKey?.[0];
      if (scope) {
        t.match(scope, new RegExp(`^(${SCOPES.join('|')})$`), `${where}: scope`);
        t.ok(op.responses['401'] && op.responses['403'], `${where}: 401 and 403`);
      }
      if (op.requestBody) {
        const examples = Object.values(op.requestBody.content).map((c) => c.example ?? (c.schema as { examples?: unknown[] })?.examples ?? resolve(doc, c.schema)?.examples);
        t.ok(examples.every(Boolean), `${where}: request examples`);
      }
    }
  }
});

function resolve(doc: Document, schema: unknown): { examples?: unknown[] } | undefined {
  const ref = (schema as { $ref?: string } | undefined)?.$ref;
  return ref ? (doc.components.schemas[ref.split('/').pop()!] as { examples?: unknown[] }) : (schema as { examples?: unknown[] });
}

t.test('every metric field carries its definition from the scoring module', async (t) => {
  const doc = JSON.parse(committed()) as Document;
  let checked = 0;
  for (const section of ['Reciprocity', 'Engagement', 'Spam']) {
    const schema = doc.components.schemas[section] as { properties: Record<string, { description?: string }> };
    for (const [name, field] of Object.entries(schema.properties)) {
      if (name === 'signals') continue;
      t.equal(field.description, DEFINITIONS[name as keyof typeof DEFINITIONS], `${section}.${name}`);
      checked++;
    }
  }
  t.equal(checked, Object.keys(DEFINITIONS).length, 'every definition is used');
});

t.test('Swagger UI is served at /docs', async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject({ method: 'GET', url: '/docs/' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /text\/html/);
});

t.test('the committed SDK types are what openapi-typescript generates from the committed document', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'rapport-sdk-')), 'schema.d.ts');
  execFileSync(process.execPath, [join('node_modules', 'openapi-typescript', 'bin', 'cli.js'), String(DOCUMENT_PATH.pathname), '--default-non-nullable', 'false', '-o', out], {
    stdio: 'pipe',
  });
  t.equal(readFileSync(out, 'utf8'), readFileSync(new URL('../../sdk/src/schema.d.ts', import.meta.url), 'utf8'), 'run `npm run sdk` and commit the result');
});
