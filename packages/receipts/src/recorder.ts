// The API the executor uses to make "no receipt, no output" structural: the output of a governed call
// is only handed back by `finalize`, and only after its receipt was signed and durably appended.
// Every outcome — allowed, denied, failed — produces a receipt; operations on one chain are serialized.
// Each receipt commits to the trust registry state it is signed under: the recorder reads its trust
// port (registry sequence number and head digest) at mint time, inside the serialized slot.
import type { RiskTier } from '@helm/contracts/effect';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { ReasonCode } from '@helm/contracts/reason-codes';
import type { ReceiptBody, ReceiptEvidenceValue, ReceiptStatus } from '@helm/contracts/receipt';
import type { Verdict } from '@helm/contracts/verdict';
import type { Signer } from '@helm/crypto/ed25519';
import { fromBase64Url } from '@helm/crypto/encoding';
import { digest } from '@helm/crypto/hash';
import { canonicalBytes } from '@helm/crypto/jcs';
import { ReceiptChain } from './chain.js';
import { ReceiptError } from './errors.js';
import type { ChainHead } from './head.js';
import type { Admission, PreconditionContext, ReceiptPolicySet } from './policy.js';
import type { MintedReceipt, ReceiptInput } from './receipt.js';
import type { ReceiptStore } from './store.js';
import { verifyReceipt } from './verify.js';

/** The facts of one governed call that every receipt of it carries. */
export interface GovernedCall {
  readonly decision_id: string;
  readonly effect_id: string | null;
  readonly effect_class: string;
  readonly args_hash: string | null;
  /**
   * digest(JCS(request)) of the call's request as the embedding records it (docs/spec/pipeline.md
   * §Request digest); null when the request was not representable JSON.
   */
  readonly request_digest: string | null;
  readonly session_id: string | null;
  readonly policy_hash: string;
  readonly tool: string;
  readonly principal: string;
  /** From the injected clock. */
  readonly issued_at_ms: number;
}

/** The trust registry state a receipt is signed under: sequence number and head digest. */
export interface TrustPosition {
  /** Registry sequence number (events applied, genesis = 1). */
  readonly seq: number;
  /** The registry head digest at `seq` (`trustEventDigest` of event `seq`). */
  readonly head: string;
}

/**
 * Reads the trust registry state the signer's key is checked against, at mint time. The key the
 * recorder signs with must hold the receipt-signer role there, or the receipt will not verify.
 */
export type TrustPort = () => TrustPosition;

export interface Denial extends GovernedCall {
  readonly status: Exclude<ReceiptStatus, 'SUCCEEDED'>;
  readonly verdict: Exclude<Verdict, 'ALLOW'>;
  readonly reason_code: ReasonCode;
  /** Default: the effect class's policy tier, or HIGH when it has none (never condensed). */
  readonly risk_tier?: RiskTier;
  readonly evidence?: Readonly<Record<string, ReceiptEvidenceValue>>;
}

export type RecordResult =
  | { readonly persisted: true; readonly receipt: MintedReceipt }
  | { readonly persisted: false; readonly detail: string };

export type FinalizeResult<T> =
  | { readonly released: true; readonly output: T; readonly receipt: MintedReceipt }
  | {
      readonly released: false;
      readonly reason_code: ReasonCode;
      readonly detail: string;
      /** The denial receipt, when it could be persisted. */
      readonly receipt?: MintedReceipt;
    };

/** How a SUCCEEDED receipt came about: an execution (`ALLOW`) or a re-authorized idempotent repeat. */
export type SuccessReason = 'ALLOW' | 'IDEMPOTENT_REPLAY';

export interface FinalizeOptions {
  /**
   * `IDEMPOTENT_REPLAY` for the receipt of a repeat that released a stored output without running
   * the driver (its evidence must name the original receipt in `replay_of`). Default `ALLOW`.
   */
  readonly reason_code?: SuccessReason;
}

export interface ReceiptRecorderOptions {
  readonly signer: Signer;
  readonly chainId: string;
  readonly store: ReceiptStore;
  readonly policies: ReceiptPolicySet;
  /** The trust registry state every receipt commits to (read once per receipt, at mint time). */
  readonly trust: TrustPort;
  /** Continue from this head; use `ReceiptRecorder.open` to read it from the store. */
  readonly head?: ChainHead;
  /** `trust_seq` of the head receipt (read by `open`); default 1. */
  readonly headTrustSeq?: number;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The trust_seq a stored receipt envelope carries, or undefined when it cannot be read. */
function trustSeqOf(envelope: SignedEnvelope | undefined): number | undefined {
  try {
    const bytes = envelope ? fromBase64Url(envelope.payload) : undefined;
    const seq = bytes ? (JSON.parse(decoder.decode(bytes)) as { trust_seq?: unknown }).trust_seq : undefined;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1 ? seq : undefined;
  } catch {
    return undefined;
  }
}

/** The trust_seq of the receipt at `head` in `store` (1 when there is none or it is unreadable). */
async function headTrustSeq(store: ReceiptStore, head: ChainHead | undefined): Promise<number> {
  if (!head || head.lamport < 1) return 1;
  const [last] = await store.range(head.chain_id, head.lamport, head.lamport);
  return trustSeqOf(last) ?? 1;
}

export class ReceiptRecorder {
  #chain: ReceiptChain;
  readonly #store: ReceiptStore;
  readonly #policies: ReceiptPolicySet;
  readonly #chainId: string;
  readonly #trust: TrustPort;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: ReceiptRecorderOptions) {
    if (typeof options?.trust !== 'function') {
      throw new ReceiptError('RECEIPT_INPUT_INVALID', 'a trust port (registry seq and head) is required');
    }
    this.#chainId = options.chainId;
    this.#store = options.store;
    this.#policies = options.policies;
    this.#trust = options.trust;
    this.#chain = new ReceiptChain({
      signer: options.signer,
      chainId: options.chainId,
      ...(options.head ? { head: options.head } : {}),
      ...(options.headTrustSeq === undefined ? {} : { headTrustSeq: options.headTrustSeq }),
    });
  }

  /** A recorder continuing from the store's current head of `chainId` (and that receipt's trust_seq). */
  static async open(
    options: Omit<ReceiptRecorderOptions, 'head' | 'headTrustSeq'>,
  ): Promise<ReceiptRecorder> {
    const head = await options.store.head(options.chainId);
    return new ReceiptRecorder(
      head ? { ...options, head, headTrustSeq: await headTrustSeq(options.store, head) } : options,
    );
  }

  get head(): ChainHead {
    return this.#chain.head;
  }

  /**
   * The body of `envelope` if it is a well-formed receipt whose signature verifies under this
   * recorder's own signing key (full Ed25519, strict), else undefined. A stored result is released
   * again only as what such a receipt signed (docs/spec/pipeline.md §Idempotency, I-REPLAY-2).
   */
  verifyOwn(envelope: unknown): ReceiptBody | undefined {
    const signer = this.#chain.signer;
    const check = verifyReceipt(envelope, (keyid) => (keyid === signer.keyId ? signer.publicKey : undefined));
    return check.ok ? check.body : undefined;
  }

  /** Pre-execution receipt-policy check (fail closed). */
  admit(effectClass: string, context: PreconditionContext = {}): Admission {
    return this.#policies.admit(effectClass, context);
  }

  #serialize<R>(op: () => Promise<R>): Promise<R> {
    const run = this.#tail.then(op, op);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Sign, append and (only on success) advance the head. Caller holds the serialization slot; the
   * trust port is read here, so the receipt commits to the registry state at the moment it is signed.
   */
  async #persist(call: Omit<ReceiptInput, 'trust_seq' | 'trust_head'>): Promise<RecordResult> {
    let receipt: MintedReceipt;
    try {
      const trust = this.#trust();
      receipt = this.#chain.prepare({ ...call, trust_seq: trust.seq, trust_head: trust.head });
    } catch (e) {
      return { persisted: false, detail: `receipt could not be produced: ${errorText(e)}` };
    }
    try {
      await this.#store.append({
        chain_id: this.#chainId,
        lamport: receipt.body.lamport,
        receipt_id: receipt.body.receipt_id,
        hash: receipt.hash,
        prev_hash: receipt.body.prev_hash,
        envelope: receipt.envelope,
      });
    } catch (e) {
      await this.#resync();
      return { persisted: false, detail: `receipt could not be persisted: ${errorText(e)}` };
    }
    this.#chain.commit(receipt);
    return { persisted: true, receipt };
  }

  /** After a failed append, adopt whatever head the store actually has (it may have moved). */
  async #resync(): Promise<void> {
    try {
      const head = await this.#store.head(this.#chainId);
      if (head && head.hash !== this.#chain.head.hash) {
        this.#chain = new ReceiptChain({
          signer: this.#chain.signer,
          chainId: this.#chainId,
          head,
          headTrustSeq: await headTrustSeq(this.#store, head),
        });
      }
    } catch {
      // The store is unreachable: keep our head; later appends fail closed the same way.
    }
  }

  #denialInput(d: Denial): Omit<ReceiptInput, 'trust_seq' | 'trust_head'> {
    return {
      decision_id: d.decision_id,
      effect_id: d.effect_id,
      effect_class: d.effect_class,
      status: d.status,
      verdict: d.verdict,
      reason_code: d.reason_code,
      args_hash: d.args_hash,
      request_digest: d.request_digest,
      output_hash: null,
      session_id: d.session_id,
      policy_hash: d.policy_hash,
      tool: d.tool,
      principal: d.principal,
      risk_tier: d.risk_tier ?? this.#policies.get(d.effect_class)?.risk_tier ?? 'HIGH',
      issued_at_ms: d.issued_at_ms,
      ...(d.evidence ? { evidence: d.evidence } : {}),
    };
  }

  /** Record a call that was denied, escalated or failed. */
  recordDenial(denial: Denial): Promise<RecordResult> {
    return this.#serialize(() => this.#persist(this.#denialInput(denial)));
  }

  /**
   * Finish an executed call: check the receipt policy's required evidence, hash the output, sign
   * the SUCCEEDED receipt and append it. Returns the output only if all of that succeeded;
   * otherwise records a FAILED receipt (best effort) and withholds the output.
   */
  finalize<T>(
    call: GovernedCall,
    admission: Admission,
    output: T,
    evidence: Readonly<Record<string, ReceiptEvidenceValue>> = {},
    options: FinalizeOptions = {},
  ): Promise<FinalizeResult<T>> {
    const reason: SuccessReason = options.reason_code ?? 'ALLOW';
    return this.#serialize(async (): Promise<FinalizeResult<T>> => {
      const withhold = async (
        reason_code: ReasonCode,
        detail: string,
        status: Denial['status'],
      ): Promise<FinalizeResult<T>> => {
        const denied = await this.#persist(
          this.#denialInput({ ...call, status, verdict: 'DENY', reason_code, evidence }),
        );
        return denied.persisted
          ? { released: false, reason_code, detail, receipt: denied.receipt }
          : { released: false, reason_code, detail: `${detail}; ${denied.detail}` };
      };
      if (reason !== 'ALLOW' && reason !== 'IDEMPOTENT_REPLAY')
        return withhold('INTERNAL_ERROR', `${String(reason)} is not a success reason`, 'DENIED');
      if (reason === 'IDEMPOTENT_REPLAY' && typeof evidence.replay_of !== 'string')
        return withhold('INTERNAL_ERROR', 'a replay receipt must name the original receipt', 'DENIED');
      if (!admission.ok) return withhold(admission.reason_code, admission.detail, 'DENIED');
      const policy = this.#policies.get(call.effect_class);
      if (!policy || policy !== admission.policy) {
        return withhold('RECEIPT_POLICY_MISSING', `no receipt policy for ${call.effect_class}`, 'DENIED');
      }
      const allEvidence = { ...evidence, ...admission.evidence };
      const missing = this.#policies.missingEvidence(policy, allEvidence);
      if (missing.length > 0) {
        return withhold(
          'RECEIPT_POLICY_VIOLATION',
          `receipt lacks evidence: ${missing.join(', ')}`,
          'FAILED',
        );
      }
      let outputHash: string;
      try {
        outputHash = digest(canonicalBytes(output));
      } catch (e) {
        return withhold('DRIVER_ERROR', `output is not representable JSON: ${errorText(e)}`, 'FAILED');
      }
      const result = await this.#persist({
        decision_id: call.decision_id,
        effect_id: call.effect_id,
        effect_class: call.effect_class,
        status: 'SUCCEEDED',
        verdict: 'ALLOW',
        reason_code: reason,
        args_hash: call.args_hash,
        request_digest: call.request_digest,
        output_hash: outputHash,
        session_id: call.session_id,
        policy_hash: call.policy_hash,
        tool: call.tool,
        principal: call.principal,
        risk_tier: policy.risk_tier,
        issued_at_ms: call.issued_at_ms,
        evidence: allEvidence,
      });
      if (!result.persisted) {
        return withhold('RECEIPT_PERSIST_FAILED', result.detail, 'FAILED');
      }
      return { released: true, output, receipt: result.receipt };
    });
  }
}
