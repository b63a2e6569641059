// I-SESSION-1 — a receipt names a session only when the guardian verified it (a delegation
// presentation). Whatever session id a caller invents — in the request or its context — no receipt,
// admission or idempotency key carries it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aliceContext, body, build } from '../helpers/world.ts';

describe('I-SESSION-1: receipts name only verified sessions', () => {
  it('property: a caller-invented session id never reaches a receipt (allowed, denied and unknown-tool calls)', async () => {
    const w = build({ p0: { budgets: { default_principal_max: 10_000, default_tenant_max: 10_000 } } });
    let i = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.constantFrom('files.read', 'no.such.tool'),
        fc.constantFrom('/data/ok.csv', '/data/secret/x'),
        async (invented, tool, path) => {
          const r = await w.executor.execute({
            tool,
            principal: 'alice',
            args: { path: `${path}-${i++}` },
            session_id: invented,
            context: aliceContext({ session_id: invented }),
          } as never);
          expect(r.receipt).not.toBeNull();
          expect(body<{ session_id: unknown }>(r.receipt!).session_id).toBeNull();
        },
      ),
      { seed: 51, numRuns: 60 },
    );
  });

  it('a verified delegation session is recorded', async () => {
    const w = build();
    const { session } = w.guardian.delegations!.create({
      delegator: 'alice',
      delegate: 'agent-7',
      grants: [
        { tool: { eq: 'files.read' }, effect_type: { eq: 'fs.read' }, resource: { prefix: '/data/public/' } },
      ],
      ttl_ms: 600_000,
      code_challenge: (await import('@helm/guardian')).pkceChallenge(`${'v'.repeat(43)}-verifier_0123456789`),
      mfa_verified: true,
    });
    const r = await w.executor.execute({
      tool: 'files.read',
      principal: 'agent-7',
      args: { path: '/data/public/menu.txt' },
      context: {
        environment_fingerprint: aliceContext().environment_fingerprint,
        credential_id: 'cred-agent',
        delegation: {
          session_id: session.session_id,
          code_verifier: `${'v'.repeat(43)}-verifier_0123456789`,
          nonce: 'nonce-0000000001',
        },
      },
    });
    expect(r.status).toBe('SUCCEEDED');
    expect(body<{ session_id: unknown }>(r.receipt!).session_id).toBe(session.session_id);
  });
});
