// The governed runtime of a data directory: the real guardian, executor, receipt recorder and
// ProofGraph over the store. An admitted call is journaled (with its budget reservation) in one
// transaction before its driver runs; its receipt (its own ProofGraph node), decision, any signed
// ProofGraph nodes, recorded request, idempotency record, budget commit/refund and the admission's
// close are then committed in ONE transaction before its result is returned: an acknowledged call
// is never lost, and a call interrupted in between is receipted EXECUTION_INTERRUPTED when the data
// directory is next opened (docs/spec/pipeline.md §Admission journal).
//
// Any number of calls may be in flight: each is its own unit of work (unit.ts), the chain's
// receipts commit in Lamport order, and admissions and receipts of concurrent calls share group-
// committed transactions. Open reads the chain head, not the history (docs/spec/pipeline.md
// §Concurrent calls on one runtime).
import type { DelegationSession, RiskTier, SignedEnvelope, ToolDescriptor } from '@helm/contracts';
import {
  canonicalBytes,
  canonicalize,
  digest,
  openVerifiedEnvelope,
  parseStrictJson,
  type Signer,
  signEnvelope,
} from '@helm/crypto';
import { httpDriver } from '@helm/driver-http';
import {
  type BuiltPack,
  buildEvidencePack,
  envelopeBody,
  GOVERNANCE_ADMIN_TOOL_PREFIX,
  type PackInput,
  type PackNode,
  type WrittenPack,
  writeEvidencePackFile,
} from '@helm/evidencepack';
import {
  type AdmissionEntry,
  type AdmissionJournal,
  clientIdempotencyKey,
  createExecutor,
  type Driver,
  type ExecuteRequest,
  type ExecuteResult,
  type Executor,
  functionDriver,
  type JsonValue,
  proofGraphPort,
  REQUEST_FIELDS,
  sandboxDriver,
} from '@helm/executor';
import {
  type ApprovalStatus,
  type Clock,
  type CreateSessionInput,
  DEFAULT_THREAT_CONFIG,
  type Guardian,
  type GuardianError,
  type GuardianOptions,
  loadPolicyStack,
  ManualClock,
  type NonceStore,
  type PolicyStack,
} from '@helm/guardian';
import { condenseHistory, MerkleLog, ProofGraph, type SignedNode } from '@helm/proofgraph';
import { ReceiptRecorder } from '@helm/receipts';
import { createSandbox, type Sandbox } from '@helm/runtime-sandbox';
import { processIsolation } from '@helm/sandbox-process';
import {
  type AdmissionLeases,
  type CommitResult,
  type DeferredBudgetLedger,
  deferredBudgetLedger,
  type GovernanceApplication,
  type GovernanceChallengeRecord,
  type GovernedCallRecord,
  type Json,
  type LeasedAdmission,
  type RuntimeStore,
  type SqliteStore,
  type StoredDecision,
  type StoredNode,
  type StoredReceipt,
  type StoredRequest,
} from '@helm/store';
import { exportTrustSnapshot, type TrustRegistry, trustEventDigest } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import { type HostDrivers, hostDriver } from '../host-drivers.js';
import { isComponent, PinnedComponents } from './component.js';
import type { DataDir, HelmConfig } from './datadir.js';
import { checkDeploymentFloor } from './deployment-floor.js';
import { baseEgress, egressConfig } from './egress.js';
import { ExplainingPort } from './explain.js';
import {
  type GovernanceAppliedRecord,
  type GovernanceEventRecord,
  GovernanceIngestor,
  type GovernanceReads,
  governanceEventDigest,
  readGovernanceForOpen,
  readGovernanceLog,
} from './governance.js';
import { checkGovernanceLogPin, schemaOf } from './governance-log-pin.js';
import { grantsUsedElsewhere, refuseUsedGrant } from './grant-uses.js';
import { StoreIdempotency } from './idempotency.js';
import { baseIdentity, guardianOf } from './identity.js';
import { keyLineage } from './key-lineage.js';
import { LeaseKeeper } from './leases.js';
import { acquireRuntimeLock, type RuntimeLock } from './lock.js';
import { type ModuleCacheStats, registerCached } from './module-cache.js';
import { checkedPlugin, PLUGIN_DRIVER_KIND, PluginHost } from './plugin.js';
import {
  delegationNonceKey,
  openPortBudgetLedger,
  type PortBudgetLedger,
  PortNonces,
} from './port-decision.js';
import {
  GOVERNANCE_EFFECT_CLASS,
  loadReceiptPolicies,
  missingReceiptPolicy,
  type RuntimeReceiptPolicies,
} from './receipt-policy.js';
import { governanceLogOf } from './store-select.js';
import { rewindRepins } from './tool-repin.js';
import { checkTrustFloor, raiseTrustFloor } from './trust-floor.js';
import {
  AdmissionBatcher,
  CallUnit,
  ChainReceipts,
  CommitSequencer,
  currentUnit,
  DecisionOrder,
  FrontierNodes,
  receiptCommitter,
  runInUnit,
} from './unit.js';
import { WorkGate } from './work-gate.js';

export const PRODUCER = 'helm-ts/0.1.0';

/** Why a registered tool's body can fail its checks at open: the tool goes out of service. */
const TOOL_FAULTS: ReadonlySet<string> = new Set([
  'TOOL_DRIVER_UNAVAILABLE',
  'PLUGIN_PIN_MISMATCH',
  'PLUGIN_INVALID',
  'COMPONENT_PIN_MISMATCH',
  'COMPONENT_INVALID',
  'COMPONENT_IMPORT_DENIED',
  'FILE_NOT_FOUND',
]);

/**
 * The request object of a governed call (docs/spec/pipeline.md §Request digest): exactly its present
 * request fields, as a fresh plain JSON value when it is representable (else those fields as given:
 * the executor then signs a null request_digest).
 */
export function requestObject(request: ExecuteRequest): ExecuteRequest {
  const fields: Record<string, unknown> = {};
  for (const field of REQUEST_FIELDS) {
    const value = (request as unknown as Record<string, unknown>)[field];
    if (value !== undefined) fields[field] = value;
  }
  try {
    return parseStrictJson(canonicalize(fields)) as unknown as ExecuteRequest;
  } catch {
    return fields as unknown as ExecuteRequest;
  }
}

/** Built-in function tools (`driver.kind = function`, `driver.ref` = the name). */
export const BUILTIN_FUNCTIONS: Readonly<Record<string, (args: JsonValue) => JsonValue>> = {
  'builtin.echo': (args) => args,
  'demo.files.read': (args) => ({ text: `contents of ${String((args as { path?: unknown }).path)}` }),
  // A connector that drifted: its output no longer matches the pinned output schema.
  'demo.files.stat': () => ({ size: '12 KiB', owner: 'root' }),
  'demo.deploy': (args) => {
    const a = args as { service?: unknown; version?: unknown };
    return { deployed: `${String(a.service)}@${String(a.version)}` };
  },
};

/** Effect class of the receipts of administrative governance events (its policy: receipt-policy.ts). */
export { GOVERNANCE_EFFECT_CLASS };

class StoreNonces implements NonceStore {
  constructor(private readonly store: SqliteStore) {}
  has(key: string): boolean {
    return this.store.nonceUsedSync('delegation', key);
  }
  consume(key: string): boolean {
    return this.store.consumeNonceSync('delegation', key);
  }
}

/**
 * The executor's admission journal on the store: an admission and the ledger movements queued so
 * far (its reservation) are one transaction; the entry is deleted by the receipt's transaction
 * (`commitCall({ admissionId })`), so `complete` has nothing to do on its own.
 */
class StoreJournal implements AdmissionJournal {
  readonly #batcher: AdmissionBatcher;
  constructor(
    private readonly store: RuntimeStore,
    private readonly chainId: string,
    /** The ledger of the current epoch (each epoch starts a fresh one, as a fresh open does). */
    private readonly ledger: () => DeferredBudgetLedger,
    /** On an async store: the decision's state, told what the admission wrote (port-decision.ts). */
    private readonly port: () => PortDecision | undefined = () => undefined,
    /** Throws while this node may not admit (a shared database's lease renewal failing, chain lock lost). */
    private readonly gate: () => void = () => undefined,
  ) {
    this.#batcher = new AdmissionBatcher(store);
  }
  /** During a recovery: exactly the admissions it receipts (this node's own, or ones it took over). */
  recovering: readonly AdmissionEntry[] | undefined;
  /** Admissions this runtime wrote and has not closed (the lease keeper checks its renewals cover them). */
  readonly held = new Set<string>();
  async admit(entry: AdmissionEntry): Promise<void> {
    // Before anything is written: a node that cannot renew its leases (its open admissions may be
    // taken over) or that lost its chain's lock admits nothing — the call fails before its driver.
    this.gate();
    // The request being executed is its unit's (recorded with the admission, for the recovery's
    // request row); the movements written are this call's own reservation's, taken now.
    const unit = currentUnit();
    const doc: AdmissionDoc = {
      entry,
      ...(unit ? { request: unit.request, clock_ms: unit.clockMs, epoch: unit.epoch } : {}),
    };
    const ids = new Set(unit?.reservations ?? []);
    if (entry.budget_reservation_id) ids.add(entry.budget_reservation_id);
    // The grant the decision names is used by this admission, durably and at most once across
    // processes, before the driver can run (the guardian consumes it in memory right after).
    const grantId = envelopeBody<{ approval_grant_id?: unknown }>(entry.decision).approval_grant_id;
    // Shared database: the grant row is unsigned (a database writer can delete it, and this
    // admission would insert it again), so a grant some node's signed decision already names is
    // refused here, before the driver, as a lost race is (grant-uses.ts).
    if (typeof grantId === 'string' && this.port()) await refuseUsedGrant(this.store, grantId);
    const record = {
      id: entry.admission_id,
      chainId: this.chainId,
      sessionId: this.chainId,
      reservationId: entry.budget_reservation_id,
      body: doc as unknown as Json,
      ...(typeof grantId === 'string'
        ? { grant: { challengeId: grantId, decisionId: entry.decision_id } }
        : {}),
      // On a shared database the caller's own idempotency key is claimed by the admission itself
      // (one open admission per key cluster-wide, and none over a stored result it does not
      // supersede): a retry sent to another node while this call runs never runs its driver.
      ...(this.port() && unit?.explicitKey === true && typeof entry.idempotency_key === 'string'
        ? {
            idempotency: {
              key: entry.idempotency_key,
              ...(unit.supersedes === undefined ? {} : { supersedes: unit.supersedes }),
            },
          }
        : {}),
    };
    // Admissions of calls in flight share one transaction (each its own savepoint); this call's
    // driver runs only once it committed. The call's movements are taken from the queue in the
    // same synchronous step that writes them: until then they stay queued, so every decision in
    // between sees the reservation (in the queue, then in the store — never in neither).
    const port = this.port();
    if (!port) {
      await this.#batcher.admit({ admission: record, ledger: () => this.ledger().drain([...ids]) });
      return;
    }
    // On an async store the call's delegation nonce is burned first (one node wins a race:
    // STORE_NONCE_REUSED fails the call here, before its driver), and the budget view learns
    // whether its reservations were written.
    const reservations = [...ids];
    try {
      await port.nonces.burn(unit?.nonces.splice(0) ?? []);
      await this.#batcher.admit({ admission: record, ledger: () => this.ledger().drain(reservations) });
    } catch (error) {
      port.ledger.forget(reservations);
      throw error;
    }
    // Held from its commit on (a renewal must find it) until its receipt's transaction starts.
    this.held.add(record.id);
    port.ledger.durable(reservations);
  }
  complete(): void {}
  async pending(): Promise<AdmissionEntry[]> {
    if (this.recovering) return [...this.recovering];
    return (await this.store.admissions(this.chainId)).map((a) => (a.body as unknown as AdmissionDoc).entry);
  }
}

/** The node side of a shared database (PostgresStore): admission leases and the chain's lock. */
interface SharedNode extends AdmissionLeases {
  readonly leaseMs: number;
  readonly nodeId: string;
  /** The database's clock (ms): leases are measured on it. */
  databaseNow(): Promise<number>;
  /** Whether an open admission on any node claims an idempotency key. */
  idempotencyClaimed(key: string): Promise<boolean>;
  /** Documents of a namespace (the trust registry's events) and the database's clock, in one read. */
  freshness(namespace: string): Promise<{
    readonly documents: number;
    readonly head: string;
    /** The governance log's head (undefined: empty), read in the same statement. */
    readonly governance?: { readonly seq: number; readonly chain: string } | undefined;
    readonly databaseNowMs: number;
  }>;
  tryLead(role: string): Promise<{ readonly lost: Promise<void>; release(): Promise<void> } | undefined>;
}

function sharedNode(data: DataDir): SharedNode | undefined {
  const s = data.shared as Partial<SharedNode> | undefined;
  return s !== undefined &&
    typeof s.renewLeases === 'function' &&
    typeof s.takeOverExpired === 'function' &&
    typeof s.leasedAdmissions === 'function' &&
    typeof s.tryLead === 'function' &&
    typeof s.databaseNow === 'function' &&
    typeof s.freshness === 'function' &&
    typeof s.idempotencyClaimed === 'function' &&
    typeof s.leaseMs === 'number'
    ? (s as SharedNode)
    : undefined;
}

/**
 * This chain's open admissions under this node's id whose lease expired on the database clock:
 * the only ones recovery at open may receipt. The chain's advisory lock proves only that its
 * connection is gone, not that the process that admitted a call is (a cut connection, a
 * restarted pooler): an admission under a live lease may have a driver running right now.
 */
async function expiredOwnAdmissions(node: SharedNode, chainId: string): Promise<readonly LeasedAdmission[]> {
  const own = (await node.leasedAdmissions(chainId)).filter((a) => a.nodeId === node.nodeId);
  if (own.length === 0) return own;
  const now = await node.databaseNow();
  return own.filter((a) => a.leaseUntil < now);
}

/**
 * Refuse to open a chain while admissions of it are under a live lease (CHAIN_LOCKED): another
 * process on the chain may still be running their drivers (its lock's connection was cut), and
 * this process would renew their leases under the chain's node id and never recover them. A
 * restart after a crash opens once the lease expired (≤ leaseMs, docs/deployment.md).
 */
async function refuseLiveAdmissions(node: SharedNode, chainId: string): Promise<void> {
  const own = (await node.leasedAdmissions(chainId)).filter((a) => a.nodeId === node.nodeId);
  if (own.length === 0) return;
  const now = await node.databaseNow();
  const live = own.filter((a) => a.leaseUntil >= now);
  if (live.length === 0) return;
  const wait = Math.max(...live.map((a) => a.leaseUntil)) - now;
  throw new RuntimeError(
    'CHAIN_LOCKED',
    `chain ${chainId} has ${live.length} admission(s) under a live lease (for ${Math.ceil(wait)} ms more on the database clock): another process may still be running them; nothing was done`,
    'if the previous process crashed, open again once its lease expired (at most the lease length, docs/deployment.md); otherwise stop the other process',
  );
}

/** The key a call's caller-given idempotency key is stored under when its claims hold (else undefined). */
function explicitKeyOf(unit: CallUnit, request: ExecuteRequest): string | undefined {
  const key = (request as { idempotency_key?: unknown }).idempotency_key;
  if (!unit.explicitKey || typeof key !== 'string') return undefined;
  const r = request as {
    principal?: unknown;
    tenant?: unknown;
    context?: { delegation?: { session_id?: unknown } };
  };
  if (typeof r.principal !== 'string') return undefined;
  const session = r.context?.delegation?.session_id;
  return clientIdempotencyKey({
    principal: r.principal,
    tenant: typeof r.tenant === 'string' ? r.tenant : null,
    session: typeof session === 'string' ? session : null,
    client_key: key,
  });
}

/**
 * A call refused before anything was decided (shared-database prechecks): DENIED, no decision, no
 * receipt, nothing run. The reason code is the runtime error's own code, registered as a reason
 * code too (docs/spec/reason-codes.md); `message` carries the error's words. No denial receipt
 * is signed: a stale node may hold the very key a published rotation removed, and a skewed clock
 * would stamp the receipt with a wrong time.
 */
function refusalResult(reason: 'TRUST_REGISTRY_STALE' | 'CLOCK_SKEW', error: RuntimeError): GovernedResult {
  return {
    status: 'DENIED',
    verdict: 'DENY',
    reason_code: reason,
    receipt: null,
    receipt_hash: null,
    decision: null,
    decision_id: '',
    args_hash: null,
    idempotency_key: null,
    replayed: false,
    approval_challenge_id: null,
    admission_id: null,
    message: `${error.code}: ${error.message}`,
    rule: null,
  };
}

/** The runtime-epoch counter's document: one per chain on an async store (several nodes share it). */
const epochKey = (chainId: string, perChain: boolean): string => (perChain ? `epoch:${chainId}` : 'epoch');

/** The decision's shared state on an async store (port-decision.ts); the embedded store reads it synchronously. */
interface PortDecision {
  readonly ledger: PortBudgetLedger;
  readonly nonces: PortNonces;
}

/** The embedded store answers the decision's reads synchronously; any other store goes through the port. */
function readsSynchronously(store: RuntimeStore): boolean {
  const s = store as Partial<SqliteStore>;
  return (
    typeof s.ledgerStateSync === 'function' &&
    typeof s.ledgerReservationSync === 'function' &&
    typeof s.ledgerCounterSync === 'function' &&
    typeof s.nonceUsedSync === 'function' &&
    typeof s.consumeNonceSync === 'function'
  );
}

/** A budget view on the async port, its reservations named by chain, epoch and counter (unique across nodes). */
function portLedger(store: RuntimeStore, chainId: string, epoch: () => number): Promise<PortBudgetLedger> {
  return openPortBudgetLedger(store, (n) => `budget-res-${chainId}.${epoch()}.${n}`);
}

/**
 * The deferred ledger with each reservation attributed to the call that made it (its unit), so a
 * call's admission and receipt write exactly its own movements, whatever else is in flight.
 */
function unitLedger(inner: DeferredBudgetLedger): DeferredBudgetLedger {
  return {
    reserve(charges, amount) {
      const id = inner.reserve(charges, amount);
      if (id !== null) currentUnit()?.reservations.add(id);
      return id;
    },
    commit: (id) => inner.commit(id),
    refund: (id) => inner.refund(id),
    reset: (account) => inner.reset(account),
    state: (account) => inner.state(account),
    drain: (only) => inner.drain(only),
    get pending() {
      return inner.pending;
    },
  };
}

/** The decision fields an idempotent repeat's key is derived from (`#releaseRepeat`). */
interface DecisionRecordView {
  readonly principal: string;
  readonly tenant: string | null;
  readonly session_id: string | null;
  readonly budget_reservation_id?: string | null;
}

/** An admission as the CLI stores it: the executor's entry plus the request that led to it. */
interface AdmissionDoc {
  readonly entry: AdmissionEntry;
  readonly request?: Json;
  readonly clock_ms?: number;
  readonly epoch?: number;
}

/**
 * The recorded request row of a recovered call: the original request, clock reading and epoch
 * (so an EvidencePack replay re-derives its args hash and decision time), plus what re-execution
 * needs to reproduce the interruption receipt: the admission entry, its reservation, and the
 * recovery's own clock reading and epoch.
 */
export interface RecoveryRecord {
  readonly entry: AdmissionEntry;
  readonly reservation: { readonly accounts: readonly string[]; readonly amount: number } | null;
  readonly clock_ms: number;
  readonly epoch: number;
}

/** A governed call's result, with the policy rule its decision came from (display only). */
export interface GovernedResult extends ExecuteResult {
  /** The P0/P1/P2 rule id the policy stage matched (null: decided elsewhere, delegated, or none). */
  readonly rule: string | null;
}

export interface RuntimeOptions {
  readonly clock: Clock;
  /** Sandbox worker pool size (default 1). */
  readonly sandboxPool?: number;
  /** Drivers a host supplies for its own driver kinds (the MCP gateway's `mcp`; src/host-drivers.ts). */
  readonly drivers?: HostDrivers;
  /** This data directory's registry, already verified by the caller: used while it is the store's head. */
  readonly registry?: TrustRegistry;
}

/**
 * Re-execution only: receipts commit to the trust registry state at `seq` (the one the recorded
 * receipt names) instead of the head, since the scratch copy holds the registry as it is now.
 */
interface TrustCommitment {
  seq: number | undefined;
  /** The recorded registry seq of the governance event being replayed (governance.ts replayTrustSeq). */
  governanceSeq?: number | undefined;
}

/** `given` while it is the store's registry (anchor, seq, head digest), else verified afresh. */
function currentRegistry(data: DataDir, given?: TrustRegistry): TrustRegistry {
  const events = given === undefined ? [] : data.trustEvents();
  const last = events[events.length - 1];
  const anchor = given?.headAt(1) === data.config().trust_anchor;
  const head = last !== undefined && given?.seq === events.length && given.head === trustEventDigest(last);
  return given !== undefined && anchor && head ? given : data.registry();
}

/**
 * The database's trust registry as a node read it before loading it at open (its staleness check
 * compares): the number of events and the store's digest of them, so a rewrite that keeps the
 * number is noticed too.
 */
const sharedTrustEvents = new WeakMap<object, { readonly documents: number; readonly head: string }>();

/**
 * Tolerated difference between a node's clock and the shared database's (docs/deployment.md):
 * budget windows, approval and delegation expiries are read from the node's clock, so a node
 * further off than this decides nothing (CLOCK_SKEW). The read's round trip is added on top.
 */
export const MAX_CLOCK_SKEW_MS = 2_000;

/**
 * The trust registry a node reads from a store without synchronous reads (a shared database):
 * verified under this data directory's trust anchor. None there, or another registry, is refused
 * (DATABASE_TRUST_MISMATCH) before anything is decided.
 */
async function sharedRegistry(data: DataDir, store: RuntimeStore): Promise<TrustRegistry> {
  // The digest is read before the events: a registry changed in between makes the first decision
  // see another digest and refuse (fail closed), never the reverse.
  const node = sharedNode(data);
  const baseline = node ? await node.freshness('trust') : undefined;
  const events = (await store.listDocuments('trust')).map((d) => d.value as unknown as SignedEnvelope);
  sharedTrustEvents.set(store, {
    documents: baseline?.documents ?? events.length,
    head: baseline?.head ?? '',
  });
  if (events.length === 0)
    throw new RuntimeError(
      'DATABASE_TRUST_MISMATCH',
      'the shared database holds no trust registry; nothing was done',
      "publish this deployment's registry once: `helmts db publish-trust --database-url …` (docs/deployment.md)",
    );
  // Several nodes apply one governance log, named in the database at the registry's publication.
  if (node && data.governanceLog === undefined) {
    const log = await governanceLogOf(store);
    if (log === undefined)
      throw new RuntimeError(
        'DATABASE_TRUST_MISMATCH',
        'the shared database names no governance log (its registry was published by an older helm); nothing was done',
        "publish the deployment's registry again: `helmts db publish-trust --database-url …` names it (docs/deployment.md)",
      );
    data.attachStore(data.shared as RuntimeStore, log);
  }
  // The log this directory belongs to, not whichever the database's unsigned row names now.
  const schema = schemaOf(store);
  if (node && schema !== undefined && data.governanceLog !== undefined)
    checkGovernanceLogPin(data, schema, data.governanceLog);
  try {
    const registry = data.registryFrom(events);
    // Never below a registry this node has verified (a deleted rotation row): trust-floor.ts.
    if (node) checkTrustFloor(data, registry);
    return registry;
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    throw new RuntimeError(
      'DATABASE_TRUST_MISMATCH',
      `the shared database's trust registry does not verify under ${data.dir}'s trust anchor: ${(error as Error).message}`,
      "each node's data directory must be a copy of the deployment's (one trust root): docs/deployment.md",
    );
  }
}

/** The P0 and signed P1 bundle of a data directory as the guardian loads them (POLICY_INVALID). */
export function loadDataDirPolicy(data: DataDir, registry: TrustRegistry): PolicyStack {
  try {
    return loadPolicyStack({
      p0: data.p0(),
      bundles: [data.signedBundle()],
      trustedBundleKeys: registry.lookupFor('policy', registry.seq),
    });
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    throw new RuntimeError(
      'POLICY_INVALID',
      `the policy of ${data.dir} does not load: ${(error as GuardianError).message}`,
      (error as Error).message.includes('signature/envelope')
        ? `policy/bundle.signed.json must be signed by a key holding \`policy\` in the trust registry at its head (seq ${registry.seq}): sign it again with \`helmts policy sign policy/bundle.json\` (\`helmts keys rotate policy\` re-signs it itself)`
        : 'fix policy/p0.json or the bundle (`helmts policy validate <file>`), then `helmts policy sign <bundle.json>`',
    );
  }
}

/**
 * What open has read of the chain for grants used (#grantsUsedOnChain): receipts 1..lamport, the
 * last with hash `hash`, name exactly the grants in `used` (grant -> first receipt naming it).
 */
const GRANT_SCAN_TYPE = 'helm.runtime.grant_scan.v1';
interface GrantScan {
  readonly type: typeof GRANT_SCAN_TYPE;
  readonly chain_id: string;
  readonly lamport: number;
  readonly hash: string;
  readonly used: Readonly<Record<string, string>>;
}

/** Key authorization of approvals in force: an event's application state, or (undefined) the head. */
interface ApprovalAuthorization {
  at:
    | {
        readonly registry: TrustRegistry;
        readonly lookup: (keyid: string, role: string) => Uint8Array | undefined;
      }
    | undefined;
}

export class GovernedRuntime {
  readonly data: DataDir;
  readonly config: HelmConfig;
  readonly registry: TrustRegistry;
  #guardian: Guardian;
  readonly executor: Executor;
  readonly graph: ProofGraph;
  readonly clock: Clock;
  readonly #recorder: ReceiptRecorder;
  /** Receipts are minted in decision order (I-CONC-1; unit.ts). */
  readonly #order: DecisionOrder;
  readonly #idempotency: StoreIdempotency;
  /** The receipt policies in force (src/internal/receipt-policy.ts). */
  readonly receiptPolicies: RuntimeReceiptPolicies;
  /** Effect class of each registered tool (for its idempotency window). */
  readonly #effectClass = new Map<string, string>();
  #ledger: DeferredBudgetLedger;
  /** On an async store: the budget view and nonces the decision reads (undefined: embedded store). */
  #port: PortDecision | undefined;
  readonly #journal: StoreJournal;
  #sandbox: Sandbox | undefined;
  /** Components are re-transpiled and checked against their pins before the sandbox sees them. */
  readonly #components = new PinnedComponents();
  /** Instrumented-module cache hits and misses of this runtime (src/module-cache.ts). */
  readonly moduleCache: ModuleCacheStats = { hits: 0, misses: 0 };
  #lock: RuntimeLock | undefined;
  /** On a shared database: this chain's advisory lock (one writer per chain), held until close. */
  #chainLock: { readonly lost: Promise<void>; release(): Promise<void> } | undefined;
  /** Set when the chain's lock was lost (its connection ended): nothing is admitted any more. */
  #chainLost = false;
  /** On a shared database: renews this node's leases and takes over dead nodes' admissions. */
  #leases: LeaseKeeper | undefined;
  /** Recoveries run one at a time (open's, then each take-over's). */
  #recovering: Promise<void> = Promise.resolve();
  /** Set once the shared database's trust registry moved past this runtime's (sticky until reopen). */
  #staleTrust: RuntimeError | undefined;
  /**
   * Shared database: challenges this node holds an applied approval for and has not seen consumed
   * or closed — before each decision their grant rows are read, so a grant another node consumed
   * is closed here before this node could decide with it (#refreshApprovedGrants).
   */
  readonly #approvedHeld = new Set<string>();
  /** The node's own clock (the caller's), not a call's frozen reading: compared with the database's. */
  #nodeClock: { now(): number } = { now: () => Date.now() };
  /** The chain's minted head and the receipts not yet committed (unit.ts). */
  readonly #receipts: ChainReceipts;
  readonly #nodes: FrontierNodes;
  /** Commits the chain's receipts in Lamport order through group commit (unit.ts). */
  readonly #sequencer: CommitSequencer;
  /** The governance log's side of this runtime (src/internal/governance.ts). */
  #governance: GovernanceIngestor | undefined;
  /** Open: stored challenges without a grant row that a signed decision names as used (grant-uses.ts). */
  #openUsedElsewhere: ReadonlySet<string> | undefined;
  /** What this process read of the chain for used grants (#grantsUsedOnChain). */
  #grantScan: GrantScan | undefined;
  /** Verify the log and re-apply what was applied, for this epoch's guardian. */
  #startGovernance: (used: Map<string, string>, reads?: GovernanceReads) => void = () => undefined;
  /** On an async store: what open read of the governance log (restore reads it, not the store). */
  #openReads: GovernanceReads | undefined;
  /** The grants receipts of this chain name, read before the approvals are restored (#grantsUsedOnChain). */
  #openUsed: Map<string, string> | undefined;
  /** Key authorization of approvals: the registry head, or an event's application state. */
  readonly #authorization: ApprovalAuthorization;
  /** How many approval-ceremony log entries are taken by a call or a commit (challenges opened, closed). */
  #ceremonyAt = 0;
  /** Calls in flight (their units): nothing of a call is kept once it ended. */
  #inFlight = 0;
  /** The work close() waits for, and the refusal of new work once it began (work-gate.ts). */
  readonly #work = new WorkGate();
  readonly #frozen: { at: number | undefined };
  #epoch: number;
  /** How the guardian of a new epoch is built (renewEpoch). */
  readonly #guardianOptions: GuardianOptions;
  /** The options of this open (with the per-call frozen clock), for tools loaded later. */
  readonly #options: RuntimeOptions;
  #explaining: ExplainingPort;
  /** Registered tools whose body failed its checks at open, with why (their calls are refused). */
  readonly #outOfService = new Map<string, RuntimeError>();
  /** Tool -> descriptor digest of its last applied `tool.repin` (filled while re-applying at open). */
  readonly #appliedRepins = new Map<string, string>();
  /** Plugin workers to stop at close. */
  readonly #closers: (() => Promise<void>)[] = [];

  private constructor(
    data: DataDir,
    parts: {
      registry: TrustRegistry;
      guardian: Guardian;
      executor: Executor;
      graph: ProofGraph;
      recorder: ReceiptRecorder;
      order: DecisionOrder;
      idempotency: StoreIdempotency;
      receiptPolicies: RuntimeReceiptPolicies;
      ledger: DeferredBudgetLedger;
      journal: StoreJournal;
      clock: Clock;
      receipts: ChainReceipts;
      nodes: FrontierNodes;
      sequencer: CommitSequencer;
      frozen: { at: number | undefined };
      authorization: ApprovalAuthorization;
      epoch: number;
      options: RuntimeOptions;
      explaining: ExplainingPort;
      guardianOptions: GuardianOptions;
    },
  ) {
    this.#epoch = parts.epoch;
    this.#guardianOptions = parts.guardianOptions;
    this.#options = parts.options;
    this.#explaining = parts.explaining;
    this.#authorization = parts.authorization;
    this.#frozen = parts.frozen;
    this.data = data;
    this.config = data.config();
    this.registry = parts.registry;
    this.#guardian = parts.guardian;
    this.executor = parts.executor;
    this.graph = parts.graph;
    this.#recorder = parts.recorder;
    this.#order = parts.order;
    this.#idempotency = parts.idempotency;
    this.receiptPolicies = parts.receiptPolicies;
    this.#ledger = parts.ledger;
    this.#journal = parts.journal;
    this.clock = parts.clock;
    this.#receipts = parts.receipts;
    this.#nodes = parts.nodes;
    this.#sequencer = parts.sequencer;
  }

  /** The guardian of this epoch (a new epoch starts a fresh one: renewEpoch). */
  get guardian(): Guardian {
    return this.#guardian;
  }

  /** Runtime epoch of this open (recorded with every request and event). */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Open the governed runtime of a data directory. It holds the directory's runtime lock until
   * `close` (src/lock.ts): start-up recovery must never run next to another live runtime.
   * Throws RuntimeError DATA_DIR_LOCKED while another process (or an unclosed runtime) holds it.
   */
  static async open(data: DataDir, options: RuntimeOptions): Promise<GovernedRuntime> {
    data.requireInitialized();
    const lock = acquireRuntimeLock(data.dir);
    let chainLock: { readonly lost: Promise<void>; release(): Promise<void> } | undefined;
    try {
      // On a shared database the chain's advisory lock comes first: recovery at open receipts this
      // chain's open admissions, which only the chain's one writer may do (never a live one's).
      const node = sharedNode(data);
      if (node) {
        const chain = data.config().chain_id;
        chainLock = await node.tryLead(`chain:${chain}`);
        if (!chainLock)
          throw new RuntimeError(
            'CHAIN_LOCKED',
            `another process runs chain ${chain} on the shared database; nothing was done`,
            'give every node its own chain id (config.json chain_id) — docs/deployment.md; or stop the other process',
          );
        await refuseLiveAdmissions(node, chain);
      }
      const runtime = await GovernedRuntime.#openLocked(data, options);
      runtime.#lock = lock;
      if (node && chainLock) runtime.#startLeases(node, chainLock);
      return runtime;
    } catch (error) {
      await chainLock?.release();
      lock.release();
      throw error;
    }
  }

  /**
   * A shared database: keep this node's leases and take over those of dead nodes (leases.ts).
   * A lost chain lock closes admission for good in this runtime: another process may run the chain.
   */
  #startLeases(node: SharedNode, chainLock: { lost: Promise<void>; release(): Promise<void> }): void {
    this.#holdChain(chainLock);
    this.#leases = new LeaseKeeper({
      leases: node,
      leaseMs: node.leaseMs,
      recover: (taken) => this.#recoverTaken(taken),
      held: () => this.#journal.held,
      // The lock's connection can end while this process lives (a cut connection, a server
      // restart): admission stays closed until this runtime holds the lock again. Re-taking it
      // succeeds only if no other process took the chain meanwhile; if one did and wrote to it,
      // this runtime's next receipt meets another head (STORE_CHAIN_CONFLICT → RUNTIME_HALTED):
      // the chain never forks.
      beforePass: async () => {
        if (!this.#chainLost || this.#chainLock === undefined) return;
        const again = await node.tryLead(`chain:${this.config.chain_id}`);
        if (again) this.#holdChain(again);
      },
    });
    this.#leases.start();
    // One pass now: a short-lived process (one `helmts run`) also renews and takes over what
    // expired, instead of only after its first interval. `close` waits for it.
    void this.#leases.tick().catch(() => undefined);
  }

  #holdChain(lock: { lost: Promise<void>; release(): Promise<void> }): void {
    this.#chainLock = lock;
    this.#chainLost = false;
    void lock.lost.then(() => {
      if (this.#chainLock === lock) this.#chainLost = true;
    });
  }

  /** Before each admission (StoreJournal): may this node admit now? */
  #admissionGate(): void {
    if (this.#chainLost)
      throw new RuntimeError(
        'CHAIN_LOCKED',
        `this runtime lost chain ${this.config.chain_id}'s lock on the shared database: nothing is admitted; reopen it`,
      );
    this.#leases?.check();
  }

  /** One lease pass now (renew, take over, recover); the keeper also runs one every leaseMs / 3. */
  async leasePass(): Promise<void> {
    await this.#leases?.tick();
  }

  /** Admissions of dead nodes this node took over: receipted EXECUTION_INTERRUPTED on this chain. */
  #recoverTaken(taken: readonly LeasedAdmission[]): Promise<void> {
    const run = this.#recovering.then(async () => {
      // The take-over moved their reservations to this node: the budget view learns them first.
      await this.#port?.ledger.refresh();
      await this.#recover(taken);
    });
    this.#recovering = run.catch(() => undefined);
    return run;
  }

  static async #openLocked(data: DataDir, options: RuntimeOptions): Promise<GovernedRuntime> {
    // One clock reading per governed call: the whole call (decision, intent, receipt) sees the
    // same instant, which is recorded with the request so a replay can use it.
    // A call in flight reads its unit's reading; outside calls (recovery at open), `frozen`.
    const base = options.clock;
    const frozen = { at: undefined as number | undefined };
    options = { ...options, clock: { now: () => currentUnit()?.now() ?? frozen.at ?? base.now() } };
    const config = data.config();
    const store = data.store;
    const synchronous = readsSynchronously(store);
    // The trust registry's events are read through the port on a store without synchronous reads;
    // on the embedded store a registry the caller already verified is reused while it is the head.
    const registry = synchronous
      ? currentRegistry(data, options.registry)
      : await sharedRegistry(data, store);
    const headAuthorization = registry.keyAuthorization();
    const authorization = {
      at: undefined as
        | {
            readonly registry: TrustRegistry;
            readonly lookup: (keyid: string, role: string) => Uint8Array | undefined;
          }
        | undefined,
    };
    // Start-up: reservations no open admission holds belong to calls whose driver never ran.
    await store.releaseOrphanReservations();
    // The epoch of this open, for the async port's reservation ids (set below, before any call).
    let epochOf = (): number => 0;
    const port: PortDecision | undefined = synchronous
      ? undefined
      : {
          ledger: await portLedger(store, config.chain_id, () => epochOf()),
          nonces: new PortNonces(store, (key) => currentUnit()?.nonces.push(key)),
        };
    const ledger = unitLedger(port ? port.ledger : deferredBudgetLedger(store));
    const policy = loadDataDirPolicy(data, registry);
    // Several nodes: this node's own files must be the deployment's (bundle floor, bindings).
    if (sharedNode(data)) await checkDeploymentFloor(data, store, registry);
    const receiptPolicies = loadReceiptPolicies(data, registry).set;
    const guardianOptions: GuardianOptions = {
      signer: data.signer('guardian', 'guardian', registry),
      clock: options.clock,
      freeze: {},
      environmentFingerprint: config.environment_fingerprint,
      // config.json's bindings and rules; governance edits are applied on top as they are ingested.
      identity: { bindings: baseIdentity(config) },
      egress: egressConfig(baseEgress(config)),
      threat: DEFAULT_THREAT_CONFIG,
      delegation: { nonces: port ? port.nonces : new StoreNonces(store) },
      policy,
      budget: ledger,
      approvals: {
        // While a governance event is applied, its approval is checked at the registry state of
        // that application (the same at every later open); otherwise at the head.
        // The answer carries the key's rotation lineage, so a key and its successors count as one
        // approver (I-GOVERN-2); a key whose lineage cannot be derived is not authorized.
        keyAuthorization: (keyid, role) => {
          const publicKey = (authorization.at?.lookup ?? headAuthorization)(keyid, role);
          if (!publicKey) return undefined;
          const lineage = keyLineage(authorization.at?.registry ?? registry, keyid);
          return lineage === undefined ? undefined : { publicKey, lineage };
        },
        perApprover: { max: 100, window_ms: 3_600_000 },
        perPrincipal: { max: 100, window_ms: 3_600_000 },
      },
    };
    const guardian = guardianOf(guardianOptions);
    // The receipt chain and the ProofGraph are read from the store on demand: open reads the
    // chain head, not its history (every stored receipt is its own ProofGraph node, derived from
    // the receipts table; the nodes table holds signed nodes).
    const receiptStore = await ChainReceipts.open(store, config.chain_id);
    const nodeStore = new FrontierNodes(store, receiptStore);
    const sequencer = new CommitSequencer(
      receiptCommitter(store),
      receiptStore.head(config.chain_id)?.lamport ?? 0,
    );
    const graph = new ProofGraph(nodeStore);
    const executorSigner = data.signer('executor', 'executor', registry);
    const recorder = await ReceiptRecorder.open({
      signer: executorSigner,
      chainId: config.chain_id,
      store: receiptStore,
      policies: receiptPolicies,
      // Every receipt commits to the data directory's trust registry state it is signed under.
      trust: () => {
        const seq = (options as { trustCommitment?: TrustCommitment }).trustCommitment?.seq;
        const head = seq === undefined ? undefined : registry.headAt(seq);
        return head === undefined ? { seq: registry.seq, head: registry.head } : { seq: seq as number, head };
      },
    });
    const idempotency = new StoreIdempotency(store);
    let currentLedger = (): DeferredBudgetLedger => ledger;
    let currentPort = (): PortDecision | undefined => port;
    let gate = (): void => undefined;
    const journal = new StoreJournal(
      store,
      config.chain_id,
      () => currentLedger(),
      () => currentPort(),
      () => gate(),
    );
    const explaining = new ExplainingPort(guardian);
    // The executor reaches the guardian of the current epoch (renewEpoch replaces it in place).
    let guardianPort: () => ExplainingPort['port'] = () => explaining.port;
    let ceremony: (
      evaluate: () => ReturnType<ExplainingPort['port']['evaluate']>,
    ) => ReturnType<ExplainingPort['port']['evaluate']> = (evaluate) => evaluate();
    // Receipts are minted in decision order, so Lamport order is decision order (I-CONC-1).
    const order = new DecisionOrder();
    const executor = createExecutor({
      guardian: {
        // The approval-ceremony changes a decision makes belong to its call (stored with its receipt).
        evaluate: (call) => ceremony(() => guardianPort().evaluate(call)),
        consumeGrant: (grant) => guardianPort().consumeGrant(grant),
        commitBudget: (id) => guardianPort().commitBudget(id),
        // A reservation the decision already refunded (an idempotent repeat's, #decide) is not
        // refunded twice.
        refundBudget: (id) => (currentUnit()?.refunded.has(id) ? undefined : guardianPort().refundBudget(id)),
        policyHash: () => guardianPort().policyHash(),
      },
      guardianKeys: guardian.publicKeys,
      receipts: {
        admit: (effectClass, context) => recorder.admit(effectClass, context),
        verifyOwn: (envelope) => recorder.verifyOwn(envelope),
        recordDenial: (denial) => order.inTurn(currentUnit(), () => recorder.recordDenial(denial)),
        finalize: (call, admission, output, evidence, opts) =>
          order.inTurn(currentUnit(), () => recorder.finalize(call, admission, output, evidence, opts)),
      },
      proofgraph: proofGraphPort({ graph }),
      clock: options.clock,
      timer: {
        setTimeout: (cb, ms) => setTimeout(cb, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      idempotency,
      journal,
    });
    // Each open is one runtime epoch: in-memory guardian state (budget reservations, approvals)
    // starts fresh, so re-execution must open a fresh runtime exactly where the original did.
    // On an async store each chain counts its own epochs (several nodes share the database; the
    // chain's one writer holds its lock), so two nodes never read-modify-write one counter.
    const epochDoc = epochKey(config.chain_id, port !== undefined);
    const epoch = Number((await store.getDocument('meta', epochDoc)) ?? 0) + 1;
    await store.putDocument('meta', epochDoc, epoch);
    const runtime = new GovernedRuntime(data, {
      epoch,
      registry,
      guardian,
      executor,
      graph,
      recorder,
      order,
      idempotency,
      receiptPolicies,
      ledger,
      journal,
      clock: options.clock,
      receipts: receiptStore,
      nodes: nodeStore,
      sequencer,
      frozen,
      options,
      explaining,
      authorization,
      guardianOptions,
    });
    ceremony = (evaluate) => runtime.#decide(evaluate);
    runtime.#nodeClock = base;
    gate = () => runtime.#admissionGate();
    guardianPort = () => runtime.#explaining.port;
    currentLedger = () => runtime.#ledger;
    runtime.#port = port;
    currentPort = () => runtime.#port;
    epochOf = () => runtime.epoch;
    // Tools first (registration runs nothing): recovery then receipts each interrupted call under
    // its pinned tool's effect class rather than one read from the journal entry.
    // A tool whose body no longer matches its pins (a changed plugin, a tampered component pin, a
    // missing module) is out of service, not fatal: its calls are refused with that error, and a
    // `tool.repin` event can still replace it.
    for (const d of data.toolDescriptors()) {
      try {
        await runtime.#register(d as unknown as ToolDescriptor, options);
      } catch (error) {
        if (!(error instanceof RuntimeError) || !TOOL_FAULTS.has(error.code)) throw error;
        runtime.#outOfService.set(String(d.name), error);
      }
    }
    // Governance: verify the log, restore the challenges and what earlier runtimes applied, then —
    // after recovery, which belongs to the previous run — apply what was appended since.
    runtime.#startGovernance = (used, reads) => {
      runtime.#governance = new GovernanceIngestor({
        data,
        runtime,
        epoch: runtime.epoch,
        registry,
        guardianSigner: data.signer('guardian', 'guardian', registry),
        guardianSeq: registry.seq,
        now: () => runtime.clock.now(),
        // An event applies at its clock reading: in the turn of the call that ingests it, that
        // call's unit reads it (restored after); at open, the runtime's.
        freeze: (at) => {
          const unit = currentUnit();
          if (unit) {
            const previous = unit.frozenAt;
            unit.frozenAt = at;
            return previous;
          }
          const previous = frozen.at;
          frozen.at = at;
          return previous;
        },
        authorizeAt: (reg, seq) => {
          authorization.at =
            reg === undefined || seq === undefined
              ? undefined
              : { registry: reg, lookup: (keyid, role) => reg.keyLookup()(keyid, role, seq) };
        },
        headLamport: port
          ? async () => (await store.chainHead(config.chain_id))?.lamport ?? 0
          : () => store.chainHeadSync(config.chain_id)?.lamport ?? 0,
        replayTrustSeq: () =>
          (options as { trustCommitment?: TrustCommitment }).trustCommitment?.governanceSeq,
        commitAdmin: (event, output, at, application) => runtime.#commitAdmin(event, output, at, application),
        // Several nodes, one log: an event is applied first under the cluster's governance lock.
        ...(sharedNode(data)
          ? {
              lead: () => (sharedNode(data) as SharedNode).tryLead('governance'),
              prepare: (event: GovernanceEventRecord) => runtime.#prepareApproval(event),
            }
          : {}),
      });
      runtime.#openReads = reads;
      runtime.#openUsed = used;
      runtime.#governance.restore(
        {
          before: () => runtime.#restoreChallenges(),
          after: () => {
            runtime.#checkRepinnedTools();
            runtime.#restoreClosures();
          },
        },
        reads,
      );
      runtime.#openReads = undefined;
      runtime.#openUsed = undefined;
    };
    // The chain's used grants are read first (the closures of the restored approvals need them).
    const used = await runtime.#grantsUsedOnChain(true);
    const openReads = port ? await readGovernanceForOpen(store, runtime.#challengeScope()) : undefined;
    runtime.#openUsedElsewhere = await runtime.#usedWithoutRows(openReads);
    runtime.#startGovernance(used, openReads);
    runtime.#openUsedElsewhere = undefined;
    runtime.#ceremonyAt = guardian.approvals?.log().length ?? 0;
    // On a shared database: only this node's own open admissions (one taken over by another node
    // is that node's to receipt).
    const shared = sharedNode(data);
    await runtime.#recover(shared ? await expiredOwnAdmissions(shared, config.chain_id) : undefined);
    await runtime.#ingestChecked(false);
    return runtime;
  }

  /**
   * Re-execution: start the next runtime epoch in place, exactly as closing and reopening would —
   * a fresh guardian (in-memory decision state starts empty), the governance log verified and
   * re-applied to it, orphan reservations released, the epoch counter advanced — without reloading
   * tools, keys or the chain. Returns false (nothing changed; reopen instead) when this runtime
   * cannot: calls in flight, admissions open (a crash to recover), or tools repinned in this
   * runtime (their pins are re-applied by a fresh open only).
   */
  renewEpoch(): Promise<boolean> {
    // Counted as the runtime's work: close() waits for it, and it is refused once close() began.
    return this.#work.run(async () => {
      const store = this.data.store;
      if (this.#inFlight > 0 || this.#appliedRepins.size > 0 || this.#outOfService.size > 0) return false;
      if ((await store.admissions(this.config.chain_id)).length > 0) return false;
      await store.releaseOrphanReservations();
      const epochDoc = epochKey(this.config.chain_id, this.#port !== undefined);
      const epoch = Number((await store.getDocument('meta', epochDoc)) ?? 0) + 1;
      await store.putDocument('meta', epochDoc, epoch);
      this.#epoch = epoch;
      // The deferred ledger's reservation counter restarts from the store's, as at open.
      if (this.#port) {
        const epochNow = epoch;
        this.#port = {
          ledger: await portLedger(store, this.config.chain_id, () => epochNow),
          nonces: this.#port.nonces,
        };
      }
      this.#ledger = unitLedger(this.#port ? this.#port.ledger : deferredBudgetLedger(store));
      this.#guardian = guardianOf({ ...this.#guardianOptions, budget: this.#ledger });
      this.#explaining = new ExplainingPort(this.#guardian);
      const governanceReads = this.#port
        ? await readGovernanceForOpen(store, this.#challengeScope())
        : undefined;
      // A renewed epoch continues the scan in memory only (the record is written at open and close).
      const used = await this.#grantsUsedOnChain(false);
      this.#openUsedElsewhere = await this.#usedWithoutRows(governanceReads);
      this.#startGovernance(used, governanceReads);
      this.#openUsedElsewhere = undefined;
      this.#ceremonyAt = this.#guardian.approvals?.log().length ?? 0;
      await this.#ingestChecked(false);
      return true;
    });
  }

  /**
   * Which stored challenges a runtime restores: its own chain's on the embedded store; on a shared
   * database every node's (the guardian key is the deployment's: a call held on one node may be
   * approved and retried on another).
   */
  #challengeScope(): string | undefined {
    return sharedNode(this.data) ? undefined : this.config.chain_id;
  }

  /**
   * Shared database, before an approval event is applied (first or again): the challenge it names
   * may have been opened by another node since this one opened — it is read and restored (under
   * this guardian's signature only), with its closure and grant, so the approval is judged against
   * it rather than refused as unknown (a rejection record would bind every node).
   */
  async #prepareApproval(event: { readonly action: string; readonly subject: string | null }): Promise<void> {
    await this.#prepareApprovalRows(event);
    // A grant whose row is missing may still have been used on another node (its row deleted):
    // the signed decisions are asked before this node holds it as unused (grant-uses.ts).
    const id = event.subject;
    if (
      id !== null &&
      this.#approvedHeld.has(id) &&
      (await grantsUsedElsewhere(this.data.store, [id])).has(id)
    ) {
      this.guardian.approvals?.close(id, 'consumed');
      this.#approvedHeld.delete(id);
    }
  }

  async #prepareApprovalRows(event: {
    readonly action: string;
    readonly subject: string | null;
  }): Promise<void> {
    const approvals = this.guardian.approvals;
    const id = event.subject;
    if (!approvals || id === null || !event.action.startsWith('approval.')) return;
    if (approvals.getChallenge(id) === undefined) {
      const stored = await this.data.store.governanceChallenge(id);
      if (stored === undefined) return;
      try {
        approvals.restore(stored.envelope);
      } catch {
        return; // Not this guardian's signature: not held, no grant can come from it.
      }
      if (stored.closed === 'expired') approvals.close(id, 'expired');
      // Restored fresh from its row: every event about it this runtime applied (a denial it
      // re-applied to nothing while the row was hidden) is applied to it again first.
      this.#governance?.replaySubject(id);
    }
    if ((await this.data.store.governanceGrant(id)) !== undefined) approvals.close(id, 'consumed');
    else if (event.action === 'approval.grant') this.#approvedHeld.add(id);
  }

  /**
   * Shared database, before each decision: a grant this node holds may have been consumed by
   * another node's admission; its row is read and the challenge closed here, so this node decides
   * without it (a new challenge) instead of admitting a call the store will refuse.
   */
  async #refreshApprovedGrants(): Promise<void> {
    const approvals = this.guardian.approvals;
    if (!approvals || this.#approvedHeld.size === 0) return;
    const ids = [...this.#approvedHeld];
    const rows = await Promise.all(ids.map((id) => this.data.store.governanceGrant(id)));
    for (const [i, id] of ids.entries()) {
      const c = approvals.getChallenge(id);
      if (rows[i] !== undefined) approvals.close(id, 'consumed');
      if (rows[i] !== undefined || c === undefined || c.expires_at_ms <= this.#nodeClock.now())
        this.#approvedHeld.delete(id);
    }
  }

  /** Shared database: which stored challenges without a grant row a signed decision names (one read). */
  async #usedWithoutRows(reads: GovernanceReads | undefined): Promise<ReadonlySet<string>> {
    if (reads === undefined || !sharedNode(this.data)) return new Set();
    const rows = new Set(reads.grants.map((g) => g.challengeId));
    return grantsUsedElsewhere(
      this.data.store,
      reads.challenges.filter((c) => !rows.has(c.id) && c.closed === null).map((c) => c.id),
    );
  }

  /** Every stored challenge this runtime's guardian signed is held again (open, no approvals yet). */
  #restoreChallenges(): void {
    const approvals = this.guardian.approvals;
    if (!approvals) return;
    const challenges =
      this.#openReads?.challenges ?? this.data.store.governanceChallengesSync(this.#challengeScope());
    for (const c of challenges) {
      try {
        approvals.restore(c.envelope);
      } catch {
        // Not this guardian's signature (a guardian key rotation, or an edited row): the challenge
        // is not held, so no grant can come from it; `helmts approvals show` says why.
      }
    }
  }

  /** After the approvals are re-applied: close what was consumed or closed in an earlier run. */
  #restoreClosures(): void {
    const approvals = this.guardian.approvals;
    if (!approvals) return;
    const store = this.data.store;
    const reads = this.#openReads;
    for (const c of reads?.challenges ?? store.governanceChallengesSync(this.#challengeScope())) {
      if (c.closed === 'expired') approvals.close(c.id, 'expired');
    }
    const rows = new Set<string>();
    for (const g of reads?.grants ?? store.governanceGrantsSync()) {
      rows.add(g.challengeId);
      approvals.close(g.challengeId, 'consumed');
    }
    // Shared database: approved challenges whose grant is still unused are watched before each
    // decision (another node may consume it).
    if (sharedNode(this.data))
      for (const c of reads?.challenges ?? []) {
        if (rows.has(c.id) || (approvals.status(c.id)?.approvals ?? 0) === 0) continue;
        // Used on some node per the signed decisions, though its row is missing (deleted): closed.
        if (this.#openUsedElsewhere?.has(c.id)) approvals.close(c.id, 'consumed');
        else this.#approvedHeld.add(c.id);
      }
    // The signed record is the authority on what was used, not the grants table: a grant that a
    // receipt of this chain names (its evidence, or its decision's `approval_grant_id`) is used.
    // A used grant without its row means the store was edited: refuse rather than risk a re-use.
    for (const [grant, receipt] of this.#openUsed ?? new Map<string, string>()) {
      approvals.close(grant, 'consumed');
      if (!rows.has(grant))
        throw new RuntimeError(
          'GOVERNANCE_LOG_INVALID',
          `grant ${grant} was used by receipt ${receipt}, but its record of use is missing from helm.db; nothing is decided until it is repaired`,
          'the governance records in helm.db were changed outside helm: restore helm.db from a backup (docs/threat-model.md §Governance)',
        );
    }
  }

  /**
   * Every grant a receipt of this chain names, with the first receipt that names it. Open reads
   * only the receipts appended since the last open: the grants found up to a receipt are kept in a
   * guardian-signed scan record bound to that receipt's hash (GRANT_SCAN_TYPE). A record that does
   * not verify under a guardian key, names another chain, or whose receipt is not the stored one is
   * ignored and the whole chain is read again — an edited, replaced or rolled-back record can only
   * make open read more, never skip a receipt it has not read under a guardian signature.
   */
  async #grantsUsedOnChain(persist = true): Promise<Map<string, string>> {
    // Through the async port: a networked store has no synchronous reads.
    const store: RuntimeStore = this.data.store;
    const chain = this.config.chain_id;
    const used = new Map<string, string>();
    let from = 1;
    // A new epoch of this runtime (renewEpoch) continues from what this process itself read.
    const own = this.#grantScan;
    const held = own === undefined ? await store.getDocument('meta', `grant-scan:${chain}`) : undefined;
    if (own !== undefined) {
      const at = (
        await store.receipts({ chainId: chain, fromLamport: own.lamport, toLamport: own.lamport })
      )[0];
      if (at !== undefined && at.hash === own.hash) {
        for (const [grant, receipt] of Object.entries(own.used)) used.set(grant, receipt);
        from = own.lamport + 1;
      }
    } else if (held !== undefined) {
      try {
        const b = openVerifiedEnvelope<GrantScan>(held, GRANT_SCAN_TYPE, this.guardian.publicKeys).body;
        const at = (
          await store.receipts({ chainId: chain, fromLamport: b.lamport, toLamport: b.lamport })
        )[0];
        if (
          b.chain_id === chain &&
          Number.isSafeInteger(b.lamport) &&
          at !== undefined &&
          at.hash === b.hash
        ) {
          for (const [grant, receipt] of Object.entries(b.used))
            if (typeof receipt === 'string') used.set(grant, receipt);
          from = b.lamport + 1;
        }
      } catch {
        // Not a record this guardian signed: read the whole chain.
      }
    }
    const receipts = await store.receipts({ chainId: chain, fromLamport: from });
    const decisions = new Map(
      (
        await store.decisions(receipts.flatMap((r) => (r.decisionId === undefined ? [] : [r.decisionId])))
      ).map((d) => [d.id, d.envelope]),
    );
    for (const r of receipts) {
      const body = envelopeBody<{ evidence?: { approval_ids?: unknown } }>(r.envelope);
      const ids = body.evidence?.approval_ids;
      const named = Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
      const decision = r.decisionId === undefined ? undefined : decisions.get(r.decisionId);
      if (decision) {
        const grant = envelopeBody<{ approval_grant_id?: unknown }>(decision).approval_grant_id;
        if (typeof grant === 'string') named.push(grant);
      }
      for (const g of named) if (!used.has(g)) used.set(g, r.id);
    }
    const last = receipts[receipts.length - 1];
    if (last !== undefined) {
      const scan: GrantScan = {
        type: GRANT_SCAN_TYPE,
        chain_id: chain,
        lamport: last.lamport,
        hash: last.hash,
        used: Object.fromEntries(used),
      };
      this.#grantScan = scan;
      // Written at open and close (for the next process); a renewed epoch keeps it in memory.
      if (persist)
        await store.putDocument(
          'meta',
          `grant-scan:${chain}`,
          signEnvelope(scan, [this.data.signer('guardian', 'guardian', this.registry)]) as unknown as Json,
        );
    } else if (own === undefined && from > 1) {
      const h = await store.chainHead(chain);
      if (h)
        this.#grantScan = {
          type: GRANT_SCAN_TYPE,
          chain_id: chain,
          lamport: h.lamport,
          hash: h.hash,
          used: Object.fromEntries(used),
        };
    }
    return used;
  }

  /**
   * Apply the governance events appended since the last time (approvals, denials, admin changes),
   * each exactly once; done at open and before every decision. Throws GOVERNANCE_LOG_INVALID when
   * the log does not verify (nothing is decided then).
   */
  async ingestGovernance(): Promise<void> {
    await this.#work.run(() => this.#ingestChecked(true));
  }

  /**
   * On a shared database the first application of an event binds every node (its record, its
   * clock reading, its admin receipt): the same freshness and clock checks as a decision's run
   * first, in the ingest path itself, so no caller (open, the MCP gateway, an embedder) can apply
   * an event on a stale node or at a skewed clock. Their codes are the decision's own; at open
   * (`refuse` false) a refusal applies nothing and the node opens — its decisions refuse.
   */
  async #ingestChecked(refuse: boolean): Promise<void> {
    if (sharedNode(this.data)) {
      const checked = await this.#sharedPrecheck(this.clock.now());
      if (checked.refused) {
        if (refuse) throw checked.refused;
        return;
      }
      await this.#governance?.ingest(checked.governance ?? null);
      return;
    }
    await this.#governance?.ingest();
  }

  /**
   * The receipt of an administrative governance event: tool `helm.admin.<action>`, principal the
   * signer's key id, arguments the signed event and the trust state it was applied at, decision id
   * the event's digest. Committed in ONE transaction with the event's application.
   */
  async #commitAdmin(
    event: GovernanceEventRecord,
    output: Json,
    at: { readonly clock_ms: number; readonly trust_seq: number },
    application: (receiptId: string) => GovernanceApplication,
  ): Promise<void> {
    const tool = `${GOVERNANCE_ADMIN_TOOL_PREFIX}${event.action}`;
    const request = {
      tool,
      principal: event.signer,
      args: { event: event.envelope, trust_seq: at.trust_seq },
    };
    const finalized = await this.#order.inTurn(currentUnit(), () =>
      this.#recorder.finalize(
        {
          decision_id: governanceEventDigest(event.envelope),
          effect_id: null,
          effect_class: GOVERNANCE_EFFECT_CLASS,
          args_hash: digest(canonicalBytes(request.args)),
          request_digest: digest(canonicalBytes(request)),
          session_id: null,
          policy_hash: this.guardian.policyHash(),
          tool,
          principal: event.signer,
          issued_at_ms: at.clock_ms,
        },
        this.#recorder.admit(GOVERNANCE_EFFECT_CLASS),
        output,
        { governance_event: event.digest },
      ),
    );
    if (!finalized.released)
      throw new RuntimeError(
        'INTERNAL',
        `the receipt of governance event ${event.seq} failed: ${finalized.detail}`,
      );
    const minted = finalized.receipt;
    this.graph.appendReceipt({ envelope: minted.envelope, body: minted.body, hash: minted.hash });
    await this.#commit({
      sessionId: this.config.chain_id,
      chainId: this.config.chain_id,
      request: {
        id: minted.body.receipt_id,
        body: {
          request,
          clock_ms: at.clock_ms,
          epoch: this.epoch,
          governance: { seq: event.seq, digest: event.digest },
        } as unknown as Json,
      },
      receipt: {
        id: minted.body.receipt_id,
        lamport: minted.body.lamport,
        prevHash: minted.body.prev_hash,
        hash: minted.hash,
        riskTier: minted.body.risk_tier,
        envelope: minted.envelope,
      },
      governance: application(minted.body.receipt_id),
    });
  }

  /**
   * Commit one receipt's transaction in the chain's Lamport order (group-committed with the calls
   * in flight); resolves once durable. A failure halts the runtime (CommitSequencer).
   */
  async #commit(record: GovernedCallRecord, reservations: readonly string[] = []): Promise<CommitResult> {
    try {
      return await this.#sequencer.submit({ record, ledger: () => this.#ledger.drain(reservations) });
    } finally {
      this.#receipts.settled(record.receipt.lamport);
      for (const n of record.nodes ?? []) this.#nodes.settled(n.id);
    }
  }

  /**
   * Receipt every call a previous process admitted and never receipted (EXECUTION_INTERRUPTED),
   * each in one transaction with its node, its budget charge and the admission's close.
   */
  async #recover(admissions?: readonly LeasedAdmission[]): Promise<void> {
    const store = this.data.store;
    const open = new Map(
      (admissions ?? (await store.admissions(this.config.chain_id))).map((a) => [a.id, a]),
    );
    if (open.size === 0) return;
    const clockMs = this.clock.now();
    this.#frozen.at = clockMs;
    let recovered: readonly ExecuteResult[];
    // The executor's recovery receipts exactly these admissions (on this node's chain, whichever
    // chain admitted them).
    this.#journal.recovering = [...open.values()].map((a) => (a.body as unknown as AdmissionDoc).entry);
    try {
      recovered = await this.executor.recover();
    } finally {
      this.#frozen.at = undefined;
      this.#journal.recovering = undefined;
    }
    for (const r of recovered) {
      const admission = r.admission_id === null ? undefined : open.get(r.admission_id);
      if (!r.receipt || !admission) continue;
      const held = admission.reservationId
        ? await store.ledgerReservation(admission.reservationId)
        : undefined;
      const doc = admission.body as unknown as AdmissionDoc;
      const recovery: RecoveryRecord = {
        entry: doc.entry,
        reservation: held ?? null,
        clock_ms: clockMs,
        epoch: this.epoch,
      };
      // Each recovered call's transaction carries only its own reservation's movement.
      await this.#persist(
        r,
        {
          ...(doc.request === undefined ? {} : { request: doc.request }),
          clock_ms: doc.clock_ms ?? clockMs,
          epoch: doc.epoch ?? this.epoch,
          recovery: recovery as unknown as Json,
        },
        undefined,
        admission.reservationId ? [admission.reservationId] : [],
      );
    }
  }

  /**
   * Load one more tool from the data directory, exactly as an open loads every registered tool
   * (tools.ts: a registration's final check; the executor validates and pins the descriptor).
   */
  async loadTool(descriptor: ToolDescriptor): Promise<void> {
    await this.#work.run(() => this.#register(descriptor, this.#options));
  }

  async #register(descriptor: ToolDescriptor, options: RuntimeOptions): Promise<void> {
    const prepared = this.#prepareDriver(descriptor, options);
    const driver = typeof prepared === 'function' ? await prepared() : prepared;
    this.executor.registerTool(descriptor, driver);
    this.#effectClass.set(descriptor.name, descriptor.effect_type);
  }

  /**
   * Re-pin a registered tool to `descriptor` now, synchronously (the `tool.repin` governance
   * event, tool-repin.ts): everything that can be checked without loading — the built-in, the
   * module file, the plugin's signed registration and digest — is checked here (a throw leaves the
   * tool as it was); a module or plugin is then loaded in the background and the first call waits
   * for it (a load that fails after these checks fails that call: a receipted DRIVER_ERROR).
   */
  /** Registered tools out of service since this open (a body that failed its pins), with why. */
  outOfService(): ReadonlyMap<string, RuntimeError> {
    return this.#outOfService;
  }

  /** Re-application at open of an applied `tool.repin` (tool-repin.ts): the pin it put in force. */
  noteAppliedRepin(tool: string, descriptorDigest: string): void {
    this.#appliedRepins.set(tool, descriptorDigest);
  }

  /** The descriptor digest the last applied `tool.repin` of `tool` pinned (undefined: none). */
  appliedRepin(tool: string): string | undefined {
    return this.#appliedRepins.get(tool);
  }

  /**
   * After the applied events are re-applied at open: every repinned tool's loaded descriptor is the
   * last applied repin's. `tools/<name>.json` is only the materialized result of the signed repins;
   * a file that differs (e.g. the previous descriptor written back) takes the tool out of service.
   */
  #checkRepinnedTools(): void {
    for (const [tool, expected] of this.#appliedRepins) {
      if (this.#outOfService.has(tool)) continue;
      const loaded = this.executor.getTool(tool)?.descriptor_digest;
      if (loaded === expected) continue;
      this.#outOfService.set(
        tool,
        new RuntimeError(
          'TOOL_PIN_MISMATCH',
          `tool ${tool}: tools/${tool}.json ${loaded === undefined ? 'is missing' : `has digest ${loaded}`}, but the last applied tool.repin pinned ${expected}; the tool is out of service`,
          'tools/ was changed outside helm: restore the descriptor from the repin (`helmts governance log`) or a backup, or repin the tool',
        ),
      );
    }
  }

  repinTool(descriptor: ToolDescriptor, expectedDigest: string): void {
    const prepared = this.#prepareDriver(descriptor, this.#options);
    let driver: Driver;
    if (typeof prepared === 'function') {
      const loading = prepared();
      loading.catch(() => undefined);
      driver = {
        kind: descriptor.driver.kind,
        invoke: async (args, context) => (await loading).invoke(args, context),
      };
    } else driver = prepared;
    if (this.#outOfService.has(descriptor.name) && this.executor.getTool(descriptor.name) !== undefined) {
      // Loaded, but out of service (its file is not what the signed repins say): repinned in place.
      this.executor.repinTool(descriptor, expectedDigest, driver);
      this.#outOfService.delete(descriptor.name);
    } else if (this.#outOfService.has(descriptor.name)) {
      // It was never pinned in this runtime: the repin puts it (back) in service.
      const pinned = this.executor.registerTool(descriptor, driver);
      if (pinned.descriptor_digest !== expectedDigest)
        throw new RuntimeError('INTERNAL', `repinned ${descriptor.name} to ${pinned.descriptor_digest}`);
      this.#outOfService.delete(descriptor.name);
    } else this.executor.repinTool(descriptor, expectedDigest, driver);
    this.#effectClass.set(descriptor.name, descriptor.effect_type);
  }

  /** The driver of a descriptor, or (sandbox, plugin) its loader once the synchronous checks passed. */
  #prepareDriver(descriptor: ToolDescriptor, options: RuntimeOptions): Driver | (() => Promise<Driver>) {
    if (typeof descriptor.name === 'string' && descriptor.name.startsWith(GOVERNANCE_ADMIN_TOOL_PREFIX))
      throw new RuntimeError(
        'INVALID_INPUT',
        `tool ${descriptor.name}: names starting with ${GOVERNANCE_ADMIN_TOOL_PREFIX} are reserved for administrative receipts`,
      );
    // Refused before anything is built: a tool no call to which could ever be receipted ALLOW.
    const missing = missingReceiptPolicy(descriptor, this.receiptPolicies);
    if (missing) throw missing;
    if (descriptor.driver.kind === PLUGIN_DRIVER_KIND) {
      const { path, bytes } = checkedPlugin(this.data, descriptor, this.registry);
      return async () => {
        const loading = PluginHost.load(path, bytes, descriptor.driver.ref.slice('sha256:'.length));
        // Registered before the load ends: a runtime closed while a plugin still loads stops it too.
        this.#closers.push(async () => (await loading.catch(() => undefined))?.close());
        const host = await loading;
        return { kind: PLUGIN_DRIVER_KIND, invoke: (args, context) => host.invoke(args, context) };
      };
    }
    if (descriptor.driver.kind === 'function') {
      // Own properties only: a ref of `constructor` or `__proto__` must never name an Object member.
      const ref = descriptor.driver.ref;
      const fn = Object.hasOwn(BUILTIN_FUNCTIONS, ref) ? BUILTIN_FUNCTIONS[ref] : undefined;
      if (typeof fn !== 'function') {
        throw new RuntimeError(
          'INVALID_INPUT',
          `tool ${descriptor.name}: unknown built-in function ${descriptor.driver.ref}`,
        );
      }
      return functionDriver(fn);
    }
    if (descriptor.driver.kind === 'sandbox') {
      const bytes = this.data.module(descriptor.driver.ref.slice('sha256:'.length));
      if (!bytes)
        throw new RuntimeError(
          'FILE_NOT_FOUND',
          `tool ${descriptor.name}: WASM module ${descriptor.driver.ref} is missing`,
        );
      return async () => {
        // Guest code runs in child processes killed at the deadline: a worker thread cannot always be
        // stopped in time (docs/spec/sandbox.md §Deadline and isolation, I-SANDBOX-2).
        this.#sandbox ??= createSandbox({
          isolation: processIsolation({ size: options.sandboxPool ?? 1 }),
          componentTranspiler: this.#components.transpiler,
        });
        const module = isComponent(bytes)
          ? await this.#components.register(this.#sandbox, this.data, bytes, descriptor.name)
          : await registerCached(
              this.#sandbox,
              this.data,
              bytes,
              this.data.signer('executor', 'executor', this.registry),
              this.moduleCache,
            );
        return sandboxDriver({ sandbox: this.#sandbox, module, gas: 5_000_000, maxOutputBytes: 65_536 });
      };
    }
    if (descriptor.driver.kind === 'http') return httpDriver();
    const host = hostDriver(options.drivers, descriptor);
    if (host) return host;
    throw new RuntimeError(
      'INVALID_INPUT',
      `tool ${descriptor.name}: driver kind ${descriptor.driver.kind} is not supported`,
      'driver.kind is one of: function (built-ins such as builtin.echo), sandbox, http, plugin',
    );
  }

  /**
   * Execute one governed call and commit everything it produced in one store transaction. The
   * result also names the policy rule the decision came from (`rule`, explain.ts; null when no
   * rule decided it), for display only.
   */
  async execute(call: ExecuteRequest): Promise<GovernedResult> {
    // A runtime whose chain could not be committed decides nothing more (fail closed).
    const halted = this.#sequencer.halted;
    if (halted) throw halted;
    // A tool out of service is refused as the runtime open refused it (no decision, no receipt).
    const fault = this.#outOfService.get((call as { tool?: unknown }).tool as string);
    if (fault) throw fault;
    // The request is executed and recorded as one plain JSON object: the one whose JCS digest every
    // receipt of the call signs (request_digest), so requests/<L>.json verifies against it.
    const request = requestObject(call);
    const clockMs = this.clock.now();
    // Idempotency scope and window (src/internal/idempotency.ts): only the caller's own key
    // deduplicates, for the window of the tool's effect class.
    const effectClass = typeof request.tool === 'string' ? this.#effectClass.get(request.tool) : undefined;
    // The call's own unit of work: every port the executor reaches while serving it reads this,
    // never a field another call in flight could overwrite.
    const unit = new CallUnit(
      clockMs,
      request as unknown as Json,
      this.epoch,
      typeof request.idempotency_key === 'string',
      this.receiptPolicies.windowFor(effectClass ?? ''),
    );
    // Counted in before anything is decided; close() waits for it (refused once close() began).
    this.#work.enter();
    this.#inFlight += 1;
    try {
      return await runInUnit(unit, async () => {
        // Governance events appended since (approvals, denials, rule changes) apply before the
        // decision, at its clock reading; a log that does not verify stops the call here. On a
        // shared database the node first checks, in one read, that it still runs under the
        // database's trust registry and clock — a stale node must not apply an event first (its
        // record would bind every node) — and learns the log's head with it, so the log is read
        // only when it grew.
        // The ingest's turn is taken at once (calls reach their decisions in the order they
        // arrived, as on the embedded store) while the freshness reads of concurrent calls run
        // in parallel; each turn waits for its own call's read.
        if (sharedNode(this.data)) {
          const prechecked = this.#sharedPrecheck(clockMs);
          const ingested = this.#governance?.ingest(
            prechecked.then((c) => (c.refusal ? 'skip' : (c.governance ?? null))),
          );
          ingested?.catch(() => undefined);
          const checked = await prechecked;
          if (checked.refusal) return checked.refusal;
          await ingested;
          await this.#refreshApprovedGrants();
        } else await this.#ingestChecked(true);
        // On an async store the decision's shared state is read now (the guardian decides
        // synchronously); a database that cannot answer fails the call here, undecided.
        const nonceKey = this.#port ? delegationNonceKey(request) : undefined;
        if (this.#port) await this.#awaitIdempotencyClaim(unit, request);
        if (this.#port) {
          await Promise.all([
            this.#port.ledger.refresh(),
            nonceKey === undefined ? undefined : this.#port.nonces.prefetch(nonceKey),
            this.#readAheadIdempotency(unit, request),
          ]);
        }
        let result: ExecuteResult;
        try {
          result = await this.executor.execute(request);
        } finally {
          if (nonceKey !== undefined) this.#port?.nonces.settled(nonceKey);
          // A nonce consumed by a decision that never reached admission (denied at a later stage)
          // is burned too, as the embedded store burns it at once: a presentation is used once.
          const unburned = unit.nonces.splice(0);
          if (unburned.length > 0) await this.#port?.nonces.burn(unburned).catch(() => undefined);
        }
        const rule = this.#explaining.take(result.decision_id);
        // Every receipted result is persisted, an idempotent replay's included (its own receipt).
        if (result.receipt)
          await this.#persist(
            result,
            { request: request as unknown as Json, clock_ms: clockMs, epoch: this.epoch },
            unit,
          );
        return { ...result, rule };
      });
    } finally {
      this.#inFlight -= 1;
      this.#work.leave();
      this.#order.ended(unit);
      this.#idempotency.settled(unit);
      // A receipt the call minted and did not commit (a throw on the way) leaves a hole no later
      // receipt can be committed over: the runtime halts rather than lose it silently.
      for (const lamport of unit.minted)
        this.#sequencer.abandon(lamport, 'its call ended without committing it');
    }
  }

  /**
   * Shared database, before each decision and before the governance log is ingested (one read,
   * which also returns the governance log's head):
   * - the trust registry in the database is not the one this runtime decides and signs under
   *   (a published rotation, e.g. of a compromised key, or a rewrite): this runtime refuses every further call
   *   until it is reopened under the published registry — it signs nothing, not even a denial,
   *   since the key it would sign with may be the one rotated out (TRUST_REGISTRY_STALE);
   * - this node's clock differs from the database's by more than MAX_CLOCK_SKEW_MS: budget
   *   windows and expiries would be read from a wrong time (a node one window ahead spends the next
   *   window's budget now), so the call is refused undecided (CLOCK_SKEW).
   * A refusal is returned as a DENIED result with no receipt (nothing was decided, signed or run).
   */
  async #sharedPrecheck(clockMs: number): Promise<{
    readonly refusal?: GovernedResult;
    /** The refusal's error (ingestGovernance throws it). */
    readonly refused?: RuntimeError;
    readonly governance?: { readonly seq: number; readonly chain: string } | undefined;
  }> {
    const node = sharedNode(this.data);
    if (!node) return {};
    if (this.#staleTrust)
      return { refusal: refusalResult('TRUST_REGISTRY_STALE', this.#staleTrust), refused: this.#staleTrust };
    const known = sharedTrustEvents.get(this.data.store);
    const fresh = await node.freshness('trust');
    const after = this.#nodeClock.now();
    // By digest, not by count: a registry rewritten in place with as many events is another one.
    if (known !== undefined && (fresh.documents !== known.documents || fresh.head !== known.head)) {
      // A longer registry that verifies under the anchor becomes this node's floor, so a restart
      // after the writer deletes the rotation's row refuses the shorter one (trust-floor.ts).
      if (fresh.documents > known.documents) await this.#learnTrustFloor();
      this.#staleTrust = new RuntimeError(
        'TRUST_REGISTRY_STALE',
        fresh.documents !== known.documents
          ? `the shared database's trust registry has ${fresh.documents} events, this runtime decides under ${known.documents}: nothing is decided or signed until it is reopened`
          : `the shared database's trust registry was rewritten (${fresh.documents} events, another digest) since this runtime read it: nothing is decided or signed until it is reopened`,
        'reopen the runtime (restart the node) to run under the published registry — docs/deployment.md',
      );
      return { refusal: refusalResult('TRUST_REGISTRY_STALE', this.#staleTrust), refused: this.#staleTrust };
    }
    // The database's reading lies between this node's readings before and after the read, give
    // or take the tolerance, when the clocks agree.
    if (
      fresh.databaseNowMs < clockMs - MAX_CLOCK_SKEW_MS ||
      fresh.databaseNowMs > after + MAX_CLOCK_SKEW_MS
    ) {
      const skew = new RuntimeError(
        'CLOCK_SKEW',
        `this node's clock is ${Math.round(clockMs - fresh.databaseNowMs)} ms off the shared database's (tolerance ${MAX_CLOCK_SKEW_MS} ms): nothing is decided until they agree`,
        'synchronize the node clock (NTP) with the database host — docs/deployment.md',
      );
      return { refusal: refusalResult('CLOCK_SKEW', skew), refused: skew };
    }
    return { governance: fresh.governance };
  }

  /** Verify the database's (newer) trust registry and raise this node's floor to it; best effort. */
  async #learnTrustFloor(): Promise<void> {
    try {
      const events = (await this.data.store.listDocuments('trust')).map(
        (d) => d.value as unknown as SignedEnvelope,
      );
      raiseTrustFloor(this.data, this.data.registryFrom(events));
    } catch {
      // A registry that does not verify raises nothing; the node is refused as stale either way.
    }
  }

  /**
   * Async store: an idempotent repeat's reservation is refunded in its decision's step
   * (#releaseRepeat), so the stored record of its key is read before the decision. The key is the
   * one the decision will name when the request's claims hold (principal, tenant, delegation
   * session); if they do not, the decision names another key and `peek` finds nothing read.
   */
  async #readAheadIdempotency(unit: CallUnit, request: ExecuteRequest): Promise<void> {
    const key = explicitKeyOf(unit, request);
    if (key !== undefined) await this.#idempotency.readAhead(unit, key);
  }

  /**
   * Shared database: a call whose idempotency key another admission (on any node) claims waits,
   * before its decision, until that call is receipted — then it reads the stored result and
   * replays it (IDEMPOTENT_REPLAY) instead of being refused. Bounded by the lease length: past it
   * the call goes on, and its admission is refused (STORE_IDEMPOTENCY_CONFLICT → a DENIED receipt)
   * while the claim is still held. The claim, not this wait, is what keeps the driver to one run.
   */
  async #awaitIdempotencyClaim(unit: CallUnit, request: ExecuteRequest): Promise<void> {
    const node = sharedNode(this.data);
    const key = explicitKeyOf(unit, request);
    if (!node || key === undefined) return;
    const until = Date.now() + node.leaseMs;
    let pause = 10;
    while ((await node.idempotencyClaimed(key)) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 200);
    }
  }

  /** Calls in flight on this runtime. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Bookkeeping a long-running runtime holds besides its configuration — each bounded by the calls
   * in flight, none growing with the calls it has served (I-SCALE-1).
   */
  retained(): {
    readonly uncommittedReceipts: number;
    readonly pendingIdempotency: number;
    readonly ledgerOps: number;
  } {
    return {
      uncommittedReceipts: this.#receipts.uncommitted,
      pendingIdempotency: this.#idempotency.inFlight,
      ledgerOps: this.#ledger.pending,
    };
  }

  /**
   * A decision of the guardian, run synchronously: the approval-ceremony log entries it appends
   * (challenges opened, expired) are its call's, stored with its receipt; entries appended outside
   * any decision (an approval submitted) go with the next call or commit.
   */
  #decide<T>(evaluate: () => T): T {
    const unit = currentUnit();
    try {
      const evaluation = evaluate();
      if (unit) {
        // The call takes its place in decision order now (its reservation is taken now).
        this.#order.decided(unit);
        this.#releaseRepeat(unit, evaluation as { record?: DecisionRecordView });
      }
      return evaluation;
    } finally {
      if (unit) {
        const taken = this.#takeCeremony(unit.request);
        unit.challenges.push(...taken.challenges);
        unit.closedChallenges.push(...taken.closedChallenges);
      }
    }
  }

  /**
   * An idempotent repeat passes the budget gate (I-REPLAY-1) but is never charged: its reservation
   * is refunded here, in the same synchronous step as its decision, so no other call is ever
   * decided against it (I-CONC-1: one at a time, the repeat's reservation is gone before the next
   * call is decided). A call whose key has a stored result never runs its driver (it replays it,
   * or is refused for a conflict or an invalid record), so its reservation would be refunded
   * anyway; the executor's later refund of it is skipped (`refunded`).
   */
  #releaseRepeat(unit: CallUnit, evaluation: { record?: DecisionRecordView }): void {
    const record = evaluation.record;
    const key = (unit.request as { idempotency_key?: unknown }).idempotency_key;
    const reservation = record?.budget_reservation_id;
    if (!unit.explicitKey || typeof key !== 'string' || typeof reservation !== 'string' || !record) return;
    const stored = this.#idempotency.peek(
      clientIdempotencyKey({
        principal: record.principal,
        tenant: record.tenant,
        session: record.session_id,
        client_key: key,
      }),
    );
    if (stored === undefined) return;
    this.#explaining.port.refundBudget(reservation);
    unit.refunded.add(reservation);
  }

  /** Ceremony log entries not taken yet: challenges opened or found expired. */
  #takeCeremony(request: Json): {
    challenges: GovernanceChallengeRecord[];
    closedChallenges: { id: string; why: string }[];
  } {
    const approvals = this.guardian.approvals;
    const log = approvals?.log() ?? [];
    const challenges: GovernanceChallengeRecord[] = [];
    const closedChallenges: { id: string; why: string }[] = [];
    for (const entry of log.slice(this.#ceremonyAt)) {
      if (entry.step === 'challenge.opened') {
        const c = approvals?.getChallenge(entry.challenge_id);
        const envelope = approvals?.envelope(entry.challenge_id);
        if (!c || !envelope) continue;
        challenges.push({
          id: c.challenge_id,
          chainId: this.config.chain_id,
          createdAtMs: c.created_at_ms,
          expiresAtMs: c.expires_at_ms,
          envelope,
          request: (request as { request?: Json } | null)?.request ?? request,
        });
      } else if (entry.step === 'challenge.expired')
        closedChallenges.push({ id: entry.challenge_id, why: 'expired' });
    }
    this.#ceremonyAt = log.length;
    return { challenges, closedChallenges };
  }

  /**
   * Commit one receipted result and everything that belongs to it in ONE store transaction: the
   * unit's own nodes, ceremony changes, idempotency record and ledger movements (`reservations`
   * for a recovered call, which has no unit).
   */
  async #persist(
    result: ExecuteResult,
    requestBody: Json,
    unit: CallUnit | undefined,
    reservations?: readonly string[],
  ): Promise<void> {
    const receipt = result.receipt as SignedEnvelope;
    const body = envelopeBody<{ receipt_id: string; lamport: number; prev_hash: string; risk_tier: string }>(
      receipt,
    );
    const nodes: readonly SignedNode[] = unit?.nodes ?? [];
    const idempotency = unit ? this.#idempotency.take(unit) : undefined;
    const ceremony = unit
      ? { challenges: unit.challenges, closedChallenges: unit.closedChallenges }
      : this.#takeCeremony(requestBody);
    // From the moment its receipt's transaction may commit (and delete the admission row), the
    // admission is no longer one a renewal must find (LeaseKeeper `held`): a renewal running
    // alongside may or may not see it, and neither is a lost lease.
    if (result.admission_id !== null) this.#journal.held.delete(result.admission_id);
    await this.#commit(
      {
        ...(ceremony.challenges.length > 0 ? { challenges: ceremony.challenges } : {}),
        ...(ceremony.closedChallenges.length > 0 ? { closedChallenges: ceremony.closedChallenges } : {}),
        sessionId: this.config.chain_id,
        chainId: this.config.chain_id,
        request: { id: body.receipt_id, body: requestBody },
        ...(result.decision ? { decision: { id: result.decision_id, envelope: result.decision } } : {}),
        receipt: {
          id: body.receipt_id,
          lamport: body.lamport,
          prevHash: body.prev_hash,
          hash: result.receipt_hash ?? '',
          decisionId: result.decision_id,
          riskTier: body.risk_tier,
          envelope: receipt,
        },
        nodes: nodes.map((n) => ({
          id: n.hash,
          kind: n.body.kind,
          lamport: n.body.lamport,
          parents: n.body.parents,
          body: {
            envelope: n.envelope,
            ...(n.payload === undefined ? {} : { payload: n.payload }),
          } as unknown as Json,
        })),
        ...(idempotency ? { idempotency } : {}),
        ...(result.admission_id === null ? {} : { admissionId: result.admission_id }),
      },
      [...(reservations ?? unit?.reservations ?? [])],
    );
  }

  /** Persist a non-call governance event (approval, delegation) for re-execution replay. */
  #recordEvent(kind: string, payload: unknown): void {
    const store = this.data.store;
    const seq = store.listDocumentsSync('events').length + 1;
    const after = store.chainHeadSync(this.config.chain_id)?.lamport ?? 0;
    store.putDocumentSync('events', String(seq).padStart(8, '0'), {
      kind,
      after_lamport: after,
      clock_ms: this.clock.now(),
      epoch: this.epoch,
      payload: payload as Json,
    });
  }

  /** Submit a signed approval to the guardian (recorded for replay). */
  submitApproval(envelope: SignedEnvelope): ApprovalStatus {
    const approvals = this.guardian.approvals;
    if (!approvals) throw new RuntimeError('INTERNAL', 'approvals are not enabled');
    this.#recordEvent('approval', envelope);
    return approvals.submit(envelope);
  }

  /** Create a delegation session (recorded for replay). */
  createDelegation(input: CreateSessionInput): DelegationSession {
    const delegations = this.guardian.delegations;
    if (!delegations) throw new RuntimeError('INTERNAL', 'delegation is not enabled');
    this.#recordEvent('delegation', input);
    return delegations.create(input).session;
  }

  /**
   * Close the runtime: nothing new starts (RUNTIME_CLOSED); the calls, ingests and tool loads in
   * progress run to their end (their leases kept renewed meanwhile, so no other node takes their
   * admissions over); then the leases stop and the chain lock and the store are released. Calling
   * it again returns the same promise.
   */
  close(): Promise<void> {
    return this.#work.close(async () => {
      await this.#leases?.stop();
      this.#leases = undefined;
      await this.#recovering;
      try {
        // The next open reads only what was appended after this runtime (its grant scan record).
        if (this.#sequencer.halted === undefined && this.#lock !== undefined) {
          try {
            await this.#grantsUsedOnChain(true);
          } catch {
            // Best effort: the next open then reads the receipts since the last record.
          }
        }
        await Promise.all(this.#closers.splice(0).map((close) => close()));
        await this.#sandbox?.close();
        this.#sandbox = undefined;
      } finally {
        await this.#chainLock?.release();
        this.#chainLock = undefined;
        this.#lock?.release();
        this.#lock = undefined;
      }
    });
  }
}

export interface ExportOptions {
  readonly from?: number;
  readonly to?: number;
  /**
   * Replace LOW receipts by Merkle inclusion proofs against a checkpoint of the chain's log,
   * signed now by the `checkpoint` key (whole-chain exports only).
   */
  readonly condense?: boolean;
}

/** Export the data directory's chain (or a Lamport range of it) as a signed EvidencePack. */
export function exportPack(data: DataDir, options: ExportOptions = {}): BuiltPack {
  const { input, signer } = exportInput(data, options, embeddedReads(data));
  return buildEvidencePack(input, signer);
}

/**
 * exportPack streamed to `file` (the same bytes): the archive is written entry by entry and never
 * held in memory (writeEvidencePackFile, docs/spec/evidencepack.md §6).
 */
export function exportPackFile(data: DataDir, file: string, options: ExportOptions = {}): WrittenPack {
  const { input, signer } = exportInput(data, options, embeddedReads(data));
  return writeEvidencePackFile(input, signer, file);
}

/**
 * exportPack with the chain read from `store` through the async store port (e.g. a PostgreSQL
 * store shared by several nodes): the data directory's chain, trust registry and signed decisions,
 * nodes and requests as that store holds them; policy, tools, modules and the signing key from the
 * data directory. The same store contents give the same bytes as `exportPack`.
 */
export async function exportPackFrom(
  data: DataDir,
  store: RuntimeStore,
  options: ExportOptions = {},
): Promise<BuiltPack> {
  const { input, signer } = exportInput(data, options, await portReads(data, store, options));
  return buildEvidencePack(input, signer);
}

/** exportPackFrom streamed to `file` (the same bytes as exportPackFrom). */
export async function exportPackFileFrom(
  data: DataDir,
  store: RuntimeStore,
  file: string,
  options: ExportOptions = {},
): Promise<WrittenPack> {
  const { input, signer } = exportInput(data, options, await portReads(data, store, options));
  return writeEvidencePackFile(input, signer, file);
}

/** What an export reads from a store (everything else comes from the data directory's files). */
interface ExportReads {
  readonly receipts: readonly StoredReceipt[];
  readonly nodes: readonly StoredNode[];
  readonly requests: readonly StoredRequest[];
  /** Decisions by id, for (at least) the decisions the exported receipts name. */
  readonly decisions: (ids: readonly string[]) => readonly StoredDecision[];
  readonly registry: TrustRegistry;
}

function exportQuery(data: DataDir, options: ExportOptions) {
  return {
    chainId: data.config().chain_id,
    ...(options.from === undefined ? {} : { fromLamport: options.from }),
    ...(options.to === undefined ? {} : { toLamport: options.to }),
  };
}

function embeddedReads(data: DataDir): (options: ExportOptions) => ExportReads {
  return (options) => {
    const store = data.store;
    const query = exportQuery(data, options);
    return {
      receipts: store.receiptsSync(query),
      nodes: store.nodesSync(),
      requests: store.requestsSync(query),
      decisions: (ids) => store.decisionsSync(ids),
      registry: data.registry(),
    };
  };
}

async function portReads(
  data: DataDir,
  store: RuntimeStore,
  options: ExportOptions,
): Promise<(options: ExportOptions) => ExportReads> {
  const query = exportQuery(data, options);
  const receipts = await store.receipts(query);
  const [nodes, requests, decisions, trust] = await Promise.all([
    store.nodes(),
    store.requests(query),
    store.decisions(receipts.flatMap((r) => (r.decisionId ? [r.decisionId] : []))),
    store.listDocuments('trust'),
  ]);
  const byId = new Map(decisions.map((d) => [d.id, d]));
  const reads: ExportReads = {
    receipts,
    nodes,
    requests,
    // As the embedded store answers: each id once, in id order, those it has.
    decisions: (ids) =>
      [...new Set(ids)].sort().flatMap((id) => {
        const d = byId.get(id);
        return d ? [d] : [];
      }),
    registry: data.registryFrom(trust.map((d) => d.value as unknown as SignedEnvelope)),
  };
  return () => reads;
}

function exportInput(
  data: DataDir,
  options: ExportOptions,
  read: (options: ExportOptions) => ExportReads,
): { input: PackInput; signer: Signer } {
  const config = data.config();
  const reads = read(options);
  const receipts = reads.receipts;
  if (receipts.length === 0) {
    throw new RuntimeError(
      'INVALID_INPUT',
      'nothing to export: no receipts in that range',
      'run a governed call first (`helmts run` or `helmts demo`)',
    );
  }
  const receiptIds = new Set(receipts.map((r) => r.envelope.signatures[0]?.sig));
  const nodes = reads.nodes
    .map((n) => n.body as unknown as { envelope: SignedEnvelope; payload?: unknown })
    .filter((n) => {
      const p = n.payload as SignedEnvelope | undefined;
      return p?.type !== 'helm.receipt.v1' || receiptIds.has(p.signatures[0]?.sig);
    });
  let kept = receipts;
  let condensedExtra: Partial<PackInput> = {};
  let packNodes: PackNode[] = nodes;
  if (options.condense) {
    if ((options.from ?? 1) !== 1 || options.to !== undefined) {
      throw new RuntimeError('USAGE', '--condense needs a whole-chain export (no --from/--to)');
    }
    const log = new MerkleLog({ logId: config.chain_id });
    const refs = receipts.map((r) => {
      const tier = envelopeBody<{ risk_tier: RiskTier }>(r.envelope).risk_tier;
      log.append({ entry_hash: r.hash, lamport: r.lamport, risk_tier: tier });
      return { envelope: r.envelope, hash: r.hash, lamport: r.lamport, risk_tier: tier };
    });
    const lastIssued = envelopeBody<{ issued_at_ms: number }>(
      receipts[receipts.length - 1]?.envelope as SignedEnvelope,
    ).issued_at_ms;
    const checkpoint = log.checkpoint(data.signer('checkpoint', 'checkpoint'), lastIssued);
    const c = condenseHistory(refs, log, checkpoint);
    const full = new Set(
      c.history
        .filter((h) => (h as SignedEnvelope).signatures !== undefined)
        .map((h) => (h as SignedEnvelope).signatures[0]?.sig),
    );
    kept = receipts.filter((r) => full.has(r.envelope.signatures[0]?.sig));
    packNodes = nodes.map((n) => {
      const p = n.payload as SignedEnvelope | undefined;
      return p?.type === 'helm.receipt.v1' && !full.has(p.signatures[0]?.sig) ? { envelope: n.envelope } : n;
    });
    condensedExtra = {
      checkpoints: [checkpoint.envelope],
      condensed: c.history.filter((h) => (h as SignedEnvelope).signatures === undefined) as unknown as Record<
        string,
        unknown
      >[],
    };
  }
  const decisions = reads.decisions(kept.map((r) => r.decisionId ?? '')).map((d) => d.envelope);
  const registry = reads.registry;
  const tools = data.toolDescriptors();
  const modules = tools
    .filter((t) => (t.driver as { kind?: string }).kind === 'sandbox')
    .map((t) => {
      const ref = String((t.driver as { ref: string }).ref);
      return { name: String(t.name), bytes: data.module(ref.slice('sha256:'.length)) ?? new Uint8Array() };
    });
  return {
    input: {
      producer: PRODUCER,
      chainId: config.chain_id,
      sessionId: config.chain_id,
      receipts: kept.map((r) => r.envelope),
      decisions,
      nodes: packNodes,
      ...condensedExtra,
      trustSnapshot: exportTrustSnapshot(registry) as unknown as { genesis: string },
      policies: [
        {
          kind: 'p0',
          name: String((data.p0() as { name?: string }).name ?? 'p0'),
          version: digest(canonicalBytes(data.p0())),
          document: data.p0(),
        },
        {
          kind: 'bundle',
          name: String(envelopeBody<{ name?: string }>(data.signedBundle()).name ?? 'bundle'),
          version: String(envelopeBody<{ version?: number }>(data.signedBundle()).version ?? 1),
          document: data.signedBundle(),
        },
      ],
      tools,
      modules,
      requests: reads.requests.map((r) => ({ lamport: r.lamport, body: r.body })),
    },
    signer: data.signer('executor', 'executor', registry),
  };
}

export interface ReexecutionDivergence {
  readonly lamport: number;
  readonly field: string;
  readonly recorded: unknown;
  readonly replayed: unknown;
  /** Why the call could not be re-executed at all (then `replayed` is null). */
  readonly reason?: string;
}

export interface ReexecutionResult {
  readonly ok: boolean;
  readonly calls: number;
  readonly events: number;
  readonly identical: number;
  readonly divergences: readonly ReexecutionDivergence[];
}

/**
 * Re-execution replay: rebuild the runtime from the data directory's recorded configuration (keys,
 * trust events, policies, tools, modules) in a scratch directory, then re-run every recorded
 * request and governance event in order through the real guardian and executor with the recorded
 * clock readings, and compare decisions and receipts byte for byte.
 */
export async function reexecute(data: DataDir): Promise<ReexecutionResult> {
  data.requireInitialized();
  const { cpSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { DataDir: Dir } = await import('./datadir.js');
  const scratch = mkdtempSync(join(tmpdir(), 'helm-replay-'));
  try {
    for (const part of ['config.json', 'keys', 'policy', 'tools', 'modules', 'plugins']) {
      try {
        cpSync(data.path(part), join(scratch, part), { recursive: true });
      } catch {
        // optional parts (tools, modules) may be absent
      }
    }
    const copy = new Dir(scratch);
    for (const d of data.store.listDocumentsSync('trust'))
      copy.store.putDocumentSync('trust', d.key, d.value);
    // Repinned tools start as they were before their first repin; the events repin them in order.
    rewindRepins(copy, readGovernanceLog(data));
    const chain = data.config().chain_id;
    const requests = data.store.requestsSync({ chainId: chain });
    const recorded = new Map(data.store.receiptsSync({ chainId: chain }).map((r) => [r.lamport, r]));
    const events = data.store.listDocumentsSync('events').map(
      (d) =>
        d.value as unknown as {
          kind: string;
          after_lamport: number;
          clock_ms: number;
          epoch?: number;
          payload: unknown;
        },
    );
    const clock = new ManualClock(
      requests[0]?.body ? Number((requests[0].body as { clock_ms?: number }).clock_ms ?? 0) : 0,
    );
    // Each receipt commits to the registry state it was signed under; the copy holds the registry
    // as it is now (later key rotations included), so each call commits to its recorded seq.
    const trustCommitment: TrustCommitment = { seq: undefined };
    const options = { clock, trustCommitment } as RuntimeOptions;
    const recordedSeq = (lamport: number): number | undefined => {
      const r = recorded.get(lamport);
      const seq = r ? envelopeBody<{ trust_seq?: unknown }>(r.envelope).trust_seq : undefined;
      return Number.isSafeInteger(seq) ? (seq as number) : undefined;
    };
    let rt = await GovernedRuntime.open(copy, options);
    let epoch: number | undefined;
    // A new epoch of the original (each `helmts run` is one) starts in place: the runtime is not
    // reopened, so re-execution stays linear in the number of calls.
    const enter = async (next: number | undefined) => {
      if (epoch !== undefined && next !== epoch && !(await rt.renewEpoch())) {
        await rt.close();
        rt = await GovernedRuntime.open(copy, options);
      }
      epoch = next;
    };
    // Governance events go into the scratch log as the original runtime applied them — after the
    // same receipt, in the same epoch, at the same clock reading — and are applied there, so an
    // approval or an administrative receipt (`helm.admin.<action>`) recurs exactly.
    const govRows = data.store.governanceEventsSync();
    const govApplied = data.store
      .governanceAppliedSync()
      .map((a) => ({ seq: a.seq, record: a.record as unknown as GovernanceAppliedRecord }));
    let applied = 0;
    let copied = 0;
    const replayGovernance = async (beforeLamport: number): Promise<void> => {
      while (applied < govApplied.length) {
        const a = govApplied[applied] as (typeof govApplied)[number];
        if (a.record.after_lamport >= beforeLamport) return;
        applied++;
        await enter(a.record.epoch);
        while (copied < a.seq && copied < govRows.length) {
          const row = govRows[copied++] as (typeof govRows)[number];
          copy.store.appendGovernanceEventSync(() => row);
        }
        clock.set(a.record.clock_ms);
        // An administrative receipt commits to the trust state its recorded receipt names.
        if (a.record.receipt_id !== null) trustCommitment.seq = recordedSeq(a.record.after_lamport + 1);
        trustCommitment.governanceSeq = a.record.trust_seq;
        try {
          await rt.ingestGovernance();
        } finally {
          trustCommitment.governanceSeq = undefined;
        }
      }
    };
    let recoveredEpoch: number | undefined;
    const admitRecorded = (
      row: { request?: Json; clock_ms: number; epoch?: number },
      rec: RecoveryRecord,
    ): void => {
      const id = rec.entry.budget_reservation_id;
      const doc: AdmissionDoc = {
        entry: rec.entry,
        ...(row.request === undefined ? {} : { request: row.request }),
        clock_ms: row.clock_ms,
        ...(row.epoch === undefined ? {} : { epoch: row.epoch }),
      };
      copy.store.admitCallSync(
        {
          id: rec.entry.admission_id,
          chainId: chain,
          sessionId: chain,
          reservationId: id,
          body: doc as unknown as Json,
        },
        id && rec.reservation
          ? [
              {
                op: 'reserve',
                id,
                charges: rec.reservation.accounts.map((account) => ({
                  account,
                  ceiling: Number.MAX_SAFE_INTEGER,
                })),
                amount: rec.reservation.amount,
              },
            ]
          : [],
      );
    };
    const divergences: ReexecutionDivergence[] = [];
    let identical = 0;
    let e = 0;
    try {
      for (const q of requests) {
        while (e < events.length && (events[e]?.after_lamport ?? 0) < q.lamport) {
          const ev = events[e++] as (typeof events)[number];
          await enter(ev.epoch);
          clock.set(ev.clock_ms);
          if (ev.kind === 'approval') rt.submitApproval(ev.payload as SignedEnvelope);
          else if (ev.kind === 'delegation') rt.createDelegation(ev.payload as CreateSessionInput);
        }
        await replayGovernance(q.lamport);
        const body = q.body as unknown as {
          request?: ExecuteRequest;
          recovery?: RecoveryRecord;
          governance?: unknown;
          clock_ms: number;
          epoch?: number;
        };
        let replayedEnvelope: SignedEnvelope | null;
        if (body.governance !== undefined) {
          // An administrative receipt: written by the event's application just above.
          replayedEnvelope =
            copy.store.receiptsSync({ chainId: chain, fromLamport: q.lamport, toLamport: q.lamport })[0]
              ?.envelope ?? null;
        } else if (body.recovery) {
          // An interrupted call: leave its admission (and reservation) as the stopped process did,
          // then open the epoch, whose start-up recovery receipts it at the recorded instant.
          const rec = body.recovery;
          if (recoveredEpoch !== rec.epoch) {
            recoveredEpoch = rec.epoch;
            for (const other of requests) {
              const b = other.body as unknown as {
                recovery?: RecoveryRecord;
                clock_ms: number;
                epoch?: number;
              };
              if (b.recovery?.epoch === rec.epoch) admitRecorded(b as never, b.recovery);
            }
            await rt.close();
            clock.set(rec.clock_ms);
            trustCommitment.seq = recordedSeq(q.lamport);
            rt = await GovernedRuntime.open(copy, options);
            epoch = rec.epoch;
          }
          replayedEnvelope =
            copy.store.receiptsSync({ chainId: chain, fromLamport: q.lamport, toLamport: q.lamport })[0]
              ?.envelope ?? null;
        } else {
          await enter(body.epoch);
          clock.set(body.clock_ms);
          trustCommitment.seq = recordedSeq(q.lamport);
          try {
            replayedEnvelope = (await rt.execute(body.request as ExecuteRequest)).receipt;
          } catch (error) {
            // A tool out of service here (e.g. a plugin file changed since this call ran: only the
            // current file exists) cannot reproduce the call: a divergence with its reason.
            if (!(error instanceof RuntimeError) || !TOOL_FAULTS.has(error.code)) throw error;
            const original = recorded.get(q.lamport);
            divergences.push({
              lamport: q.lamport,
              field: 'receipt',
              recorded: original ? envelopeBody(original.envelope) : null,
              replayed: null,
              reason: `${error.code}: ${error.message}`,
            });
            continue;
          }
        }
        const original = recorded.get(q.lamport);
        const again = replayedEnvelope ? JSON.stringify(replayedEnvelope) : null;
        const before = original ? JSON.stringify(original.envelope) : null;
        if (again !== before) {
          divergences.push({
            lamport: q.lamport,
            field: 'receipt',
            recorded: original ? envelopeBody(original.envelope) : null,
            replayed: replayedEnvelope ? envelopeBody(replayedEnvelope) : null,
          });
        } else identical += 1;
      }
      await replayGovernance(Number.MAX_SAFE_INTEGER);
    } finally {
      await rt.close();
      copy.close();
    }
    return {
      ok: divergences.length === 0,
      calls: requests.length,
      events: events.length + govApplied.length,
      identical,
      divergences,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
