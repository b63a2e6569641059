// The governance state of a shared database, read once through the async port and answered
// synchronously: what the views (`challengeViews`, `identityList`, `delegationList`, the budget
// overview) and the actions' checks before an append read. They were written against the embedded
// store's synchronous reads; a networked store has none, so they run on a snapshot instead of
// being written twice. The snapshot is a point-in-time read (cursor, then records, then events, so
// it never shows a record without its event), never written through: every write still goes to the
// database itself (the append's compare-and-set on the log head decides what reaches the log).
import type { SignedEnvelope } from '@helm/contracts';
import type {
  GovernanceEventRow,
  LedgerAccount,
  RuntimeStore,
  StoredGovernanceApplication,
  StoredGovernanceChallenge,
  StoredGovernanceGrant,
} from '@helm/store';
import { DataDir } from './datadir.js';

interface SnapshotReads {
  readonly cursor: SignedEnvelope | undefined;
  readonly applied: readonly StoredGovernanceApplication[];
  readonly events: readonly GovernanceEventRow[];
  readonly challenges: readonly StoredGovernanceChallenge[];
  readonly grants: readonly StoredGovernanceGrant[];
  readonly trust: readonly { key: string; value: unknown }[];
  readonly accounts: readonly LedgerAccount[];
}

/** The synchronous reads the views and checks make, answered from one read of the database. */
function snapshotMethods(r: SnapshotReads): Record<string, (...args: never[]) => unknown> {
  const last = r.events[r.events.length - 1];
  return {
    governanceHeadSync: () => (last ? { seq: last.seq, chain: last.chain } : undefined),
    governanceEventsSync: (fromSeq = 1) => r.events.filter((e) => e.seq >= fromSeq),
    governanceEventsAboutSync: (subject: string) => r.events.filter((e) => e.subject === subject),
    governanceEventSeqSync: (d: string) => r.events.find((e) => e.digest === d)?.seq,
    governanceEventSync: (seq: number) => r.events.find((e) => e.seq === seq),
    governanceAppliedSync: (fromSeq = 1) => r.applied.filter((a) => a.seq >= fromSeq),
    governanceCursorSync: () => r.cursor,
    governanceChallengesSync: (chainId?: string) =>
      chainId === undefined ? [...r.challenges] : r.challenges.filter((c) => c.chainId === chainId),
    governanceChallengeSync: (id: string) => r.challenges.find((c) => c.id === id),
    governanceGrantsSync: () => [...r.grants],
    governanceGrantSync: (id: string) => r.grants.find((g) => g.challengeId === id),
    ledgerAccountsSync: () => r.accounts.map((a) => ({ ...a })),
    // Only the trust registry is read ahead; another namespace refuses like any unported read.
    listDocumentsSync: (namespace: string) => {
      if (namespace !== 'trust') return undefined as never;
      return r.trust.map((d) => ({ ...d }));
    },
  };
}

/**
 * A data directory whose `store` answers the governance reads from one read of `data`'s shared
 * database (every other synchronous read still refuses, DATABASE_RUNTIME_UNSUPPORTED; async methods
 * reach the database). On the embedded store, `data` itself.
 */
export async function governanceSnapshot(data: DataDir): Promise<DataDir> {
  const store = data.shared;
  if (store === undefined) return data;
  const cursor = await store.governanceCursor();
  const applied = await store.governanceApplied();
  const events = await store.governanceEvents();
  const [challenges, grants, trust, accounts] = await Promise.all([
    store.governanceChallenges(),
    store.governanceGrants(),
    store.listDocuments('trust'),
    store.ledgerAccounts(),
  ]);
  const methods = snapshotMethods({ cursor, applied, events, challenges, grants, trust, accounts });
  const view = new Proxy(store, {
    get(target, key) {
      if (typeof key === 'string' && Object.hasOwn(methods, key)) {
        if (key === 'listDocumentsSync')
          return (namespace: string) => {
            if (namespace !== 'trust') return data.store.listDocumentsSync(namespace);
            return (methods.listDocumentsSync as (n: string) => unknown)(namespace);
          };
        return methods[key];
      }
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
    has(target, key) {
      return (typeof key === 'string' && Object.hasOwn(methods, key)) || Reflect.has(target, key);
    },
  }) as unknown as RuntimeStore;
  return new DataDir(data.dir).attachStore(view, data.governanceLog);
}
