// Receipt policies (fail closed): per effect class, what must hold before execution and what the
// success receipt must carry afterwards. An effect class without a policy is denied.
import type { RiskTier } from '@helm/contracts/effect';
import { EFFECT_TYPE_PATTERN, RISK_TIERS } from '@helm/contracts/effect';
import type { ReasonCode } from '@helm/contracts/reason-codes';
import { EVIDENCE_KEY_PATTERN, type ReceiptEvidenceValue } from '@helm/contracts/receipt';
import { ReceiptError } from './errors.js';

export interface ReceiptPolicy {
  readonly effect_class: string;
  /** Retention tier of this class's receipts (HIGH: never condensed, anchored externally). */
  readonly risk_tier: RiskTier;
  /** The call must present an idempotency key (copied into evidence.idempotency_key). */
  readonly require_idempotency_key: boolean;
  /** Minimum number of distinct approval ids (copied into evidence.approval_ids). */
  readonly min_approvals: number;
  /** Evidence fields the success receipt must carry (non-empty). */
  readonly required_evidence: readonly string[];
}

/** What the caller can show before execution. */
export interface PreconditionContext {
  readonly idempotency_key?: string;
  readonly approval_ids?: readonly string[];
}

export type Admission =
  | {
      readonly ok: true;
      readonly policy: ReceiptPolicy;
      /** Evidence to carry in the receipt (idempotency key, approvals). */
      readonly evidence: Readonly<Record<string, ReceiptEvidenceValue>>;
    }
  | { readonly ok: false; readonly reason_code: ReasonCode; readonly detail: string };

const EFFECT_CLASS = new RegExp(EFFECT_TYPE_PATTERN);
const EVIDENCE_KEY = new RegExp(EVIDENCE_KEY_PATTERN);

function validatePolicy(p: ReceiptPolicy): void {
  const bad = (m: string) =>
    new ReceiptError('POLICY_INVALID', `receipt policy ${String(p?.effect_class)}: ${m}`);
  if (typeof p !== 'object' || p === null) throw bad('not an object');
  if (typeof p.effect_class !== 'string' || !EFFECT_CLASS.test(p.effect_class)) throw bad('effect_class');
  if (!(RISK_TIERS as readonly unknown[]).includes(p.risk_tier)) throw bad('risk_tier');
  if (typeof p.require_idempotency_key !== 'boolean') throw bad('require_idempotency_key');
  if (!Number.isSafeInteger(p.min_approvals) || p.min_approvals < 0) throw bad('min_approvals');
  if (!Array.isArray(p.required_evidence)) throw bad('required_evidence');
  for (const f of p.required_evidence)
    if (typeof f !== 'string' || !EVIDENCE_KEY.test(f)) throw bad('required_evidence');
}

/** An immutable set of receipt policies, one per effect class. */
export class ReceiptPolicySet {
  readonly #byClass: ReadonlyMap<string, ReceiptPolicy>;

  constructor(policies: readonly ReceiptPolicy[]) {
    const map = new Map<string, ReceiptPolicy>();
    for (const p of policies) {
      validatePolicy(p);
      if (map.has(p.effect_class)) {
        throw new ReceiptError('POLICY_INVALID', `duplicate receipt policy for ${p.effect_class}`);
      }
      map.set(
        p.effect_class,
        Object.freeze({ ...p, required_evidence: Object.freeze([...p.required_evidence]) }),
      );
    }
    this.#byClass = map;
  }

  get(effectClass: string): ReceiptPolicy | undefined {
    return this.#byClass.get(effectClass);
  }

  /** Pre-execution check. No policy → RECEIPT_POLICY_MISSING; unmet precondition → RECEIPT_POLICY_VIOLATION. */
  admit(effectClass: string, context: PreconditionContext = {}): Admission {
    const policy = this.#byClass.get(effectClass);
    if (!policy) {
      return {
        ok: false,
        reason_code: 'RECEIPT_POLICY_MISSING',
        detail: `no receipt policy for ${effectClass}`,
      };
    }
    const evidence: Record<string, ReceiptEvidenceValue> = {};
    const key = context.idempotency_key;
    if (key !== undefined) {
      if (typeof key !== 'string' || key.length === 0 || key.length > 4096) {
        return { ok: false, reason_code: 'RECEIPT_POLICY_VIOLATION', detail: 'idempotency key is malformed' };
      }
      evidence.idempotency_key = key;
    } else if (policy.require_idempotency_key) {
      return { ok: false, reason_code: 'RECEIPT_POLICY_VIOLATION', detail: 'an idempotency key is required' };
    }
    const approvals = context.approval_ids ?? [];
    const distinct = [...new Set(approvals)].sort();
    if (
      distinct.some((a) => typeof a !== 'string' || a.length === 0 || a.length > 4096) ||
      distinct.length > 256
    ) {
      return { ok: false, reason_code: 'RECEIPT_POLICY_VIOLATION', detail: 'approval ids are malformed' };
    }
    if (distinct.length < policy.min_approvals) {
      return {
        ok: false,
        reason_code: 'RECEIPT_POLICY_VIOLATION',
        detail: `${policy.min_approvals} distinct approvals required, ${distinct.length} present`,
      };
    }
    if (distinct.length > 0) evidence.approval_ids = distinct;
    return { ok: true, policy, evidence };
  }

  /** Post-execution check of the evidence a success receipt will carry. Returns the missing field names. */
  missingEvidence(policy: ReceiptPolicy, evidence: Readonly<Record<string, ReceiptEvidenceValue>>): string[] {
    return policy.required_evidence.filter((f) => {
      const v = evidence[f];
      return v === undefined || v.length === 0;
    });
  }
}
