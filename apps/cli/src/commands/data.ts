// The data directory a command works on (--data-dir, $HELM_HOME or ./.helm), for every command file,
// and the shared database it runs on when one is named (--database-url / $HELM_DATABASE_URL).
import {
  attachDatabase,
  commitStagedAppends,
  DataDir,
  governanceSnapshot,
  refuseDatabaseRuntime,
  resolveDatabaseUrl,
  resolveDataDir,
} from '@helm/runtime';
import type { Command } from 'commander';
import type { CommandResult } from '../errors.js';

/**
 * The command's data directory. A shared database was named but this command does not run on it
 * (yet): refused, never a fall-back to the data directory's store (fail closed).
 */
export function dataDirOf(command: Command): DataDir {
  const root = command.optsWithGlobals() as { dataDir?: string; databaseUrl?: string };
  const url = resolveDatabaseUrl(root.databaseUrl);
  if (url !== undefined) refuseDatabaseRuntime(url, commandPath(command));
  return new DataDir(resolveDataDir(root.dataDir));
}

/** Whether the command names a shared database (--database-url / $HELM_DATABASE_URL). */
export function databaseNamed(command: Command): boolean {
  const root = command.optsWithGlobals() as { databaseUrl?: string };
  return resolveDatabaseUrl(root.databaseUrl) !== undefined;
}

/**
 * The command's data directory and the shared database it names (--database-url /
 * $HELM_DATABASE_URL), unattached: for `serve`, whose server attaches the database itself (and
 * closes it when it stops).
 */
export function nodeOf(command: Command): { data: DataDir; databaseUrl?: string } {
  const root = command.optsWithGlobals() as { dataDir?: string; databaseUrl?: string };
  const url = resolveDatabaseUrl(root.databaseUrl);
  const data = new DataDir(resolveDataDir(root.dataDir));
  return url === undefined ? { data } : { data, databaseUrl: url };
}

/** `approvals grant`, `run`, …: the command's words after the program name. */
function commandPath(command: Command): string {
  const words: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

/** Run `fn` on the command's data directory and close its store afterwards (no leaked handle). */
export async function withDataDir(
  command: Command,
  fn: (data: DataDir) => CommandResult | Promise<CommandResult>,
): Promise<CommandResult> {
  const data = dataDirOf(command);
  try {
    return await fn(data);
  } finally {
    data.close();
  }
}

/**
 * Run `fn` on the command's data directory and, when a shared database is named, on that database:
 * it is attached before `fn` runs (an unreachable database fails here, STORE_UNAVAILABLE, before
 * anything is decided or written) and the embedded `helm.db` is never opened. For the commands
 * that run on the database: `run`, `export`, `db publish-trust`, `serve keys …`.
 */
export async function withNodeStore(
  command: Command,
  fn: (data: DataDir) => CommandResult | Promise<CommandResult>,
): Promise<CommandResult> {
  const root = command.optsWithGlobals() as { dataDir?: string; databaseUrl?: string };
  const url = resolveDatabaseUrl(root.databaseUrl);
  const data = new DataDir(resolveDataDir(root.dataDir));
  try {
    if (url !== undefined) await attachDatabase(data, { url });
    return await fn(data);
  } finally {
    await data.closeAll();
  }
}

/**
 * The administrative commands (identity, egress, delegate, budget, approvals, tool repin) and their
 * views: on the data directory's store as `withDataDir`; with a shared database named, on one
 * snapshot of the database's governance state (`governanceSnapshot`) — the command's checks and
 * views read it, an event it appends is staged and appended afterwards only onto the log head it
 * was checked at (STORE_GOVERNANCE_CONFLICT otherwise: run it again). Every node applies the event
 * before its next decision. A write the snapshot cannot take is refused by name
 * (DATABASE_RUNTIME_UNSUPPORTED), never made in `helm.db`.
 */
export async function withGovernanceDir(
  command: Command,
  fn: (data: DataDir) => CommandResult | Promise<CommandResult>,
): Promise<CommandResult> {
  const root = command.optsWithGlobals() as { dataDir?: string; databaseUrl?: string };
  const url = resolveDatabaseUrl(root.databaseUrl);
  if (url === undefined) return withDataDir(command, fn);
  const data = new DataDir(resolveDataDir(root.dataDir));
  try {
    await attachDatabase(data, { url });
    const snapshot = await governanceSnapshot(data, { stage: true });
    const result = await fn(snapshot);
    await commitStagedAppends(snapshot);
    return result;
  } finally {
    await data.closeAll();
  }
}
