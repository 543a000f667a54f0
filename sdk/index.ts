/**
 * A typed client for the Rapport API, generated from openapi/openapi.json (`npm run sdk`
 * regenerates schema.d.ts; a test fails when it is stale). Every operation of the document is
 * available with typed paths, parameters, bodies and answers:
 *
 *   const rapport = createRapportClient({ baseUrl: 'http://127.0.0.1:3000', key });
 *   const { data, error } = await rapport.GET('/v1/accounts/{account}/scores', {
 *     params: { path: { account: 'tw:bob' }, query: { churn_hours: 48 } },
 *   });
 *
 * `error` is the problem+json body when the status is not 2xx.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

export interface RapportClientOptions {
  baseUrl: string;
  /** An API key (`rpk_…`), or the admin token for the admin operations. */
  key: string;
  fetch?: typeof globalThis.fetch;
}

export type RapportClient = Client<paths>;

export function createRapportClient({ baseUrl, key, fetch }: RapportClientOptions): RapportClient {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${key}` }, ...(fetch ? { fetch } : {}) });
}
