// The per-call state of a governed call and the context every pipeline step reads. Each step of
// docs/spec/pipeline.md §Algorithm is a function in this folder that takes the state the previous
// step produced and returns the next one — a new object, the old one is never written — or a
// `Stop`: the call ends with a failure, in the state the step had reached. The state is staged:
// `Surfaced` ⊂ `Prepared` ⊂ … ⊂ `Executed` add what each step established, so a step can only be
// called with what its spec text assumes.
import type { DecisionRecord } from '@helm/contracts/decision';
import type { Effect } from '@helm/contracts/effect';
import type { ReasonCode } from '@helm/contracts/reason-codes';
import type { ReceiptEvidenceValue } from '@helm/contracts/receipt';
import type { JsonValue } from '@helm/contracts/wire';
import type { PublicKeyLookup } from '@helm/crypto/envelope';
import type { Admission } from '@helm/receipts';
import type { GuardianEvaluation, GuardianPort, ProofGraphPort, ReceiptPort } from '../../governance.js';
import type { IdempotencyRecord, IdempotencyStore } from '../../idempotency.js';
import type { AdmissionJournal } from '../../journal.js';
import type { PrepareArgsResult, PreparedArgs } from '../../pep.js';
import type { Timer } from '../../ports.js';
import type { RegisteredTool, ToolRegistry } from '../../registry.js';
import type { SchemaErrorDetail } from '../../schema.js';

/** Type of the executor-local decision id used when the executor denies before the guardian ran. */
export const EXECUTOR_DENIAL_TYPE = 'helm.executor.denial.v1';

/** Unknown tools have no effect class; receipts record this placeholder (never condensed: HIGH). */
export const UNKNOWN_EFFECT_CLASS = 'unknown';

/** What the steps share across calls: the ports and stores one executor was created with. */
export interface PipelineContext {
  readonly guardian: GuardianPort;
  readonly guardianKeys: PublicKeyLookup;
  readonly receipts: ReceiptPort;
  readonly proofgraph: ProofGraphPort;
  readonly timer: Timer;
  readonly registry: ToolRegistry;
  readonly idempotency: IdempotencyStore;
  readonly journal: AdmissionJournal;
  /** Tail of the queue of calls per queue key (step 4); the only per-call entry shared by calls. */
  readonly queues: Map<string, Promise<void>>;
  /** The injected clock, checked: a safe non-negative integer, else ExecutorError CONFIG_INVALID. */
  now(): number;
}

/**
 * Whether the driver was invoked. Set (in a new state) immediately before the invocation: from
 * then on the effect may have happened, so every end of the call is FAILED and charges the
 * reservation (I-BUDGET-1) — the mark decides, never the path that ends the call.
 */
export type DriverMark = 'not-invoked' | 'invoked';

/** The call as read from the request (step 0), plus what every receipt of the call carries. */
export interface CallState {
  readonly principal: string;
  readonly tenant: string | null;
  /** The tool name as requested. */
  readonly tool: string;
  readonly args: unknown;
  readonly args_text: unknown;
  /** The client idempotency key, or null (the key is then derived). */
  readonly client_key: string | null;
  readonly context: unknown;
  /** digest(JCS(request)) of the request as read (docs/spec/pipeline.md §Request digest), or null. */
  readonly request_digest: string | null;
  /** `args` canonicalized once when the request was read (step 3 uses it); undefined without args. */
  readonly args_prepared: PrepareArgsResult | undefined;
  readonly effect_class: string;
  readonly args_hash: string | null;
  readonly effect_id: string | null;
  readonly idempotency_key: string | null;
  /** The guardian's answer; from step 7 on its `record` is the verified decision body. */
  readonly evaluation: GuardianEvaluation | null;
  readonly evidence: Readonly<Record<string, ReceiptEvidenceValue>>;
  /** Set once the call is journaled as admitted (step 8b); its driver may run from then on. */
  readonly admission_id: string | null;
  readonly driver: DriverMark;
}

/** Steps 1–2: the tool is registered and its pinned descriptor still describes it. */
export interface Surfaced extends CallState {
  readonly registered: RegisteredTool;
}

/** Step 3: the canonical arguments and their hash. */
export interface Prepared extends Surfaced {
  readonly prepared: PreparedArgs;
  readonly args_hash: string;
}

/** Step 5: the effect built from the pinned descriptor, and the guardian's ALLOW. */
export interface Evaluated extends Prepared {
  readonly effect: Effect;
  /** digest(JCS(effect)). */
  readonly effect_id: string;
  readonly evaluation: GuardianEvaluation;
}

/** Step 7: the signed ALLOW decision, verified and bound (the only source of call fields from here on). */
export interface Authorized extends Evaluated {
  readonly verified: DecisionRecord;
}

/** Step 7b: the idempotency key, and the stored result of an earlier identical call if any. */
export interface Keyed extends Authorized {
  readonly idempotency_key: string;
  readonly stored: IdempotencyRecord | null;
}

/** Step 8: the receipt policy admitted the call. */
export interface Admitted extends Keyed {
  readonly admission: Extract<Admission, { ok: true }>;
}

/** Step 8b: the admission is journaled. */
export interface Journaled extends Admitted {
  readonly admission_id: string;
}

/** Steps 10–12: the driver ran and its output is JSON that the pinned output schema accepts. */
export interface Executed extends Journaled {
  readonly driver: 'invoked';
  /** A fresh, deeply frozen value (its JCS hash is the receipt's output_hash). */
  readonly output: JsonValue;
}

/** Why a call ends without releasing output (a reason code and its diagnostics). */
export interface Failure {
  readonly code: ReasonCode;
  /** Human-readable detail (diagnostic only; never signed, never matched on). */
  readonly message: string;
  readonly errors?: readonly SchemaErrorDetail[];
  /** ESCALATE: the approval challenge the result carries. */
  readonly challenge?: string | null;
}

/** A step's other outcome: the call ends with `failure`, in the state the step had reached. */
export interface Stop {
  readonly stop: true;
  readonly state: CallState;
  readonly failure: Failure;
}

export function stop(
  state: CallState,
  code: ReasonCode,
  message: string,
  errors?: readonly SchemaErrorDetail[],
): Stop {
  return { stop: true, state, failure: errors ? { code, message, errors } : { code, message } };
}

export function isStop<S extends CallState>(next: S | Stop): next is Stop {
  return (next as Partial<Stop>).stop === true;
}

/** `state` with one more evidence key (a new evidence object; insertion order is receipt order). */
export function withEvidence<S extends CallState>(state: S, key: string, value: ReceiptEvidenceValue): S {
  return { ...state, evidence: { ...state.evidence, [key]: value } };
}
