// `helmts db migrate`: apply the shared PostgreSQL database's schema migrations as a migrating role
// (the schema's owner), separate from the role runtime nodes serve with (docs/deployment.md).
import {
  DATABASE_URL_ENV,
  DataDir,
  inspectDatabase,
  migrateDatabase,
  publishTrust,
  RuntimeError,
  redactDatabaseUrl,
  resolveDatabaseUrl,
  resolveDataDir,
} from '@helm/runtime';
import type { Command } from 'commander';
import { type CommandResult, failed, ok } from '../errors.js';
import type { Wrap } from '../main.js';

/** The database URL of a command: its global `--database-url`, else $HELM_DATABASE_URL. */
export function databaseUrlOf(command: Command): string | undefined {
  const root = command.optsWithGlobals() as { databaseUrl?: string };
  return resolveDatabaseUrl(root.databaseUrl);
}

function requireUrl(command: Command): string {
  const url = databaseUrlOf(command);
  if (url === undefined) {
    throw new RuntimeError(
      'USAGE',
      'no database given',
      `pass --database-url 'postgres://migrator@host:5432/db?sslmode=verify-full' or set ${DATABASE_URL_ENV}`,
    );
  }
  return url;
}

interface MigrateOpts {
  json?: boolean;
  schema?: string;
  grantTo?: string;
}

export async function dbMigrateCommand(url: string, opts: MigrateOpts): Promise<CommandResult> {
  const result = await migrateDatabase({
    url,
    ...(opts.schema === undefined ? {} : { schema: opts.schema }),
    ...(opts.grantTo === undefined ? {} : { grantTo: opts.grantTo }),
  });
  const shown = redactDatabaseUrl(url);
  return ok(
    {
      database: shown,
      schema: opts.schema ?? 'public',
      applied: result.applied,
      version: result.version,
      ...(result.granted === undefined ? {} : { granted_to: result.granted }),
    },
    [
      result.applied === 0
        ? `${shown}: schema v${result.version}, already current.`
        : `${shown}: applied ${result.applied} migration(s); schema v${result.version}.`,
      ...(result.granted === undefined
        ? []
        : [`Serving role ${result.granted}: row access granted (no DDL).`]),
    ],
  );
}

export async function dbStatusCommand(url: string, opts: { schema?: string }): Promise<CommandResult> {
  const status = await inspectDatabase({
    url,
    ...(opts.schema === undefined ? {} : { schema: opts.schema }),
  });
  const body = { database: status };
  return status.ok ? ok(body, [status.detail]) : failed(body, [`FAIL ${status.detail}`]);
}

/** `helmts db publish-trust`: this data directory's trust registry into the shared database (once per deployment). */
export async function dbPublishTrustCommand(
  url: string,
  dataDir: string | undefined,
  opts: { schema?: string },
): Promise<CommandResult> {
  const data = new DataDir(resolveDataDir(dataDir));
  try {
    const r = await publishTrust(data, {
      url,
      ...(opts.schema === undefined ? {} : { schema: opts.schema }),
    });
    const shown = redactDatabaseUrl(url);
    return ok({ database: shown, written: r.written, events: r.events }, [
      r.written === 0
        ? `${shown}: holds this trust registry already (${r.events} events).`
        : `${shown}: published ${r.written} trust registry event(s) (${r.events} in all).`,
      `Next: on every node (a copy of ${data.dir} with its own chain_id), ${'`helmts run --database-url …`'}`,
    ]);
  } finally {
    data.close();
  }
}

export function registerDbCommands(program: Command, wrap: Wrap): void {
  const db = program
    .command('db')
    .description(
      'the shared PostgreSQL database of several runtime nodes (--database-url / HELM_DATABASE_URL)',
    );
  db.command('migrate')
    .description('apply pending schema migrations, as the migrating role (the schema owner)')
    .option('--schema <name>', 'schema holding the tables (default: public)')
    .option('--grant-to <role>', 'grant this serving role row access (no DDL) after migrating')
    .option('--json', 'machine-readable output')
    .action(wrap((opts: MigrateOpts, cmd: Command) => dbMigrateCommand(requireUrl(cmd), opts)));
  db.command('status')
    .description('check the connection and the schema version (exit 1 when not current)')
    .option('--schema <name>', 'schema holding the tables (default: public)')
    .option('--json', 'machine-readable output')
    .action(wrap((opts: { schema?: string }, cmd: Command) => dbStatusCommand(requireUrl(cmd), opts)));
  db.command('publish-trust')
    .description("put this data directory's trust registry into the database (once per deployment)")
    .option('--schema <name>', 'schema holding the tables (default: public)')
    .option('--json', 'machine-readable output')
    .action(
      wrap((opts: { schema?: string }, cmd: Command) =>
        dbPublishTrustCommand(requireUrl(cmd), (cmd.optsWithGlobals() as { dataDir?: string }).dataDir, opts),
      ),
    );
}
