import { describe, expect, it } from 'vitest';
import { canonicalize, createSigner, digest, signEnvelope } from '../src/index.ts';
import { verifyBoth } from './verify-both.ts';

describe('crypto smoke', () => {
  it('canonicalizes with sorted keys', () => {
    expect(canonicalize({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
  });
  it('signs and verifies an envelope, rejecting tampering', () => {
    const signer = createSigner(new Uint8Array(32).fill(7));
    const env = signEnvelope({ type: 'helm.test.v1', n: 1 }, [signer]);
    const lookup = (id: string) => (id === signer.keyId ? signer.publicKey : undefined);
    expect(verifyBoth(env, 'helm.test.v1', lookup).body).toEqual({ type: 'helm.test.v1', n: 1 });
    const forged = { ...env, payload: signEnvelope({ type: 'helm.test.v1', n: 2 }, [signer]).payload };
    expect(() => verifyBoth(forged, 'helm.test.v1', lookup)).toThrow(/does not verify/);
    expect(digest(new Uint8Array())).toBe(
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});
