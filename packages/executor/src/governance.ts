// The executor's ports to the rest of the kernel: the guardian (signed decision, budget, grants),
// the receipt recorder and the ProofGraph. `createExecutor` accepts these small interfaces;
// `Guardian#asExecutorPort()` of @helm/guardian is a GuardianPort, a `ReceiptRecorder` from
// @helm/receipts is a ReceiptPort as is, and `proofGraphPort` adapts @helm/proofgraph.
import type { DecisionRecord } from '@helm/contracts/decision';
import type { Effect } from '@helm/contracts/effect';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { ReceiptBody } from '@helm/contracts/receipt';
import type { JsonValue } from '@helm/contracts/wire';
import type { ExecutorCall, GrantToConsume, Guardian } from '@helm/guardian';
import type { ReceiptRecorder } from '@helm/receipts';

/**
 * What the executor asks the guardian to decide (one concrete call on a pinned tool): the
 * guardian's `ExecutorCall`, with the canonical arguments typed as JSON and the effect the executor
 * built. `destination` is derived from the pinned descriptor — never from the caller; Gate 3 checks
 * it and the effect binds its host. `context` is the caller-supplied guardian context (credential,
 * environment, delegation proof, inputs…).
 */
export interface GuardianCall extends ExecutorCall {
  /** The canonical arguments (gate 4 and policy see exactly what the driver will get). */
  readonly args: JsonValue;
  /** The effect the executor constructed from the pinned descriptor; an ALLOW must bind its digest. */
  readonly effect: Effect;
  readonly effect_digest: string;
}

export interface GuardianEvaluation {
  /**
   * The signed `helm.decision.v1` envelope. For an ALLOW it is the AuthorizedExecutionIntent the
   * executor verifies (docs/spec/intent.md); the executor trusts nothing in `record` it has not
   * read from this envelope.
   */
  readonly decision: SignedEnvelope;
  /** Its body, as the guardian reports it (used for DENY / ESCALATE bookkeeping only). */
  readonly record: DecisionRecord;
}

/** What the executor hands the guardian when execution starts: the guardian's own type. */
export type { GrantToConsume };

export interface GuardianPort {
  evaluate(call: GuardianCall): GuardianEvaluation | Promise<GuardianEvaluation>;
  /** Consume an approval grant atomically; false (or a throw) when it cannot be consumed. */
  consumeGrant(grant: GrantToConsume): boolean | Promise<boolean>;
  /** Commit a budget reservation after a successful execution. */
  commitBudget(reservationId: string): void | Promise<void>;
  /** Refund a budget reservation after any failure. */
  refundBudget(reservationId: string): void | Promise<void>;
  /** Hash of the policy stack in force (recorded in receipts the executor denies on its own). */
  policyHash(): string;
}

/**
 * The receipt port is the recorder API of @helm/receipts: a pre-execution admission check, denial
 * receipts, and `finalize`, which hands the output back only after its receipt is durable.
 */
export type ReceiptPort = Pick<ReceiptRecorder, 'admit' | 'recordDenial' | 'finalize' | 'verifyOwn'>;

export interface ProofGraphRecord {
  /** The persisted receipt envelope. */
  readonly receipt: SignedEnvelope;
  /** Its body, as minted. */
  readonly receipt_body: ReceiptBody;
  /** Its receipt hash (what the next receipt carries as prev_hash; its ProofGraph node hash). */
  readonly receipt_hash: string;
  /** The guardian's decision envelope (null when the executor denied before the guardian ran). */
  readonly decision: SignedEnvelope | null;
}

export interface ProofGraphPort {
  /** Append the receipt (and its decision) to the ProofGraph; throw/reject when it cannot. */
  recordReceipt(record: ProofGraphRecord): unknown;
}

/** `U`, provided it is assignable to `T` (a compile-time check; nothing at run time). */
type Assignable<T, U extends T> = U;

/**
 * The guardian's own port is a GuardianPort: this file does not compile if `Guardian#asExecutorPort`
 * and the port drift apart (`createExecutor({ guardian: guardian.asExecutorPort(), … })`).
 */
export type GuardianExecutorPort = Assignable<GuardianPort, ReturnType<Guardian['asExecutorPort']>>;
