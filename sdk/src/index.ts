/**
 * A typed client for the Rapport API, over types generated from its OpenAPI document
 * (schema.d.ts, `npm run sdk` in the service's repository): one method per operation, named by its
 * operationId; `ingestStream` for the NDJSON form of the batch operation; async iterators over
 * every paginated list; retries of 429 and 503 that honour Retry-After; and every problem answer
 * thrown as a RapportError carrying its stable `code`.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

type Schemas = components['schemas'];
export type EventInput = Schemas['EventInput'];
export type EventAccepted = Schemas['EventAccepted'];
export type EventDuplicate = Schemas['EventDuplicate'];
export type BatchResult = Schemas['BatchResult'];
export type Rejection = Schemas['Rejection'];
export type Problem = Schemas['Problem'];
export type ProblemCode = Problem['code'];
export type FieldError = Schemas['FieldError'];
export type Ratio = Schemas['Ratio'];
export type Quotient = Schemas['Quotient'];
export type Window = Schemas['Window'];
export type Scores = Schemas['Scores'];
export type AccountScores = Schemas['AccountScores'];
export type Reciprocity = Schemas['Reciprocity'];
export type Engagement = Schemas['Engagement'];
export type Spam = Schemas['Spam'];
export type Signal = Schemas['Signal'];
export type Flag = Schemas['Flag'];
export type ScoresBatch = Schemas['ScoresBatch'];
export type ScoresBatchRequest = Schemas['ScoresBatchRequest'];
export type RankingPage = Schemas['RankingPage'];
export type RankedAccount = Schemas['RankedAccount'];
export type FollowEdgePage = Schemas['FollowEdgePage'];
export type FollowEdge = Schemas['FollowEdge'];
export type PartnerPage = Schemas['PartnerPage'];
export type Partner = Schemas['Partner'];
export type FollowerChangePage = Schemas['FollowerChangePage'];
export type UnfollowerPage = Schemas['UnfollowerPage'];
export type FollowerChange = Schemas['FollowerChange'];
export type ActivityHours = Schemas['ActivityHours'];
export type AccountErasure = Schemas['AccountErasure'];
export type Workspace = Schemas['Workspace'];
export type Key = Schemas['Key'];
export type CreatedKey = Schemas['CreatedKey'];
export type Scope = Key['scopes'][number];

type Query<Op extends keyof operations> = operations[Op]['parameters'] extends { query?: infer Q } ? NonNullable<Q> : never;
export type WindowQuery = Query<'getScores'>;
export type RankingQuery = Query<'listAccounts'>;
export type PageQuery = Query<'listPartners'>;
export type ActivityHoursQuery = Query<'getActivityHours'>;
export type FollowerChangesQuery = Query<'listFollowerChanges'>;
export type UnfollowersQuery = Query<'listUnfollowers'>;

/** A problem+json answer (RFC 9457), thrown by every method when the status is not 2xx. */
export class RapportError extends Error {
  override readonly name = 'RapportError';
  /** Stable and machine-readable: branch on this, not on `message`. */
  readonly code: ProblemCode | 'unexpected_response';
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** Each offending field, for validation problems. */
  readonly errors: FieldError[];
  /** Seconds the service asked to wait (429, 503), when it said so. */
  readonly retryAfter: number | undefined;
  readonly problem: Problem | undefined;

  constructor(status: number, problem: Problem | undefined, retryAfter: number | undefined, fallback = '') {
    super(problem ? `${problem.code}: ${problem.detail}` : `unexpected answer ${status}${fallback ? `: ${fallback}` : ''}`);
    this.status = status;
    this.problem = problem;
    this.code = problem?.code ?? 'unexpected_response';
    this.title = problem?.title ?? 'Unexpected response';
    this.detail = problem?.detail ?? fallback;
    this.errors = problem?.errors ?? [];
    this.retryAfter = retryAfter;
  }
}

export interface RapportOptions {
  /** Where the service listens, e.g. `https://rapport.example.com`. */
  baseUrl: string;
  /** An API key (`rpk_…`), or the admin token for the admin operations. */
  key: string;
  /** How often a 429 or 503 answer is retried after its Retry-After (default 3; 0 turns retries off). */
  retries?: number;
  /** A Retry-After longer than this is not waited for: the error is thrown (default 60 s). */
  maxRetryDelayMs?: number;
  /** The fetch to use (default: the global one). */
  fetch?: (input: Request) => Promise<Response>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds of a Retry-After header (delta-seconds or an HTTP date). */
export function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

export class Rapport {
  /** The underlying openapi-fetch client, typed by path, for anything the named methods do not cover. */
  readonly raw: Client<paths>;
  readonly #fetch: (input: Request) => Promise<Response>;
  readonly #send: (input: Request) => Promise<Response>;
  readonly #baseUrl: string;
  readonly #key: string;

  constructor(options: RapportOptions) {
    const base = options.fetch ?? ((input: Request) => globalThis.fetch(input));
    const retries = options.retries ?? 3;
    const maxDelay = options.maxRetryDelayMs ?? 60_000;
    this.#send = base;
    // Every operation is safe to repeat after a 429 or 503: the service did not act on the request,
    // and ingest is idempotent anyway (a resent event is a duplicate, never a second event).
    this.#fetch = async (request: Request) => {
      for (let attempt = 0; ; attempt++) {
        const response = await base(attempt < retries ? request.clone() : request);
        if ((response.status !== 429 && response.status !== 503) || attempt >= retries) return response;
        const seconds = retryAfterSeconds(response.headers.get('retry-after')) ?? 2 ** attempt;
        if (seconds * 1000 > maxDelay) return response;
        await response.body?.cancel();
        await sleep(seconds * 1000);
      }
    };
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#key = options.key;
    this.raw = createClient<paths>({ baseUrl: this.#baseUrl, headers: { authorization: `Bearer ${options.key}` }, fetch: this.#fetch });
  }

  // ---- events ----------------------------------------------------------------------------------

  /** Ingests one event: `accepted` when stored now, `duplicate` when it was stored before. */
  async ingestEvent(event: EventInput): Promise<EventAccepted | EventDuplicate> {
    return unwrap(await this.raw.POST('/v1/events', { body: event }));
  }

  /** Ingests up to 5,000 events in one JSON request. */
  async ingestEvents(events: EventInput[]): Promise<BatchResult> {
    return unwrap(await this.raw.POST('/v1/events/batch', { body: { events } }));
  }

  /**
   * Streams events of any number as NDJSON (`application/x-ndjson`) in one request: the service
   * stores them in chunks as they arrive. Takes any iterable or async iterable of events (or of JSON
   * lines, e.g. read from a file). A stream cannot be replayed, so it is not retried: resend it whole
   * (ingest is idempotent) or send chunks with `ingestEvents`.
   */
  async ingestStream(events: AsyncIterable<EventInput | string> | Iterable<EventInput | string>): Promise<BatchResult> {
    const iterator = Symbol.asyncIterator in events ? events[Symbol.asyncIterator]() : events[Symbol.iterator]();
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) return controller.close();
        const line = typeof next.value === 'string' ? next.value.replace(/\r?\n$/, '') : JSON.stringify(next.value);
        controller.enqueue(encoder.encode(`${line}\n`));
      },
      async cancel() {
        await iterator.return?.();
      },
    });
    const request = new Request(`${this.#baseUrl}/v1/events/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#key}`, 'content-type': 'application/x-ndjson' },
      body,
      // Node's fetch sends a stream body only half-duplex: the answer comes once the body is sent.
      duplex: 'half',
    } as RequestInit);
    const response = await this.#send(request);
    if (!response.ok) throw await problemOf(response);
    return (await response.json()) as BatchResult;
  }

  // ---- scores ----------------------------------------------------------------------------------

  /** All scores of an account: reciprocity, engagement and spam over one window. */
  async getScores(account: string, query: WindowQuery = {}): Promise<Scores> {
    return unwrap(await this.raw.GET('/v1/accounts/{account}/scores', { params: { path: { account }, query } }));
  }

  async getReciprocity(account: string, query: WindowQuery = {}): Promise<Schemas['ReciprocityScores']> {
    return unwrap(await this.raw.GET('/v1/accounts/{account}/reciprocity', { params: { path: { account }, query } }));
  }

  async getEngagement(account: string, query: WindowQuery = {}): Promise<Schemas['EngagementScores']> {
    return unwrap(await this.raw.GET('/v1/accounts/{account}/engagement', { params: { path: { account }, query } }));
  }

  async getSpam(account: string, query: WindowQuery = {}): Promise<Schemas['SpamScores']> {
    return unwrap(await this.raw.GET('/v1/accounts/{account}/spam', { params: { path: { account }, query } }));
  }

  /** Scores of up to 100 accounts over one window. */
  async getScoresBatch(request: ScoresBatchRequest, query: Query<'getScoresBatch'> = {}): Promise<ScoresBatch> {
    return unwrap(await this.raw.POST('/v1/scores/batch', { body: request, params: { query } }));
  }

  /** How far the scores are behind what was acknowledged (events not yet folded in, and their age). */
  async getIngestStatus(): Promise<Schemas['IngestStatus']> {
    return unwrap(await this.raw.GET('/v1/ingest/status'));
  }

  // ---- accounts --------------------------------------------------------------------------------

  /** One page of the ranking; pass `next_cursor` back as `cursor` with the same query. */
  async listAccounts(query: RankingQuery = {}): Promise<RankingPage> {
    return unwrap(await this.raw.GET('/v1/accounts', { params: { query } }));
  }

  /** Every ranked account, page after page. */
  allAccounts(query: Omit<RankingQuery, 'cursor'> = {}): AsyncIterable<RankedAccount> {
    return paginate((cursor) => this.listAccounts({ ...query, ...(cursor ? { cursor } : {}) }));
  }

  async listNonFollowers(account: string, query: PageQuery = {}): Promise<FollowEdgePage> {
    return unwrap(await this.raw.GET('/v1/accounts/{account}/non-followers', { params: { path: { account }, query } }));
  }

  allNonFollowers(account: string, query: Omit<PageQuery, 'cursor'> = {}): AsyncIterable<FollowEdge> {
    return paginate((cursor) => this.listNonFollowers(account, { ...query, ...(cursor ? { cursor } : {}) }));
  }

  async listFans(account: string, query: PageQuery = {}): Promise<FollowEdgePage> {
    return unwrap(await this.raw.GET('/v1/accounts/{account}/fans', { params: { path: { account }, query } }));
  }

  allFans(account: string, query: Omit<PageQuery, 'cursor'> = {}): AsyncIterable<FollowEdge> {
    return paginate((cursor) => this.listFans(account, { ...query, ...(cursor ? { cursor } : {}) }));
  }

  async listPartners(account: string, query: PageQuery = {}): Promise<PartnerPage> {
    return unwrap(await this.raw.GET('/v1/accounts/{account}/partners', { params: { path: { account }, query } }));
  }

  allPartners(account: string, query: Omit<PageQuery, 'cursor'> = {}): AsyncIterable<Partner> {
    return paginate((cursor) => this.listPartners(account, { ...query, ...(cursor ? { cursor } : {}) }));
  }

  /** Follows and unfollows of the account, newest first, from the event log (SPEC §8). */
  async listFollowerChanges(account: string, query: FollowerChangesQuery = {}): Promise<FollowerChangePage> {
    return unwrap(await this.raw.GET('/v1/accounts/{account}/follower-changes', { params: { path: { account }, query } }));
  }

  allFollowerChanges(account: string, query: Omit<FollowerChangesQuery, 'cursor'> = {}): AsyncIterable<FollowerChange> {
    return paginate((cursor) => this.listFollowerChanges(account, { ...query, ...(cursor ? { cursor } : {}) }));
  }

  /** The accounts that follow the account no longer, most recent unfollow first. */
  async listUnfollowers(account: string, query: UnfollowersQuery = {}): Promise<UnfollowerPage> {
    return unwrap(await this.raw.GET('/v1/accounts/{account}/unfollowers', { params: { path: { account }, query } }));
  }

  allUnfollowers(account: string, query: Omit<UnfollowersQuery, 'cursor'> = {}): AsyncIterable<FollowerChange> {
    return paginate((cursor) => this.listUnfollowers(account, { ...query, ...(cursor ? { cursor } : {}) }));
  }

  async getActivityHours(account: string, query: ActivityHoursQuery = {}): Promise<ActivityHours> {
    return unwrap(await this.raw.GET('/v1/accounts/{account}/activity-hours', { params: { path: { account }, query } }));
  }

  /** Erases every event naming the account (right to erasure). Idempotent. */
  async deleteAccount(account: string): Promise<AccountErasure> {
    return unwrap(await this.raw.DELETE('/v1/accounts/{account}', { params: { path: { account } } }));
  }

  // ---- operations ------------------------------------------------------------------------------

  async getHealth(): Promise<Schemas['Status']> {
    return unwrap(await this.raw.GET('/healthz'));
  }

  async getReadiness(): Promise<Schemas['Status']> {
    return unwrap(await this.raw.GET('/readyz'));
  }

  // ---- admin (the key is the deployment's ADMIN_TOKEN) -----------------------------------------

  /** Creates a workspace; `created` is false when it already existed. */
  async createWorkspace(name: string): Promise<Workspace & { created: boolean }> {
    const answer = await this.raw.POST('/v1/admin/workspaces', { body: { name } });
    return { ...unwrap(answer), created: answer.response.status === 201 };
  }

  /** Issues a key; `key` is shown this once. */
  async createKey(workspace: string, scopes?: Scope[]): Promise<CreatedKey> {
    return unwrap(await this.raw.POST('/v1/admin/workspaces/{name}/keys', { params: { path: { name: workspace } }, body: scopes ? { scopes } : {} }));
  }

  async listKeys(workspace: string): Promise<Key[]> {
    return unwrap(await this.raw.GET('/v1/admin/workspaces/{name}/keys', { params: { path: { name: workspace } } })).keys;
  }

  async revokeKey(keyId: string): Promise<Key> {
    return unwrap(await this.raw.DELETE('/v1/admin/keys/{key_id}', { params: { path: { key_id: keyId } } }));
  }
}

/** Items of every page, following `next_cursor` until it is null. */
export async function* paginate<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const { items, next_cursor } = await page(cursor);
    yield* items;
    cursor = next_cursor ?? undefined;
  } while (cursor !== undefined);
}

function unwrap<T>(answer: Answer<T>): T {
  if (answer.error !== undefined || !answer.response.ok) {
    const body = answer.error as Problem | undefined;
    const problem = body && typeof body === 'object' && 'code' in body ? body : undefined;
    throw new RapportError(answer.response.status, problem, retryAfterSeconds(answer.response.headers.get('retry-after')), problem ? '' : JSON.stringify(answer.error ?? ''));
  }
  return answer.data as T;
}

async function problemOf(response: Response): Promise<RapportError> {
  const text = await response.text();
  let problem: Problem | undefined;
  try {
    const body = JSON.parse(text) as Problem;
    if (body && typeof body === 'object' && 'code' in body) problem = body;
  } catch {
    // not JSON: a proxy's page, kept as the detail
  }
  return new RapportError(response.status, problem, retryAfterSeconds(response.headers.get('retry-after')), problem ? '' : text.slice(0, 500));
}
