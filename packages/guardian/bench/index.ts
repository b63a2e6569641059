// Guardian decision latency vs Cedar (`@cedar-policy/cedar-wasm` 4.13.0 `isAuthorized`) on an
// equivalent 100-rule policy set, same process, same run. Run: `pnpm build && node bench/index.ts`.
// Both engines are first checked to return ALLOW for the allow case and DENY for the deny case
// (a benchmark whose "allow" is really a deny is worthless). The guardian is measured the way it is
// used: `evaluate` signs every decision. The "sign only" row signs the same ALLOW body alone (the
// baseline in the same run): evaluate minus it is the gate chain's own cost.
import { performance } from 'node:perf_hooks';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { canonicalBytes, createSigner, digest, signEnvelope, signIdentifiedEnvelope } from '@helm/crypto';
import {
  DEFAULT_THREAT_CONFIG,
  Guardian,
  InMemoryBudgetLedger,
  loadPolicyStack,
  ManualClock,
} from '@helm/guardian';

const RULES = 100;
const DENIES = 5;
const WARMUP = 2_000;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const guardianSigner = createSigner(seed(1));
const bundleSigner = createSigner(seed(2));
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;

// ---- the policy set, expressed in both languages ---------------------------------------------
const rules: unknown[] = [];
const cedarPolicies: string[] = [];
for (let i = 0; i < RULES - DENIES; i++) {
  rules.push({
    id: `allow-${i}`,
    effect: 'allow',
    when: {
      principal: { in: ['alice', 'bob', `user-${i}`] },
      tool: { eq: `tool-${i}` },
      action: { eq: 'read' },
      resource: { prefix: `/data/${i}/` },
    },
  });
  cedarPolicies.push(
    `@id("allow-${i}") permit(principal, action == Action::"read", resource) when { principal in [User::"alice", User::"bob", User::"user-${i}"] && context.tool == "tool-${i}" && resource.path like "/data/${i}/*" };`,
  );
}
for (let i = 0; i < DENIES; i++) {
  rules.push({
    id: `deny-${i}`,
    effect: 'deny',
    when: { tool: { eq: `tool-${i * 10}` }, resource: { prefix: `/data/${i * 10}/secret/` } },
  });
  cedarPolicies.push(
    `@id("deny-${i}") forbid(principal, action, resource) when { context.tool == "tool-${i * 10}" && resource.path like "/data/${i * 10}/secret/*" };`,
  );
}
const bundle = { type: 'helm.policy.bundle.v1', name: 'bench', version: 1, rules };
const p0 = {
  type: 'helm.policy.p0.v1',
  name: 'bench-ceiling',
  forbidden_effect_types: ['payment.transfer'],
  budgets: { default_principal_max: Number.MAX_SAFE_INTEGER, default_tenant_max: Number.MAX_SAFE_INTEGER },
  max_delegation_ttl_ms: 3_600_000,
  require_delegation_mfa: false,
};
const policy = loadPolicyStack({
  p0,
  bundles: [signEnvelope(bundle, [bundleSigner])],
  trustedBundleKeys: (id) => (id === bundleSigner.keyId ? bundleSigner.publicKey : undefined),
});
const guardian = new Guardian({
  signer: guardianSigner,
  clock: new ManualClock(1_767_225_600_000),
  freeze: {},
  environmentFingerprint: FINGERPRINT,
  identity: { bindings: [{ credential_id: 'cred-alice', principal: 'alice' }] },
  egress: { rules: [{ hosts: ['api.example.com'], protocols: ['https'], max_payload_bytes: 1_048_576 }] },
  threat: DEFAULT_THREAT_CONFIG,
  delegation: {},
  policy,
  budget: new InMemoryBudgetLedger(),
  approvals: {
    keyAuthorization: () => undefined,
    perApprover: { max: 10, window_ms: 60_000 },
    perPrincipal: { max: 10, window_ms: 60_000 },
  },
});

function helmRequest(tool: string, path: string) {
  const args = { path, limit: 100 };
  return {
    principal: 'alice',
    tool,
    action: 'read',
    resource: path,
    effect_type: 'fs.read',
    risk_tier: 'LOW' as const,
    args,
    args_hash: digest(canonicalBytes(args)),
    cost: 0,
    context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
  };
}

const entities = [
  { uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [] },
  { uid: { type: 'File', id: 'allow' }, attrs: { path: '/data/42/report.csv' }, parents: [] },
  { uid: { type: 'File', id: 'deny' }, attrs: { path: '/data/40/secret/key.pem' }, parents: [] },
];
const cedarSet = { staticPolicies: cedarPolicies.join('\n') };
function cedarCall(tool: string, file: string) {
  return {
    principal: { type: 'User', id: 'alice' },
    action: { type: 'Action', id: 'read' },
    resource: { type: 'File', id: file },
    context: { tool },
    policies: cedarSet,
    entities,
  };
}
const PSET = 'bench';
const parsed = cedar.preparsePolicySet(PSET, cedarSet);
if (parsed.type !== 'success') throw new Error('cedar preparse failed');
function cedarStateful(tool: string, file: string) {
  return {
    principal: { type: 'User', id: 'alice' },
    action: { type: 'Action', id: 'read' },
    resource: { type: 'File', id: file },
    context: { tool },
    preparsedPolicySetId: PSET,
    entities,
  };
}

// ---- verify the cases really are ALLOW / DENY in both engines ------------------------------
const allowReq = helmRequest('tool-42', '/data/42/report.csv');
const denyReq = helmRequest('tool-40', '/data/40/secret/key.pem');
function cedarDecision(answer: cedar.AuthorizationAnswer): string {
  if (answer.type !== 'success') throw new Error(`cedar failed: ${JSON.stringify(answer.errors)}`);
  return answer.response.decision;
}
const allowed = guardian.evaluate(allowReq);
guardian.refundBudget(allowed.record.budget_reservation_id as string);
const checks = [
  ['helm allow', allowed.record.verdict, 'ALLOW'],
  ['helm deny', guardian.evaluate(denyReq).record.reason_code, 'POLICY_DENY'],
  ['cedar allow', cedarDecision(cedar.isAuthorized(cedarCall('tool-42', 'allow'))), 'allow'],
  ['cedar deny', cedarDecision(cedar.isAuthorized(cedarCall('tool-40', 'deny'))), 'deny'],
  [
    'cedar preparsed allow',
    cedarDecision(cedar.statefulIsAuthorized(cedarStateful('tool-42', 'allow'))),
    'allow',
  ],
];
for (const [name, got, want] of checks) {
  if (got !== want) throw new Error(`${name}: expected ${want}, got ${got} — refusing to benchmark`);
}

// ---- measure ---------------------------------------------------------------------------------
function measure(fn: () => unknown, iterations = ITERATIONS): { p50: number; p99: number } {
  for (let i = 0; i < WARMUP; i++) fn();
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    fn();
    samples[i] = performance.now() - t;
  }
  samples.sort();
  const at = (q: number): number =>
    (samples[Math.min(iterations - 1, Math.floor(q * iterations))] ?? 0) * 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

// An ALLOW holds a budget reservation until the executor commits or refunds it; refund inside the
// measured call so the ledger does not grow without bound (this adds the refund to our time).
const allowSigned = (): void => {
  const r = guardian.evaluate(allowReq);
  guardian.refundBudget(r.record.budget_reservation_id as string);
};
const { decision_id: _id, ...allowBody } = allowed.record;
const results = {
  helmSigned: measure(allowSigned),
  helmDenySigned: measure(() => guardian.evaluate(denyReq)),
  signOnly: measure(() => signIdentifiedEnvelope(allowBody, 'decision_id', [guardianSigner])),
  cedar: measure(() => cedar.isAuthorized(cedarCall('tool-42', 'allow')), Math.max(1000, ITERATIONS / 10)),
  cedarPreparsed: measure(() => cedar.statefulIsAuthorized(cedarStateful('tool-42', 'allow'))),
};

const fmt = (n: number): string => `${n.toFixed(1)} µs`.padStart(10);
const rows: [string, { p50: number; p99: number }][] = [
  ['helm evaluate + refund (ALLOW)', results.helmSigned],
  ['helm evaluate (DENY)', results.helmDenySigned],
  ['sign only (the ALLOW body)', results.signOnly],
  ['cedar isAuthorized (allow)', results.cedar],
  ['cedar statefulIsAuthorized, preparsed', results.cedarPreparsed],
];
console.log(
  `\n@helm/guardian decision latency — ${RULES}-rule stack, ${ITERATIONS} iterations, node ${process.version}\n`,
);
console.log(`${'case'.padEnd(40)}${'p50'.padStart(10)}${'p99'.padStart(10)}`);
for (const [name, r] of rows) console.log(`${name.padEnd(40)}${fmt(r.p50)}${fmt(r.p99)}`);
const ratio = results.helmSigned.p50 / results.cedar.p50;
const ratioPre = results.helmSigned.p50 / results.cedarPreparsed.p50;
const chain = results.helmSigned.p50 - results.signOnly.p50;
console.log(
  `\nours (signed) p50 / cedar isAuthorized p50 = ${(ratio * 100).toFixed(1)}%  (target ≤ 10%)  ${ratio <= 0.1 ? 'PASS' : 'MISS'}`,
);
console.log(
  `ours (signed) p50 / cedar preparsed p50    = ${(ratioPre * 100).toFixed(1)}%  (information only)`,
);
console.log(`gate chain ≈ evaluate p50 − sign-only p50  = ${chain.toFixed(1)} µs  (information only)`);
