// I-GOVERN-2 / I-MULTINODE-2 through real, separate `helmts` processes on a shared PostgreSQL
// database (a fresh database for this file; a missing server fails, never skips): a call held on
// node A is approved through node B's data directory (`helmts approve --database-url`), its state
// is read from the database (`approvals show`), and `run --challenge` sent to both nodes at once
// runs the approved call exactly once cluster-wide; a further `run --challenge` is refused.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../packages/store-postgres/test/harness.ts';
import { initCommand, policySign, toolRegister } from '../src/commands/index.ts';
import { spawnHelmts } from './cli-process.ts';

const db = await createTestDatabase('cli_dbappr');
const root = mkdtempSync(join(tmpdir(), 'helm-cli-dbappr-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await db.drop();
});

const errorCode = (json: Record<string, unknown> | undefined): unknown =>
  (json?.error as { code?: unknown } | undefined)?.code;

/** A data directory whose `deploy` needs one approver (no timelock). */
async function home(dir: string): Promise<void> {
  initCommand(dir);
  const data = new DataDir(dir);
  const bundle = join(root, 'bundle.json');
  writeFileSync(
    bundle,
    JSON.stringify({
      type: 'helm.policy.bundle.v1',
      name: 'approvals',
      version: 2,
      rules: [
        {
          id: 'deploy-approved',
          effect: 'allow',
          when: { principal: { eq: 'local' }, tool: { eq: 'deploy' } },
          requires_approval: { quorum: 1, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
        },
      ],
    }),
  );
  expect(policySign(data, bundle).exitCode).toBe(0);
  const file = join(root, 'deploy.json');
  writeFileSync(
    file,
    JSON.stringify({
      type: 'helm.tool.v1',
      name: 'deploy',
      description: 'deploy',
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
      effect_type: 'compute',
      risk_tier: 'HIGH',
      action: 'deploy',
      driver: { kind: 'function', ref: 'demo.deploy', timeout_ms: 5_000 },
    }),
  );
  expect((await toolRegister(data, file, undefined)).exitCode).toBe(0);
  data.close();
}

describe('approvals on a shared database (real processes)', () => {
  it('held on A, approved through B, raced on both: runs exactly once', async () => {
    const url = db.url;
    expect((await spawnHelmts(['db', 'migrate', '--database-url', url, '--json'])).code).toBe(0);
    const a = join(root, 'node-a');
    await home(a);
    const b = join(root, 'node-b');
    cpSync(a, b, { recursive: true });
    const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(b, 'config.json'), JSON.stringify({ ...config, chain_id: 'node-b' }));
    const pub = await spawnHelmts(['--data-dir', a, 'db', 'publish-trust', '--database-url', url, '--json']);
    expect(pub.code, pub.stdout + pub.stderr).toBe(0);
    rmSync(join(b, 'helm.db'), { force: true });
    const onDb = (node: string, args: string[]) =>
      spawnHelmts(['--data-dir', node, ...args, '--json'], { env: { HELM_DATABASE_URL: url } });

    const held = await onDb(a, [
      'run',
      '--tool',
      'deploy',
      '--principal',
      'local',
      '--args',
      '{"service":"api","version":"2"}',
    ]);
    expect(held.code, held.stdout + held.stderr).toBe(1);
    expect(held.json).toMatchObject({ status: 'ESCALATED', reason_code: 'APPROVAL_REQUIRED' });
    const id = (held.json as { approval_challenge_id: string }).approval_challenge_id;

    // Approved through B's data directory: the challenge is read from the database.
    const approved = await onDb(b, ['approve', id, '--key', join(b, 'keys', 'approver-1.json')]);
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);
    const shown = await onDb(b, ['approvals', 'show', id]);
    expect(shown.code, shown.stdout + shown.stderr).toBe(0);
    expect(JSON.stringify(shown.json)).toContain('"approved"');

    // The approved call sent to both nodes at once: exactly one runs.
    const [x, y] = await Promise.all([a, b].map((node) => onDb(node, ['run', '--challenge', id])));
    const statuses = [x, y].map((r) => (r?.json as { status?: string } | undefined)?.status);
    expect(
      statuses.filter((s) => s === 'SUCCEEDED'),
      `${x?.stdout}\n${y?.stdout}`,
    ).toHaveLength(1);
    // Once used, the challenge is closed for every node.
    const again = await onDb(b, ['run', '--challenge', id]);
    expect(again.code).toBe(1);
    expect(errorCode(again.json)).toBe('CHALLENGE_CLOSED');
    expect(existsSync(join(b, 'helm.db'))).toBe(false);
  });
});
