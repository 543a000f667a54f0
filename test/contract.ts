import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * The committed OpenAPI document as a contract every answer of the test suite is checked against:
 * the status must be documented for the operation, the media type must be one it lists, and the body
 * must validate against its schema. The test helpers run every `inject` through it, and the SDK
 * test every fetch, so no route can answer anything the document leaves out.
 */

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
}

export const DOCUMENT: OpenApiDocument = JSON.parse(readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8'));

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ $id: 'openapi.json', components: DOCUMENT.components });

const compiled = new Map<string, ValidateFunction>();

/** A validator for a schema of the document: its `#/components/…` references resolve in the document. */
export function validatorFor(schema: unknown, key: string): ValidateFunction {
  let v = compiled.get(key);
  if (!v) {
    v = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/')) as Json);
    compiled.set(key, v);
  }
  return v;
}

const templates = Object.keys(DOCUMENT.paths).map((path) => ({
  path,
  pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

export interface Answer {
  method: string;
  url: string;
  status: number;
  contentType: string | undefined;
  body: string;
}

/** Operations and statuses seen, so a test can say what the suite covered. */
export const SEEN = new Set<string>();

/** What is wrong with an answer, measured against the document; null when it conforms or is no operation's. */
export function contractViolation(a: Answer): string | null {
  const path = new URL(a.url, 'http://x').pathname;
  const method = a.method.toLowerCase();
  const template = templates.find((t) => t.pattern.test(path) && DOCUMENT.paths[t.path]![method]);
  if (!template) return null; // no documented operation: /docs, /metrics, /openapi.json, HEAD, OPTIONS, unknown paths
  const where = `${a.method} ${template.path} → ${a.status}`;
  let json: unknown;
  try {
    json = a.body === '' ? undefined : JSON.parse(a.body);
  } catch {
    json = undefined;
  }
  // A route that does not exist in this configuration (admin routes without ADMIN_TOKEN) is the router's 404.
  if (a.status === 404 && (json as { code?: string } | undefined)?.code === 'not_found') return null;
  const response = DOCUMENT.paths[template.path]![method]!.responses[String(a.status)];
  if (!response) return `${where}: status not documented`;
  SEEN.add(`${method} ${template.path} ${a.status}`);
  const media = a.contentType?.split(';')[0]?.trim();
  if (!response.content) return a.body === '' ? null : `${where}: a body where the document lists none`;
  const content = media ? response.content[media] : undefined;
  if (!content) return `${where}: media type ${media} not documented (${Object.keys(response.content).join(', ')})`;
  if (json === undefined) return `${where}: the body is not JSON`;
  const validate = validatorFor(content.schema, `${method} ${template.path} ${a.status} ${media}`);
  if (!validate(json)) return `${where}: ${ajv.errorsText(validate.errors)} in ${a.body.slice(0, 500)}`;
  return null;
}
