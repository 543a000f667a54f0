import { iso, prepared, type Database, type Queryable } from './client.js';

/** Every statement on the webhook tables. Each is scoped by workspace_id, but the senders' look for due work. */

export interface StoredWebhook {
  id: string;
  url: string;
  events: string[];
  thresholds: Record<string, number>;
  createdAt: string;
  previousSecretUntil: string | null;
}

const WEBHOOK_COLUMNS = `id, url, events, thresholds, ${iso('created_at')} AS "createdAt",
  CASE WHEN previous_secret_until > now() THEN ${iso('previous_secret_until')} END AS "previousSecretUntil"`;

/** The class of the advisory lock that serialises creations within a workspace (the subscription limit). */
const CREATE_LOCK_CLASS = 0x52505748; // "RPWH"

/** Stores a subscription unless the workspace has `limit` already; null then. */
export async function insertWebhook(
  db: Database,
  workspaceId: number,
  hook: { id: string; url: string; events: readonly string[]; thresholds: Record<string, number>; secret: Buffer },
  limit: number,
): Promise<StoredWebhook | null> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', [CREATE_LOCK_CLASS, workspaceId]);
    const [count] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM webhooks WHERE workspace_id = $1', [workspaceId]);
    if (count!.n >= limit) return null;
    await tx.query('INSERT INTO webhooks (workspace_id, id, url, events, thresholds, secret) VALUES ($1, $2, $3, $4, $5, $6)', [
      workspaceId,
      hook.id,
      hook.url,
      hook.events,
      JSON.stringify(hook.thresholds),
      hook.secret,
    ]);
    return (await findWebhook(tx, workspaceId, hook.id))!;
  });
}

export async function findWebhook(db: Queryable, workspaceId: number, id: string): Promise<StoredWebhook | null> {
  const rows = await db.query<StoredWebhook>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
  return rows[0] ?? null;
}

/** The workspace's subscriptions, oldest first (a workspace has at most a few). */
export async function listWebhooks(db: Queryable, workspaceId: number): Promise<StoredWebhook[]> {
  return db.query<StoredWebhook>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 ORDER BY created_at, id`, [workspaceId]);
}

/** Deletes a subscription with its deliveries and their attempts; false when there was none. */
export async function deleteWebhook(db: Database, workspaceId: number, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const deleted = await tx.query('DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2 RETURNING id', [workspaceId, id]);
    if (deleted.length === 0) return false;
    await tx.query(
      `DELETE FROM webhook_attempts a USING webhook_deliveries d
        WHERE a.workspace_id = $1 AND d.workspace_id = $1 AND d.webhook_id = $2 AND a.delivery_id = d.id`,
      [workspaceId, id],
    );
    await tx.query('DELETE FROM webhook_deliveries WHERE workspace_id = $1 AND webhook_id = $2', [workspaceId, id]);
    return true;
  });
}

/** Replaces the secret; the previous one keeps signing until `previousUntil` (null: it stops at once). */
export async function replaceSecret(db: Queryable, workspaceId: number, id: string, secret: Buffer, previousUntil: string | null): Promise<StoredWebhook | null> {
  const rows = await db.query<{ id: string }>(
    `UPDATE webhooks SET previous_secret = CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE secret END,
                         previous_secret_until = $4::timestamptz, secret = $3
      WHERE workspace_id = $1 AND id = $2 RETURNING id`,
    [workspaceId, id, secret, previousUntil],
  );
  return rows[0] ? findWebhook(db, workspaceId, id) : null;
}

/** What the projector needs of the workspace's subscriptions: one short query per batch, nothing when there are none. */
export async function subscriptionsOf(tx: Queryable, workspaceId: number) {
  return tx.query<{ id: string; events: string[]; thresholds: Record<string, number> }>('SELECT id, events, thresholds FROM webhooks WHERE workspace_id = $1 ORDER BY id', [
    workspaceId,
  ]);
}

export interface NewDelivery {
  id: string;
  webhookId: string;
  type: string;
  account: string;
  data: unknown;
}

/** Queues deliveries, in the given order (their seq), in the caller's transaction. */
export async function enqueueDeliveries(tx: Queryable, workspaceId: number, deliveries: readonly NewDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await tx.query(
    prepared(`INSERT INTO webhook_deliveries (workspace_id, id, webhook_id, type, account, data)
     SELECT $1, u.id, u.webhook_id, u.type, u.account, u.data
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[]) WITH ORDINALITY AS u(id, webhook_id, type, account, data, n)
      ORDER BY u.n`),
    [
      workspaceId,
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.webhookId),
      deliveries.map((d) => d.type),
      deliveries.map((d) => d.account),
      deliveries.map((d) => JSON.stringify(d.data)),
    ],
  );
}

export interface StoredDelivery {
  id: string;
  seq: number;
  type: string;
  account: string;
  occurredAt: string;
  data: unknown;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
}

export interface StoredAttempt {
  deliveryId: string;
  attempt: number;
  at: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

const DELIVERY_COLUMNS = `id, seq, type, account, ${iso('occurred_at')} AS "occurredAt", data, status, attempts,
  CASE WHEN status = 'pending' THEN ${iso('next_attempt_at')} END AS "nextAttemptAt"`;

/** A page of a subscription's deliveries, newest first, after the delivery of seq `before` (exclusive). */
export async function listDeliveries(db: Queryable, workspaceId: number, webhookId: string, opts: { limit: number; before: number | null }) {
  const deliveries = await db.query<StoredDelivery>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
      WHERE workspace_id = $1 AND webhook_id = $2 AND ($3::int8 IS NULL OR seq < $3::int8)
      ORDER BY seq DESC LIMIT $4`,
    [workspaceId, webhookId, opts.before, opts.limit],
  );
  return {
    deliveries,
    attempts: await attemptsOf(
      db,
      workspaceId,
      deliveries.map((d) => d.id),
    ),
  };
}

export async function attemptsOf(db: Queryable, workspaceId: number, deliveryIds: readonly string[]): Promise<StoredAttempt[]> {
  if (deliveryIds.length === 0) return [];
  return db.query<StoredAttempt>(
    `SELECT delivery_id AS "deliveryId", attempt, ${iso('at')} AS at, duration_ms AS "durationMs", status_code AS "statusCode", error
       FROM webhook_attempts WHERE workspace_id = $1 AND delivery_id = ANY($2::text[]) ORDER BY delivery_id, attempt`,
    [workspaceId, deliveryIds],
  );
}

/** Queues a delivery again, now, with a fresh retry window; null when the subscription has no such delivery. */
export async function requeueDelivery(db: Queryable, workspaceId: number, webhookId: string, deliveryId: string): Promise<StoredDelivery | null> {
  const rows = await db.query<{ id: string }>(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), retry_from = now()
      WHERE workspace_id = $1 AND webhook_id = $2 AND id = $3 RETURNING id`,
    [workspaceId, webhookId, deliveryId],
  );
  if (!rows[0]) return null;
  const [row] = await db.query<StoredDelivery>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE workspace_id = $1 AND id = $2`, [workspaceId, deliveryId]);
  return row!;
}

// --- The sender's statements.

/** Subscriptions with a delivery due, across workspaces (every sender looks, then competes for leases). */
export async function dueSubscriptions(db: Queryable, limit: number): Promise<{ workspaceId: number; webhookId: string }[]> {
  return db.query(
    `SELECT workspace_id AS "workspaceId", webhook_id AS "webhookId" FROM webhook_deliveries
      WHERE status = 'pending' AND next_attempt_at <= now() GROUP BY workspace_id, webhook_id LIMIT $1`,
    [limit],
  );
}

export interface LeasedWebhook {
  url: string;
  workspace: string;
  secret: Uint8Array;
  previousSecret: Uint8Array | null;
}

/**
 * Takes (or renews) the subscription's lease for `ms` unless another sender holds it; what the
 * sender needs to deliver, or null (held elsewhere, or deleted).
 */
export async function takeLease(db: Queryable, workspaceId: number, webhookId: string, owner: string, ms: number): Promise<LeasedWebhook | null> {
  const taken = await db.query(
    `UPDATE webhooks SET lease_owner = $3, lease_until = now() + $4 * interval '1 millisecond'
      WHERE workspace_id = $1 AND id = $2 AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $3) RETURNING id`,
    [workspaceId, webhookId, owner, ms],
  );
  if (!taken[0]) return null;
  // Read apart from the UPDATE: Citus refuses now() in the RETURNING of a distributed table's write.
  const [hook] = await db.query<LeasedWebhook>(
    `SELECT h.url, h.secret, CASE WHEN h.previous_secret_until > now() THEN h.previous_secret END AS "previousSecret", w.name AS workspace
       FROM webhooks h JOIN workspaces w ON w.id = h.workspace_id WHERE h.workspace_id = $1 AND h.id = $2`,
    [workspaceId, webhookId],
  );
  return hook ?? null;
}

export async function releaseLease(db: Queryable, workspaceId: number, webhookId: string, owner: string): Promise<void> {
  await db.query('UPDATE webhooks SET lease_until = NULL WHERE workspace_id = $1 AND id = $2 AND lease_owner = $3', [workspaceId, webhookId, owner]);
}

/**
 * The deliveries that may be attempted now: per account, its oldest pending delivery, when it is
 * due. A later delivery of the same account waits behind it, whatever its own time.
 */
export async function dueHeads(db: Queryable, workspaceId: number, webhookId: string, limit: number) {
  return db.query<{ id: string; type: string; account: string; occurredAt: string; data: unknown; attempts: number; retryFrom: string }>(
    `SELECT id, type, account, "occurredAt", data, attempts, "retryFrom" FROM (
       SELECT DISTINCT ON (account) id, seq, type, account, ${iso('occurred_at')} AS "occurredAt", data, attempts,
              next_attempt_at, ${iso('retry_from')} AS "retryFrom"
         FROM webhook_deliveries
        WHERE workspace_id = $1 AND webhook_id = $2 AND status = 'pending'
        ORDER BY account, seq
     ) h WHERE next_attempt_at <= now() ORDER BY seq LIMIT $3`,
    [workspaceId, webhookId, limit],
  );
}

/**
 * Logs an attempt and moves the delivery on: delivered, failed, or pending until `retryAt`. A
 * delivery deleted or already settled meanwhile (its subscription deleted) is left alone.
 */
export async function recordAttempt(
  db: Database,
  workspaceId: number,
  deliveryId: string,
  attempt: { at: string; durationMs: number; statusCode: number | null; error: string | null },
  outcome: { status: 'delivered' | 'failed' } | { status: 'pending'; retryAt: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    const rows = await tx.query<{ attempts: number }>(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $3, next_attempt_at = COALESCE($4::timestamptz, next_attempt_at)
        WHERE workspace_id = $1 AND id = $2 AND status = 'pending' RETURNING attempts`,
      [workspaceId, deliveryId, outcome.status, outcome.status === 'pending' ? outcome.retryAt : null],
    );
    if (!rows[0]) return;
    await tx.query(`INSERT INTO webhook_attempts (workspace_id, delivery_id, attempt, at, duration_ms, status_code, error) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      workspaceId,
      deliveryId,
      rows[0].attempts,
      attempt.at,
      attempt.durationMs,
      attempt.statusCode,
      attempt.error,
    ]);
  });
}
