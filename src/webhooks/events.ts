import { z } from 'zod';
import { engagement, engagementSchema, RANKING_METRICS, reciprocity, reciprocitySchema, spam, spamSchema, type RankingMetric } from '../scoring/metrics.js';
import type { Flag } from '../scoring/spam.js';
import type { Summary } from '../scoring/summary.js';

/**
 * What a change of derived state sends (SPEC §9), as a pure function of each account's all-time
 * summary before and after one projection batch. State is compared per batch: a flag raised and
 * cleared again by events folded in the same batch, or a metric that crosses a threshold and
 * crosses back, sends nothing, since the account never rested in the other state.
 */

export const WEBHOOK_EVENT_TYPES = ['flag.raised', 'flag.cleared', 'score.crossed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The metrics a threshold may name: every all-time metric of SPEC §3 that is one number (the ranking's). */
export const THRESHOLD_METRICS = RANKING_METRICS;
export type ThresholdMetric = RankingMetric;

const FIELDS: Record<string, z.ZodType> = { ...reciprocitySchema.shape, ...engagementSchema.shape, ...spamSchema.shape };

/** The largest value a metric can take, read from its answer schema: 1 for shares and spam_score. */
export function metricMaximum(metric: ThresholdMetric): number {
  let field = FIELDS[metric]!;
  if (field instanceof z.ZodObject) field = (field.shape as Record<string, z.ZodType>).value ?? (field.shape as Record<string, z.ZodType>).total!;
  if (field instanceof z.ZodNullable) field = field.unwrap() as z.ZodType;
  return (field as z.ZodNumber).maxValue ?? Number.MAX_SAFE_INTEGER;
}

/**
 * Each threshold metric's value as the scores endpoint answers it (ratios rounded to 6 places;
 * null when a ratio's denominator is 0; interactions_received is its total).
 */
export function metricValues(s: Summary): Record<ThresholdMetric, number | null> {
  const fields: Record<string, unknown> = { ...reciprocity(s), ...engagement(s), ...spam(s) };
  const values = {} as Record<ThresholdMetric, number | null>;
  for (const m of THRESHOLD_METRICS) {
    const v = fields[m] as number | { value: number | null } | { total: number };
    values[m] = typeof v === 'number' ? v : 'value' in v ? v.value : v.total;
  }
  return values;
}

/**
 * Whether a value moved across threshold t: up when before < t ≤ after, down when after < t ≤
 * before. A null (a ratio with no data) is below every threshold, as a flag's condition on it
 * does not hold.
 */
export function crossing(before: number | null, after: number | null, t: number): 'up' | 'down' | null {
  const wasAbove = before !== null && before >= t;
  const isAbove = after !== null && after >= t;
  return wasAbove === isAbove ? null : isAbove ? 'up' : 'down';
}

export interface Subscription {
  id: string;
  events: readonly string[];
  thresholds: Record<string, number>;
}

export interface AccountChange {
  account: string;
  before: Summary;
  after: Summary;
}

export interface WebhookEvent {
  webhookId: string;
  type: WebhookEventType;
  account: string;
  data: FlagRaisedData | FlagClearedData | ScoreCrossedData;
}

export interface FlagRaisedData {
  flag: Flag['flag'];
  description: string;
  thresholds: Flag['thresholds'];
  spam_score: number;
}
export interface FlagClearedData {
  flag: Flag['flag'];
  description: string;
  spam_score: number;
}
export interface ScoreCrossedData {
  metric: ThresholdMetric;
  threshold: number;
  direction: 'up' | 'down';
  before: number | null;
  after: number | null;
}

/**
 * The webhook events of one batch, per subscription, in a fixed order per account: flags cleared,
 * flags raised (each in the order FLAGS defines), then thresholds crossed (by metric name).
 */
export function webhookEvents(subscriptions: readonly Subscription[], changes: readonly AccountChange[]): WebhookEvent[] {
  const out: WebhookEvent[] = [];
  const wantsFlags = subscriptions.some((s) => s.events.includes('flag.raised') || s.events.includes('flag.cleared'));
  const wantsScores = subscriptions.some((s) => s.events.includes('score.crossed'));
  for (const { account, before, after } of changes) {
    const spamAfter = spam(after);
    const raised: Flag[] = [];
    const cleared: Flag[] = [];
    if (wantsFlags) {
      const was = new Map(spam(before).flags.map((f) => [f.flag, f]));
      const is = new Map(spamAfter.flags.map((f) => [f.flag, f]));
      for (const [name, f] of was) if (!is.has(name)) cleared.push(f);
      for (const [name, f] of is) if (!was.has(name)) raised.push(f);
    }
    const values = wantsScores ? { before: metricValues(before), after: metricValues(after) } : null;
    for (const sub of subscriptions) {
      const emit = (type: WebhookEventType, data: WebhookEvent['data']) => out.push({ webhookId: sub.id, type, account, data });
      if (sub.events.includes('flag.cleared')) {
        for (const f of cleared) emit('flag.cleared', { flag: f.flag, description: f.description, spam_score: spamAfter.spam_score });
      }
      if (sub.events.includes('flag.raised')) {
        for (const f of raised) emit('flag.raised', { flag: f.flag, description: f.description, thresholds: f.thresholds, spam_score: spamAfter.spam_score });
      }
      if (values && sub.events.includes('score.crossed')) {
        for (const metric of Object.keys(sub.thresholds).sort() as ThresholdMetric[]) {
          const threshold = sub.thresholds[metric]!;
          const direction = crossing(values.before[metric], values.after[metric], threshold);
          if (direction) emit('score.crossed', { metric, threshold, direction, before: values.before[metric], after: values.after[metric] });
        }
      }
    }
  }
  return out;
}
