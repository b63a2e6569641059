// Key rotation in @helm/runtime (the CLI's `keys rotate` is a shell over it): a policy key's
// successor re-signs the bundle and receipt policies it signed, so the directory still opens; a
// root key is never rotated outside the ceremony; the ceremony replaces every root key found.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  initDataDir,
  loadDataDirPolicy,
  planRootRotation,
  RuntimeError,
  rotateKey,
  rotateRootKeys,
} from '../src/index.ts';

const root = mkdtempSync(join(tmpdir(), 'helm-key-rotation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('key rotation (runtime)', () => {
  it('a policy key rotation re-signs the bundle in force; the old key no longer verifies it', () => {
    const { data } = initDataDir(join(root, 'policy'), { chainId: 'kr-policy' });
    try {
      const before = data.signedBundle().signatures[0]?.keyid;
      const r = rotateKey(data, 'policy');
      expect(r.old_keyid).toBe(before);
      expect(r.resigned).toContain('policy/bundle.signed.json');
      expect(data.signedBundle().signatures[0]?.keyid).toBe(r.new_keyid);
      expect(() => loadDataDirPolicy(data, data.registry())).not.toThrow();
      expect(data.registry().keyValidFor(r.old_keyid, 'policy', data.registry().seq).ok).toBe(false);
    } finally {
      data.close();
    }
  });

  it('a root key is refused outside the ceremony; the ceremony rotates every root key found', () => {
    const { data } = initDataDir(join(root, 'root'), { chainId: 'kr-root' });
    try {
      expect(() => rotateKey(data, 'root')).toThrow(RuntimeError);
      const plan = planRootRotation(data);
      expect(plan.found.length).toBeGreaterThanOrEqual(1);
      const seq = data.registry().seq;
      const done = rotateRootKeys(data);
      expect(done.rotated.map((x) => x.old_keyid)).toEqual(plan.found.map((k) => k.keyid));
      expect(done.trust_seq).toBe(seq + plan.found.length);
      for (const x of done.rotated)
        expect(data.registry().keyValidFor(x.new_keyid, 'root', done.trust_seq).ok).toBe(true);
    } finally {
      data.close();
    }
  });
});
