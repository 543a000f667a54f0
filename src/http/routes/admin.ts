import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { createKey, createWorkspace, listKeys } from '../../db/workspaces.js';
import { requireWorkspace, revokeKnownKey } from '../../service/workspaces.js';
import { DEFAULT_SCOPES, KEY_ID_PATTERN, keyJson, SCOPES } from '../../domain/keys.js';
import { workspaceNameSchema } from '../../domain/workspaces.js';
import { createdKeySchema, keySchema, problemResponse, workspaceSchema } from '../schemas.js';

const keyListSchema = z.object({ keys: z.array(keySchema).max(100_000) }).meta({ id: 'KeyList', description: 'The keys of a workspace, oldest first.' });
const keyParams = z.object({ key_id: z.string().max(12).regex(KEY_ID_PATTERN, 'a key id is 12 lower-case letters and digits') });
const scopesSchema = z
  .array(z.enum(SCOPES))
  .min(1)
  .max(SCOPES.length)
  .default([...DEFAULT_SCOPES])
  .describe(`What the key may do; ${DEFAULT_SCOPES.join(' and ')} when omitted (webhooks:manage only when asked for).`);

/** Workspace and key administration, behind ADMIN_TOKEN; not registered at all without one. */
export const adminRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  app.post(
    '/v1/admin/workspaces',
    {
      config: { admin: true },
      schema: {
        operationId: 'createWorkspace',
        tags: ['admin'],
        summary: 'Create a workspace',
        description: 'Idempotent: 201 when created, 200 when it already exists.',
        body: z.strictObject({ name: workspaceNameSchema }).meta({ id: 'CreateWorkspaceRequest', description: 'The workspace to create.', examples: [{ name: 'acme' }] }),
        response: { 201: workspaceSchema.describe('Created.'), 200: workspaceSchema.describe('It already existed: nothing changed.') },
      },
    },
    async (request, reply) => {
      const { workspace, created } = await createWorkspace(db, request.body.name);
      return reply.code(created ? 201 : 200).send({ name: workspace.name, created_at: workspace.createdAt });
    },
  );

  app.post(
    '/v1/admin/workspaces/:name/keys',
    {
      config: { admin: true },
      schema: {
        operationId: 'createKey',
        tags: ['admin'],
        summary: 'Issue an API key',
        description: 'The answer carries the key itself: it is shown this once and stored only as a hash.',
        params: z.object({ name: workspaceNameSchema }),
        body: z.strictObject({ scopes: scopesSchema }).meta({ id: 'CreateKeyRequest', description: 'What the new key may do.', examples: [{ scopes: ['events:write'] }] }),
        response: {
          201: createdKeySchema.describe('Issued; the key is in the answer, this once.'),
          404: problemResponse(404, 'No workspace has this name'),
        },
      },
    },
    async (request, reply) => {
      const workspace = await requireWorkspace(db, request.params.name);
      const created = await createKey(db, workspace, request.body.scopes);
      return reply.code(201).send({ ...keyJson(created), key: created.key });
    },
  );

  app.get(
    '/v1/admin/workspaces/:name/keys',
    {
      config: { admin: true },
      schema: {
        operationId: 'listKeys',
        tags: ['admin'],
        summary: 'List the keys of a workspace',
        description: 'Key ids, scopes and dates; never the secrets.',
        params: z.object({ name: workspaceNameSchema }),
        response: { 200: keyListSchema.describe('The keys, without their secrets.'), 404: problemResponse(404, 'No workspace has this name') },
      },
    },
    async (request) => {
      const workspace = await requireWorkspace(db, request.params.name);
      return { keys: (await listKeys(db, workspace)).map(keyJson) };
    },
  );

  app.delete(
    '/v1/admin/keys/:key_id',
    {
      config: { admin: true },
      schema: {
        operationId: 'revokeKey',
        tags: ['admin'],
        summary: 'Revoke a key',
        description: 'Effective on the next request. Revoking a revoked key answers the key unchanged.',
        params: keyParams,
        response: { 200: keySchema.describe('Revoked (or already revoked).'), 404: problemResponse(404, 'No key has this id') },
      },
    },
    async (request) => keyJson(await revokeKnownKey(db, request.params.key_id)),
  );
};
