// What the runtime benches share: the in-memory pipeline (the same guardian/executor/recorder over
// in-memory stores: the baseline every durable row is a ratio against) and the echo tool.
import type { ToolDescriptor } from '@helm/contracts';
import { createSigner, signEnvelope } from '@helm/crypto';
import { createExecutor, functionDriver, proofGraphPort } from '@helm/executor';
import { DEFAULT_THREAT_CONFIG, Guardian, InMemoryBudgetLedger, loadPolicyStack } from '@helm/guardian';
import { ProofGraph } from '@helm/proofgraph';
import { InMemoryReceiptStore, ReceiptPolicySet, ReceiptRecorder } from '@helm/receipts';
import { initDataDir } from '../dist/index.js';

export const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;

export const ECHO = {
  type: 'helm.tool.v1',
  name: 'echo',
  description: 'echo its args',
  input_schema: { type: 'object' },
  output_schema: { type: 'object' },
  effect_type: 'compute',
  risk_tier: 'LOW',
  action: 'run',
  driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
};

/** A data directory at `dir` where alice may call echo without limit (the durable rows' set-up). */
export function benchDataDir(dir: string, chainId: string): void {
  const { data } = initDataDir(dir, {
    chainId,
    fingerprint: FINGERPRINT,
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'bench',
      forbidden_effect_types: [],
      budgets: { default_principal_max: 1e12, default_tenant_max: 1e12 },
      max_delegation_ttl_ms: 3_600_000,
      require_delegation_mfa: false,
    },
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'bench',
      version: 1,
      rules: [{ id: 'echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'echo' } } }],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  });
  data.writeTool(ECHO);
  data.close();
}

// ---- the in-memory pipeline ----------------------------------------------------------------
export function inMemoryPipeline() {
  const seed = (n: number) => new Uint8Array(32).fill(n);
  const bundleSigner = createSigner(seed(2));
  const policy = loadPolicyStack({
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'bench',
      forbidden_effect_types: [],
      budgets: { default_principal_max: 1e12, default_tenant_max: 1e12 },
      max_delegation_ttl_ms: 3_600_000,
      require_delegation_mfa: false,
    },
    bundles: [
      signEnvelope(
        {
          type: 'helm.policy.bundle.v1',
          name: 'bench',
          version: 1,
          rules: [
            { id: 'echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'echo' } } },
          ],
        },
        [bundleSigner],
      ),
    ],
    trustedBundleKeys: (id) => (id === bundleSigner.keyId ? bundleSigner.publicKey : undefined),
  });
  const clock = { now: () => Date.now() };
  const guardian = new Guardian({
    signer: createSigner(seed(1)),
    clock,
    freeze: {},
    environmentFingerprint: FINGERPRINT,
    identity: { bindings: [{ credential_id: 'cred-alice', principal: 'alice' }] },
    egress: { rules: [] },
    threat: DEFAULT_THREAT_CONFIG,
    delegation: {},
    policy,
    budget: new InMemoryBudgetLedger(),
    approvals: {
      keyAuthorization: () => undefined,
      perApprover: { max: 1, window_ms: 1 },
      perPrincipal: { max: 1, window_ms: 1 },
    },
  });
  const executor = createExecutor({
    guardian: guardian.asExecutorPort(),
    guardianKeys: guardian.publicKeys,
    receipts: new ReceiptRecorder({
      signer: createSigner(seed(3)),
      chainId: 'bench',
      store: new InMemoryReceiptStore(),
      trust: () => ({ seq: 1, head: `sha256:${'7'.repeat(64)}` }),
      policies: new ReceiptPolicySet([
        {
          effect_class: 'compute',
          risk_tier: 'LOW',
          require_idempotency_key: false,
          min_approvals: 0,
          required_evidence: [],
        },
      ]),
    }),
    proofgraph: proofGraphPort({ graph: new ProofGraph() }),
    clock,
    timer: {
      setTimeout: (cb, ms) => setTimeout(cb, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
  });
  executor.registerTool(
    ECHO as ToolDescriptor,
    functionDriver((a) => a),
  );
  return executor;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
export const fmt = (x: number, d = 2) => x.toFixed(d);

/** `total` calls with `inFlight` outstanding at any time; per-call latency (ms) and calls/s. */
export async function drive(total: number, inFlight: number, call: (i: number) => Promise<void>) {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const s = performance.now();
      await call(i);
      lat.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const ms = performance.now() - t0;
  lat.sort((a, b) => a - b);
  return { perSec: (total / ms) * 1000, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}
