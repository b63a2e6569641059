// The data directory a command works on (--data-dir, $HELM_HOME or ./.helm), for every command file.
import { DataDir, refuseDatabaseRuntime, resolveDatabaseUrl, resolveDataDir } from '@helm/runtime';
import type { Command } from 'commander';
import type { CommandResult } from '../errors.js';

export function dataDirOf(command: Command): DataDir {
  const root = command.optsWithGlobals() as { dataDir?: string; databaseUrl?: string };
  // A shared database was asked for: never fall back to the data directory's store (fail closed).
  const url = resolveDatabaseUrl(root.databaseUrl);
  if (url !== undefined) refuseDatabaseRuntime(url);
  return new DataDir(resolveDataDir(root.dataDir));
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
