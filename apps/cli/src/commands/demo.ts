// `helmts demo`: a realistic governed session on the embedded SQLite default, then export, verify,
// tamper and replay. Exit 0 only when every step behaved exactly as expected.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPROVAL_TYPE, type SignedEnvelope, type ToolDescriptor } from '@helm/contracts';
import { digest, type Signer, sha256, signEnvelope } from '@helm/crypto';
import { readTar, replayEvidencePack, verifyEvidencePack, writeTar } from '@helm/evidencepack';
import type { ExecuteRequest, ExecuteResult } from '@helm/executor';
import { ManualClock, pkceChallenge } from '@helm/guardian';
import { exportPack, GovernedRuntime, initDataDir, reexecute } from '@helm/runtime';
import { CliError, type CommandResult } from '../errors.js';

export const DEMO_T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
const VERIFIER = `${'v'.repeat(43)}-demo-verifier_0123456789`;

/** Fixed, publicly known demo seeds (NEVER use them for anything real): the demo is reproducible. */
export const demoSeed = (name: string) => sha256(new TextEncoder().encode(`helm-demo-key/${name}`));

const obj = (properties: Record<string, unknown>, required: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

const pathSchema = obj({ path: { type: 'string', minLength: 1, maxLength: 512 } }, ['path']);

function tool(name: string, extra: Partial<ToolDescriptor> & Pick<ToolDescriptor, 'driver'>): ToolDescriptor {
  return {
    type: 'helm.tool.v1',
    name,
    description: `demo tool ${name}`,
    input_schema: pathSchema,
    output_schema: obj({ text: { type: 'string' } }, ['text']),
    effect_type: 'fs.read',
    risk_tier: 'LOW',
    action: 'read',
    resource_pointer: '/path',
    ...extra,
  };
}

export const DEMO_P0 = {
  type: 'helm.policy.p0.v1',
  name: 'demo-ceiling',
  forbidden_effect_types: ['payment.transfer'],
  budgets: { default_principal_max: 100, default_tenant_max: 1000 },
  max_delegation_ttl_ms: 3_600_000,
  require_delegation_mfa: true,
};

export const DEMO_BUNDLE = {
  type: 'helm.policy.bundle.v1',
  name: 'demo-rules',
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
      id: 'allow-wasm',
      effect: 'allow',
      when: {
        principal: { eq: 'alice' },
        tool: { in: ['wasm.echo', 'wasm.spin'] },
        effect_type: { eq: 'compute' },
      },
    },
    {
      id: 'deploy-needs-quorum',
      effect: 'allow',
      when: { principal: { eq: 'alice' }, tool: { eq: 'deploy' }, effect_type: { eq: 'compute' } },
      requires_approval: { quorum: 2, role: 'approver', timelock_ms: 60_000, ttl_ms: 3_600_000 },
    },
  ],
};

export interface DemoStep {
  readonly step: string;
  readonly ok: boolean;
  readonly expected: string;
  readonly got: string;
  readonly proves: string;
}

export interface DemoOptions {
  readonly dataDir?: string;
  readonly assetsDir?: string;
  readonly onStep?: (step: DemoStep) => void;
}

function assetsDir(): string {
  return new URL('../../assets/wasm/', import.meta.url).pathname;
}

export async function runDemo(options: DemoOptions = {}): Promise<CommandResult> {
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'helm-demo-'));
  const { data, anchor } = initDataDir(dir, {
    seedFor: demoSeed,
    chainId: 'demo-session',
    p0: DEMO_P0,
    bundle: DEMO_BUNDLE,
    fingerprint: FINGERPRINT,
    identity: [
      { credential_id: 'cred-alice', principal: 'alice' },
      { credential_id: 'cred-agent', principal: 'agent-7' },
    ],
  });
  // Tools: three function tools (one whose connector drifted) and two sandboxed WASM tools.
  const wasm = options.assetsDir ?? assetsDir();
  const wasmTool = async (name: string, file: string) => {
    const bytes = new Uint8Array(readFileSync(join(wasm, file)));
    const d = digest(bytes);
    data.writeModule(d.slice(7), bytes);
    data.writeTool(
      tool(name, {
        input_schema: obj({ text: { type: 'string' } }, ['text']),
        effect_type: 'compute',
        action: 'run',
        resource_pointer: '/text',
        driver: { kind: 'sandbox', ref: d, timeout_ms: 5_000 },
      }) as unknown as Record<string, unknown>,
    );
  };
  data.writeTool(
    tool('files.read', { driver: { kind: 'function', ref: 'demo.files.read', timeout_ms: 5_000 } }) as never,
  );
  data.writeTool(
    tool('files.stat', {
      action: 'stat',
      output_schema: obj({ size: { type: 'integer', minimum: 0 } }, ['size']),
      driver: { kind: 'function', ref: 'demo.files.stat', timeout_ms: 5_000 },
    }) as never,
  );
  data.writeTool(
    tool('deploy', {
      input_schema: obj(
        { service: { type: 'string' }, version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' } },
        ['service', 'version'],
      ),
      output_schema: obj({ deployed: { type: 'string' } }, ['deployed']),
      effect_type: 'compute',
      risk_tier: 'HIGH',
      action: 'deploy',
      resource_pointer: '/service',
      driver: { kind: 'function', ref: 'demo.deploy', timeout_ms: 5_000 },
    }) as never,
  );
  await wasmTool('wasm.echo', 'echo.wasm');
  await wasmTool('wasm.spin', 'spin.wasm');

  const clock = new ManualClock(DEMO_T0);
  const rt = await GovernedRuntime.open(data, { clock });
  const steps: DemoStep[] = [];
  const record = (s: DemoStep) => {
    steps.push(s);
    options.onStep?.(s);
  };
  const alice = { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' };
  const call = async (request: ExecuteRequest): Promise<ExecuteResult> => {
    const r = await rt.execute(request);
    clock.advance(1_000);
    return r;
  };
  const expectCall = async (
    step: string,
    request: ExecuteRequest,
    expected: { status: string; reason: string },
    proves: string,
    extra: (r: ExecuteResult) => boolean = () => true,
  ) => {
    const r = await call(request);
    const got = `${r.status} ${r.reason_code}${r.replayed ? ' (replayed)' : ''}`;
    record({
      step,
      ok: r.status === expected.status && r.reason_code === expected.reason && extra(r),
      expected: `${expected.status} ${expected.reason}`,
      got,
      proves,
    });
    return r;
  };

  try {
    const readArgs = { path: '/data/report.csv' };
    const first = await expectCall(
      'allowed call',
      {
        tool: 'files.read',
        principal: 'alice',
        args: readArgs,
        context: alice,
        idempotency_key: 'read-report-1',
      },
      { status: 'SUCCEEDED', reason: 'ALLOW' },
      'an admissible call runs and its output is released under a signed receipt',
      (r) => (r.output as { text?: string })?.text === 'contents of /data/report.csv',
    );
    await expectCall(
      'denied by policy',
      { tool: 'files.read', principal: 'alice', args: { path: '/data/secret/keys' }, context: alice },
      { status: 'DENIED', reason: 'POLICY_DENY' },
      'a policy deny is final, receipted, and the driver never runs',
      (r) => r.output === undefined,
    );
    await expectCall(
      'denied by schema',
      {
        tool: 'files.read',
        principal: 'alice',
        args_text: '{"path":"/data/a.txt","mode":"rw"}',
        context: alice,
      },
      { status: 'DENIED', reason: 'SCHEMA_VIOLATION' },
      'arguments must match the pinned input schema (the PEP refuses after the guardian allowed)',
    );
    await expectCall(
      'output drift caught',
      { tool: 'files.stat', principal: 'alice', args: readArgs, context: alice },
      { status: 'FAILED', reason: 'ERR_CONNECTOR_CONTRACT_DRIFT' },
      'a connector whose output no longer matches its pinned schema is caught and nothing is released',
      (r) => r.output === undefined,
    );
    await expectCall(
      'idempotent repeat',
      {
        tool: 'files.read',
        principal: 'alice',
        args: readArgs,
        context: alice,
        idempotency_key: 'read-report-1',
      },
      { status: 'SUCCEEDED', reason: 'IDEMPOTENT_REPLAY' },
      'a repeat is re-authorized by every gate, then gets the original output under its own receipt without executing again',
      (r) =>
        r.replayed &&
        r.receipt_hash !== first.receipt_hash &&
        JSON.stringify(r.output) === JSON.stringify(first.output),
    );
    await expectCall(
      'sandboxed WASM tool runs',
      { tool: 'wasm.echo', principal: 'alice', args: { text: 'hello from wasm' }, context: alice },
      { status: 'SUCCEEDED', reason: 'ALLOW' },
      'a WASM tool runs in the deny-all WASI sandbox and its stdout is validated',
      (r) => (r.output as { text?: string })?.text === 'hello from wasm',
    );
    await expectCall(
      'WASM tool exhausts its gas',
      { tool: 'wasm.spin', principal: 'alice', args: { text: 'spin' }, context: alice },
      { status: 'FAILED', reason: 'ERR_COMPUTE_GAS_EXHAUSTED' },
      'gas metering stops a runaway guest deterministically',
    );
    // Escalation: held, then approved by 2 of the 3 approvers after the timelock.
    const deployArgs = { service: 'billing', version: '2.4.1' };
    const held = await expectCall(
      'escalation held',
      { tool: 'deploy', principal: 'alice', args: deployArgs, context: alice, idempotency_key: 'deploy-1' },
      { status: 'ESCALATED', reason: 'APPROVAL_REQUIRED' },
      'a high-risk intent is held for a human quorum',
    );
    const challengeId = held.approval_challenge_id;
    if (!challengeId) throw new CliError('INTERNAL', 'the escalation carried no approval challenge');
    const approve = (signer: Signer, approver: string): SignedEnvelope => {
      const c = rt.guardian.challenge(challengeId);
      if (!c) throw new CliError('INTERNAL', 'approval challenge unknown');
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
    };
    rt.submitApproval(approve(data.signer('approver-1', 'approver'), 'carol'));
    rt.submitApproval(approve(data.signer('approver-3', 'approver'), 'dave'));
    clock.advance(61_000); // past the timelock
    await expectCall(
      'escalation approved 2-of-3',
      { tool: 'deploy', principal: 'alice', args: deployArgs, context: alice, idempotency_key: 'deploy-2' },
      { status: 'SUCCEEDED', reason: 'ALLOW' },
      'two distinct authorized approvers signed the exact intent; the grant is consumed once',
      (r) => (r.output as { deployed?: string })?.deployed === 'billing@2.4.1',
    );
    // Delegation: alice lets agent-7 read /data/public/ only.
    const session = rt.createDelegation({
      delegator: 'alice',
      delegate: 'agent-7',
      grants: [
        { tool: { eq: 'files.read' }, effect_type: { eq: 'fs.read' }, resource: { prefix: '/data/public/' } },
      ],
      ttl_ms: 600_000,
      code_challenge: pkceChallenge(VERIFIER),
      mfa_verified: true,
    });
    const agent = (nonce: string) => ({
      environment_fingerprint: FINGERPRINT,
      credential_id: 'cred-agent',
      delegation: { session_id: session.session_id, code_verifier: VERIFIER, nonce },
    });
    await expectCall(
      'delegated call in scope',
      {
        tool: 'files.read',
        principal: 'agent-7',
        args: { path: '/data/public/menu.txt' },
        context: agent('nonce-0000000001'),
      },
      { status: 'SUCCEEDED', reason: 'ALLOW' },
      'an agent acting for a human gets exactly the granted subset',
    );
    await expectCall(
      'delegated call out of scope',
      {
        tool: 'files.read',
        principal: 'agent-7',
        args: { path: '/data/report.csv' },
        context: agent('nonce-0000000002'),
      },
      { status: 'DENIED', reason: 'DELEGATION_SCOPE_VIOLATION' },
      'outside the grant the delegate is denied, even where the delegator could act',
    );
  } finally {
    await rt.close();
  }

  // Export twice: byte-identical.
  const pack = exportPack(data);
  const again = exportPack(data);
  const packPath = join(dir, 'evidence.tar');
  writeFileSync(packPath, pack.bytes);
  record({
    step: 'export EvidencePack',
    ok: pack.digest === again.digest,
    expected: 'two exports with the same SHA-256',
    got: `${pack.manifest.entries.count + 2} entries, ${pack.bytes.length} bytes, ${pack.digest}`,
    proves: 'the pack is deterministic: identical content gives identical bytes',
  });
  // Pinned to this data directory's registry head, as `helmts verify` does with a data directory.
  const registry = data.registry();
  const trustHead = { seq: registry.seq, head: registry.head };
  const report = await verifyEvidencePack(pack.bytes, {
    trustAnchor: anchor,
    trustHead,
    pinSource: 'data-dir',
  });
  record({
    step: 'verify EvidencePack',
    ok: report.status === 'PASS' && report.freshness.pinned,
    expected: 'PASS, trust freshness pinned',
    got: `${report.status} (${report.checks.filter((c) => c.status === 'PASS').length} checks passed, trust registry at seq ${report.freshness.seq} = the pinned head)`,
    proves:
      "offline, with the pinned trust anchor and registry head: every signature, link, hash and key validity checks out, against a registry no older than the operator's",
  });
  // Tamper a copy: change one receipt's bytes (its reason code) without re-signing.
  const entries = readTar(pack.bytes).map((e) => {
    if (e.path !== 'receipts/000000000002.json') return e;
    const text = new TextDecoder().decode(e.data);
    return {
      path: e.path,
      data: new TextEncoder().encode(
        text.replace(/"sig":"(.)/, (_m, c: string) => `"sig":"${c === 'A' ? 'B' : 'A'}`),
      ),
    };
  });
  const tampered = writeTar(entries);
  const tamperedPath = join(dir, 'evidence-tampered.tar');
  writeFileSync(tamperedPath, tampered);
  const bad = await verifyEvidencePack(tampered, { trustAnchor: anchor });
  const failedCodes = bad.checks.filter((c) => c.status === 'FAILED').map((c) => c.code);
  record({
    step: 'tampered copy rejected',
    ok: bad.status === 'FAILED' && failedCodes.includes('ENTRY_HASHES'),
    expected: 'FAILED',
    got: `${bad.status} (${failedCodes.join(', ')})`,
    proves: 'changing a single byte of one receipt is detected and pinpointed',
  });
  // Condensed: LOW receipts replaced by Merkle inclusion proofs against a signed checkpoint.
  const condensed = exportPack(data, { condense: true });
  const condensedPath = join(dir, 'evidence-condensed.tar');
  writeFileSync(condensedPath, condensed.bytes);
  const cReport = await verifyEvidencePack(condensed.bytes, { trustAnchor: anchor });
  const cCount = readTar(condensed.bytes).filter((e) => e.path.startsWith('condensed/')).length;
  record({
    step: 'condensed pack verifies',
    ok:
      cReport.status === 'PASS' &&
      cCount > 0 &&
      cReport.checks.some((c) => c.code === 'CHECKPOINTS' && c.status === 'PASS'),
    expected: 'PASS with checkpoints',
    got: `${cReport.status}: ${cCount} LOW receipts as inclusion proofs, ${condensed.bytes.length} bytes`,
    proves: 'low-risk receipts can be replaced by Merkle inclusion proofs against a signed checkpoint',
  });
  const rerun = await reexecute(data);
  record({
    step: 're-execution replay',
    ok: rerun.ok && rerun.identical === rerun.calls && rerun.calls > 0,
    expected: 'byte-identical receipts',
    got: rerun.ok
      ? `${rerun.identical}/${rerun.calls} receipts byte-identical (${rerun.events} approval/delegation events replayed)`
      : `${rerun.divergences.length} divergence(s), first at Lamport ${rerun.divergences[0]?.lamport}`,
    proves:
      'the recorded requests, policies, keys and clock readings re-run through the guardian reproduce every decision and receipt',
  });
  const replay = replayEvidencePack(pack.bytes);
  record({
    step: 'replay recorded requests',
    ok: replay.ok && replay.replayed > 0,
    expected: 'no divergence',
    got: replay.ok ? `${replay.replayed} requests, no divergence` : replay.summary,
    proves: 'the recorded requests and clock readings re-derive exactly what was signed',
  });
  data.close();

  const allOk = steps.every((s) => s.ok);
  const json = {
    data_dir: dir,
    trust_anchor: anchor,
    trust_head: `${trustHead.seq}:${trustHead.head}`,
    pack: { path: packPath, sha256: pack.digest, entries: pack.manifest.entries.count + 2 },
    condensed_pack: { path: condensedPath, sha256: condensed.digest },
    tampered_pack: tamperedPath,
    steps,
    verify: report,
  };
  const human = [
    `helmts demo — a governed session on embedded SQLite (${dir})`,
    '',
    ...steps.map(
      (s) =>
        `  ${s.ok ? 'ok  ' : 'FAIL'} ${s.step.padEnd(28)} ${s.got}${s.ok ? '' : `  (expected ${s.expected})`}\n         proves: ${s.proves}`,
    ),
    '',
    `EvidencePack: ${packPath}`,
    `  sha256 ${pack.digest}`,
    `Verify it yourself (offline): helmts verify ${packPath} --trust-anchor ${anchor} --trust-head ${trustHead.seq}:${trustHead.head}`,
    allOk ? 'Every step behaved as expected.' : 'Some steps did NOT behave as expected (see FAIL above).',
  ];
  return { exitCode: allOk ? 0 : 1, json: { ok: allOk, ...json }, human };
}
