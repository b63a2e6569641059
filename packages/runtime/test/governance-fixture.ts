// A data directory whose policy holds `deploy` for a 2-of-3 approval quorum (60 s timelock, 1 h
// ttl), and helpers that act as separate processes would: each step opens its own DataDir.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Signer } from '@helm/crypto';
import { ManualClock } from '@helm/guardian';
import {
  appendGovernanceEvent,
  approvalStatement,
  DataDir,
  GovernedRuntime,
  initDataDir,
  storedChallenge,
  verifiedChallenge,
} from '../src/index.ts';

export const T0 = Date.UTC(2026, 11, 7, 12);
export const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
export const TIMELOCK = 60_000;
export const TTL = 3_600_000;

export function freshGovernance(): { dir: string; anchor: string } {
  const dir = mkdtempSync(join(tmpdir(), 'helm-gov-'));
  const { data, anchor } = initDataDir(dir, {
    chainId: 'gov-test',
    fingerprint: FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'gov-rules',
      version: 1,
      rules: [
        { id: 'allow-echo', effect: 'allow', when: { principal: { in: ['alice'] }, tool: { in: ['echo'] } } },
        {
          id: 'deploy-needs-quorum',
          effect: 'allow',
          when: { principal: { eq: 'alice' }, tool: { eq: 'deploy' } },
          requires_approval: { quorum: 2, role: 'approver', timelock_ms: TIMELOCK, ttl_ms: TTL },
        },
      ],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  });
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'echo',
    description: 'echo its args',
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'deploy',
    description: 'deploy a service version',
    input_schema: {
      type: 'object',
      additionalProperties: false,
      required: ['service', 'version'],
      properties: { service: { type: 'string' }, version: { type: 'string' } },
    },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'HIGH',
    action: 'deploy',
    resource_pointer: '/service',
    driver: { kind: 'function', ref: 'demo.deploy', timeout_ms: 5_000 },
  });
  data.close();
  return { dir, anchor };
}

export const deployCall = (version = '1.2.3') => ({
  tool: 'deploy',
  principal: 'alice',
  args: { service: 'api', version },
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
});

/** One "process": open the runtime of `dir`, run `fn`, close everything. */
export async function withRuntime<T>(
  dir: string,
  clock: ManualClock,
  fn: (rt: GovernedRuntime, data: DataDir) => Promise<T>,
): Promise<T> {
  const data = new DataDir(dir);
  try {
    const rt = await GovernedRuntime.open(data, { clock });
    try {
      return await fn(rt, data);
    } finally {
      await rt.close();
    }
  } finally {
    data.close();
  }
}

/** One "process" that only touches the data directory (no runtime, no lock). */
export function withData<T>(dir: string, fn: (data: DataDir) => T): T {
  const data = new DataDir(dir);
  try {
    return fn(data);
  } finally {
    data.close();
  }
}

/** `helmts approve <id> --key <name>`: an approval.grant event signed by that key. */
export function approve(
  dir: string,
  challengeId: string,
  signer: Signer | string,
  at: number,
  options: { approver?: string; emergency?: boolean } = {},
) {
  return withData(dir, (data) => {
    const key = typeof signer === 'string' ? data.localKey(signer).signer : signer;
    const c = verifiedChallenge(storedChallenge(data, challengeId), data.registry());
    const statement = approvalStatement(c, key, options);
    return appendGovernanceEvent(data, {
      action: 'approval.grant',
      body: { challenge_id: challengeId, statement: statement as never },
      signer: key,
      at,
    });
  });
}

export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? `not a coded error: ${String(error)}`;
  }
}

export async function codeOfAsync(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? `not a coded error: ${String(error)}`;
  }
}

export { ManualClock };
