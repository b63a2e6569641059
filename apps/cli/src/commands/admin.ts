// What the administrative commands (identity, egress, delegate) share: the data directory of the
// command, the key that signs an edit, and how an appended governance event is reported.
import type { Signer } from '@helm/crypto';
import { DataDir, type GovernanceEventRecord, resolveDataDir } from '@helm/runtime';
import type { Command } from 'commander';
import type { CommandResult } from '../errors.js';

export type Wrap = <A extends unknown[]>(
  handler: (...args: A) => Promise<CommandResult> | CommandResult,
) => (...args: A) => Promise<void>;

export function dataDirOf(command: Command): DataDir {
  const root = command.optsWithGlobals() as { dataDir?: string };
  return new DataDir(resolveDataDir(root.dataDir));
}

/** Run `fn` on the command's data directory and close its store afterwards. */
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

/** commander collector of a repeatable option. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * The key that signs an administrative edit: `keys/<name>.json` (default `policy`), as its seed
 * says. Whether it may sign the action is the trust registry's answer, checked when the event is
 * appended (KEY_NOT_VALID otherwise) — never the file's own `roles`.
 */
export function adminSigner(data: DataDir, name: string | undefined): { name: string; signer: Signer } {
  const keyName = name ?? 'policy';
  return { name: keyName, signer: data.localKey(keyName).signer };
}

export function appendedLines(event: GovernanceEventRecord, keyName: string): string[] {
  return [
    `  governance event ${event.seq} (${event.action}) signed by ${keyName} ${event.signer}, appended to the log without opening the runtime.`,
    '  A running runtime (serve, mcp) applies it before its next decision; any other command that opens the runtime applies it at open.',
  ];
}
