// A real governed world for executor tests: the real guardian (every gate configured), budget
// ledger, receipt recorder, ProofGraph and function drivers that record each invocation.
// End to end: the whole seed pipeline with the REAL guardian, receipts, proofgraph and crypto,
// deterministic keys (seeded) and real signed policies. Afterwards the receipt chain and the
// ProofGraph are verified offline with nothing but public keys.
import { APPROVAL_TYPE, type SignedEnvelope, type ToolDescriptor } from '@helm/contracts';
import { createSigner, fromBase64Url, type Signer, signEnvelope } from '@helm/crypto';
import {
  DEFAULT_THREAT_CONFIG,
  Guardian,
  type GuardianOptions,
  InMemoryBudgetLedger,
  loadPolicyStack,
  ManualClock,
  type PolicyStack,
} from '@helm/guardian';
import { ProofGraph } from '@helm/proofgraph';
import { InMemoryReceiptStore, ReceiptPolicySet, ReceiptRecorder } from '@helm/receipts';
import {
  type AdmissionJournal,
  createExecutor,
  type ExecuteResult,
  type Executor,
  functionDriver,
  type IdempotencyStore,
  type JsonValue,
  proofGraphPort,
} from '../../src/index.ts';
import { ManualTimer } from './kit.ts';

export const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
export const seed = (n: number) => new Uint8Array(32).fill(n);

// Deterministic keys: guardian (decisions), bundle signer (P1), executor (receipts + nodes),
// three approvers (2-of-3 quorum).
export const guardianSigner = createSigner(seed(11));
export const bundleSigner = createSigner(seed(12));
export const executorSigner = createSigner(seed(13));
export const approvers: Signer[] = [14, 15, 16].map((n) => createSigner(seed(n)));
export const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
export const VERIFIER = `${'v'.repeat(43)}-verifier_0123456789`;

export const P0 = {
  type: 'helm.policy.p0.v1',
  name: 'org-ceiling',
  forbidden_effect_types: ['payment.transfer'],
  budgets: { default_principal_max: 100, default_tenant_max: 1000 },
  max_delegation_ttl_ms: 3_600_000,
  require_delegation_mfa: true,
};

export const BUNDLE = {
  type: 'helm.policy.bundle.v1',
  name: 'e2e-rules',
  version: 1,
  rules: [
    {
      id: 'allow-read',
      effect: 'allow',
      when: {
        principal: { in: ['alice'] },
        tool: { in: ['files.read', 'files.stat'] },
        resource: { prefix: '/data/' },
      },
    },
    { id: 'deny-secrets', effect: 'deny', when: { resource: { prefix: '/data/secret/' } } },
    {
      id: 'deploy-needs-quorum',
      effect: 'allow',
      when: { principal: { eq: 'alice' }, tool: { eq: 'deploy' }, effect_type: { eq: 'compute' } },
      requires_approval: { quorum: 2, role: 'approver', timelock_ms: 60_000, ttl_ms: 3_600_000 },
    },
  ],
};

export const fileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: { path: { type: 'string', minLength: 1, maxLength: 512 } },
};

export const readTool: ToolDescriptor = {
  type: 'helm.tool.v1',
  name: 'files.read',
  description: 'Read a UTF-8 text file under /data.',
  input_schema: fileSchema,
  output_schema: {
    type: 'object',
    additionalProperties: false,
    required: ['text'],
    properties: { text: { type: 'string' } },
  },
  effect_type: 'fs.read',
  risk_tier: 'LOW',
  action: 'read',
  resource_pointer: '/path',
  driver: { kind: 'function', ref: 'files.read', timeout_ms: 5_000 },
};

export const statTool: ToolDescriptor = {
  ...readTool,
  name: 'files.stat',
  description: 'Size of a file.',
  output_schema: {
    type: 'object',
    additionalProperties: false,
    required: ['size'],
    properties: { size: { type: 'integer', minimum: 0 } },
  },
  action: 'stat',
  driver: { kind: 'function', ref: 'files.stat', timeout_ms: 5_000 },
};

export const deployTool: ToolDescriptor = {
  type: 'helm.tool.v1',
  name: 'deploy',
  description: 'Deploy a service version.',
  input_schema: {
    type: 'object',
    additionalProperties: false,
    required: ['service', 'version'],
    properties: {
      service: { type: 'string' },
      version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' },
    },
  },
  output_schema: {
    type: 'object',
    additionalProperties: false,
    required: ['deployed'],
    properties: { deployed: { type: 'string' } },
  },
  effect_type: 'compute',
  risk_tier: 'HIGH',
  action: 'deploy',
  resource_pointer: '/service',
  driver: { kind: 'function', ref: 'deploy', timeout_ms: 5_000 },
};

export const RECEIPT_POLICIES = new ReceiptPolicySet([
  {
    effect_class: 'fs.read',
    risk_tier: 'LOW',
    require_idempotency_key: false,
    min_approvals: 0,
    required_evidence: [],
  },
  {
    effect_class: 'compute',
    risk_tier: 'HIGH',
    require_idempotency_key: true,
    min_approvals: 1,
    required_evidence: ['descriptor_digest'],
  },
  // Unknown tools have no effect class of their own: their denials are kept at HIGH.
  {
    effect_class: 'unknown',
    risk_tier: 'HIGH',
    require_idempotency_key: false,
    min_approvals: 0,
    required_evidence: [],
  },
]);

export const CHAIN = 'e2e-session-1';

export interface World {
  clock: ManualClock;
  guardian: Guardian;
  ledger: InMemoryBudgetLedger;
  store: InMemoryReceiptStore;
  graph: ProofGraph;
  executor: Executor;
  driverCalls: { tool: string; args: JsonValue }[];
  results: ExecuteResult[];
  timer: ManualTimer;
}

export function aliceContext(extra: Record<string, unknown> = {}) {
  return { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice', ...extra };
}

export function defaultGuardianOptions(
  clock: ManualClock,
  policy: PolicyStack,
  ledger: InMemoryBudgetLedger,
): GuardianOptions {
  return {
    signer: guardianSigner,
    clock,
    freeze: {},
    environmentFingerprint: FINGERPRINT,
    identity: {
      bindings: [
        { credential_id: 'cred-alice', principal: 'alice' },
        { credential_id: 'cred-agent', principal: 'agent-7' },
      ],
    },
    egress: { rules: [{ hosts: ['api.example.com'], protocols: ['https'], max_payload_bytes: 4096 }] },
    threat: DEFAULT_THREAT_CONFIG,
    delegation: {},
    policy,
    budget: ledger,
    approvals: {
      keyAuthorization: (keyId, role) =>
        role === 'approver' ? approvers.find((a) => a.keyId === keyId)?.publicKey : undefined,
      perApprover: { max: 10, window_ms: 3_600_000 },
      perPrincipal: { max: 10, window_ms: 3_600_000 },
    },
  };
}

export interface BuildOptions {
  /** Replace P0 fields (e.g. a small budget). */
  readonly p0?: Partial<typeof P0>;
  readonly idempotency?: IdempotencyStore;
  readonly journal?: AdmissionJournal;
  /** Override guardian options; a key set to `undefined` leaves that gate unconfigured. */
  readonly guardian?: Partial<GuardianOptions>;
}

export function build(options: BuildOptions = {}): World {
  const clock = new ManualClock(T0);
  const ledger = new InMemoryBudgetLedger();
  const policy = loadPolicyStack({
    p0: { ...P0, ...options.p0 },
    bundles: [signEnvelope(BUNDLE, [bundleSigner])],
    trustedBundleKeys: (id) => (id === bundleSigner.keyId ? bundleSigner.publicKey : undefined),
  });
  const guardian = new Guardian({
    ...defaultGuardianOptions(clock, policy, ledger),
    ...options.guardian,
  });
  const store = new InMemoryReceiptStore();
  const recorder = new ReceiptRecorder({
    signer: executorSigner,
    chainId: CHAIN,
    store,
    policies: RECEIPT_POLICIES,
    // A fixed trust registry state: these tests resolve receipt keys directly, not via a registry.
    trust: () => ({ seq: 1, head: `sha256:${'7'.repeat(64)}` }),
  });
  const graph = new ProofGraph();
  const timer = new ManualTimer();
  const executor = createExecutor({
    guardian: guardian.asExecutorPort(),
    guardianKeys: guardian.publicKeys,
    receipts: recorder,
    proofgraph: proofGraphPort({ graph }),
    clock,
    timer,
    ...(options.idempotency ? { idempotency: options.idempotency } : {}),
    ...(options.journal ? { journal: options.journal } : {}),
  });
  const driverCalls: { tool: string; args: JsonValue }[] = [];
  const record = (tool: string, body: (args: JsonValue) => JsonValue) =>
    functionDriver((args) => {
      driverCalls.push({ tool, args });
      return body(args);
    });
  executor.registerTool(
    readTool,
    record('files.read', (a) => ({ text: `contents of ${(a as { path: string }).path}` })),
  );
  // The connector behind files.stat drifted: it now returns a string size and an extra field.
  executor.registerTool(
    statTool,
    record('files.stat', () => ({ size: '12 KiB', owner: 'root' })),
  );
  executor.registerTool(
    deployTool,
    record('deploy', (a) => ({
      deployed: `${(a as { service: string }).service}@${(a as { version: string }).version}`,
    })),
  );
  return { clock, guardian, ledger, store, graph, executor, driverCalls, results: [], timer };
}

export function approve(
  signer: Signer,
  approver: string,
  challengeId: string,
  guardian: Guardian,
): SignedEnvelope {
  const c = guardian.challenge(challengeId);
  if (!c) throw new Error('no challenge');
  return signEnvelope(
    {
      type: APPROVAL_TYPE,
      challenge_id: c.challenge_id,
      intent_hash: c.intent_hash,
      policy_bundle_hash: c.policy_bundle_hash,
      p0_ceiling_hash: c.p0_ceiling_hash,
      approver,
      emergency: false,
    },
    [signer],
  );
}

export function body<T>(env: SignedEnvelope): T {
  return JSON.parse(new TextDecoder().decode(fromBase64Url(env.payload))) as T;
}
