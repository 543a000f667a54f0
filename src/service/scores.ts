import type { Queryable } from '../db/client.js';
import { windowSummary } from '../db/accounts.js';
import { allTimeSummary } from '../db/stats.js';
import { describeWindow, type Window } from '../domain/window.js';
import { engagement, reciprocity, spam } from '../scoring/metrics.js';
import { FOLLOW_GRAPH, type Summary } from '../scoring/summary.js';

/**
 * Score documents, as the API answers them and the CLI prints them: the database's counters for
 * an account and a window, turned into scores by the pure functions of scoring/.
 */

/** The scores' sections, each computed from a Summary. */
export const SECTIONS = { reciprocity, engagement, spam } as const;
export type SectionName = keyof typeof SECTIONS;

/**
 * An account's summary: the stored all-time counters, or, for a window, SPEC §3's activity
 * metrics aggregated over the window's events (the follow graph is the current state either way).
 */
export async function accountSummary(db: Queryable, workspaceId: number, account: string, w: Window): Promise<Summary> {
  const allTime = await allTimeSummary(db, workspaceId, account, w.churnHours);
  if (w.since === null && w.until === null) return allTime;
  const windowed = await windowSummary(db, workspaceId, account, w);
  for (const c of FOLLOW_GRAPH) windowed[c] = allTime[c];
  return windowed;
}

/** Every section of an account's scores, without the window they cover. */
async function scoresOf(db: Queryable, workspaceId: number, account: string, w: Window) {
  const s = await accountSummary(db, workspaceId, account, w);
  return { account, reciprocity: reciprocity(s), engagement: engagement(s), spam: spam(s) };
}

/** The whole scores document of an account, as `GET /v1/accounts/{account}/scores` and `rapport scores` give it. */
export async function accountScores(db: Queryable, workspaceId: number, account: string, w: Window) {
  const { account: _same, ...sections } = await scoresOf(db, workspaceId, account, w);
  return { account, window: describeWindow(w), ...sections };
}

/** One section of an account's scores, over the window it covers. */
export async function accountSection<N extends SectionName>(db: Queryable, workspaceId: number, account: string, name: N, w: Window) {
  const section = SECTIONS[name](await accountSummary(db, workspaceId, account, w)) as ReturnType<(typeof SECTIONS)[N]>;
  return { account, window: describeWindow(w), [name]: section } as { account: string; window: ReturnType<typeof describeWindow> } & Record<N, typeof section>;
}

/** Scores of several accounts over one window: one result per distinct account, in the order given. */
export async function batchScores(db: Queryable, workspaceId: number, accounts: readonly string[], w: Window) {
  const results = [];
  for (const account of new Set(accounts)) results.push(await scoresOf(db, workspaceId, account, w));
  return { window: describeWindow(w), results };
}
