// Grant use on a shared database (docs/spec/multi-node.md §3.1; red team: grant row deleted).
//
// A grant is consumed once cluster-wide by the admission that first uses it: its row in
// governance_grants (primary key) decides a race. That row is unsigned: a database writer can
// delete it, after which a node that had not seen it would take the approved grant as unused —
// and its own admission would insert the row again. What no writer can forge is the
// guardian-signed decision naming the grant (`approval_grant_id`), stored with every chain's
// receipt (and in an open admission). So before a node holds an approved grant as unused, and
// again when an admission uses one, it asks the database for either record of use.
import { StoreError } from '@helm/store';

interface GrantUses {
  grantsUsed(challengeIds: readonly string[]): Promise<ReadonlySet<string>>;
}

const hasGrantUses = (store: unknown): store is GrantUses =>
  typeof (store as Partial<GrantUses> | null)?.grantsUsed === 'function';

/** Which of `ids` a grant row or a signed decision on any node names as used (empty: no such store). */
export async function grantsUsedElsewhere(
  store: unknown,
  ids: readonly string[],
): Promise<ReadonlySet<string>> {
  if (ids.length === 0 || !hasGrantUses(store)) return new Set();
  return store.grantsUsed(ids);
}

/**
 * Admission of a call that uses grant `id`: refused (STORE_GRANT_CONSUMED, before the driver, as a
 * lost race is) when a decision already names it — its row may have been deleted.
 */
export async function refuseUsedGrant(store: unknown, id: string): Promise<void> {
  if ((await grantsUsedElsewhere(store, [id])).has(id))
    throw new StoreError(
      'STORE_GRANT_CONSUMED',
      `approval grant ${id} was already used (a signed decision names it)`,
    );
}
