/**
 * Writes openapi/openapi.json: the document the service serves at /openapi.json (with the admin
 * operations, which exist when ADMIN_TOKEN is set). A test fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { buildApp } from '../src/app.js';
import { defaultConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';

export const DOCUMENT_PATH = new URL('../openapi/openapi.json', import.meta.url);

/** The config the committed document describes. */
export const DOCUMENT_CONFIG = defaultConfig({ ADMIN_TOKEN: 'document-generation-token', LOG_LEVEL: 'silent' });

export const serialize = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const db = await openDatabase({});
  const app = await buildApp({ config: DOCUMENT_CONFIG, db });
  await app.ready();
  writeFileSync(DOCUMENT_PATH, serialize(app.swagger()));
  await app.close();
  await db.close();
  process.stderr.write('openapi/openapi.json written\n');
}
