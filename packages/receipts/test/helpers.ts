import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, createSigner, digest, type Signer, signEnvelope } from '@helm/crypto';
import type { ReceiptInput } from '../src/index.ts';

/** Published test key seeds (docs/spec/receipt.md): 32 × 0x02 and 32 × 0x03. */
export const SEED_A = new Uint8Array(32).fill(2);
export const SEED_B = new Uint8Array(32).fill(3);
export const signerA: Signer = createSigner(SEED_A);
export const signerB: Signer = createSigner(SEED_B);

export const keysOf =
  (...signers: Signer[]) =>
  (keyid: string): Uint8Array | undefined =>
    signers.find((s) => s.keyId === keyid)?.publicKey;

export const d = (label: string): string => digest(new TextEncoder().encode(label));

/** The trust registry state test receipts are signed under (a fixed, made-up registry head). */
export const TRUST = { seq: 3, head: d('trust-head-3') } as const;

export function input(n: number, overrides: Partial<ReceiptInput> = {}): ReceiptInput {
  return {
    decision_id: d(`decision-${n}`),
    effect_id: d(`effect-${n}`),
    effect_class: 'fs.write',
    status: 'SUCCEEDED',
    verdict: 'ALLOW',
    reason_code: 'ALLOW',
    args_hash: d(`args-${n}`),
    request_digest: d(`request-${n}`),
    output_hash: d(`output-${n}`),
    session_id: 'session-1',
    policy_hash: d('policy'),
    tool: 'fs_write',
    principal: 'agent:alice',
    risk_tier: 'LOW',
    issued_at_ms: 1_764_115_200_000 + n,
    trust_seq: TRUST.seq,
    trust_head: TRUST.head,
    evidence: {},
    ...overrides,
  };
}

export function decodeBody(env: SignedEnvelope): Record<string, unknown> {
  return JSON.parse(Buffer.from(env.payload, 'base64url').toString('utf8'));
}

/** Sign an arbitrary body as a receipt (for adversarial cases: a compromised or buggy signer). */
export function forge(body: Record<string, unknown>, signer: Signer = signerA, fixId = true): SignedEnvelope {
  const b = { ...body };
  if (fixId) {
    delete b.receipt_id;
    b.receipt_id = digest(canonicalBytes(b));
  }
  return signEnvelope(b as { type: string }, [signer]);
}
