// Red team — I-REGISTRY-1 / I-ROOT-1 at the command line, against a data-directory writer who can
// read the executor seed (the executor-key insider with write access to helm.db). A non-root key
// may rotate itself without root (trust-event.md), so the attacker appends a valid self-rotation
// E → N (signed by E and N only) to the trust documents in helm.db. The registry promises that a
// root-quorum `key_revoke` of any valid non-root key is accepted as the very next event, but the
// CLI can only name keys by their file in keys/: `helmts keys revoke executor` targets E (already
// rotated: TRUST_KEY_REVOKED), `helmts keys rotate executor` likewise, and N — the attacker's key,
// holding `executor` at the head — cannot be revoked with the offline root keys at all.
import { join } from 'node:path';
import { createSigner } from '@helm/crypto';
import { DataDir } from '@helm/runtime';
import { commitTrustEvent } from '@helm/trust';
import { describe, expect, it } from 'vitest';
import { runCli, tempRoot } from '../helpers.ts';

const root = tempRoot('helm-redteam-successor-');
const cli = (dir: string, ...args: string[]) => runCli(['--data-dir', dir, ...args]);

describe('I-ROOT-2 (redteam, I-REGISTRY-1): the operator can revoke the successor of a key that rotated itself', () => {
  it('`helmts keys revoke executor` with the offline root keys leaves no attacker executor key valid', async () => {
    const dir = join(root, 'home');
    const offline = join(root, 'offline');
    expect((await cli(dir, 'init', '--root-key-dir', offline, '--json')).code).toBe(0);

    // The attacker: reads keys/executor.json, self-rotates to its own key N, appends to helm.db.
    const data = new DataDir(dir);
    const executor = data.localKey('executor').signer;
    const attacker = createSigner(new Uint8Array(32).fill(0x66));
    const registry = data.registry();
    const env = commitTrustEvent(
      registry,
      { kind: 'key_rotate', keyid: executor.keyId, newPublicKey: attacker.publicKey },
      [executor, attacker],
    );
    data.appendTrustEvent(registry, env);
    data.close();
    const before = new DataDir(dir);
    const reg0 = before.registry();
    before.close();
    expect(reg0.keyValidFor(attacker.keyId, 'executor', reg0.seq).ok).toBe(true);

    // The operator notices and revokes the executor key with the offline root keys.
    await cli(dir, 'keys', 'revoke', 'executor', '--root-key-dir', offline, '--json');
    const after = new DataDir(dir);
    const reg = after.registry();
    after.close();
    expect(reg.keyValidFor(attacker.keyId, 'executor', reg.seq).ok).toBe(false);
  });
});
