// The executor's ports to the rest of the kernel: the guardian (decision + intent, budget, grants),
// the receipt chain and the ProofGraph. `createExecutor` accepts these small interfaces; adapters
// over the real @helm/guardian, @helm/receipts and @helm/proofgraph live in ./adapters.ts.
import type { DecisionRecord, Effect, ReceiptBody, RiskTier, SignedEnvelope } from '@helm/contracts';
import type { JsonValue } from './json.js';

/** What the executor asks the guardian to decide (one concrete call on a pinned tool). */
export interface GuardianCall {
  readonly principal: string;
  readonly tenant: string | null;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  readonly effect_type: string;
  readonly risk_tier: RiskTier;
  /** Egress destination the driver will contact (Gate 3 checks it); null when none. */
  readonly destination: string | null;
  /** The canonical, validated-shape arguments (gate 4 scans them). */
  readonly args: JsonValue;
  readonly args_hash: string;
  /** The effect the executor constructed from the pinned descriptor; the intent must bind its digest. */
  readonly effect: Effect;
  readonly effect_digest: string;
  readonly session_id: string | null;
  /** Caller-supplied guardian context (credential, environment, delegation proof, approvals…). */
  readonly context: unknown;
}

export interface GuardianEvaluation {
  /** The signed `helm.decision.v1` envelope. */
  readonly decision: SignedEnvelope;
  /** Its body. */
  readonly record: DecisionRecord;
  /** The signed `helm.intent.v1` envelope, for an ALLOW (null otherwise). */
  readonly intent: SignedEnvelope | null;
}

export interface GuardianPort {
  evaluate(call: GuardianCall): GuardianEvaluation | Promise<GuardianEvaluation>;
  /** Consume an approval grant atomically; false when it is unknown, expired or already used. */
  consumeGrant(grantId: string, intentId: string): boolean | Promise<boolean>;
  /** Commit a budget reservation after a successful execution. */
  commitBudget(reservationId: string): void | Promise<void>;
  /** Refund a budget reservation after any failure. */
  refundBudget(reservationId: string): void | Promise<void>;
  /** Hash of the policy stack currently in force (recorded in receipts the executor denies itself). */
  policyHash(): string;
}

/** Receipt fields the executor decides; the chain fills in chain_id, lamport, prev_hash, keyid, id. */
export type ReceiptFields = Omit<
  ReceiptBody,
  'type' | 'receipt_id' | 'chain_id' | 'lamport' | 'prev_hash' | 'keyid'
>;

export interface ReceiptPort {
  /** Sign, chain and persist one receipt; throw (or reject) when it cannot be persisted. */
  append(fields: ReceiptFields): SignedEnvelope | Promise<SignedEnvelope>;
}

export interface ProofGraphPort {
  /** Append the receipt (and its decision) to the ProofGraph; throw when it cannot be persisted. */
  recordReceipt(input: {
    readonly receipt: SignedEnvelope;
    readonly fields: ReceiptFields;
    readonly decision: SignedEnvelope | null;
  }): unknown;
}
