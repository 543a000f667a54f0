import type { Queryable } from '../db/client.js';
import { interactionsByHour, oneWayFollows, partners, rankAccounts, type FollowEdge, type Partner, type RankedAccount } from '../db/accounts.js';
import { describeWindow, type Window } from '../domain/window.js';
import { isRatioMetric, round6, type RankingMetric } from '../scoring/metrics.js';

/**
 * The account lists the API pages through (ranking, one-way follows, partners) and the activity
 * hours. A page is read one item long, so that whether another page follows is known; `next` is the
 * sort key of the page's last item, which the caller turns into a cursor.
 */

export interface Page<T, K> {
  items: T[];
  next: K | null;
}

function page<T, K>(rows: T[], limit: number, keyOf: (last: T) => K): Page<T, K> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last !== undefined ? keyOf(last) : null };
}

export type RankKey = [number, string];

/** Accounts ranked by an all-time metric (values rounded as every answer's are). */
export async function ranking(
  db: Queryable,
  workspaceId: number,
  q: { metric: RankingMetric; order: 'asc' | 'desc'; minFollowers: number; limit: number; after: RankKey | null },
): Promise<Page<RankedAccount, RankKey>> {
  const rows = await rankAccounts(db, workspaceId, { ...q, limit: q.limit + 1 });
  // The key is the exact value the database sorted by: a ratio with no data sorts as −1.
  const { items, next } = page(rows, q.limit, (r): RankKey => [r.value ?? (isRatioMetric(q.metric) ? -1 : 0), r.account]);
  return { items: items.map((i) => ({ ...i, value: i.value === null ? null : round6(i.value) })), next };
}

export type FollowKey = [string, string];

/** One-way follows of an account, oldest first; `after` holds a canonical instant. */
export async function oneWayFollowsPage(
  db: Queryable,
  workspaceId: number,
  account: string,
  direction: 'out' | 'in',
  q: { limit: number; after: FollowKey | null },
): Promise<Page<FollowEdge, FollowKey>> {
  const rows = await oneWayFollows(db, workspaceId, account, direction, { limit: q.limit + 1, after: q.after });
  return page(rows, q.limit, (last): FollowKey => [last.followed_at, last.account]);
}

export type PartnerKey = [number, number, string];

/** The accounts an account exchanges interactions with, most exchange first. */
export async function partnersPage(db: Queryable, workspaceId: number, account: string, q: { limit: number; after: PartnerKey | null }): Promise<Page<Partner, PartnerKey>> {
  const rows = await partners(db, workspaceId, account, { limit: q.limit + 1, after: q.after });
  return page(rows, q.limit, (last): PartnerKey => [last.exchange, last.sent.total + last.received.total, last.account]);
}

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/** Interactions an account received per local hour of the week, and the three best hours (earlier first on ties). */
export async function activityHours(db: Queryable, workspaceId: number, account: string, tz: string, w: Window) {
  const grid = await interactionsByHour(db, workspaceId, account, tz, w);
  const hours = grid.map((interactions, i) => ({ weekday: WEEKDAYS[Math.floor(i / 24)]!, hour: i % 24, interactions }));
  const best = hours
    .filter((h) => h.interactions > 0)
    .sort((a, b) => b.interactions - a.interactions)
    .slice(0, 3);
  const { churn_hours: _unused, ...window } = describeWindow(w);
  return { account, tz, window, hours, best_hours: best };
}
