// The governance state of a shared database, read once through the async port and answered
// synchronously: what the views (`challengeViews`, `identityList`, `delegationList`, the budget
// overview) and the actions' checks before an append read. They were written against the embedded
// store's synchronous reads; a networked store has none, so they run on a snapshot instead of
// being written twice. The snapshot is a point-in-time read (cursor, then records, then events, so
// it never shows a record without its event), never written through: every write still goes to the
// database itself (the append's compare-and-set on the log head decides what reaches the log).
//
// A snapshot taken with `stage: true` also takes the synchronous append the administrative
// commands make (`appendGovernanceEventSync`): the row is built on the snapshot's head and kept;
// `commitStagedAppends` then appends it to the database only if the log's head is still the one
// the command's checks judged (else STORE_GOVERNANCE_CONFLICT, nothing appended: run it again).
import type { SignedEnvelope } from '@helm/contracts';
import type {
  GovernanceEventRow,
  LedgerAccount,
  RuntimeStore,
  StoredGovernanceApplication,
  StoredGovernanceChallenge,
  StoredGovernanceGrant,
} from '@helm/store';
import { StoreError } from '@helm/store';
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

type Head = { readonly seq: number; readonly chain: string } | undefined;

/** Appends a staged snapshot took, each with the head its row was built on. */
const staged = new WeakMap<
  DataDir,
  { rows: { row: GovernanceEventRow; head: Head }[]; store: RuntimeStore }
>();

/** The synchronous reads the views and checks make, answered from one read of the database. */
function snapshotMethods(
  r: SnapshotReads & { events: GovernanceEventRow[] },
  stage: { row: GovernanceEventRow; head: Head }[] | undefined,
): Record<string, (...args: never[]) => unknown> {
  const head = (): Head => {
    const last = r.events[r.events.length - 1];
    return last ? { seq: last.seq, chain: last.chain } : undefined;
  };
  const methods: Record<string, (...args: never[]) => unknown> = {
    governanceHeadSync: head,
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
    ledgerStateSync: (account: string) => {
      const a = r.accounts.find((x) => x.account === account);
      return { spent: a?.spent ?? 0, reserved: a?.reserved ?? 0 };
    },
    // Only the trust registry is read ahead; another namespace refuses like any unported read.
    listDocumentsSync: (namespace: string) => {
      if (namespace !== 'trust') return undefined as never;
      return r.trust.map((d) => ({ ...d }));
    },
  };
  if (stage)
    methods.appendGovernanceEventSync = ((make: (h: Head) => GovernanceEventRow) => {
      const at = head();
      const row = make(at);
      stage.push({ row, head: at });
      r.events.push(row);
      return row;
    }) as never;
  return methods;
}

/**
 * A data directory whose `store` answers the governance reads from one read of `data`'s shared
 * database (every other synchronous read still refuses, DATABASE_RUNTIME_UNSUPPORTED; async methods
 * reach the database). On the embedded store, `data` itself.
 */
export async function governanceSnapshot(data: DataDir, options: { stage?: boolean } = {}): Promise<DataDir> {
  const store = data.shared;
  if (store === undefined) return data;
  // The log, its application records and cursor, challenges and grants in ONE read
  // (governanceView): another node applying an event meanwhile is seen whole or not at all.
  const [{ cursor, applied, events, challenges, grants }, trust, accounts] = await Promise.all([
    store.governanceView(),
    store.listDocuments('trust'),
    store.ledgerAccounts(),
  ]);
  const stage = options.stage ? ([] as { row: GovernanceEventRow; head: Head }[]) : undefined;
  const methods = snapshotMethods(
    { cursor, applied, events: [...events], challenges, grants, trust, accounts },
    stage,
  );
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
  const snapshot = new DataDir(data.dir).attachStore(view, data.governanceLog);
  if (stage) staged.set(snapshot, { rows: stage, store });
  return snapshot;
}

/**
 * Append what a staged snapshot took (`governanceSnapshot(data, {stage: true})`), in order, each
 * only onto the head it was built and checked on: a log that moved meanwhile (another
 * administrator, a node) is STORE_GOVERNANCE_CONFLICT with nothing more appended. Returns how many
 * were appended. On a data directory that is not a staged snapshot: 0.
 */
export async function commitStagedAppends(snapshot: DataDir): Promise<number> {
  const s = staged.get(snapshot);
  if (s === undefined) return 0;
  staged.delete(snapshot);
  for (const { row, head } of s.rows)
    await s.store.appendGovernanceEvent((now) => {
      if (now?.seq !== head?.seq || now?.chain !== head?.chain)
        throw new StoreError(
          'STORE_GOVERNANCE_CONFLICT',
          `the governance log moved (event ${now?.seq ?? 0} is its head, the command was checked at ${head?.seq ?? 0}): nothing more was appended; run the command again`,
        );
      return row;
    });
  return s.rows.length;
}
