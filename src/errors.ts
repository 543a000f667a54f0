/**
 * Every error a client can see, defined once with its stable code and status. The HTTP layer turns
 * a Problem into RFC 9457 problem+json; the CLI prints its detail.
 */
export const PROBLEMS = {
  not_found: { status: 404, title: 'Not found' },
  malformed_json: { status: 400, title: 'The body is not valid JSON' },
  malformed_request: { status: 400, title: 'The request is not valid HTTP' },
  too_complex: { status: 400, title: 'The body holds too many JSON values or is nested too deeply' },
  request_timeout: { status: 408, title: 'The request was not received in time' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_cursor: { status: 400, title: 'The cursor was not issued for this query' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  uri_too_long: { status: 414, title: 'A path segment is too long' },
  batch_too_large: { status: 413, title: 'Too many events in one batch' },
  missing_credentials: { status: 401, title: 'Authentication required' },
  invalid_key: { status: 401, title: 'The key is unknown or revoked' },
  insufficient_scope: { status: 403, title: 'The key lacks the scope this operation needs' },
  invalid_event: { status: 422, title: 'The event is not valid' },
  occurred_at_in_future: { status: 422, title: 'The event lies too far in the future' },
  id_conflict: { status: 409, title: 'The id is already used by an event with other content' },
  workspace_not_found: { status: 404, title: 'No such workspace' },
  key_not_found: { status: 404, title: 'No such key' },
  webhook_not_found: { status: 404, title: 'No such webhook subscription' },
  delivery_not_found: { status: 404, title: 'No such delivery of this webhook subscription' },
  webhook_target_refused: { status: 400, title: 'The webhook URL may not be delivered to' },
  webhook_limit_reached: { status: 409, title: 'The workspace has as many webhook subscriptions as it may' },
  rate_limited: { status: 429, title: 'Too many requests' },
  too_many_in_flight: { status: 429, title: 'Too many concurrent requests of this kind for this key' },
  database_unavailable: { status: 503, title: 'The database is unavailable' },
  overloaded: { status: 503, title: 'The service is overloaded' },
  projection_lagging: { status: 503, title: 'The scores are not yet up to date with what was acknowledged' },
  internal_error: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface FieldError {
  field: string;
  message: string;
}

/** How far the projection is behind the log, as a projection_lagging answer states it. */
export interface Lag {
  pending_events: number;
  oldest_pending_seconds: number;
}

export class Problem extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; retryAfterSeconds?: number; lag?: Lag } = {},
  ) {
    super(detail);
    this.status = PROBLEMS[code].status;
    this.title = PROBLEMS[code].title;
  }
}

/** Cuts a client-supplied string (a field name, a URL) to a length its answer schema allows. */
export const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** The RFC 9457 body. `type` is a URN: stable, and never a link that could go dead. */
export function problemBody(p: Problem, instance?: string) {
  return {
    type: `urn:rapport:problem:${p.code}`,
    title: p.title,
    status: p.status,
    code: p.code,
    detail: clip(p.detail, 2_000),
    ...(instance ? { instance: clip(instance, 2_000) } : {}),
    ...(p.extra.lag ?? {}),
    ...(p.extra.errors ? { errors: p.extra.errors.slice(0, 100).map((e) => ({ field: clip(e.field, 300), message: clip(e.message, 1_000) })) } : {}),
  };
}

const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether an error means the database cannot be reached right now (restart, failover, network),
 * as opposed to a bug: the client may retry these.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (UNAVAILABLE_ERRNOS.has(code)) return true;
  // Connection exceptions (08), operator intervention such as shutdown (57P01–57P03), too many connections.
  if (/^08|^57P0[123]$|^53300$/.test(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}
