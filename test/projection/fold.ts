import type { Database } from '../../src/db/client.js';
import { appendEvents } from '../../src/db/events.js';
import { createWorkspace } from '../../src/db/workspaces.js';
import type { NormalizedEvent } from '../../src/domain/events.js';
import { parseEvent } from '../../src/domain/validate.js';
import { Projector } from '../../src/projection/projector.js';
import { derivedState, unique } from '../helpers.js';

/** Events, projectors and reference states for the projector's tests. */

const BASE = Date.parse('2026-02-01T00:00:00Z');
const TYPES = ['follow', 'like', 'reply', 'follow', 'mention', 'unfollow', 'repost', 'post', 'like', 'follow'] as const;

/** A deterministic mix over few accounts, so batches share pairs, counters and days. */
export function events(n: number, prefix: string): NormalizedEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const type = TYPES[i % TYPES.length]!;
    const input = {
      id: `${prefix}-${i}`,
      type,
      actor: `acct${i % 13}`,
      ...(type === 'post' ? { text: `note ${i % 7} https://x.example` } : { target: `acct${(i * 7 + 3) % 17}` }),
      occurred_at: new Date(BASE + ((i * 7919) % 40_000) * 60_000).toISOString(),
    };
    const parsed = parseEvent(input, Date.now());
    if (!parsed.ok) throw new Error(parsed.rejection.message);
    return parsed.event;
  });
}

export const projectorOn = (db: Database, batchEvents = 500) => new Projector(db, { batchEvents, pollMs: 50, concurrency: 1 });

export async function appendAll(db: Database, workspaceId: number, list: NormalizedEvent[], chunk = 1_000) {
  for (let i = 0; i < list.length; i += chunk) await db.transaction((tx) => appendEvents(tx, workspaceId, list.slice(i, i + chunk)));
}

/** A workspace holding the same events, folded by one projector from start to end: the reference state. */
export async function reference(db: Database, list: NormalizedEvent[]) {
  const { workspace } = await createWorkspace(db, unique('ref'));
  await appendAll(db, workspace.id, list);
  await projectorOn(db, 100_000).drain(workspace.id);
  return derivedState(db, workspace.id);
}
