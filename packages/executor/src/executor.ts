// The SafeExecutor: the single execution boundary. Nothing runs a tool except `execute`, and
// `execute` follows docs/spec/pipeline.md step by step: one module per step under
// ./internal/pipeline/, run in order by ./internal/pipeline/run.ts around an explicit per-call
// state. Per-call failures never throw: each ends in a signed receipt carrying the failure's reason
// code and no output; the budget reservation is refunded when no driver started and charged once
// one may have. Only a request that cannot even be attributed (no principal, no tool name) throws.
// Nothing is released — a fresh output or a stored one — without a current ALLOW decision of the
// full gate chain (docs/threat-model.md).
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { ReasonCode } from '@helm/contracts/reason-codes';
import type { ReceiptStatus } from '@helm/contracts/receipt';
import type { ToolDescriptor } from '@helm/contracts/tool';
import type { Verdict } from '@helm/contracts/verdict';
import type { JsonValue } from '@helm/contracts/wire';
import type { PublicKeyLookup } from '@helm/crypto/envelope';
import type { Driver } from './driver.js';
import { ExecutorError } from './errors.js';
import type { GuardianPort, ProofGraphPort, ReceiptPort } from './governance.js';
import { type IdempotencyStore, InMemoryIdempotencyStore } from './idempotency.js';
import type { PipelineContext } from './internal/pipeline/call.js';
import { recoverAdmissions } from './internal/pipeline/recover.js';
import { executeCall } from './internal/pipeline/run.js';
import { type AdmissionJournal, InMemoryAdmissionJournal } from './journal.js';
import type { Clock, Timer } from './ports.js';
import { type PinnedTool, ToolRegistry } from './registry.js';
import type { SchemaErrorDetail } from './schema.js';

export { EXECUTOR_DENIAL_TYPE, UNKNOWN_EFFECT_CLASS } from './internal/pipeline/call.js';

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
   * `receipt` (docs/spec/pipeline.md §Admission journal). An admission is identified by the
   * verified ALLOW decision that authorized it, so when not null this equals `decision_id`.
   */
  readonly admission_id: string | null;
}

export interface ExecutorOptions {
  readonly guardian: GuardianPort;
  /** Resolves guardian key ids to public keys; ALLOW decisions must verify under one of them. */
  readonly guardianKeys: PublicKeyLookup;
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

/** The pipeline context of one executor: its ports, checked, and its stores. */
function pipelineContext(options: ExecutorOptions): PipelineContext {
  const { guardian, guardianKeys, receipts, proofgraph, clock, timer } = options ?? ({} as ExecutorOptions);
  if (!guardian || !receipts || !proofgraph || !clock || !timer || typeof guardianKeys !== 'function') {
    throw new ExecutorError(
      'CONFIG_INVALID',
      'guardian, guardianKeys, receipts, proofgraph, clock and timer are all required',
    );
  }
  return {
    guardian,
    guardianKeys,
    receipts,
    proofgraph,
    timer,
    registry: options.registry ?? new ToolRegistry(),
    idempotency: options.idempotency ?? new InMemoryIdempotencyStore(),
    journal: options.journal ?? new InMemoryAdmissionJournal(),
    // Tail of the queue of calls per queue key: a repeat waits for the call before it to finish,
    // then is governed itself (and finds its stored result only after the guardian allowed it).
    queues: new Map<string, Promise<void>>(),
    now(): number {
      const t = clock.now();
      if (!Number.isSafeInteger(t) || t < 0)
        throw new ExecutorError('CONFIG_INVALID', 'clock returned a bad time');
      return t;
    },
  };
}

/**
 * Create the SafeExecutor: every `execute` runs the governed pipeline of docs/spec/pipeline.md and
 * ends with a signed receipt. Throws ExecutorError when a required port is missing.
 *
 * @example
 * ```ts
 * import { createExecutor, type ExecutorOptions } from '@helm/executor';
 *
 * declare const ports: ExecutorOptions; // guardian, guardianKeys, receipts, proofgraph, clock, timer
 * const executor = createExecutor(ports); // throws ExecutorError on a bad configuration
 * async function call(): Promise<void> {
 *   const result = await executor.execute({ tool: 'files.read', principal: 'agent-1', args: { path: '/x' } });
 *   console.log(result.status, result.reason_code, result.receipt_hash); // never throws per call
 * }
 * void call();
 * ```
 */
export function createExecutor(options: ExecutorOptions): Executor {
  const ctx = pipelineContext(options);
  const { registry } = ctx;
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
    execute: (request) => executeCall(ctx, request),
    recover: () => recoverAdmissions(ctx),
  };
}
