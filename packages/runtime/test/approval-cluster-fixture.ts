// The approval-cluster set-up shared by the PostgreSQL approval tests (approvals-cluster-postgres,
// redteam-gov-*, redfix-gov-*): a template data directory whose `deploy` needs `quorum` approvers
// (no timelock), published to one schema of the test database, and a reader of a chain's receipt
// statuses. Each test file still owns its database, its temp root and its scenarios.
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { type DataDir, initDataDir, publishTrustRegistry } from '../src/index.ts';

export const APPROVAL_FINGERPRINT = `sha256:${'c6'.repeat(32)}`;

/** alice's `deploy` call for `version`, bound through cred-alice. */
export const deployRequest = (version: string) => ({
  tool: 'deploy',
  principal: 'alice',
  args: { service: 'api', version },
  context: { environment_fingerprint: APPROVAL_FINGERPRINT, credential_id: 'cred-alice' },
});

/** A template under `root` whose `deploy` needs `quorum` approvers (no timelock), published to `schema` at `url`. */
export async function approvalTemplate(
  root: string,
  url: string,
  schema: string,
  quorum = 1,
): Promise<DataDir> {
  const { data } = initDataDir(join(root, `t-${schema}`), {
    chainId: `t-${schema}`,
    fingerprint: APPROVAL_FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version: 1,
      rules: [
        {
          id: 'deploy-needs-approval',
          effect: 'allow',
          when: { principal: { eq: 'alice' }, tool: { eq: 'deploy' } },
          requires_approval: { quorum, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
        },
      ],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
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
  const s = await openPostgresStore({ connectionString: url, nodeId: 'setup', schema, groupCommit: false });
  try {
    await publishTrustRegistry(data, s);
  } finally {
    await s.close();
  }
  data.close();
  return data;
}

/** Statuses of the receipts of `tool` on `chain`. */
export async function receiptStatuses(
  s: { receipts(q: { chainId: string }): Promise<readonly { envelope: { payload: string } }[]> },
  chain: string,
  tool: string,
): Promise<string[]> {
  return (await s.receipts({ chainId: chain }))
    .map(
      (r) =>
        JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString('utf8')) as {
          tool?: string;
          status?: string;
        },
    )
    .filter((b) => b.tool === tool)
    .map((b) => String(b.status));
}
