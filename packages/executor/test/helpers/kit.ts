// Test kit: deterministic keys, a manual clock and timer, and small in-test ports. The guardian
// double here signs real helm.decision.v1 envelopes with real Ed25519 so that the executor's
// verification of the ALLOW decision (the AuthorizedExecutionIntent) is exercised for real;
// e2e.test.ts uses the real @helm/guardian.
import type { DecisionRecord, ReasonCode, SignedEnvelope, Verdict } from '@helm/contracts';
import {
  canonicalize,
  createSigner,
  digest,
  fromBase64Url,
  type Signer,
  signEnvelope,
  toBase64Url,
} from '@helm/crypto';
import {
  InMemoryReceiptStore,
  ReceiptPolicySet,
  ReceiptRecorder,
  type ReceiptStore,
  type StoredReceipt,
} from '@helm/receipts';
import type {
  Clock,
  GrantToConsume,
  GuardianCall,
  GuardianEvaluation,
  GuardianPort,
  ProofGraphPort,
  ProofGraphRecord,
  Timer,
} from '../../src/index.ts';

const enc = new TextEncoder();
export const ZERO = `sha256:${'0'.repeat(64)}`;

export function seed(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

export function idOf(body: Record<string, unknown>, field: string): string {
  const { [field]: _drop, ...rest } = body;
  return digest(enc.encode(canonicalize(rest)));
}

export class ManualClock implements Clock {
  t: number;
  constructor(t = 1_700_000_000_000) {
    this.t = t;
  }
  now(): number {
    return this.t;
  }
}

/** A timer the test fires by hand: nothing ever happens on its own. */
export class ManualTimer implements Timer {
  readonly pending = new Map<number, { cb: () => void; ms: number }>();
  #next = 1;
  cleared = 0;
  setTimeout(cb: () => void, ms: number): unknown {
    const id = this.#next++;
    this.pending.set(id, { cb, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    if (this.pending.delete(handle as number)) this.cleared++;
  }
  fireAll(): void {
    for (const [id, { cb }] of [...this.pending]) {
      this.pending.delete(id);
      cb();
    }
  }
}

export interface ScriptedDecision {
  verdict: Verdict;
  reason_code: ReasonCode;
  challenge?: string;
  grant?: string;
  reservation?: string | null;
  /** Tamper hooks for authorization tests. Applied to the signed decision body. */
  signedPatch?: Partial<Record<keyof DecisionRecord, unknown>>;
  /** Applied only to the record the port reports beside the envelope (a lying guardian). */
  reportedPatch?: Partial<DecisionRecord>;
  decisionSigner?: Signer;
  /** Replace the envelope by a copy whose payload was edited after signing. */
  tamperPayload?: boolean;
  ttlMs?: number;
}

export class ScriptedGuardian implements GuardianPort {
  readonly signer = createSigner(seed(1));
  readonly calls: GuardianCall[] = [];
  readonly refunded: string[] = [];
  readonly committed: string[] = [];
  readonly consumed: string[] = [];
  grantsAvailable = new Set<string>();
  script: (call: GuardianCall) => ScriptedDecision = () => ({ verdict: 'ALLOW', reason_code: 'ALLOW' });
  throwOnEvaluate = false;
  constructor(readonly clock: Clock) {}

  policyHash(): string {
    return `sha256:${'1'.repeat(64)}`;
  }

  evaluate(call: GuardianCall): GuardianEvaluation {
    if (this.throwOnEvaluate) throw new Error('guardian down');
    this.calls.push(call);
    const s = this.script(call);
    const now = this.clock.now();
    const reservation =
      s.reservation === undefined
        ? s.verdict === 'ALLOW'
          ? `res-${this.calls.length}`
          : null
        : s.reservation;
    const recordBody = {
      type: 'helm.decision.v1' as const,
      verdict: s.verdict,
      reason_code: s.reason_code,
      decided_by:
        s.verdict === 'ALLOW' || s.verdict === 'ESCALATE' ? ('approval' as const) : ('policy' as const),
      principal: call.principal,
      tenant: call.tenant,
      tool: call.tool,
      action: call.action,
      resource: call.resource,
      args_hash: call.args_hash,
      effect_digest: call.effect_digest,
      policy_stack_hash: this.policyHash(),
      gate_roster_hash: `sha256:${'2'.repeat(64)}`,
      request_hash: `sha256:${'3'.repeat(64)}`,
      decided_at_ms: now,
      session_id: null,
      budget_reservation_id: reservation,
      approval_challenge_id: s.challenge ?? null,
      review_required: false,
      expires_at_ms: s.verdict === 'ALLOW' ? now + (s.ttlMs ?? 30_000) : null,
      approval_grant_id: s.verdict === 'ALLOW' ? (s.grant ?? null) : null,
      ...s.signedPatch,
    };
    const signed = {
      ...recordBody,
      decision_id: idOf(recordBody, 'decision_id'),
    } as unknown as DecisionRecord;
    let decision = signEnvelope(signed as unknown as { type: string }, [s.decisionSigner ?? this.signer]);
    if (s.tamperPayload) {
      const text = new TextDecoder()
        .decode(fromBase64Url(decision.payload))
        .replace('"review_required":false', '"review_required":true');
      decision = { ...decision, payload: toBase64Url(new TextEncoder().encode(text)) };
    }
    return { decision, record: { ...signed, ...s.reportedPatch } };
  }
  consumeGrant(grant: GrantToConsume): boolean {
    if (!this.grantsAvailable.has(grant.grant_id)) return false;
    this.grantsAvailable.delete(grant.grant_id);
    this.consumed.push(grant.grant_id);
    return true;
  }
  commitBudget(id: string): void {
    this.committed.push(id);
  }
  refundBudget(id: string): void {
    this.refunded.push(id);
  }
  keys = (keyId: string): Uint8Array | undefined =>
    keyId === this.signer.keyId ? this.signer.publicKey : undefined;
}

/** A real receipt store that can be told to fail (the persistence edge). */
export class FlakyStore extends InMemoryReceiptStore {
  failNext = 0;
  override append(receipt: StoredReceipt): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('disk full');
    }
    super.append(receipt);
  }
}

export const RECEIPT_POLICIES = [
  {
    effect_class: 'fs.read',
    risk_tier: 'LOW',
    require_idempotency_key: false,
    min_approvals: 0,
    required_evidence: [],
  },
  {
    effect_class: 'fs.write',
    risk_tier: 'MEDIUM',
    require_idempotency_key: true,
    min_approvals: 0,
    required_evidence: ['descriptor_digest'],
  },
  {
    effect_class: 'net.egress',
    risk_tier: 'MEDIUM',
    require_idempotency_key: false,
    min_approvals: 0,
    required_evidence: [],
  },
  {
    effect_class: 'payment.transfer',
    risk_tier: 'HIGH',
    require_idempotency_key: true,
    min_approvals: 1,
    required_evidence: [],
  },
  {
    effect_class: 'compute',
    risk_tier: 'LOW',
    require_idempotency_key: false,
    min_approvals: 0,
    required_evidence: [],
  },
] as const;

export function makeRecorder(store: ReceiptStore = new FlakyStore(), chainId = 'test-chain') {
  const signer = createSigner(seed(2));
  const recorder = new ReceiptRecorder({
    signer,
    chainId,
    store,
    policies: new ReceiptPolicySet(
      RECEIPT_POLICIES.map((p) => ({ ...p, required_evidence: [...p.required_evidence] })),
    ),
    trust: () => ({ seq: 1, head: `sha256:${'7'.repeat(64)}` }),
  });
  return { recorder, signer, store };
}

export class ListGraph implements ProofGraphPort {
  readonly nodes: ProofGraphRecord[] = [];
  failNext = 0;
  recordReceipt(input: ProofGraphRecord): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('graph store down');
    }
    this.nodes.push(input);
  }
}

export function decodePayload<T = Record<string, unknown>>(env: SignedEnvelope): T {
  return JSON.parse(Buffer.from(env.payload, 'base64url').toString('utf8')) as T;
}
