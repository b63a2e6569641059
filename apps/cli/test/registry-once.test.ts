// `helmts run` verifies the trust registry once: the credential lookup's verified registry is handed
// to the runtime's open (RuntimeOptions.registry), which uses it only while it is still the store's
// registry. The attacker's cases: a registry read before a key was revoked (stale), and one of
// another data directory (another anchor) — both must be verified afresh, never trusted.
import { GovernedRuntime } from '@helm/runtime';
import { TrustRegistry } from '@helm/trust';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keysGenerate, keysRevoke, runCall } from '../src/commands/index.ts';
import { initEchoHome, tempRoot } from './helpers.ts';

const root = tempRoot('helm-registry-once-');
const clock = { now: () => Date.now() };

afterEach(() => vi.restoreAllMocks());

describe('the trust registry is verified once per run, and only a current one is reused', () => {
  it('helmts run (credential looked up) verifies the registry once', async () => {
    const { data } = await initEchoHome(root, 'once');
    const load = vi.spyOn(TrustRegistry, 'load');
    const r = await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":1}' });
    expect(r.exitCode).toBe(0);
    expect(load).toHaveBeenCalledTimes(1);
    data.close();
  });

  it('open uses the given registry while it is the head', async () => {
    const { data } = await initEchoHome(root, 'current');
    const given = data.registry();
    const rt = await GovernedRuntime.open(data, { clock, registry: given });
    expect(rt.registry).toBe(given);
    await rt.close();
    data.close();
  });

  it('a registry read before a key was revoked is not used: open verifies the new head', async () => {
    const { data } = await initEchoHome(root, 'stale');
    expect(keysGenerate(data, 'approver-x', 'approver').exitCode).toBe(0);
    const stale = data.registry();
    const keyid = data.localKey('approver-x').signer.keyId;
    expect(stale.keyValidFor(keyid, 'approver', stale.seq).ok).toBe(true);
    expect(keysRevoke(data, 'approver-x').exitCode).toBe(0);
    const rt = await GovernedRuntime.open(data, { clock, registry: stale });
    expect(rt.registry).not.toBe(stale);
    expect(rt.registry.seq).toBe(stale.seq + 1);
    expect(rt.registry.keyValidFor(keyid, 'approver', rt.registry.seq).ok).toBe(false);
    await rt.close();
    data.close();
  });

  it("another data directory's registry (another anchor) is not used", async () => {
    const { data } = await initEchoHome(root, 'mine');
    const other = await initEchoHome(root, 'theirs');
    const foreign = other.data.registry();
    other.data.close();
    expect(foreign.headAt(1)).not.toBe(data.config().trust_anchor);
    const rt = await GovernedRuntime.open(data, { clock, registry: foreign });
    expect(rt.registry).not.toBe(foreign);
    expect(rt.registry.headAt(1)).toBe(data.config().trust_anchor);
    await rt.close();
    data.close();
  });
});
