// The trust-registry floor of a node on a shared database (docs/spec/multi-node.md §3.1).
//
// A node reads the deployment's trust registry from the database at every open. The database
// writer (any row, no keys) can delete a published rotation's row: a node restarted afterwards
// would open on the shorter registry, in which the rotated-out (compromised) key still holds its
// role. So each node keeps, on its own disk, the highest registry it has verified — its sequence
// number and head digest — and refuses to open on one that is shorter, or that differs at that
// position (DATABASE_TRUST_MISMATCH). The floor only rises: it is written at every open and when a
// running node verifies a newer registry published while it ran (it then stops deciding, stale).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import { type DataDir, writeWhole } from './datadir.js';

const FLOOR_FILE = 'trust-floor.json';

interface TrustFloor {
  readonly type: 'helm.runtime.trust_floor.v1';
  readonly seq: number;
  readonly head: string;
}

function readFloor(data: DataDir): TrustFloor | undefined {
  const path = join(data.dir, FLOOR_FILE);
  if (!existsSync(path)) return undefined;
  let floor: Partial<TrustFloor> | undefined;
  try {
    floor = JSON.parse(readFileSync(path, 'utf8')) as Partial<TrustFloor>;
  } catch {
    floor = undefined;
  }
  if (
    floor?.type !== 'helm.runtime.trust_floor.v1' ||
    !Number.isSafeInteger(floor.seq) ||
    (floor.seq as number) < 1 ||
    typeof floor.head !== 'string'
  )
    // Unreadable: refuse rather than forget the floor (an empty file would reset it).
    throw new RuntimeError(
      'DATABASE_TRUST_MISMATCH',
      `${path} is not a trust-registry floor this runtime wrote; nothing was done`,
      'restore the file from a backup of this node, or remove it only if the database registry is known good (docs/deployment.md)',
    );
  return floor as TrustFloor;
}

/**
 * At open: refuse a registry below this node's floor (shorter, or another event at the floor's
 * position), then raise the floor to it.
 */
export function checkTrustFloor(data: DataDir, registry: TrustRegistry): void {
  const floor = readFloor(data);
  if (floor !== undefined) {
    if (registry.seq < floor.seq)
      throw new RuntimeError(
        'DATABASE_TRUST_MISMATCH',
        `the shared database's trust registry has ${registry.seq} events; this node has verified ${floor.seq} (published rotations are missing): nothing was done`,
        'the registry in the database was rolled back outside helm: publish the deployment registry again (`helmts db publish-trust`) from the data directory that holds the rotation — docs/deployment.md',
      );
    if (registry.headAt(floor.seq) !== floor.head)
      throw new RuntimeError(
        'DATABASE_TRUST_MISMATCH',
        `the shared database's trust registry differs at event ${floor.seq} from the one this node verified: nothing was done`,
        'the registry in the database was rewritten outside helm: publish the deployment registry again from a known-good data directory — docs/deployment.md',
      );
  }
  raiseTrustFloor(data, registry);
}

/** Record `registry` (verified) as this node's floor when it is higher than the one on disk. */
export function raiseTrustFloor(data: DataDir, registry: TrustRegistry): void {
  const floor = readFloor(data);
  if (floor !== undefined && floor.seq >= registry.seq) return;
  const next: TrustFloor = { type: 'helm.runtime.trust_floor.v1', seq: registry.seq, head: registry.head };
  writeWhole(join(data.dir, FLOOR_FILE), `${JSON.stringify(next, null, 2)}\n`);
}
