import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { PairRule } from '../scoring/pairs.js';
import { relationships } from './schema.js';
import { bare } from './sql.js';

/**
 * A per-pair rule of scoring/pairs.ts as SQL, over a row that has the relationships table's count
 * and follow columns; `column` says how to name one (bare by default, as in a query over that row).
 */
export function pairRuleSql(rule: PairRule, column: (c: AnyPgColumn) => SQLWrapper = bare): SQL {
  const of = (x: PairRule) => pairRuleSql(x, column);
  if ('sum' in rule)
    return sql`(${sql.join(
      rule.sum.map((c) => column(relationships[c])),
      sql` + `,
    )})`;
  if ('follows' in rule) return sql`${column(rule.follows === 'out' ? relationships.outFollows : relationships.inFollows)}::int`;
  if ('least' in rule) return sql`LEAST(${of(rule.least[0])}, ${of(rule.least[1])})`;
  if ('positive' in rule) return sql`(${of(rule.positive)} > 0)::int`;
  if ('all' in rule) return sql`(${sql.join(rule.all.map(of), sql` * `)})`;
  return sql`(1 - ${of(rule.not)})`;
}
