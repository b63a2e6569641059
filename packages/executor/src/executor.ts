// The SafeExecutor: the single execution boundary. Nothing runs a tool except `execute`, and
// `execute` follows docs/spec/pipeline.md step by step. Per-call failures never throw: each ends in
// a signed receipt carrying the failure's reason code, no output, and the budget reservation
// refunded. Only a malformed request object (not even a principal to attribute it to) throws.
import {
  type AuthorizedExecutionIntent,
  EFFECT_TYPE,
  type Effect,
  INTENT_TYPE,
  isReasonCode,
  REASON_CODES,
  type ReasonCode,
  type ReceiptStatus,
  type SignedEnvelope,
  type ToolDescriptor,
  type Verdict,
} from '@helm/contracts';
import { canonicalize, digest, fromBase64Url, type PublicKeyLookup, verifyEnvelope } from '@helm/crypto';
import type { Driver, DriverContext } from './driver.js';
import { DriverFailure } from './driver.js';
import { ExecutorError } from './errors.js';
import type {
  GuardianEvaluation,
  GuardianPort,
  ProofGraphPort,
  ReceiptFields,
  ReceiptPort,
} from './governance.js';
import {
  clientIdempotencyKey,
  deriveIdempotencyKey,
  type IdempotencyStore,
  InMemoryIdempotencyStore,
} from './idempotency.js';
import type { JsonValue } from './json.js';
import { type PreparedArgs, prepareArgsText, prepareArgsValue } from './pep.js';
import type { Clock, Timer } from './ports.js';
import { type PinnedTool, type RegisteredTool, ToolRegistry } from './registry.js';
import type { SchemaErrorDetail } from './schema.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
  /** Arguments as JSON text (parsed strictly). */
  readonly args_text?: string;
  /** Delegation session id, if the principal acts for someone else. */
  readonly session_id?: string | null;
  /** Client idempotency key; derived when absent (see docs/spec/pipeline.md §Idempotency). */
  readonly idempotency_key?: string;
  /** Opaque guardian context (credential, environment, delegation presentation, approvals…). */
  readonly context?: unknown;
}

export interface ExecuteResult {
  readonly status: ReceiptStatus;
  readonly verdict: Verdict;
  readonly reason_code: ReasonCode;
  /** The signed receipt; null only when no receipt could be persisted (RECEIPT_PERSIST_FAILED). */
  readonly receipt: SignedEnvelope | null;
  /** Present only when status is SUCCEEDED. */
  readonly output?: JsonValue;
  /** The guardian's signed decision; null when the executor denied before the guardian ran. */
  readonly decision: SignedEnvelope | null;
  readonly decision_id: string;
  readonly args_hash: string | null;
  readonly idempotency_key: string | null;
  /** True when this result is the stored result of an earlier (or concurrent) identical call. */
  readonly replayed: boolean;
  /** ESCALATE: the approval challenge to collect approvals for. */
  readonly approval_challenge_id: string | null;
  /** SCHEMA_VIOLATION / ERR_CONNECTOR_CONTRACT_DRIFT: sorted, de-duplicated violations. */
  readonly errors?: readonly SchemaErrorDetail[];
  /** Human-readable detail (diagnostic only; never signed, never matched on). */
  readonly message?: string;
}

export interface ExecutorOptions {
  readonly guardian: GuardianPort;
  /** Resolves guardian key ids to public keys (intents must verify under one of them). */
  readonly guardianKeys: PublicKeyLookup;
  readonly receipts: ReceiptPort;
  readonly proofgraph: ProofGraphPort;
  readonly clock: Clock;
  readonly timer: Timer;
  readonly idempotency?: IdempotencyStore;
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
  /** Run one governed call through the whole pipeline. Never throws for per-call failures. */
  execute(request: ExecuteRequest): Promise<ExecuteResult>;
}

interface CallState {
  readonly principal: string;
  readonly tenant: string | null;
  readonly session_id: string | null;
  tool: string;
  risk_tier: Effect['risk_tier'];
  effect_class: string;
  args_hash: string | null;
  effect_id: string | null;
  idempotency_key: string | null;
  evaluation: GuardianEvaluation | null;
  evidence: Record<string, string>;
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

function statusFor(code: ReasonCode, ranDriver: boolean): ReceiptStatus {
  const verdict = REASON_CODES[code].verdict;
  if (verdict === 'ALLOW') return 'SUCCEEDED';
  if (verdict === 'ESCALATE') return 'ESCALATED';
  return ranDriver ? 'FAILED' : 'DENIED';
}

/** Resolve an RFC 6901 pointer; string values are the resource, others their JCS text, missing "". */
function resolveResource(args: JsonValue, pointer: string | undefined, toolName: string): string {
  if (pointer === undefined) return toolName;
  let node: JsonValue | undefined = args;
  if (pointer !== '') {
    for (const raw of pointer.slice(1).split('/')) {
      const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      if (typeof node !== 'object' || node === null) return '';
      if (Array.isArray(node)) {
        if (!/^(0|[1-9][0-9]*)$/.test(token)) return '';
        node = (node as readonly JsonValue[])[Number(token)];
      } else {
        node = Object.hasOwn(node, token) ? (node as Record<string, JsonValue>)[token] : undefined;
      }
      if (node === undefined) return '';
    }
  }
  return typeof node === 'string' ? node : canonicalize(node);
}

/** The Effect of a call on a pinned tool: what the guardian authorizes and the intent binds. */
export function buildEffect(
  descriptor: ToolDescriptor,
  principal: string,
  args: JsonValue,
  argsHash: string,
): Effect {
  const effect: {
    type: typeof EFFECT_TYPE;
    effect_type: string;
    tool: string;
    action: string;
    resource: string;
    principal: string;
    args_hash: string;
    destination?: string;
    risk_tier: Effect['risk_tier'];
  } = {
    type: EFFECT_TYPE,
    effect_type: descriptor.effect_type,
    tool: descriptor.name,
    action: descriptor.action,
    resource: resolveResource(args, descriptor.resource_pointer, descriptor.name),
    principal,
    args_hash: argsHash,
    risk_tier: descriptor.risk_tier,
  };
  if (descriptor.destination !== undefined) effect.destination = descriptor.destination;
  return effect;
}

const NO_TIMEOUT = Symbol('timeout');

export function createExecutor(options: ExecutorOptions): Executor {
  const { guardian, guardianKeys, receipts, proofgraph, clock, timer } = options;
  if (!guardian || !receipts || !proofgraph || !clock || !timer || typeof guardianKeys !== 'function') {
    throw new ExecutorError(
      'CONFIG_INVALID',
      'guardian, guardianKeys, receipts, proofgraph, clock and timer are all required',
    );
  }
  const registry = options.registry ?? new ToolRegistry();
  const idempotency = options.idempotency ?? new InMemoryIdempotencyStore();
  const inflight = new Map<string, { args_hash: string; tool: string; promise: Promise<ExecuteResult> }>();

  function now(): number {
    const t = clock.nowMs();
    if (!Number.isSafeInteger(t) || t < 0)
      throw new ExecutorError('CONFIG_INVALID', 'clock returned a bad time');
    return t;
  }

  function localDecisionId(state: CallState, code: ReasonCode, at: number): string {
    return digest(
      encoder.encode(
        canonicalize({
          type: EXECUTOR_DENIAL_TYPE,
          principal: state.principal,
          tenant: state.tenant,
          session_id: state.session_id,
          tool: state.tool,
          args_hash: state.args_hash,
          reason_code: code,
          at_ms: at,
        }),
      ),
    );
  }

  async function refund(state: CallState): Promise<void> {
    const reservation = state.evaluation?.record.budget_reservation_id;
    if (reservation) {
      try {
        await guardian.refundBudget(reservation);
      } catch {
        // The refund failing must not release output or hide the receipt; the ledger reconciles.
      }
    }
  }

  async function writeReceipt(state: CallState, fields: ReceiptFields): Promise<SignedEnvelope> {
    const receipt = await receipts.append(fields);
    await proofgraph.recordReceipt({ receipt, fields, decision: state.evaluation?.decision ?? null });
    return receipt;
  }

  function receiptFields(
    state: CallState,
    code: ReasonCode,
    status: ReceiptStatus,
    outputHash: string | null,
    at: number,
  ): ReceiptFields {
    const record = state.evaluation?.record;
    return {
      decision_id: record?.decision_id ?? localDecisionId(state, code, at),
      effect_id: state.effect_id,
      effect_class: state.effect_class,
      status,
      verdict: REASON_CODES[code].verdict,
      reason_code: code,
      args_hash: state.args_hash,
      output_hash: outputHash,
      session_id: state.session_id,
      policy_hash: record?.policy_stack_hash ?? guardian.policyHash(),
      tool: state.tool,
      principal: state.principal,
      risk_tier: state.risk_tier,
      issued_at_ms: at,
      evidence: { ...state.evidence },
    };
  }

  function result(
    state: CallState,
    fields: ReceiptFields,
    receipt: SignedEnvelope | null,
    extra: Partial<Pick<ExecuteResult, 'output' | 'errors' | 'message' | 'approval_challenge_id'>>,
  ): ExecuteResult {
    const out: {
      -readonly [K in keyof ExecuteResult]: ExecuteResult[K];
    } = {
      status: fields.status,
      verdict: fields.verdict,
      reason_code: fields.reason_code,
      receipt,
      decision: state.evaluation?.decision ?? null,
      decision_id: fields.decision_id,
      args_hash: state.args_hash,
      idempotency_key: state.idempotency_key,
      replayed: false,
      approval_challenge_id: extra.approval_challenge_id ?? null,
    };
    if (extra.output !== undefined) out.output = extra.output;
    if (extra.errors !== undefined) out.errors = extra.errors;
    if (extra.message !== undefined) out.message = extra.message;
    return out;
  }

  /** End the call with a failure: refund, signed receipt, no output. */
  async function finishFailure(
    state: CallState,
    failure: Failure,
    ranDriver: boolean,
  ): Promise<ExecuteResult> {
    await refund(state);
    const at = now();
    const status = statusFor(failure.code, ranDriver);
    const fields = receiptFields(state, failure.code, status, null, at);
    const extra: {
      message: string;
      errors?: readonly SchemaErrorDetail[];
      approval_challenge_id?: string | null;
    } = { message: failure.message };
    if (failure.errors) extra.errors = failure.errors;
    if (failure.challenge !== undefined) extra.approval_challenge_id = failure.challenge;
    try {
      const receipt = await writeReceipt(state, fields);
      return result(state, fields, receipt, extra);
    } catch {
      const lost = receiptFields(state, 'RECEIPT_PERSIST_FAILED', ranDriver ? 'FAILED' : 'DENIED', null, at);
      return result(state, lost, null, { message: 'the receipt could not be persisted' });
    }
  }

  function verifyIntent(
    state: CallState,
    effect: Effect,
    effectDigest: string,
    at: number,
  ): AuthorizedExecutionIntent | Failure {
    const evaluation = state.evaluation as GuardianEvaluation;
    const record = evaluation.record;
    if (!evaluation.intent) return fail('INTENT_INVALID', 'ALLOW without an AuthorizedExecutionIntent');
    let intent: AuthorizedExecutionIntent;
    try {
      intent = verifyEnvelope<AuthorizedExecutionIntent & { readonly [k: string]: unknown }>(
        evaluation.intent,
        INTENT_TYPE,
        guardianKeys,
      ).body;
    } catch {
      return fail('INTENT_INVALID', 'intent signature does not verify under a guardian key');
    }
    const bound =
      intent.decision_id === record.decision_id &&
      intent.effect_digest === effectDigest &&
      record.effect_digest === effectDigest &&
      intent.args_hash === state.args_hash &&
      record.args_hash === state.args_hash &&
      intent.tool === effect.tool &&
      intent.principal === effect.principal &&
      intent.action === effect.action &&
      intent.resource === effect.resource &&
      intent.tenant === state.tenant &&
      intent.budget_reservation_id === record.budget_reservation_id;
    if (!bound) return fail('INTENT_INVALID', 'intent is not bound to this decision, effect, args and tool');
    if (!(Number.isSafeInteger(intent.issued_at_ms) && Number.isSafeInteger(intent.expires_at_ms))) {
      return fail('INTENT_INVALID', 'intent times are malformed');
    }
    if (at < intent.issued_at_ms || at >= intent.expires_at_ms) {
      return fail('INTENT_INVALID', 'intent is expired or not yet valid');
    }
    return intent;
  }

  async function runDriver(
    tool: RegisteredTool,
    args: JsonValue,
    context: Omit<DriverContext, 'signal'>,
  ): Promise<unknown> {
    const controller = new AbortController();
    let handle: unknown;
    const timeout = new Promise<typeof NO_TIMEOUT>((resolve) => {
      handle = timer.setTimeout(() => {
        controller.abort();
        resolve(NO_TIMEOUT);
      }, tool.descriptor.driver.timeout_ms);
    });
    try {
      const call = Promise.resolve().then(() =>
        tool.driver.invoke(args, { ...context, signal: controller.signal }),
      );
      return await Promise.race([call, timeout]);
    } finally {
      timer.clearTimeout(handle);
    }
  }

  async function governed(
    request: ExecuteRequest,
    state: CallState,
    tool: RegisteredTool,
    prepared: PreparedArgs,
  ): Promise<ExecuteResult> {
    const effect = buildEffect(tool.descriptor, state.principal, prepared.value, prepared.args_hash);
    const effectDigest = digest(encoder.encode(canonicalize(effect)));
    state.effect_id = effectDigest;

    // Guardian: gates 0–5, policy, budget, approval.
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
        destination: effect.destination ?? null,
        args: prepared.value,
        args_hash: prepared.args_hash,
        effect,
        effect_digest: effectDigest,
        session_id: state.session_id,
        context: request.context,
      });
    } catch (error) {
      return finishFailure(
        state,
        fail('INTERNAL_ERROR', `guardian failed: ${(error as Error).message}`),
        false,
      );
    }
    state.evaluation = evaluation;
    const record = evaluation.record;
    if (record.verdict !== 'ALLOW' || record.reason_code !== 'ALLOW') {
      // The recorded code must belong to the recorded verdict; anything else fails closed.
      const code: ReasonCode =
        isReasonCode(record.reason_code) && REASON_CODES[record.reason_code].verdict === record.verdict
          ? record.reason_code
          : 'INTERNAL_ERROR';
      if (record.verdict === 'ESCALATE' && code !== 'INTERNAL_ERROR') {
        state.evidence.approval_challenge_id = record.approval_challenge_id ?? '';
        return finishFailure(
          state,
          { code, message: 'held for approval', challenge: record.approval_challenge_id },
          false,
        );
      }
      return finishFailure(state, fail(code, 'denied by the guardian'), false);
    }

    // PEP: the pinned input schema.
    const check = tool.input.validate(prepared.value);
    if (!check.valid) {
      state.evidence.schema_errors = digest(encoder.encode(canonicalize(check.errors)));
      return finishFailure(
        state,
        fail('SCHEMA_VIOLATION', `${check.error_count} schema violation(s)`, check.errors),
        false,
      );
    }

    // SafeExecutor: the AuthorizedExecutionIntent.
    const verified = verifyIntent(state, effect, effectDigest, now());
    if ('code' in verified) return finishFailure(state, verified, false);
    state.evidence.intent_id = verified.intent_id;
    if (verified.approval_grant_id !== null) {
      state.evidence.approval_grant_id = verified.approval_grant_id;
      let consumed = false;
      try {
        consumed = await guardian.consumeGrant(verified.approval_grant_id, verified.intent_id);
      } catch {
        consumed = false;
      }
      if (!consumed)
        return finishFailure(state, fail('APPROVAL_INVALID', 'approval grant was not consumable'), false);
    }

    // Driver: only the validated args.
    let raw: unknown;
    try {
      raw = await runDriver(tool, prepared.value, {
        descriptor: tool.descriptor,
        effect,
        intent_id: verified.intent_id,
      });
    } catch (error) {
      const code =
        error instanceof DriverFailure &&
        isReasonCode(error.code) &&
        REASON_CODES[error.code].verdict === 'DENY'
          ? error.code
          : 'DRIVER_ERROR';
      return finishFailure(
        state,
        fail(code, `driver failed: ${(error as Error)?.message ?? String(error)}`),
        true,
      );
    }
    if (raw === NO_TIMEOUT) {
      return finishFailure(
        state,
        fail('DRIVER_TIMEOUT', `driver exceeded ${tool.descriptor.driver.timeout_ms} ms`),
        true,
      );
    }

    // Output validation against the pinned output schema (nothing is released before it passes).
    let outputText: string;
    let output: JsonValue;
    try {
      outputText = canonicalize(raw);
      output = JSON.parse(outputText) as JsonValue;
    } catch {
      return finishFailure(state, fail('DRIVER_ERROR', 'driver returned a value that is not JSON'), true);
    }
    const outCheck = tool.output.validate(output);
    if (!outCheck.valid) {
      state.evidence.schema_errors = digest(encoder.encode(canonicalize(outCheck.errors)));
      return finishFailure(
        state,
        fail(
          'ERR_CONNECTOR_CONTRACT_DRIFT',
          `${outCheck.error_count} output schema violation(s)`,
          outCheck.errors,
        ),
        true,
      );
    }
    const outputHash = digest(encoder.encode(outputText));

    // Receipt + ProofGraph; only then is the output released and the budget committed.
    const fields = receiptFields(state, 'ALLOW', 'SUCCEEDED', outputHash, now());
    let receipt: SignedEnvelope;
    try {
      receipt = await writeReceipt(state, fields);
    } catch (error) {
      return finishFailure(
        state,
        fail(
          'RECEIPT_PERSIST_FAILED',
          `receipt not persisted: ${(error as Error)?.message ?? String(error)}`,
        ),
        true,
      );
    }
    if (record.budget_reservation_id) {
      try {
        await guardian.commitBudget(record.budget_reservation_id);
      } catch {
        // The effect happened and is receipted; a ledger failure cannot un-happen it.
      }
    }
    const done = result(state, fields, receipt, { output });
    if (state.idempotency_key !== null) {
      try {
        await idempotency.put({
          key: state.idempotency_key,
          tool: tool.name,
          args_hash: prepared.args_hash,
          receipt,
          output,
          decision: evaluation.decision,
        });
      } catch {
        // Not storing only means a repeat executes again under a fresh decision.
      }
    }
    return done;
  }

  async function execute(request: ExecuteRequest): Promise<ExecuteResult> {
    if (typeof request !== 'object' || request === null) {
      throw new ExecutorError('CONFIG_INVALID', 'request must be an object');
    }
    if (typeof request.principal !== 'string' || request.principal.length === 0) {
      throw new ExecutorError('CONFIG_INVALID', 'request.principal must be a non-empty string');
    }
    if (typeof request.tool !== 'string' || request.tool.length === 0) {
      throw new ExecutorError('CONFIG_INVALID', 'request.tool must be a non-empty string');
    }
    const state: CallState = {
      principal: request.principal,
      tenant: typeof request.tenant === 'string' ? request.tenant : null,
      session_id: typeof request.session_id === 'string' ? request.session_id : null,
      tool: request.tool,
      risk_tier: 'HIGH',
      effect_class: 'unknown',
      args_hash: null,
      effect_id: null,
      idempotency_key: null,
      evaluation: null,
      evidence: {},
    };
    try {
      return await executeInner(request, state);
    } catch (error) {
      // Defensive: any unexpected error fails closed with a receipt.
      return finishFailure(state, fail('INTERNAL_ERROR', (error as Error)?.message ?? String(error)), false);
    }
  }

  async function executeInner(request: ExecuteRequest, state: CallState): Promise<ExecuteResult> {
    // Layer A: the declared surface.
    const tool = registry.get(request.tool);
    if (!tool)
      return finishFailure(state, fail('TOOL_UNKNOWN', `tool ${request.tool} is not registered`), false);
    state.risk_tier = tool.descriptor.risk_tier;
    state.effect_class = tool.descriptor.effect_type;
    state.evidence.descriptor_digest = tool.descriptor_digest;
    if (tool.driver.describe) {
      let advertised: ToolDescriptor;
      try {
        advertised = await tool.driver.describe();
      } catch {
        return finishFailure(
          state,
          fail('TOOL_DESCRIPTOR_CHANGED', 'the tool descriptor is unavailable'),
          false,
        );
      }
      if (advertised?.name !== tool.name) {
        return finishFailure(
          state,
          fail('TOOL_DESCRIPTOR_CHANGED', 'the tool advertises another name'),
          false,
        );
      }
      registry.observe(advertised);
    }
    const current = registry.get(tool.name) as RegisteredTool;
    if (current.drifted_digest !== null) {
      state.evidence.observed_descriptor_digest = current.drifted_digest;
      return finishFailure(
        state,
        fail('TOOL_DESCRIPTOR_CHANGED', 'the tool descriptor changed; re-pin required'),
        false,
      );
    }

    // PEP: strict parse + JCS + ArgsHash.
    const hasArgs = request.args !== undefined;
    const hasText = request.args_text !== undefined;
    let prepared: PreparedArgs;
    if (hasArgs === hasText) {
      return finishFailure(
        state,
        fail('ARGS_MALFORMED', 'exactly one of args / args_text is required'),
        false,
      );
    }
    const parsed =
      hasText && typeof request.args_text !== 'string'
        ? ({ ok: false, reason: 'args_text must be a string' } as const)
        : hasText
          ? prepareArgsText(request.args_text as string)
          : prepareArgsValue(request.args);
    if (!parsed.ok) return finishFailure(state, fail('ARGS_MALFORMED', parsed.reason), false);
    prepared = parsed.args;
    state.args_hash = prepared.args_hash;

    // Idempotency: stored result, in-flight duplicate, or conflict.
    const key =
      typeof request.idempotency_key === 'string'
        ? clientIdempotencyKey({
            principal: state.principal,
            tenant: state.tenant,
            client_key: request.idempotency_key,
          })
        : deriveIdempotencyKey({
            principal: state.principal,
            tool: tool.name,
            args_hash: prepared.args_hash,
            session: state.session_id,
          });
    state.idempotency_key = key;
    state.evidence.idempotency_key = key;
    const running = inflight.get(key);
    if (running) {
      if (running.tool !== tool.name || running.args_hash !== prepared.args_hash) {
        return finishFailure(
          state,
          fail('IDEMPOTENCY_CONFLICT', 'key in use with different arguments'),
          false,
        );
      }
      const first = await running.promise;
      return { ...first, replayed: true };
    }
    // Registered synchronously (no await between the in-flight check and the set), so concurrent
    // duplicates always find the first call's promise.
    const promise = (async (): Promise<ExecuteResult> => {
      const stored = await idempotency.get(key);
      if (stored) {
        if (stored.tool !== tool.name || stored.args_hash !== prepared.args_hash) {
          return finishFailure(
            state,
            fail('IDEMPOTENCY_CONFLICT', 'key already used with different arguments'),
            false,
          );
        }
        return replay(state, stored.receipt, stored.output, stored.decision);
      }
      return governed(request, state, tool, prepared);
    })();
    inflight.set(key, { tool: tool.name, args_hash: prepared.args_hash, promise });
    try {
      return await promise;
    } finally {
      inflight.delete(key);
    }
  }

  function replay(
    state: CallState,
    receipt: SignedEnvelope,
    output: JsonValue,
    decision: SignedEnvelope | null,
  ): ExecuteResult {
    const payload = fromBase64Url(receipt.payload) ?? new Uint8Array();
    const body = JSON.parse(decoder.decode(payload)) as ReceiptFields;
    return {
      status: 'SUCCEEDED',
      verdict: 'ALLOW',
      reason_code: 'ALLOW',
      receipt,
      output,
      decision,
      decision_id: body.decision_id,
      args_hash: state.args_hash,
      idempotency_key: state.idempotency_key,
      replayed: true,
      approval_challenge_id: null,
    };
  }

  return {
    registerTool: (descriptor, driver) => registry.register(descriptor, driver),
    observeDescriptor: (descriptor) => registry.observe(descriptor),
    repinTool: (descriptor, expectedDigest, driver) => registry.repin(descriptor, expectedDigest, driver),
    listTools: () => registry.list(),
    execute,
  };
}
