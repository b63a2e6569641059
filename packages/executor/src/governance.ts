// The executor's ports to the rest of the kernel: the guardian (signed decision, budget, grants),
// the receipt recorder and the ProofGraph. `createExecutor` accepts these small interfaces;
// `guardianPort` (./guardian-port.ts) adapts the real @helm/guardian, a `ReceiptRecorder` from
// @helm/receipts is a ReceiptPort as is, and `proofGraphPort` adapts @helm/proofgraph.
import type { DecisionRecord, Effect, ReceiptBody, RiskTier, SignedEnvelope } from '@helm/contracts';
import type { ReceiptRecorder } from '@helm/receipts';
import type { JsonValue } from './json.js';

/** Where an egress call goes, as Gate 3 checks it (same shape as the guardian's `Destination`). */
export interface EgressDestination {
  /** Hostname or IP literal. */
  readonly host: string;
  /** Lowercase scheme, e.g. `https`. */
  readonly protocol: string;
  readonly port?: number;
  /** Size of the request payload (the canonical argument bytes). */
  readonly payload_bytes: number;
}

/** What the executor asks the guardian to decide (one concrete call on a pinned tool). */
export interface GuardianCall {
  readonly principal: string;
  readonly tenant: string | null;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  readonly effect_type: string;
  readonly risk_tier: RiskTier;
  /** Budget units of the call (descriptor `cost`, default 1). */
  readonly cost: number;
  /**
   * Egress destination derived from the pinned descriptor — never from the caller. Gate 3 checks it
   * and the effect binds its host; the driver may contact nothing else.
   */
  readonly destination: EgressDestination | null;
  /** The canonical arguments (gate 4 and policy see exactly what the driver will get). */
  readonly args: JsonValue;
  readonly args_hash: string;
  /** The effect the executor constructed from the pinned descriptor; an ALLOW must bind its digest. */
  readonly effect: Effect;
  readonly effect_digest: string;
  /** Caller-supplied guardian context (credential, environment, delegation proof, inputs…). */
  readonly context: unknown;
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

export interface GrantToConsume {
  readonly grant_id: string;
  /** The ALLOW decision that authorizes the execution. */
  readonly decision_id: string;
  readonly effect_digest: string;
  readonly args_hash: string;
  /** What the verified decision binds: a grant is consumed only by the call it was granted for. */
  readonly tenant: string | null;
  readonly principal: string;
  readonly tool: string;
}

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
