// I-AUTHZ-1 — nothing runs unless a current ALLOW decision binds exactly what runs. The attacker
// controls the request object itself: getters that answer differently on each read, a context
// that changes after the check, denied calls retried in every shape.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExecutorError } from '../../src/index.ts';
import { aliceContext, body, build } from '../helpers/world.ts';

describe('I-AUTHZ-1: what is checked is what runs and what is receipted', () => {
  it('a request whose getters change between reads is read once: checked, run and receipted alike', async () => {
    const w = build();
    let reads = 0;
    const request = {
      get tool() {
        return 'files.read';
      },
      get principal() {
        reads += 1;
        return reads === 1 ? 'alice' : 'mallory';
      },
      get args() {
        reads += 1;
        return reads <= 2 ? { path: '/data/ok.csv' } : { path: '/data/secret/key.pem' };
      },
      get context() {
        return aliceContext();
      },
    };
    const r = await w.executor.execute(request as never);
    expect(r.status).toBe('SUCCEEDED');
    expect(w.driverCalls.map((c) => c.args)).toEqual([{ path: '/data/ok.csv' }]);
    expect(body<{ principal: string }>(r.receipt!).principal).toBe('alice');
  });

  it('a request whose fields cannot be read is refused before anything (REQUEST_INVALID)', async () => {
    const w = build();
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    await expect(w.executor.execute(hostile as never)).rejects.toBeInstanceOf(ExecutorError);
    await expect(
      w.executor.execute({ tool: 'files.read', principal: 'alice', tenant: 7 } as never),
    ).rejects.toMatchObject({
      code: 'REQUEST_INVALID',
    });
    await expect(
      w.executor.execute({ tool: 'files.read', principal: 'alice', idempotency_key: { k: 1 } } as never),
    ).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    expect(w.driverCalls).toHaveLength(0);
  });

  it('property: a call the guardian denies never reaches a driver, and is always receipted', async () => {
    const w = build({ p0: { budgets: { default_principal_max: 10_000, default_tenant_max: 10_000 } } });
    let i = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('alice', 'agent-7', 'mallory'),
        fc.constantFrom('cred-alice', 'cred-agent', 'none'),
        fc.constantFrom('/data/ok', '/data/secret/k', '/etc/shadow'),
        async (principal, credential, path) => {
          const before = w.driverCalls.length;
          const r = await w.executor.execute({
            tool: 'files.read',
            principal,
            args: { path: `${path}-${i++}` },
            context: aliceContext({ credential_id: credential }),
          });
          expect(r.receipt).not.toBeNull();
          const allowed = principal === 'alice' && credential === 'cred-alice' && path === '/data/ok';
          expect(r.status).toBe(allowed ? 'SUCCEEDED' : 'DENIED');
          expect(w.driverCalls.length - before).toBe(allowed ? 1 : 0);
        },
      ),
      { seed: 71, numRuns: 60 },
    );
  });

  it('the guardian decides on the very context the request digest covers (a flipping getter is read once)', async () => {
    const w = build();
    let reads = 0;
    const context = {
      environment_fingerprint: aliceContext().environment_fingerprint,
      get credential_id() {
        reads += 1;
        // hashed as the agent's credential, then (if read again) alice's
        return reads === 1 ? 'cred-agent' : 'cred-alice';
      },
    };
    const r = await w.executor.execute({
      tool: 'files.read',
      principal: 'alice',
      args: { path: '/data/ok.csv' },
      context,
    });
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'GATE_IDENTITY_ISOLATION' });
    expect(reads).toBe(1);
    expect(w.driverCalls).toHaveLength(0);
  });
});
