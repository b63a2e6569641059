// The SafeExecutor: the single execution boundary. Nothing runs a tool except `execute`, and
// `execute` follows docs/spec/pipeline.md step by step. Per-call failures never throw: each ends in
// a signed receipt carrying the failure's reason code and no output; the budget reservation is
// refunded when no driver started and charged once one may have. Only a request that cannot even
// be attributed (no principal, no tool name) throws. Nothing is released — a fresh output or a
// stored one — without a current ALLOW decision of the full gate chain (docs/threat-model.md).
import {
  DECISION_TYPE,
  type DecisionRecord,
  type Effect,
  isDriverFailureCode,
  isReasonCode,
  REASON_CODES,
  type ReasonCode,
  type ReceiptEvidenceValue,
  type ReceiptStatus,
  type SignedEnvelope,
  type ToolDescriptor,
  type Verdict,
} from '@helm/contracts';
import {
  canonicalDigest,
  canonicalize,
  digest,
  effectDigest as effectDigestOf,
  isDigest,
  type PublicKeyLookup,
  verifyEnvelope,
} from '@helm/crypto';
import {
  type Admission,
  type Denial,
  type GovernedCall,
  type MintedReceipt,
  receiptHash,
} from '@helm/receipts';
import type { Driver, DriverContext } from './driver.js';
import { DriverFailure } from './driver.js';
import { buildEffect, egressDestination } from './effect.js';
import { ExecutorError } from './errors.js';
import type { GuardianEvaluation, GuardianPort, ProofGraphPort, ReceiptPort } from './governance.js';
import {
  clientIdempotencyKey,
  deriveIdempotencyKey,
  type IdempotencyRecord,
  type IdempotencyStore,
  InMemoryIdempotencyStore,
} from './idempotency.js';
import { describeThrown } from './internal/describe-error.js';
import { deepFreeze } from './internal/frozen.js';
import {
  ADMISSION_TYPE,
  type AdmissionEntry,
  type AdmissionJournal,
  InMemoryAdmissionJournal,
} from './journal.js';
import type { JsonValue } from './json.js';
import { type PrepareArgsResult, type PreparedArgs, prepareArgsText } from './pep.js';
import type { Clock, Timer } from './ports.js';
import { type PinnedTool, type RegisteredTool, ToolRegistry } from './registry.js';
import { readRequest } from './request-digest.js';
import type { SchemaErrorDetail } from './schema.js';

/** Type of the executor-local decision id used when the executor denies before the guardian ran. */
export const EXECUTOR_DENIAL_TYPE = 'helm.executor.denial.v1';

export interface ExecuteRequest {
  /** Registered tool name. */
  readonly tool: string;
  /** The principal on whose authority the call is made (agent or delegate identity). */
  readonly principal: string;
  readonly tenant?: string | null;
  /** Arguments as a JavaScript value (must be plain JSON). Exactly one of args / args_text. */
  readonly args?: unknown;
  /** Arguments as JSON text (parsed strictly: no duplicate keys, no lone surrogates…). */
  readonly args_text?: string;
  /**
   * Client idempotency key; derived when absent (docs/spec/pipeline.md §Idempotency). A call runs
   * under a delegation session only when `context.delegation` proves it: the receipt names the
   * session the guardian verified, never one the caller names.
   */
  readonly idempotency_key?: string;
  /**
   * Guardian context (credential, environment fingerprint, untrusted inputs, delegation
   * presentation, attributes, proofs). Any `destination` in it is replaced by the one derived from
   * the pinned descriptor.
   */
  readonly context?: unknown;
}

export interface ExecuteResult {
  readonly status: ReceiptStatus;
  readonly verdict: Verdict;
  readonly reason_code: ReasonCode;
  /** The signed receipt; null only when no receipt could be persisted (RECEIPT_PERSIST_FAILED). */
  readonly receipt: SignedEnvelope | null;
  /** Receipt hash (the next receipt's prev_hash); null with `receipt`. */
  readonly receipt_hash: string | null;
  /** Present only when status is SUCCEEDED: a deeply frozen value (its JCS hash is the receipt's output_hash). */
  readonly output?: JsonValue;
  /** The guardian's signed decision; null when the executor denied before the guardian ran. */
  readonly decision: SignedEnvelope | null;
  readonly decision_id: string;
  readonly args_hash: string | null;
  readonly idempotency_key: string | null;
  /**
   * True when the output is the stored result of an earlier identical call, released after this
   * call was re-authorized (its own receipt: SUCCEEDED, reason IDEMPOTENT_REPLAY).
   */
  readonly replayed: boolean;
  /** ESCALATE: the approval challenge to collect approvals for. */
  readonly approval_challenge_id: string | null;
  /** SCHEMA_VIOLATION / ERR_CONNECTOR_CONTRACT_DRIFT: sorted, de-duplicated violations. */
  readonly errors?: readonly SchemaErrorDetail[];
  /** Human-readable detail (diagnostic only; never signed, never matched on). */
  readonly message?: string;
  /**
   * The admission-journal entry this result closes (the call was admitted and its driver may have
   * run), or null. A persistent embedding deletes that entry in the same transaction that stores
   * `receipt` (docs/spec/pipeline.md §Admission journal).
   */
  readonly admission_id: string | null;
}

export interface ExecutorOptions {
  readonly guardian: GuardianPort;
  /** Resolves guardian key ids to public keys; ALLOW decisions must verify under one of them. */
  readonly guardianKeys: PublicKeyLookup;
  /**
   * Re-run Ed25519 on decisions even when they are the very envelopes a co-resident guardian just
   * signed (docs/spec/intent.md §Verification). Default false: such self-issued envelopes are
   * authenticated by identity and key; decisions from anywhere else are always verified in full.
   */
  readonly reverifySelfIssuedDecisions?: boolean;
  /** A `ReceiptRecorder` from @helm/receipts (or anything with its admit/recordDenial/finalize). */
  readonly receipts: ReceiptPort;
  readonly proofgraph: ProofGraphPort;
  readonly clock: Clock;
  readonly timer: Timer;
  readonly idempotency?: IdempotencyStore;
  /**
   * Write-ahead admission journal: every admitted call is recorded here before its driver runs
   * (in memory by default; a persistent one makes `recover` meaningful after a crash).
   */
  readonly journal?: AdmissionJournal;
  /** Optional shared registry (several executors over one declared surface). */
  readonly registry?: ToolRegistry;
}

export interface Executor {
  /** Register a tool and pin its descriptor digest. Throws ExecutorError. */
  registerTool(descriptor: ToolDescriptor, driver: Driver): PinnedTool;
  /** Record a descriptor a tool now advertises; a difference denies the tool until re-pinned. */
  observeDescriptor(descriptor: ToolDescriptor): string;
  /** Re-pin a tool to a reviewed descriptor (its digest must equal `expectedDigest`). */
  repinTool(descriptor: ToolDescriptor, expectedDigest: string, driver?: Driver): PinnedTool;
  /** The pinned surface, sorted by name. */
  listTools(): readonly PinnedTool[];
  /** One registered tool: its pinned (frozen) descriptor and digest, and any observed drift. */
  getTool(name: string):
    | {
        readonly descriptor: ToolDescriptor;
        readonly descriptor_digest: string;
        readonly drifted_digest: string | null;
      }
    | undefined;
  /** Run one governed call through the whole pipeline. Never throws for per-call failures. */
  execute(request: ExecuteRequest): Promise<ExecuteResult>;
  /**
   * Close every admission the journal still holds — calls whose process stopped after admission
   * and before the receipt — with a signed FAILED receipt `EXECUTION_INTERRUPTED` (the effect may
   * have happened, so the budget reservation is charged). Call once at start-up, before serving
   * calls. Returns one result per entry, oldest first; an entry whose receipt could not be
   * persisted stays open (RECEIPT_PERSIST_FAILED) for the next recovery.
   */
  recover(): Promise<readonly ExecuteResult[]>;
}

interface CallState {
  readonly principal: string;
  readonly tenant: string | null;
  readonly tool: string;
  readonly args: unknown;
  readonly args_text: unknown;
  /** The client idempotency key, or null (the key is then derived). */
  readonly client_key: string | null;
  readonly context: unknown;
  /** digest(JCS(request)) of the request as read (docs/spec/pipeline.md §Request digest), or null. */
  readonly request_digest: string | null;
  /** `args` canonicalized once when the request was read (the PEP's step 3 uses it); undefined without args. */
  readonly args_prepared: PrepareArgsResult | undefined;
  effect_class: string;
  args_hash: string | null;
  effect_id: string | null;
  idempotency_key: string | null;
  evaluation: GuardianEvaluation | null;
  evidence: Record<string, ReceiptEvidenceValue>;
  /** Set once the call is journaled as admitted (its driver may run from then on). */
  admission_id: string | null;
  /**
   * Set immediately before the driver is invoked: from then on the effect may have happened, so
   * every end of the call is FAILED and charges the reservation (I-BUDGET-1).
   */
  driver_started: boolean;
}

interface Failure {
  readonly code: ReasonCode;
  readonly message: string;
  readonly errors?: readonly SchemaErrorDetail[];
  readonly challenge?: string | null;
}

function fail(code: ReasonCode, message: string, errors?: readonly SchemaErrorDetail[]): Failure {
  return errors ? { code, message, errors } : { code, message };
}

const errorText = describeThrown;

/** What a driver's throw is recorded as: its own code only when it is a driver-failure code. */
function driverFailureCode(error: unknown): ReasonCode {
  try {
    if (!(error instanceof DriverFailure)) return 'DRIVER_ERROR';
    // Read once: a getter or Proxy answering differently on a second read cannot choose the code.
    const code: unknown = error.code;
    return isDriverFailureCode(code) ? code : 'DRIVER_ERROR';
  } catch {
    // A Proxy whose traps throw, a throwing `code` getter: the driver still ran.
    return 'DRIVER_ERROR';
  }
}

/** Serialization key of concurrent repeats (caller claims only; it never selects what is released). */
function lockKey(
  principal: string,
  tenant: string | null,
  tool: string,
  argsHash: string,
  clientKey: unknown,
): string {
  return typeof clientKey === 'string'
    ? JSON.stringify(['client', principal, tenant, clientKey])
    : JSON.stringify(['derived', principal, tenant, tool, argsHash]);
}

/** Unknown tools have no effect class; receipts record this placeholder (never condensed: HIGH). */
export const UNKNOWN_EFFECT_CLASS = 'unknown';

const TIMED_OUT = Symbol('timed-out');

const encoder = new TextEncoder();

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

export function createExecutor(options: ExecutorOptions): Executor {
  const { guardian, guardianKeys, receipts, proofgraph, clock, timer } = options ?? ({} as ExecutorOptions);
  const reverifySelfIssued = options?.reverifySelfIssuedDecisions === true;
  if (!guardian || !receipts || !proofgraph || !clock || !timer || typeof guardianKeys !== 'function') {
    throw new ExecutorError(
      'CONFIG_INVALID',
      'guardian, guardianKeys, receipts, proofgraph, clock and timer are all required',
    );
  }
  const registry = options.registry ?? new ToolRegistry();
  const idempotency = options.idempotency ?? new InMemoryIdempotencyStore();
  const journal = options.journal ?? new InMemoryAdmissionJournal();
  // Tail of the queue of calls per lock key: a repeat waits for the call before it to finish, then
  // is governed itself (and finds its stored result only after the guardian allowed it).
  const queues = new Map<string, Promise<void>>();

  function now(): number {
    const t = clock.now();
    if (!Number.isSafeInteger(t) || t < 0)
      throw new ExecutorError('CONFIG_INVALID', 'clock returned a bad time');
    return t;
  }

  function localDecisionId(state: CallState, code: ReasonCode, at: number): string {
    return canonicalDigest({
      type: EXECUTOR_DENIAL_TYPE,
      principal: state.principal,
      tenant: state.tenant,
      // Before the guardian ran no session is verified (I-SESSION-1).
      session_id: null,
      tool: state.tool,
      args_hash: state.args_hash,
      reason_code: code,
      at_ms: at,
    });
  }

  function governedCall(state: CallState, code: ReasonCode, at: number): GovernedCall {
    const record = state.evaluation?.record;
    return {
      decision_id: record?.decision_id ?? localDecisionId(state, code, at),
      effect_id: state.effect_id,
      effect_class: state.effect_class,
      args_hash: state.args_hash,
      request_digest: state.request_digest,
      // Only a session the guardian verified (a delegation presentation) is ever recorded.
      session_id: record?.session_id ?? null,
      policy_hash: record?.policy_stack_hash ?? guardian.policyHash(),
      tool: state.tool,
      principal: state.principal,
      issued_at_ms: at,
    };
  }

  /**
   * Settle the reservation of a call that ends without releasing a fresh output: refunded when no
   * driver started, charged once one may have (the effect may have happened; I-BUDGET-1).
   */
  async function settleFailed(state: CallState): Promise<void> {
    const reservation = state.evaluation?.record.budget_reservation_id;
    if (!reservation) return;
    try {
      if (state.driver_started) await guardian.commitBudget(reservation);
      else await guardian.refundBudget(reservation);
    } catch {
      // A failing ledger must not release output or hide the receipt; the ledger reconciles.
    }
  }

  function result(
    state: CallState,
    call: GovernedCall,
    code: ReasonCode,
    status: ReceiptStatus,
    receipt: MintedReceipt | null,
    extra: {
      output?: JsonValue;
      errors?: readonly SchemaErrorDetail[];
      message?: string;
      approval_challenge_id?: string | null;
    },
  ): ExecuteResult {
    const out: { -readonly [K in keyof ExecuteResult]: ExecuteResult[K] } = {
      status,
      verdict: REASON_CODES[code].verdict,
      reason_code: code,
      receipt: receipt?.envelope ?? null,
      receipt_hash: receipt?.hash ?? null,
      decision: state.evaluation?.decision ?? null,
      decision_id: call.decision_id,
      args_hash: state.args_hash,
      idempotency_key: state.idempotency_key,
      replayed: false,
      approval_challenge_id: extra.approval_challenge_id ?? null,
      admission_id: state.admission_id,
    };
    if (extra.output !== undefined) out.output = extra.output;
    if (extra.errors !== undefined) out.errors = extra.errors;
    if (extra.message !== undefined) out.message = extra.message;
    return out;
  }

  async function appendToGraph(state: CallState, receipt: MintedReceipt): Promise<void> {
    await proofgraph.recordReceipt({
      receipt: receipt.envelope,
      receipt_body: receipt.body,
      receipt_hash: receipt.hash,
      decision: state.evaluation?.decision ?? null,
    });
  }

  /** The call's receipt exists: close its admission (a persistent journal does it in the receipt's tx). */
  async function closeAdmission(state: CallState): Promise<void> {
    if (state.admission_id === null) return;
    try {
      await journal.complete(state.admission_id);
    } catch {
      // The receipt is recorded; the embedding's transaction (or recovery) closes the entry.
    }
  }

  /** End the call with a failure: settle the budget, a signed receipt, no output. */
  async function finishFailure(state: CallState, failure: Failure): Promise<ExecuteResult> {
    await settleFailed(state);
    const at = now();
    const verdict = REASON_CODES[failure.code].verdict;
    // Whether the driver ran is a fact of the call, never an argument a failure path passes along.
    const status: Denial['status'] = state.driver_started
      ? 'FAILED'
      : verdict === 'ESCALATE'
        ? 'ESCALATED'
        : 'DENIED';
    const call = governedCall(state, failure.code, at);
    const extra: {
      message: string;
      errors?: readonly SchemaErrorDetail[];
      approval_challenge_id?: string | null;
    } = {
      message: failure.message,
    };
    if (failure.errors) extra.errors = failure.errors;
    if (failure.challenge !== undefined) extra.approval_challenge_id = failure.challenge;
    let recorded: Awaited<ReturnType<ReceiptPort['recordDenial']>>;
    try {
      recorded = await receipts.recordDenial({
        ...call,
        status,
        verdict: verdict === 'ALLOW' ? 'DENY' : verdict,
        reason_code: failure.code,
        evidence: { ...state.evidence },
      });
    } catch (error) {
      recorded = { persisted: false, detail: errorText(error) };
    }
    if (!recorded.persisted) {
      // An admitted call keeps its journal entry: recovery will receipt it.
      return result(state, call, 'RECEIPT_PERSIST_FAILED', status, null, {
        message: `${failure.code}: ${failure.message}; the receipt could not be persisted: ${recorded.detail}`,
      });
    }
    await closeAdmission(state);
    try {
      await appendToGraph(state, recorded.receipt);
    } catch (error) {
      return result(state, call, 'RECEIPT_PERSIST_FAILED', status, recorded.receipt, {
        message: `${failure.message}; ProofGraph append failed: ${errorText(error)}`,
      });
    }
    return result(state, call, failure.code, status, recorded.receipt, extra);
  }

  /**
   * The AuthorizedExecutionIntent is the signed ALLOW decision (docs/spec/intent.md). Everything
   * the executor acts on is read from the verified envelope, never from the guardian's `record`.
   */
  function verifyAuthorization(
    state: CallState,
    effect: Effect,
    effectDigest: string,
    at: number,
  ): DecisionRecord | Failure {
    const evaluation = state.evaluation as GuardianEvaluation;
    let decision: DecisionRecord;
    try {
      decision = verifyEnvelope<DecisionRecord & { readonly [k: string]: unknown }>(
        evaluation.decision,
        DECISION_TYPE,
        guardianKeys,
        { acceptSelfIssued: !reverifySelfIssued },
      ).body;
    } catch {
      return fail('INTENT_INVALID', 'the decision signature does not verify under a guardian key');
    }
    const bound =
      decision.verdict === 'ALLOW' &&
      decision.reason_code === 'ALLOW' &&
      decision.decision_id === evaluation.record.decision_id &&
      decision.effect_digest === effectDigest &&
      decision.args_hash === state.args_hash &&
      decision.tool === effect.tool &&
      decision.principal === effect.principal &&
      decision.action === effect.action &&
      decision.resource === effect.resource &&
      decision.tenant === state.tenant;
    if (!bound)
      return fail('INTENT_INVALID', 'the decision is not an ALLOW bound to this effect, args and tool');
    const expires = decision.expires_at_ms;
    if (!(Number.isSafeInteger(decision.decided_at_ms) && Number.isSafeInteger(expires))) {
      return fail('INTENT_INVALID', 'the authorization times are malformed');
    }
    if (at < decision.decided_at_ms || at >= (expires as number)) {
      return fail('INTENT_INVALID', 'the authorization is expired or not yet valid');
    }
    return decision;
  }

  async function runDriver(
    tool: RegisteredTool,
    args: JsonValue,
    context: Omit<DriverContext, 'signal'>,
  ): Promise<unknown> {
    // The abort controller is made only when a driver reads `signal` (or the timeout fires), and a
    // driver that answers synchronously needs no timer: nothing could interrupt it anyway.
    let controller: AbortController | undefined;
    const withSignal: DriverContext = {
      ...context,
      get signal(): AbortSignal {
        controller ??= new AbortController();
        return controller.signal;
      },
    };
    const pending: unknown = tool.driver.invoke(args, withSignal);
    if (!isThenable(pending)) return pending;
    let handle: unknown;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      handle = timer.setTimeout(() => {
        controller ??= new AbortController();
        controller.abort();
        resolve(TIMED_OUT);
      }, tool.descriptor.driver.timeout_ms);
    });
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      timer.clearTimeout(handle);
    }
  }

  /**
   * The key of a call's stored result, computed from the verified decision: the principal the
   * guardian authenticated, the tenant and session it authorized (I-REPLAY-2).
   */
  function idempotencyKeyOf(clientKey: string | null, decision: DecisionRecord): string {
    return clientKey !== null
      ? clientIdempotencyKey({
          principal: decision.principal,
          tenant: decision.tenant,
          session: decision.session_id,
          client_key: clientKey,
        })
      : deriveIdempotencyKey({
          principal: decision.principal,
          tenant: decision.tenant,
          tool: decision.tool,
          args_hash: decision.args_hash,
          session: decision.session_id,
        });
  }

  /**
   * A stored result is released only as what its own receipt signed: the SUCCEEDED receipt of this
   * key, tool, args and principal, whose output_hash is the hash of the stored output. Anything
   * else (an edited row, a row moved to another key) releases nothing.
   */
  function storedOutput(
    stored: IdempotencyRecord,
    key: string,
    decision: DecisionRecord,
  ): { readonly output: JsonValue; readonly receipt_id: string } | Failure {
    try {
      // The stored receipt must verify under the receipt signer's key (full Ed25519): its hash
      // alone (a digest of the signature bytes) says nothing about the payload (I-REPLAY-2).
      const body = receipts.verifyOwn(stored.receipt);
      if (!body || receiptHash(stored.receipt) !== stored.receipt_hash) throw new Error('receipt');
      const text = canonicalize(stored.output);
      const bound =
        body.status === 'SUCCEEDED' &&
        body.reason_code === 'ALLOW' &&
        body.tool === decision.tool &&
        body.principal === decision.principal &&
        body.args_hash === decision.args_hash &&
        body.session_id === decision.session_id &&
        body.evidence.idempotency_key === key &&
        body.output_hash === digest(encoder.encode(text));
      if (!bound) throw new Error('binding');
      return { output: deepFreeze(JSON.parse(text) as JsonValue), receipt_id: body.receipt_id };
    } catch {
      return fail('IDEMPOTENCY_RECORD_INVALID', 'the stored result does not match its original receipt');
    }
  }

  /** Receipt-policy admission of an allowed call (fail closed: a throwing policy set is missing). */
  function admitReceipt(descriptor: ToolDescriptor, verified: DecisionRecord, key: string): Admission {
    const approvalIds = verified.approval_grant_id === null ? [] : [verified.approval_grant_id];
    try {
      return receipts.admit(descriptor.effect_type, { idempotency_key: key, approval_ids: approvalIds });
    } catch (error) {
      return { ok: false, reason_code: 'RECEIPT_POLICY_MISSING', detail: errorText(error) };
    }
  }

  /** Ask the guardian to consume the decision's approval grant (single use); a failure to end with. */
  async function consumeApproval(verified: DecisionRecord): Promise<Failure | null> {
    if (verified.approval_grant_id === null) return null;
    let consumed: boolean;
    try {
      consumed = await guardian.consumeGrant({
        grant_id: verified.approval_grant_id,
        decision_id: verified.decision_id,
        effect_digest: verified.effect_digest as string,
        args_hash: verified.args_hash,
        tenant: verified.tenant,
        principal: verified.principal,
        tool: verified.tool,
      });
    } catch {
      consumed = false;
    }
    return consumed === true ? null : fail('APPROVAL_INVALID', 'the approval grant is not consumable');
  }

  /**
   * Release the stored result of an earlier identical call to a repeat the guardian just allowed:
   * no driver runs, the reservation is refunded (a replay is not charged), and the release gets its
   * own SUCCEEDED receipt (reason IDEMPOTENT_REPLAY, evidence.replay_of = the original receipt id)
   * whose output_hash equals the original's (docs/spec/pipeline.md §Idempotency).
   */
  async function replayStored(
    state: CallState,
    descriptor: ToolDescriptor,
    verified: DecisionRecord,
    stored: IdempotencyRecord,
  ): Promise<ExecuteResult> {
    const key = state.idempotency_key as string;
    const original = storedOutput(stored, key, verified);
    if ('code' in original) return finishFailure(state, original);
    state.evidence.replay_of = original.receipt_id;
    const admission = admitReceipt(descriptor, verified, key);
    if (!admission.ok) return finishFailure(state, fail(admission.reason_code, admission.detail));
    const grant = await consumeApproval(verified);
    if (grant) return finishFailure(state, grant);

    const call = governedCall(state, 'IDEMPOTENT_REPLAY', now());
    const receipt = await releaseReceipt(state, call, admission, original.output, 'IDEMPOTENT_REPLAY');
    if ('status' in receipt) return receipt;
    await settleFailed(state); // no driver started: refunds — a replay is never charged
    return {
      ...result(state, call, 'IDEMPOTENT_REPLAY', 'SUCCEEDED', receipt, {
        output: original.output,
      }),
      replayed: true,
    };
  }

  /**
   * Steps 12–13 for an output about to be released (an execution's, or a replay's stored one): the
   * signed SUCCEEDED receipt through `finalize`, which hands the output back only once the receipt is
   * durable; the admission's close; the ProofGraph append. Returns the receipt, or the result the
   * call ends with when any of that failed (no output is released then).
   */
  async function releaseReceipt(
    state: CallState,
    call: GovernedCall,
    admission: Admission,
    output: JsonValue,
    reason: 'ALLOW' | 'IDEMPOTENT_REPLAY',
  ): Promise<MintedReceipt | ExecuteResult> {
    let finalized: Awaited<ReturnType<ReceiptPort['finalize']>>;
    try {
      finalized = await receipts.finalize(
        call,
        admission,
        output,
        { ...state.evidence },
        { reason_code: reason },
      );
    } catch (error) {
      finalized = { released: false, reason_code: 'RECEIPT_PERSIST_FAILED', detail: errorText(error) };
    }
    if (!finalized.released) return endUnreleased(state, call, finalized);
    await closeAdmission(state);
    try {
      await appendToGraph(state, finalized.receipt);
    } catch (error) {
      return finishFailure(
        state,
        fail('RECEIPT_PERSIST_FAILED', `ProofGraph append failed: ${errorText(error)}`),
      );
    }
    return finalized.receipt;
  }

  /** `finalize` withheld the output: settle, close the admission with its receipt, no output. */
  async function endUnreleased(
    state: CallState,
    call: GovernedCall,
    finalized: {
      readonly reason_code: ReasonCode;
      readonly detail: string;
      readonly receipt?: MintedReceipt;
    },
  ): Promise<ExecuteResult> {
    await settleFailed(state);
    const status: ReceiptStatus =
      finalized.receipt?.body.status ?? (state.driver_started ? 'FAILED' : 'DENIED');
    if (finalized.receipt) {
      await closeAdmission(state);
      try {
        await appendToGraph(state, finalized.receipt);
      } catch {
        // The failure receipt is in the chain; the graph gap is visible to the validator.
      }
    }
    return result(state, call, finalized.reason_code, status, finalized.receipt ?? null, {
      message: finalized.detail,
    });
  }

  async function governed(
    state: CallState,
    tool: RegisteredTool,
    prepared: PreparedArgs,
  ): Promise<ExecuteResult> {
    const descriptor = tool.descriptor;
    const effect = buildEffect(descriptor, state.principal, prepared.value, prepared.args_hash);
    const effectDigest = effectDigestOf(effect);
    state.effect_id = effectDigest;

    // 5. Guardian: gates 0–5, effect, policy, budget, approval.
    let evaluation: GuardianEvaluation;
    try {
      evaluation = await guardian.evaluate({
        principal: state.principal,
        tenant: state.tenant,
        tool: tool.name,
        action: effect.action,
        resource: effect.resource,
        effect_type: effect.effect_type,
        risk_tier: effect.risk_tier,
        cost: descriptor.cost ?? 1,
        destination: egressDestination(descriptor, prepared.canonical_bytes),
        args: prepared.value,
        args_hash: prepared.args_hash,
        effect,
        effect_digest: effectDigest,
        context: state.context,
      });
    } catch (error) {
      return finishFailure(state, fail('INTERNAL_ERROR', `the guardian failed: ${errorText(error)}`));
    }
    state.evaluation = evaluation;
    const record = evaluation.record;
    if (record.verdict !== 'ALLOW' || record.reason_code !== 'ALLOW') {
      // The recorded code must belong to the recorded verdict; anything else fails closed.
      const consistent =
        isReasonCode(record.reason_code) &&
        record.verdict !== 'ALLOW' &&
        REASON_CODES[record.reason_code].verdict === record.verdict;
      if (!consistent) return finishFailure(state, fail('INTERNAL_ERROR', 'inconsistent guardian verdict'));
      if (record.verdict === 'ESCALATE') {
        if (record.approval_challenge_id) state.evidence.approval_challenge_id = record.approval_challenge_id;
        return finishFailure(state, {
          code: record.reason_code,
          message: 'held for approval',
          challenge: record.approval_challenge_id,
        });
      }
      return finishFailure(state, fail(record.reason_code, 'denied by the guardian'));
    }

    // 6. PEP: the pinned input schema.
    const check = tool.input.validate(prepared.value);
    if (!check.valid) {
      state.evidence.schema_errors = canonicalDigest(check.errors);
      return finishFailure(
        state,
        fail('SCHEMA_VIOLATION', `${check.error_count} schema violation(s)`, check.errors),
      );
    }

    // 7. The AuthorizedExecutionIntent: the signed ALLOW decision, verified and bound.
    const verified = verifyAuthorization(state, effect, effectDigest, now());
    if ('code' in verified) return finishFailure(state, verified);
    // From here on every refund, receipt and commit uses the signed values.
    state.evaluation = { decision: evaluation.decision, record: verified };

    // 7b. Idempotency, keyed by what the guardian just authenticated and authorized: a stored
    // result is found only now, by a call that passed the full gate chain.
    const key = idempotencyKeyOf(state.client_key, verified);
    state.idempotency_key = key;
    state.evidence.idempotency_key = key;
    let stored: IdempotencyRecord | undefined;
    try {
      stored = await idempotency.get(key);
    } catch (error) {
      return finishFailure(
        state,
        fail('INTERNAL_ERROR', `the idempotency store failed: ${errorText(error)}`),
      );
    }
    if (stored) {
      if (stored.tool !== tool.name || stored.args_hash !== prepared.args_hash) {
        return finishFailure(
          state,
          fail('IDEMPOTENCY_CONFLICT', 'the key was already used with different arguments'),
        );
      }
      return replayStored(state, descriptor, verified, stored);
    }

    // 8. Receipt-policy admission (fail closed) before anything runs.
    const admission = admitReceipt(descriptor, verified, key);
    if (!admission.ok) return finishFailure(state, fail(admission.reason_code, admission.detail));

    // 8b. Write-ahead admission journal: durable before anything can have an effect.
    const entry: AdmissionEntry = {
      type: ADMISSION_TYPE,
      admission_id: verified.decision_id,
      decision_id: verified.decision_id,
      principal: state.principal,
      tenant: state.tenant,
      session_id: verified.session_id,
      tool: tool.name,
      effect_class: state.effect_class,
      effect_id: effectDigest,
      args_hash: prepared.args_hash,
      request_digest: state.request_digest,
      idempotency_key: key,
      policy_hash: verified.policy_stack_hash,
      budget_reservation_id: verified.budget_reservation_id,
      admitted_at_ms: now(),
      decision: evaluation.decision,
      evidence: { ...state.evidence },
    };
    try {
      await journal.admit(entry);
    } catch (error) {
      return finishFailure(
        state,
        fail('RECEIPT_PERSIST_FAILED', `the admission could not be journaled: ${errorText(error)}`),
      );
    }
    state.admission_id = entry.admission_id;

    // 9. Consume the approval grant (single use) as execution starts.
    const grant = await consumeApproval(verified);
    if (grant) return finishFailure(state, grant);

    // 10. Driver: only the validated args, under the per-tool timeout. From the moment it is
    // invoked the effect may have happened: the call can only end FAILED and charged.
    state.driver_started = true;
    let raw: unknown;
    try {
      raw = await runDriver(tool, prepared.value, { descriptor, effect, decision_id: verified.decision_id });
    } catch (error) {
      return finishFailure(state, fail(driverFailureCode(error), `the driver failed: ${errorText(error)}`));
    }
    if (raw === TIMED_OUT) {
      return finishFailure(
        state,
        fail('DRIVER_TIMEOUT', `the driver exceeded ${descriptor.driver.timeout_ms} ms`),
      );
    }

    // 11. Output: JSON only, then the pinned output schema. Nothing is released before it passes.
    let output: JsonValue;
    try {
      // A fresh, deeply frozen copy: neither the driver nor whoever receives it can change what
      // was hashed, receipted and stored for repeats.
      output = deepFreeze(JSON.parse(canonicalize(raw)) as JsonValue);
    } catch {
      return finishFailure(state, fail('DRIVER_ERROR', 'the driver returned a value that is not JSON'));
    }
    const outCheck = tool.output.validate(output);
    if (!outCheck.valid) {
      state.evidence.schema_errors = canonicalDigest(outCheck.errors);
      return finishFailure(
        state,
        fail(
          'ERR_CONNECTOR_CONTRACT_DRIFT',
          `${outCheck.error_count} output schema violation(s)`,
          outCheck.errors,
        ),
      );
    }

    // 12. OutputHash + signed SUCCEEDED receipt (finalize releases the output only once it is durable).
    const call = governedCall(state, 'ALLOW', now());
    // 13. ProofGraph append; a failure here withholds the output too.
    const receipt = await releaseReceipt(state, call, admission, output, 'ALLOW');
    if ('status' in receipt) return receipt;

    // 14. Commit the budget, remember the result for idempotent repeats, release the output.
    if (verified.budget_reservation_id) {
      try {
        await guardian.commitBudget(verified.budget_reservation_id);
      } catch {
        // The effect happened and is receipted; a ledger failure cannot un-happen it.
      }
    }
    try {
      await idempotency.put({
        key,
        tool: tool.name,
        args_hash: prepared.args_hash,
        receipt: receipt.envelope,
        receipt_hash: receipt.hash,
        decision_id: verified.decision_id,
        output,
        decision: evaluation.decision,
      });
    } catch {
      // Not storing only means a repeat is governed and executed again under a fresh decision.
    }
    return result(state, call, 'ALLOW', 'SUCCEEDED', receipt, { output });
  }

  async function executeInner(state: CallState): Promise<ExecuteResult> {
    // 1. Layer A: the declared surface.
    const tool = registry.get(state.tool);
    if (!tool) return finishFailure(state, fail('TOOL_UNKNOWN', `tool ${state.tool} is not registered`));
    state.effect_class = tool.descriptor.effect_type;
    state.evidence.descriptor_digest = tool.descriptor_digest;

    // 2. The pinned descriptor still describes the tool.
    if (tool.driver.describe) {
      let advertised: ToolDescriptor;
      try {
        advertised = await tool.driver.describe();
      } catch {
        return finishFailure(state, fail('TOOL_DESCRIPTOR_CHANGED', 'the tool descriptor is unavailable'));
      }
      if (advertised?.name !== tool.name) {
        return finishFailure(state, fail('TOOL_DESCRIPTOR_CHANGED', 'the tool advertises another name'));
      }
      registry.observe(advertised);
    }
    const current = registry.get(tool.name) as RegisteredTool;
    if (current.drifted_digest !== null || current.descriptor_digest !== tool.descriptor_digest) {
      state.evidence.observed_descriptor_digest = current.drifted_digest ?? current.descriptor_digest;
      return finishFailure(
        state,
        fail('TOOL_DESCRIPTOR_CHANGED', 'the tool descriptor changed; re-pin required'),
      );
    }

    // 3. PEP, first half: strict parse + JCS + ArgsHash.
    const hasArgs = state.args !== undefined;
    const hasText = state.args_text !== undefined;
    if (hasArgs === hasText) {
      return finishFailure(state, fail('ARGS_MALFORMED', 'exactly one of args / args_text is required'));
    }
    // `args` was canonicalized once when the request was read (the bytes the request digest covers).
    const parsed = hasText
      ? typeof state.args_text === 'string'
        ? prepareArgsText(state.args_text)
        : ({ ok: false, reason: 'args_text must be a string' } as const)
      : (state.args_prepared as PrepareArgsResult);
    if (!parsed.ok) return finishFailure(state, fail('ARGS_MALFORMED', parsed.reason));
    const prepared = parsed.args;
    state.args_hash = prepared.args_hash;

    // 4. Repeats of one call are serialized (a repeat waits for the call before it), so a stored
    // result exists before the repeat is governed. The queue key is a caller claim and only orders
    // calls; what a call may receive is decided after the guardian (step 7b).
    const lock = lockKey(state.principal, state.tenant, tool.name, prepared.args_hash, state.client_key);
    const previous = queues.get(lock);
    let release = (): void => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous ? previous.then(() => mine) : mine;
    queues.set(lock, tail);
    try {
      if (previous) await previous;
      return await governed(state, tool, prepared);
    } finally {
      release();
      if (queues.get(lock) === tail) queues.delete(lock);
    }
  }

  /**
   * Read every request field exactly once: a getter (or Proxy) that answers differently on a
   * second read cannot make the call checked differ from the call executed or receipted.
   */
  function snapshot(request: ExecuteRequest): CallState {
    if (typeof request !== 'object' || request === null) {
      throw new ExecutorError('REQUEST_INVALID', 'request must be an object');
    }
    let fields: {
      principal: unknown;
      tool: unknown;
      tenant: unknown;
      args: unknown;
      args_text: unknown;
      idempotency_key: unknown;
      context: unknown;
    };
    try {
      const { principal, tool, tenant, args, args_text, idempotency_key, context } = request;
      fields = { principal, tool, tenant, args, args_text, idempotency_key, context };
    } catch (error) {
      throw new ExecutorError('REQUEST_INVALID', `request is unreadable: ${errorText(error)}`);
    }
    if (typeof fields.principal !== 'string' || fields.principal.length === 0) {
      throw new ExecutorError('REQUEST_INVALID', 'request.principal must be a non-empty string');
    }
    if (typeof fields.tool !== 'string' || fields.tool.length === 0) {
      throw new ExecutorError('REQUEST_INVALID', 'request.tool must be a non-empty string');
    }
    if (!(fields.tenant === undefined || fields.tenant === null || typeof fields.tenant === 'string')) {
      throw new ExecutorError('REQUEST_INVALID', 'request.tenant must be a string or null');
    }
    const key = fields.idempotency_key;
    if (!(key === undefined || key === null || (typeof key === 'string' && key.length > 0))) {
      throw new ExecutorError('REQUEST_INVALID', 'request.idempotency_key must be a non-empty string');
    }
    // The request object every receipt of the call commits to (request_digest), from the values
    // just read; `args` is canonicalized here, once, and the PEP uses exactly those bytes.
    const read = readRequest(fields);
    return {
      principal: fields.principal,
      tenant: typeof fields.tenant === 'string' ? fields.tenant : null,
      tool: fields.tool,
      args: fields.args,
      args_text: fields.args_text,
      client_key: typeof key === 'string' ? key : null,
      // The guardian sees the canonical copy that request_digest covers (null if unrepresentable:
      // the guardian then denies), never the caller's object again.
      context: read.context,
      request_digest: read.request_digest,
      args_prepared: read.args,
      effect_class: UNKNOWN_EFFECT_CLASS,
      args_hash: null,
      effect_id: null,
      idempotency_key: null,
      evaluation: null,
      evidence: {},
      admission_id: null,
      driver_started: false,
    };
  }

  async function execute(request: ExecuteRequest): Promise<ExecuteResult> {
    const state = snapshot(request);
    try {
      return await executeInner(state);
    } catch (error) {
      // Defensive: any unexpected error fails closed with a receipt (FAILED and charged when the
      // driver had started: the state, not this handler, knows).
      return finishFailure(state, fail('INTERNAL_ERROR', errorText(error)));
    }
  }

  /**
   * What recovery may sign for a journal entry: only what the guardian signed. The entry is data a
   * data-directory writer can edit, so its decision envelope is verified in full under a guardian
   * key and every call field comes from that decision (I-RECOVERY-1); an entry whose decision does
   * not verify, is not an ALLOW, or is not the entry's own is never receipted.
   */
  function verifiedAdmission(entry: AdmissionEntry): DecisionRecord | null {
    try {
      const decision = verifyEnvelope<DecisionRecord & { readonly [k: string]: unknown }>(
        entry.decision,
        DECISION_TYPE,
        guardianKeys,
      ).body;
      const own =
        decision.verdict === 'ALLOW' &&
        decision.reason_code === 'ALLOW' &&
        typeof decision.effect_digest === 'string' &&
        entry.admission_id === decision.decision_id &&
        entry.decision_id === decision.decision_id;
      return own ? decision : null;
    } catch {
      return null;
    }
  }

  /** Evidence recovery carries over from an entry: known keys with digest values only. */
  function recoveredEvidence(entry: AdmissionEntry): Record<string, ReceiptEvidenceValue> {
    const out: Record<string, ReceiptEvidenceValue> = {};
    const evidence = (entry.evidence ?? {}) as Readonly<Record<string, unknown>>;
    for (const key of ['descriptor_digest', 'idempotency_key'] as const) {
      const value = Object.hasOwn(evidence, key) ? evidence[key] : undefined;
      if (typeof value === 'string' && /^sha256:[0-9a-f]{64}$/.test(value)) out[key] = value;
    }
    return out;
  }

  /** Receipt one interrupted admission (see `Executor#recover`). */
  async function recoverOne(entry: AdmissionEntry): Promise<ExecuteResult> {
    const code: ReasonCode = 'EXECUTION_INTERRUPTED';
    const decision = verifiedAdmission(entry);
    if (decision === null) {
      return {
        status: 'FAILED',
        verdict: 'DENY',
        reason_code: 'INTERNAL_ERROR',
        receipt: null,
        receipt_hash: null,
        decision: null,
        decision_id: typeof entry?.decision_id === 'string' ? entry.decision_id : '',
        args_hash: null,
        idempotency_key: null,
        replayed: false,
        approval_challenge_id: null,
        admission_id: typeof entry?.admission_id === 'string' ? entry.admission_id : null,
        message:
          'the admission entry carries no verifiable ALLOW decision of its own; nothing was signed and the entry stays open',
      };
    }
    const registered = registry.get(decision.tool);
    const call: GovernedCall = {
      decision_id: decision.decision_id,
      effect_id: decision.effect_digest,
      // The receipt policy (and so the risk tier) follows the pinned tool when it is registered.
      effect_class: registered ? registered.descriptor.effect_type : UNKNOWN_EFFECT_CLASS,
      args_hash: decision.args_hash,
      // The request the admitted call was made with, as the executor digested it at admission
      // (a digest or null; anything else in the entry is not a request digest and is not signed).
      request_digest:
        typeof entry.request_digest === 'string' && isDigest(entry.request_digest)
          ? entry.request_digest
          : null,
      session_id: decision.session_id,
      policy_hash: decision.policy_stack_hash,
      tool: decision.tool,
      principal: decision.principal,
      issued_at_ms: now(),
    };
    const base = {
      verdict: 'DENY' as const,
      decision: entry.decision,
      decision_id: decision.decision_id,
      args_hash: decision.args_hash,
      idempotency_key: typeof entry.idempotency_key === 'string' ? entry.idempotency_key : null,
      replayed: false,
      approval_challenge_id: null,
      admission_id: entry.admission_id,
    };
    let recorded: Awaited<ReturnType<ReceiptPort['recordDenial']>>;
    try {
      recorded = await receipts.recordDenial({
        ...call,
        status: 'FAILED',
        verdict: 'DENY',
        reason_code: code,
        evidence: recoveredEvidence(entry),
      });
    } catch (error) {
      recorded = { persisted: false, detail: errorText(error) };
    }
    if (!recorded.persisted) {
      return {
        ...base,
        status: 'FAILED',
        reason_code: 'RECEIPT_PERSIST_FAILED',
        receipt: null,
        receipt_hash: null,
        message: `${code}: the interruption receipt could not be persisted: ${recorded.detail}`,
      };
    }
    const receipt = recorded.receipt;
    let message = 'the process stopped after admission and before the receipt; the effect may have happened';
    try {
      await journal.complete(entry.admission_id);
    } catch {
      // The embedding's transaction closes the entry with the receipt.
    }
    try {
      await proofgraph.recordReceipt({
        receipt: receipt.envelope,
        receipt_body: receipt.body,
        receipt_hash: receipt.hash,
        decision: entry.decision,
      });
    } catch (error) {
      message = `${message}; ProofGraph append failed: ${errorText(error)}`;
    }
    if (decision.budget_reservation_id) {
      try {
        // Charged, not refunded: the effect may have happened (budgets err towards less authority).
        await guardian.commitBudget(decision.budget_reservation_id);
      } catch {
        // An unknown or already settled reservation has nothing left to resolve.
      }
    }
    return {
      ...base,
      status: 'FAILED',
      reason_code: code,
      receipt: receipt.envelope,
      receipt_hash: receipt.hash,
      message,
    };
  }

  async function recover(): Promise<readonly ExecuteResult[]> {
    const entries = [...(await journal.pending())];
    const out: ExecuteResult[] = [];
    for (const entry of entries) out.push(await recoverOne(entry));
    return out;
  }

  return {
    registerTool: (descriptor, driver) => registry.register(descriptor, driver),
    observeDescriptor: (descriptor) => registry.observe(descriptor),
    repinTool: (descriptor, expectedDigest, driver) => registry.repin(descriptor, expectedDigest, driver),
    listTools: () => registry.list(),
    getTool: (name) => {
      const tool = registry.get(name);
      return tool
        ? {
            descriptor: tool.descriptor,
            descriptor_digest: tool.descriptor_digest,
            drifted_digest: tool.drifted_digest,
          }
        : undefined;
    },
    execute,
    recover,
  };
}
