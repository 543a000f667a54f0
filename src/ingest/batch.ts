import type { Database } from '../db/client.js';
import { appendEvents } from '../db/events.js';
import type { EventType, NormalizedEvent } from '../domain/events.js';
import { parseEvent, type RejectionCode } from '../domain/validate.js';
import { Problem } from '../errors.js';
import type { GroupCommit } from './coalesce.js';

export interface Rejected {
  index: number;
  code: RejectionCode | 'invalid_json' | 'line_too_long';
  message: string;
}

export interface BatchResult {
  accepted: number;
  duplicates: number;
  rejected: Rejected[];
}

/** Told the fate of every event, for metrics. */
export interface IngestObserver {
  stored(type: EventType, outcome: 'accepted' | 'duplicate'): void;
  rejected(code: Rejected['code']): void;
}

/** Told when a workspace's events were appended, so they are projected soon. */
export interface AppendListener {
  notify(workspaceId: number): void;
}

export interface BatchOptions {
  /** Each input's index in the whole request (NDJSON line numbers); the array index otherwise. */
  indexes?: number[];
  observer?: IngestObserver | undefined;
  projector?: AppendListener | undefined;
}

/** Validates each input on its own, appends the valid ones to the log in one transaction, and reports every event's fate. */
export async function ingestBatch(db: Database, workspaceId: number, inputs: readonly unknown[], opts: BatchOptions = {}): Promise<BatchResult> {
  const now = Date.now();
  const indexOf = (i: number) => opts.indexes?.[i] ?? i;
  const rejected: Rejected[] = [];
  const valid: NormalizedEvent[] = [];
  const validIndex: number[] = [];
  inputs.forEach((input, i) => {
    const parsed = parseEvent(input, now);
    if (parsed.ok) {
      valid.push(parsed.event);
      validIndex.push(indexOf(i));
    } else rejected.push({ index: indexOf(i), ...parsed.rejection });
  });
  let accepted = 0;
  let duplicates = 0;
  if (valid.length > 0) {
    const outcomes = await db.transaction((tx) => appendEvents(tx, workspaceId, valid));
    if (outcomes.includes('accepted')) opts.projector?.notify(workspaceId);
    outcomes.forEach((o, i) => {
      if (o !== 'id_conflict') opts.observer?.stored(valid[i]!.type, o);
      if (o === 'accepted') accepted++;
      else if (o === 'duplicate') duplicates++;
      else
        rejected.push({
          index: validIndex[i]!,
          code: 'id_conflict',
          message: `id ${JSON.stringify(valid[i]!.id)} is already used by an event with other content`,
        });
    });
    rejected.sort((a, b) => a.index - b.index);
  }
  for (const r of rejected) opts.observer?.rejected(r.code);
  return { accepted, duplicates, rejected };
}

/**
 * Ingests one event: the id it is stored under, and whether it was new. It is validated on its own
 * (a bad event is answered alone), then stored with the workspace's other single events of the
 * moment in one transaction (group commit); the answer is still this event's own.
 */
export async function ingestOne(commits: GroupCommit, workspaceId: number, input: unknown, observer?: IngestObserver): Promise<{ id: string; status: 'accepted' | 'duplicate' }> {
  const parsed = parseEvent(input, Date.now());
  if (!parsed.ok) {
    observer?.rejected(parsed.rejection.code);
    throw new Problem(parsed.rejection.code, parsed.rejection.message);
  }
  const outcome = await commits.submit(workspaceId, parsed.event);
  if (outcome === 'id_conflict') {
    observer?.rejected('id_conflict');
    throw new Problem('id_conflict', `id ${JSON.stringify(parsed.event.id)} is already used by an event with other content`);
  }
  const status = outcome === 'accepted' ? 'accepted' : 'duplicate';
  observer?.stored(parsed.event.type, status);
  return { id: parsed.event.id, status };
}
