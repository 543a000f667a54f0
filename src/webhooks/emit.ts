import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/client.js';
import type { StatsChange } from '../db/derived.js';
import { summaryFromStats } from '../db/stats.js';
import { enqueueDeliveries, type subscriptionsOf } from '../db/webhooks.js';
import { webhookEvents } from './events.js';

export const deliveryId = () => `whd_${randomBytes(12).toString('hex')}`;

/**
 * Queues the webhook events of a projection batch in the batch's own transaction (the outbox): a
 * crash before the commit loses the batch and its events together, and folds both again.
 */
export async function emitWebhookEvents(
  tx: Queryable,
  workspaceId: number,
  subscriptions: Awaited<ReturnType<typeof subscriptionsOf>>,
  changes: readonly StatsChange[],
): Promise<void> {
  const events = webhookEvents(
    subscriptions,
    changes.map((c) => ({ account: c.account, before: summaryFromStats(c.before), after: summaryFromStats(c.after) })),
  );
  await enqueueDeliveries(
    tx,
    workspaceId,
    events.map((e) => ({ id: deliveryId(), ...e })),
  );
}
