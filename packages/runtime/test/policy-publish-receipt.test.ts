// I-GOVERN-1 for `policy.publish` (embedded store): a P1 bundle published through the governance
// log leaves a `helm.admin.policy.publish` receipt on the chain when it is applied, so an
// EvidencePack shows — and its verifier checks — who put which bundle in force and when, not only
// the changed policy_hash of later decisions. The PostgreSQL counterpart is in
// policy-publish-postgres.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest, type Signer, signEnvelope } from '@helm/crypto';
import { envelopeBody, verifyEvidencePack } from '@helm/evidencepack';
import { afterAll, describe, expect, it } from 'vitest';
import {
  exportPack,
  GovernedRuntime,
  initDataDir,
  publishPolicyBundle,
  readGovernanceApplications,
  reexecute,
} from '../src/index.ts';

const root = mkdtempSync(join(tmpdir(), 'helm-runtime-publish-receipt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let clockMs = Date.UTC(2026, 11, 8, 4);
const clock = { now: () => clockMs };

const rules = (allowLocal: boolean) =>
  allowLocal ? [{ id: 'local-any', effect: 'allow', when: { principal: { eq: 'local' } } }] : [];

function home() {
  const { data, anchor } = initDataDir(join(root, 'home'), {
    bundle: { type: 'helm.policy.bundle.v1', name: 'all', version: 1, rules: rules(true) },
  });
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'echo',
    description: 'echo',
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  return { data, anchor };
}
type Data = ReturnType<typeof home>['data'];

const bundle = (signer: Signer, version: number, allowLocal: boolean): SignedEnvelope =>
  signEnvelope({ type: 'helm.policy.bundle.v1', name: 'all', version, rules: rules(allowLocal) } as never, [
    signer,
  ]);

async function run(data: Data, i: number) {
  clockMs += 1000;
  const rt = await GovernedRuntime.open(data, { clock });
  try {
    const r = await rt.execute({
      tool: 'echo',
      principal: 'local',
      args: { i } as never,
      context: {
        environment_fingerprint: data.config().environment_fingerprint,
        credential_id: 'cred-local',
      },
    });
    return { status: r.status, policy: rt.guardian.policyHash() };
  } finally {
    await rt.close();
  }
}

describe('I-GOVERN-1: policy.publish is receipted helm.admin.policy.publish (embedded store)', () => {
  it('applying a publication appends its admin receipt; the exported pack verifies; re-execution reproduces it', async () => {
    const { data, anchor } = home();
    const policy = data.localKey('policy').signer;
    const before = await run(data, 1);
    expect(before.status).toBe('SUCCEEDED');
    clockMs += 1000;
    const event = await publishPolicyBundle(data, bundle(policy, 2, false), policy, clockMs);
    const after = await run(data, 2);
    expect(after.status).toBe('DENIED');
    expect(after.policy).not.toBe(before.policy);
    expect(readGovernanceApplications(data).get(event.seq)).toMatchObject({ outcome: 'applied' });

    const admin = data.store
      .receiptsSync({ chainId: data.config().chain_id })
      .map((r) =>
        envelopeBody<{
          tool: string;
          principal: string;
          status: string;
          decision_id: string;
          policy_hash: string;
        }>(r.envelope),
      )
      .filter((b) => b.tool.startsWith('helm.admin.'));
    // One receipt, by the publisher's key, naming the signed event; made under the new bundle.
    expect(admin).toEqual([
      expect.objectContaining({
        tool: 'helm.admin.policy.publish',
        principal: policy.keyId,
        status: 'SUCCEEDED',
        decision_id: event.digest,
        policy_hash: after.policy,
      }),
    ]);

    const pack = exportPack(data);
    const report = await verifyEvidencePack(pack.bytes, { trustAnchor: anchor });
    expect(report.status, JSON.stringify(report.checks.filter((c) => c.status !== 'PASS'))).toBe('PASS');
    expect(report.checks.find((c) => c.code === 'DECISIONS')?.status).toBe('PASS');
    const re = await reexecute(data);
    expect(re.divergences).toEqual([]);
    expect(re.ok).toBe(true);
    // The receipt's recorded request is the signed event (its bundle's bytes included).
    expect(digest(canonicalBytes(event.envelope))).toBe(event.digest);
    data.close();
  });
});
