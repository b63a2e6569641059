// Shared set-up of the gateway tests: a data directory whose policy allows some fixture tools for
// `local`, holds `deploy` for one approver and has no rule for `write` (default deny), and a
// gateway.json whose one stdio upstream is the real SDK server in fixtures/upstream.mjs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  appendGovernanceEvent,
  approvalStatement,
  DataDir,
  initDataDir,
  storedChallenge,
  verifiedChallenge,
} from '@helm/runtime';
import { afterAll } from 'vitest';
import { type GatewayConfig, parseGatewayConfig } from '../src/index.ts';

export const FIXTURE = fileURLToPath(new URL('./fixtures/upstream.mjs', import.meta.url));
export const FINGERPRINT = `sha256:${'cd'.repeat(32)}`;

export function tempRoot(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

const allowed = (upstream: string) =>
  ['echo', 'rugpull', 'huge', 'hang', 'inject', 'drift', 'sample', 'env', 'fail', 'slow', 'progress'].map(
    (t) => `mcp.${upstream}.${t}`,
  );

/** A fresh data directory with the gateway policy (for the tools of `upstream`). */
export function gatewayHome(dir: string, upstream = 'fx'): void {
  const ALLOWED = allowed(upstream);
  const { data } = initDataDir(dir, {
    chainId: 'mcp-test',
    fingerprint: FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'mcp-gateway-test',
      version: 1,
      rules: [
        { id: 'allow-fixture', effect: 'allow', when: { principal: { eq: 'local' }, tool: { in: ALLOWED } } },
        {
          id: 'deploy-needs-approval',
          effect: 'allow',
          when: { principal: { eq: 'local' }, tool: { eq: `mcp.${upstream}.deploy` } },
          requires_approval: { quorum: 1, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
        },
      ],
    },
    identity: [{ credential_id: 'cred-local', principal: 'local' }],
  } as never);
  data.close();
}

/** gateway.json for the fixture upstream running in `cwd`. */
export function fixtureConfig(cwd: string, extra: Record<string, unknown> = {}): GatewayConfig {
  return parseGatewayConfig(
    {
      type: 'helm.mcp.gateway.v1',
      principal: 'local',
      upstreams: {
        fx: {
          transport: 'stdio',
          command: process.execPath,
          args: [FIXTURE],
          cwd,
          env: { FIXTURE_MODE: 'test' },
        },
      },
      tools: { fx__echo: { effect_type: 'read', risk_tier: 'LOW', action: 'echo' } },
      call_timeout_ms: 4_000,
      max_result_bytes: 100_000,
      ...extra,
    },
    cwd,
    process.env,
  );
}

/** `helmts approve <id> --key approver-1` from "another process" (its own DataDir, no runtime). */
export function approveChallenge(dir: string, challengeId: string): void {
  const data = new DataDir(dir);
  try {
    const key = data.localKey('approver-1').signer;
    const c = verifiedChallenge(storedChallenge(data, challengeId), data.registry());
    appendGovernanceEvent(data, {
      action: 'approval.grant',
      body: { challenge_id: challengeId, statement: approvalStatement(c, key, {}) as never },
      signer: key,
      at: Date.now(),
    });
  } finally {
    data.close();
  }
}

/** Receipt bodies (tool, status, reason_code) of the data directory, in chain order. */
export function receipts(dir: string): { tool: string; status: string; reason_code: string }[] {
  const data = new DataDir(dir);
  try {
    return data.store
      .receiptsSync({ chainId: data.config().chain_id })
      .map((r) => JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString()));
  } finally {
    data.close();
  }
}
