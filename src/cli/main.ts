import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DatabaseInUseError, openDatabase, type Database } from '../db/client.js';
import { FOLLOW_CHANGES, type FollowChange } from '../db/follower-changes.js';
import { autovacuumRuns, maintainTables } from '../db/maintenance.js';
import { migrate } from '../db/migrate.js';
import { createKey, createWorkspace, listKeys } from '../db/workspaces.js';
import { DEFAULT_SCOPES, keyJson, parseKey, SCOPES, type Scope } from '../domain/keys.js';
import { parseRfc3339 } from '../domain/time.js';
import { accountSchema } from '../domain/validate.js';
import { EmptyWindowError, parseWindow } from '../domain/window.js';
import { workspaceNameSchema } from '../domain/workspaces.js';
import { DEFAULT_CHURN_HOURS, MAX_CHURN_HOURS } from '../scoring/summary.js';
import { Problem } from '../errors.js';
import { ingestNdjson } from '../ingest/ndjson.js';
import { readAt } from '../projection/freshness.js';
import { Projector } from '../projection/projector.js';
import { accountScores } from '../service/scores.js';
import { requireWorkspace, revokeKnownKey } from '../service/workspaces.js';
import { Cursors } from '../http/cursors.js';
import { MAX_PAGE_ITEMS } from '../http/params.js';
import { changesPage, type ChangeList } from '../service/follower-changes.js';

/** What a run of the CLI reads, writes and runs against: the process's own, or a test's. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** An open, migrated database, used as it is and left open, instead of the configured one. */
  db?: Database;
}

const processIo = (): CliIo => ({ env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

/** Opens the configured database with every migration applied, runs `fn`, and closes it. */
async function openAndRun<T>(config: Config, fn: (db: Database) => Promise<T>): Promise<T> {
  // Room for an import's two chunks in flight and its projector.
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 4 });
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

const workspaceName = (value: string) => {
  const parsed = workspaceNameSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]!.message);
  return value;
};

const scopeList = (value: string): Scope[] => {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`scopes are a comma-separated list of ${SCOPES.join(', ')}`);
  }
  return scopes as Scope[];
};

const instant = (value: string) => {
  if (!parseRfc3339(value)) throw new InvalidArgumentError('must be an RFC 3339 date-time with an offset');
  return value;
};

const churnHours = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CHURN_HOURS) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_CHURN_HOURS}`);
  return n;
};

const windowOption = (opts: { since?: string | undefined; until?: string | undefined; churnHours: number }) => {
  try {
    return parseWindow(opts);
  } catch (e) {
    if (e instanceof EmptyWindowError) throw new InvalidArgumentError('--until must be later than --since');
    throw e;
  }
};

const pageLimit = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_ITEMS) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_PAGE_ITEMS}`);
  return n;
};

const projectorFor = (db: Database, c: Config) => new Projector(db, { batchEvents: c.PROJECTOR_BATCH_EVENTS, pollMs: c.PROJECTOR_POLL_MS, concurrency: c.PROJECTOR_CONCURRENCY });

function buildCli(config: () => Config, io: CliIo, setExitCode: (code: number) => void): Command {
  const out = (line: string): void => void io.stdout.write(`${line}\n`);
  const err = (line: string): void => void io.stderr.write(`${line}\n`);
  const { db } = io;
  const withDatabase = <T>(c: Config, fn: (db: Database) => Promise<T>): Promise<T> => (db ? fn(db) : openAndRun(c, fn));

  const program = new Command('rapport')
    .description('Reciprocity and spam scores for social-media accounts')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    // Commander exits 1 on its own parse errors; thrown instead, main() exits 2 as for every usage
    // mistake. Set before any command is added: subcommands inherit it.
    .exitOverride();

  program
    .command('serve')
    .description('run the API (PORT, HOST, DATABASE_URL or DATA_DIR from the environment)')
    .action(async () => {
      // Fastify and its plugins load only for the command that serves.
      const { serve } = await import('../server.js');
      await serve(config());
    });

  program
    .command('project')
    .description('fold acknowledged events into the scores, for every workspace, until SIGTERM or SIGINT (a dedicated worker; every `serve` projects too)')
    .action(() =>
      withDatabase(config(), async (db) => {
        const c = config();
        const projector = new Projector(db, {
          batchEvents: c.PROJECTOR_BATCH_EVENTS,
          pollMs: c.PROJECTOR_POLL_MS,
          concurrency: c.PROJECTOR_CONCURRENCY,
          onBatch: (n, seconds) => err(`folded ${n} events in ${seconds.toFixed(2)} s`),
        });
        projector.start();
        err('projecting; stop with SIGTERM or SIGINT');
        await new Promise<void>((resolve) => {
          process.once('SIGTERM', resolve);
          process.once('SIGINT', resolve);
        });
        // The batch under way commits or rolls back whole; what is left stays queued.
        await projector.stop();
        err('projector stopped');
      }),
    );

  program
    .command('migrate')
    .description('apply pending migrations and exit')
    .action(() => withDatabase(config(), () => Promise.resolve(err('migrations applied'))));

  const workspaces = program.command('workspaces').description('manage workspaces');
  workspaces
    .command('create')
    .argument('<name>', 'workspace name', workspaceName)
    .description('create a workspace (does nothing if it exists)')
    .action((name: string) =>
      withDatabase(config(), async (db) => {
        const { created } = await createWorkspace(db, name);
        err(created ? `workspace ${name} created` : `workspace ${name} already exists`);
        out(name);
      }),
    );

  const keys = program.command('keys').description('manage API keys');
  keys
    .command('create')
    .requiredOption('--workspace <name>', 'workspace the key belongs to', workspaceName)
    .option('--scopes <list>', `comma-separated scopes of ${SCOPES.join(', ')}; default ${DEFAULT_SCOPES.join(',')}`, scopeList, [...DEFAULT_SCOPES])
    .description('issue a key and print it alone on stdout; it is not shown again')
    .action((opts: { workspace: string; scopes: Scope[] }) =>
      withDatabase(config(), async (db) => {
        const created = await createKey(db, await requireWorkspace(db, opts.workspace), opts.scopes);
        err(`key ${created.keyId} created in ${created.workspace} with scopes ${created.scopes.join(',')}`);
        out(created.key);
      }),
    );
  keys
    .command('revoke')
    .argument('<key-id-or-key>', 'the key id shown by `keys list`, or the key itself')
    .description('revoke a key; effective on the next request')
    .action((value: string) =>
      withDatabase(config(), async (db) => {
        const keyId = parseKey(value)?.keyId ?? value;
        const revoked = await revokeKnownKey(db, keyId);
        err(`key ${revoked.keyId} of ${revoked.workspace} revoked at ${revoked.revokedAt}`);
      }),
    );
  keys
    .command('list')
    .requiredOption('--workspace <name>', 'workspace', workspaceName)
    .option('--json', 'print JSON')
    .description('list the keys of a workspace (never their secrets)')
    .action((opts: { workspace: string; json?: boolean }) =>
      withDatabase(config(), async (db) => {
        const list = await listKeys(db, await requireWorkspace(db, opts.workspace));
        // The same snake_case shape as GET /v1/admin/workspaces/{name}/keys.
        if (opts.json) return out(JSON.stringify(list.map(keyJson), null, 2));
        out(['KEY ID', 'SCOPES', 'CREATED', 'REVOKED'].join('\t'));
        for (const k of list) out([k.keyId, k.scopes.join(','), k.createdAt, k.revokedAt ?? '-'].join('\t'));
      }),
    );

  program
    .command('import')
    .argument('<file>', 'NDJSON file of events, or - for standard input')
    .requiredOption('--workspace <name>', 'workspace to import into', workspaceName)
    .description('bulk-load events with the same validation as the API; progress on stderr, a JSON summary on stdout')
    .action((file: string, opts: { workspace: string }) =>
      withDatabase(config(), async (db) => {
        const workspace = await requireWorkspace(db, opts.workspace);
        const input = file === '-' ? io.stdin : createReadStream(file);
        const started = Date.now();
        let lastReport = started;
        // Folded as it arrives (this workspace only: each chunk tells the projector), and the import
        // ends once its last event is in the scores.
        const projector = projectorFor(db, config());
        const summary = await ingestNdjson(db, workspace.id, input, {
          chunkEvents: 5_000,
          projector,
          onChunk: (s) => {
            const now = Date.now();
            if (now - lastReport < 1_000) return;
            lastReport = now;
            const rate = Math.round((s.accepted + s.duplicates) / ((now - started) / 1000));
            err(`${s.lines} lines: ${s.accepted} accepted, ${s.duplicates} duplicates, ${s.rejected_total} rejected (${rate} events/s)`);
          },
        });
        await projector.stop();
        await projector.drain(workspace.id);
        // A bulk load leaves the planner's statistics behind; autovacuum would catch up, but may be off.
        if (!(await autovacuumRuns(db))) await maintainTables(db);
        const seconds = (Date.now() - started) / 1000;
        err(`done in ${seconds.toFixed(1)} s: ${summary.accepted} accepted, ${summary.duplicates} duplicates, ${summary.rejected_total} rejected`);
        out(JSON.stringify({ ...summary, seconds }));
        if (summary.rejected_total > 0) setExitCode(1);
      }),
    );

  program
    .command('scores')
    .argument('<account>', 'the account, as events name it')
    .requiredOption('--workspace <name>', 'workspace', workspaceName)
    .option('--since <time>', 'start of the window (RFC 3339)', instant)
    .option('--until <time>', 'end of the window (RFC 3339)', instant)
    .option('--churn-hours <hours>', `hours within which an unfollow counts as quick (1–${MAX_CHURN_HOURS})`, churnHours, DEFAULT_CHURN_HOURS)
    .description('print an account’s scores as JSON, the same document as GET /v1/accounts/{account}/scores')
    .action((account: string, opts: { workspace: string; since?: string; until?: string; churnHours: number }) =>
      withDatabase(config(), async (db) => {
        const parsed = accountSchema.safeParse(account);
        if (!parsed.success) throw new InvalidArgumentError(`account: ${parsed.error.issues[0]!.message}`);
        const workspace = await requireWorkspace(db, opts.workspace);
        const w = windowOption(opts);
        // What was acknowledged is in the answer, whether or not a server is running to project it.
        const projector = projectorFor(db, config());
        await projector.drain(workspace.id);
        const scores = await readAt({ db, projector, waitMs: config().READ_WAIT_MS }, workspace.id, 'strong', () => accountScores(db, workspace.id, account, w));
        out(JSON.stringify(scores, null, 2));
      }),
    );

  const changeList = (list: ChangeList, description: string) => {
    const command = program.command(list).argument('<account>', 'the account, as events name it').requiredOption('--workspace <name>', 'workspace', workspaceName);
    if (list === 'follower-changes') command.addOption(new Option('--change <kind>', 'only follows, or only unfollows').choices(FOLLOW_CHANGES));
    return command
      .option('--since <time>', 'only changes at or after this instant (RFC 3339)', instant)
      .option('--until <time>', 'only changes before this instant (RFC 3339)', instant)
      .option('--churn-hours <hours>', `hours within which an unfollow counts as quick (1–${MAX_CHURN_HOURS})`, churnHours, DEFAULT_CHURN_HOURS)
      .option('--limit <n>', `items per page (1–${MAX_PAGE_ITEMS})`, pageLimit, 100)
      .option('--cursor <cursor>', '`next_cursor` of the previous page, with the same other options')
      .description(description)
      .action((account: string, opts: { workspace: string; change?: FollowChange; since?: string; until?: string; churnHours: number; limit: number; cursor?: string }) =>
        withDatabase(config(), async (db) => {
          const parsed = accountSchema.safeParse(account);
          if (!parsed.success) throw new InvalidArgumentError(`account: ${parsed.error.issues[0]!.message}`);
          const workspace = await requireWorkspace(db, opts.workspace);
          const w = windowOption(opts);
          const read = await changesPage(db, new Cursors(db), list, workspace.id, account, { change: opts.change ?? null, window: w, limit: opts.limit, cursor: opts.cursor });
          // unfollowers reads the projected follow state: what was acknowledged is folded in first.
          const projector = projectorFor(db, config());
          await projector.drain(workspace.id);
          out(JSON.stringify(await readAt({ db, projector, waitMs: config().READ_WAIT_MS }, workspace.id, 'strong', read), null, 2));
        }),
      );
  };
  changeList('follower-changes', 'print a page of an account’s follower changes as JSON, the same document as GET /v1/accounts/{account}/follower-changes');
  changeList('unfollowers', 'print a page of the accounts that follow an account no longer as JSON, the same document as GET /v1/accounts/{account}/unfollowers');

  return program;
}

/** Runs the command `argv` names (process.argv's shape) and resolves with its exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  let cached: Config | undefined;
  const config = () => (cached ??= loadConfig(io.env));
  let exitCode = 0;
  try {
    await buildCli(config, io, (code) => (exitCode = code)).parseAsync(argv);
    return exitCode;
  } catch (e) {
    // Commander has printed its own message (a missing option, an unknown command, a bad value); help exits 0.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    // A mistake of the caller's gets its one-line reason and exit 2; anything else is a failure (1).
    const mistake = e instanceof Problem || e instanceof ConfigError || e instanceof InvalidArgumentError || e instanceof DatabaseInUseError;
    const reason = mistake || (e as { code?: string }).code === 'ENOENT' ? (e as Error).message : ((e as Error).stack ?? String(e));
    io.stderr.write(`rapport: ${reason}\n`);
    return mistake ? 2 : 1;
  }
}
