// Attacker-side helpers shared by the invariant tests in this folder (files are named after the
// invariant ids of docs/threat-model.md). Everything goes through the public API.
import type { ApprovalChallenge, PolicyRule, SignedEnvelope } from '@helm/contracts';
import { openVerifiedEnvelope, signEnvelope } from '@helm/crypto';
import {
  type DecisionRequest,
  type Evaluation,
  type Guardian,
  loadPolicyStack,
  type PolicyStack,
} from '../../src/index.ts';
import {
  approverSigners,
  harness,
  P0,
  request,
  signBundle,
  trustedBundleKeys,
  VOCABULARY,
} from '../fixtures.ts';

/** Fixed seeds and modest run counts: the properties are deterministic and fast. */
export const RUNS = { seed: 1, numRuns: 200 } as const;
export const FEW_RUNS = { seed: 1, numRuns: 60 } as const;

export const CREDENTIALS: Readonly<Record<string, string>> = {
  alice: 'cred-alice',
  bob: 'cred-bob',
  'agent-7': 'cred-agent',
};

/** P0 with budgets large enough that no property run is cut short by BUDGET_EXCEEDED. */
export const ROOMY_P0 = {
  ...P0,
  budgets: { default_principal_max: 1_000_000, default_tenant_max: 1_000_000 },
} as const;

export function stackOf(
  rules: readonly PolicyRule[],
  opts: { overlays?: unknown[]; name?: string; version?: number; p0?: unknown } = {},
): PolicyStack {
  return loadPolicyStack({
    p0: opts.p0 ?? ROOMY_P0,
    bundles: [
      signBundle({
        type: 'helm.policy.bundle.v1',
        name: opts.name ?? 'adversarial',
        version: opts.version ?? 1,
        rules,
      }),
    ],
    overlays: opts.overlays ?? [],
    trustedBundleKeys,
    vocabulary: VOCABULARY,
  });
}

export const guardianOn = (policy: PolicyStack) => harness({}, policy);

export interface DeployOptions {
  readonly principal?: string;
  readonly tenant?: string | null;
  readonly args?: Record<string, unknown>;
  readonly attributes?: Record<string, string>;
  readonly delegation?: { session_id: string; code_verifier: string; nonce: string };
}

/** A high-risk `deploy` call (the fixture's approval-gated tool shape). */
export function deploy(o: DeployOptions = {}): DecisionRequest {
  const principal = o.principal ?? 'alice';
  return request(
    {
      principal,
      tenant: o.tenant === undefined ? null : o.tenant,
      tool: 'deploy',
      action: 'deploy',
      effect_type: 'compute',
      risk_tier: 'HIGH',
      resource: 'svc/api',
      args: o.args ?? { target: 'prod' },
    },
    {
      credential_id: CREDENTIALS[principal] ?? 'cred-unknown',
      ...(o.attributes ? { attributes: o.attributes } : {}),
      ...(o.delegation ? { delegation: o.delegation } : {}),
    },
  );
}

export function challengeOf(guardian: Guardian, ev: Evaluation): ApprovalChallenge {
  return openVerifiedEnvelope<ApprovalChallenge & { type: string }>(
    ev.challenge!,
    'helm.approval.challenge.v1',
    guardian.publicKeys,
  ).body;
}

export function statement(
  c: ApprovalChallenge,
  index: number,
  emergency = false,
  signer = approverSigners[index]!,
): SignedEnvelope {
  return signEnvelope(
    {
      type: 'helm.approval.v1',
      challenge_id: c.challenge_id,
      intent_hash: c.intent_hash,
      policy_bundle_hash: c.policy_bundle_hash,
      p0_ceiling_hash: c.p0_ceiling_hash,
      approver: `approver-${index}`,
      emergency,
    },
    [signer],
  );
}

/** Record `count` distinct approvals (approver keys 0..count-1). */
export function approveN(guardian: Guardian, c: ApprovalChallenge, count: number, emergency = false): void {
  for (let i = 0; i < count; i++) guardian.approvals!.submit(statement(c, i, emergency));
}

/** What the executor hands the guardian port when execution starts. */
export function grantFor(ev: Evaluation, call: DecisionRequest) {
  return {
    grant_id: ev.record.approval_grant_id!,
    decision_id: ev.record.decision_id,
    effect_digest: ev.record.effect_digest!,
    args_hash: ev.record.args_hash,
    tenant: call.tenant ?? null,
    principal: call.principal,
    tool: call.tool,
  };
}

export const DEPLOY_WHEN = {
  tool: { eq: 'deploy' },
  action: { eq: 'deploy' },
  effect_type: { eq: 'compute' },
} as const;
