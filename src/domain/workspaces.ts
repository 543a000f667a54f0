import { z } from 'zod';

/** Workspace names appear in URLs and command lines, so they keep to a plain alphabet. */
export const workspaceNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'a workspace name is 1–64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit')
  .describe('Workspace name: 1–64 of a–z, 0–9, `.`, `-`, `_`, starting with a letter or digit.');
