// What the administrative commands (identity, egress, delegate) share: the key that signs an edit
// and how an appended governance event is reported (their data directory: ./data.ts, like every command).
import type { Signer } from '@helm/crypto';
import type { DataDir, GovernanceEventRecord } from '@helm/runtime';
import type { CommandResult } from '../errors.js';

export type Wrap = <A extends unknown[]>(
  handler: (...args: A) => Promise<CommandResult> | CommandResult,
) => (...args: A) => Promise<void>;

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
