// Shared test fixtures: a fully configured guardian over a small signed policy stack.
import type { PolicyBundle, SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, createSigner, digest, type Signer, signEnvelope } from '@helm/crypto';
import {
  DEFAULT_THREAT_CONFIG,
  type DecisionRequest,
  Guardian,
  type GuardianEvent,
  type GuardianOptions,
  InMemoryBudgetLedger,
  loadPolicyStack,
  ManualClock,
  type PolicyStack,
  pkceChallenge,
} from '../src/index.ts';

/** An event sink that keeps everything in memory, in order (the tests read what was emitted). */
export class MemoryEventSink {
  readonly events: GuardianEvent[] = [];
  emit(event: GuardianEvent): void {
    this.events.push(event);
  }
}

export const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

export function seed(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

export const guardianSigner = createSigner(seed(1));
export const bundleSigner = createSigner(seed(2));
export const approverSigners: Signer[] = [3, 4, 5, 6].map((n) => createSigner(seed(n)));
export const outsiderSigner = createSigner(seed(9));

export const P0 = {
  type: 'helm.policy.p0.v1',
  name: 'org-ceiling',
  forbidden_effect_types: ['payment.transfer'],
  budgets: { default_principal_max: 100, default_tenant_max: 1000, principals: { bob: 3 } },
  max_delegation_ttl_ms: 3_600_000,
  require_delegation_mfa: true,
} as const;

export const BUNDLE: PolicyBundle = {
  type: 'helm.policy.bundle.v1',
  name: 'org-rules',
  version: 1,
  rules: [
    {
      id: 'allow-read',
      effect: 'allow',
      when: {
        principal: { in: ['alice', 'bob'] },
        tool: { eq: 'fs' },
        action: { eq: 'read' },
        resource: { prefix: '/data/' },
        effect_type: { eq: 'fs.read' },
      },
    },
    {
      id: 'deny-secrets',
      effect: 'deny',
      when: { tool: { eq: 'fs' }, resource: { prefix: '/data/secret/' } },
    },
    {
      id: 'allow-http',
      effect: 'allow',
      when: { principal: { eq: 'alice' }, tool: { eq: 'http' }, effect_type: { eq: 'net.egress' } },
    },
    {
      id: 'allow-deploy',
      effect: 'allow',
      when: { principal: { eq: 'alice' }, tool: { eq: 'deploy' }, effect_type: { eq: 'compute' } },
      requires_approval: {
        quorum: 2,
        role: 'approver',
        timelock_ms: 60_000,
        ttl_ms: 3_600_000,
        emergency_quorum: 3,
      },
    },
    {
      id: 'allow-refund',
      effect: 'allow',
      when: { principal: { eq: 'alice' }, tool: { eq: 'bank' }, args: { amount: { lte: 500 } } },
      requires_proofs: ['ticket'],
    },
  ],
};

export function signBundle(bundle: unknown, signer: Signer = bundleSigner): SignedEnvelope {
  return signEnvelope(bundle as { type: string }, [signer]);
}

export const trustedBundleKeys = (keyId: string): Uint8Array | undefined =>
  keyId === bundleSigner.keyId ? bundleSigner.publicKey : undefined;

export const VOCABULARY = { tools: { bank: ['amount', 'currency'] }, context: ['ticket_priority'] };

export function stack(overlays: unknown[] = [], bundle: unknown = BUNDLE): PolicyStack {
  return loadPolicyStack({
    p0: P0,
    bundles: [signBundle(bundle)],
    overlays,
    trustedBundleKeys,
    vocabulary: VOCABULARY,
  });
}

export const FINGERPRINT = 'sha256:' + 'ab'.repeat(32);

export function approverKeys(keyId: string, role: string): Uint8Array | undefined {
  if (role !== 'approver') return undefined;
  return approverSigners.find((s) => s.keyId === keyId)?.publicKey;
}

export interface Harness {
  guardian: Guardian;
  clock: ManualClock;
  sink: MemoryEventSink;
  ledger: InMemoryBudgetLedger;
}

export function fullOptions(
  clock: ManualClock,
  sink: MemoryEventSink,
  ledger: InMemoryBudgetLedger,
  policy?: PolicyStack,
): GuardianOptions {
  return {
    signer: guardianSigner,
    clock,
    sink,
    freeze: {},
    environmentFingerprint: FINGERPRINT,
    identity: {
      bindings: [
        { credential_id: 'cred-alice', principal: 'alice' },
        { credential_id: 'cred-bob', principal: 'bob' },
        { credential_id: 'cred-agent', principal: 'agent-7' },
      ],
    },
    egress: {
      rules: [
        {
          hosts: ['api.example.com', '*.example.org'],
          cidrs: ['10.0.0.0/8', '2001:db8::/32'],
          protocols: ['https'],
          max_payload_bytes: 1024,
        },
      ],
    },
    threat: DEFAULT_THREAT_CONFIG,
    delegation: {},
    policy: policy ?? stack(),
    budget: ledger,
    approvals: {
      keyAuthorization: approverKeys,
      perApprover: { max: 5, window_ms: 3_600_000 },
      perPrincipal: { max: 5, window_ms: 3_600_000 },
    },
  };
}

export function harness(overrides: Partial<GuardianOptions> = {}, policy?: PolicyStack): Harness {
  const clock = new ManualClock(T0);
  const sink = new MemoryEventSink();
  const ledger = new InMemoryBudgetLedger();
  const guardian = new Guardian({ ...fullOptions(clock, sink, ledger, policy), ...overrides });
  return { guardian, clock, sink, ledger };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A well-formed request; `args_hash` is recomputed unless explicitly overridden. */
export function request(
  overrides: Partial<Mutable<DecisionRequest>> = {},
  context: Partial<Mutable<DecisionRequest['context']>> = {},
): DecisionRequest {
  const args = overrides.args ?? { path: '/data/report.csv' };
  return {
    principal: 'alice',
    tool: 'fs',
    action: 'read',
    resource: '/data/report.csv',
    effect_type: 'fs.read',
    risk_tier: 'LOW',
    args_hash: digest(canonicalBytes(args)),
    ...overrides,
    args,
    context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice', ...context },
  };
}

export const VERIFIER = 'v'.repeat(43) + '-verifier_0123456789';
export const CHALLENGE = pkceChallenge(VERIFIER);
