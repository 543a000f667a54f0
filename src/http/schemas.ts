import { z } from 'zod';
import { PROBLEMS, type ProblemCode } from '../errors.js';

/** RFC 9457 problem details, as every error response carries them. */
export const problemSchema = z
  .object({
    type: z.string().max(200).describe('A URN naming the problem: `urn:rapport:problem:<code>`.'),
    title: z.string().max(200),
    status: z.number().int().min(400).max(599),
    code: z.enum(Object.keys(PROBLEMS) as [keyof typeof PROBLEMS, ...(keyof typeof PROBLEMS)[]]).describe('Stable, machine-readable.'),
    detail: z.string().max(10_000),
    instance: z.string().max(10_000).optional(),
    errors: z
      .array(z.object({ field: z.string().max(300), message: z.string().max(1000) }))
      .max(1000)
      .optional()
      .describe('Each offending field, for validation errors.'),
  })
  .describe('RFC 9457 problem details (application/problem+json).');

export const rejectedSchema = z.object({
  index: z.number().int().min(0).describe('Position of the event in the request: array index, or 0-based line number of an NDJSON stream.'),
  code: z.enum(['invalid_event', 'occurred_at_in_future', 'id_conflict', 'invalid_json', 'line_too_long']),
  message: z.string().max(10_000),
});

export const batchResultSchema = z.object({
  accepted: z.number().int().min(0).describe('Events stored by this request.'),
  duplicates: z.number().int().min(0).describe('Events already stored with the same id and content: nothing changed.'),
  rejected: z.array(rejectedSchema).max(5_000).describe('Events not stored, with their index and reason, in request order.'),
  rejected_total: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('NDJSON streams only: all rejections; `rejected` lists at most the first 1,000.'),
});

/** An error answer of an operation, for its response schema: problem+json with the codes of that status. */
export function problemResponse(status: number, what: string) {
  const codes = (Object.entries(PROBLEMS) as [ProblemCode, { status: number }][])
    .filter(([, p]) => p.status === status)
    .map(([code]) => `\`${code}\``)
    .join(', ');
  return { description: `${what} (${codes})`, content: { 'application/problem+json': { schema: problemSchema } } };
}
