// Recomputes the test vector of docs/spec/evidencepack.md §7.
import { canonicalBytes, createSigner, digest, signEnvelope, toHex } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { writeTar } from '../src/index.ts';

describe('docs/spec/evidencepack.md test vector', () => {
  it('reproduces the manifest bytes, digest, signature and archive digest', () => {
    const signer = createSigner(new Uint8Array(32).fill(1));
    expect(signer.keyId).toBe('ed25519:34750f98bd59fcfc946da45aaabe933be154a4b5094e1c4abf42866505f3c97e');
    const data = new TextEncoder().encode('{"hello":"evidence"}');
    expect(digest(data)).toBe('sha256:cdb82567a0e5bbd182d4f958164b3880f364c4edbf6fe2f72c7c539c0b1e1ead');
    const body = {
      type: 'helm.evidencepack.manifest.v1',
      format_version: 1,
      producer: 'helm-ts/vector',
      scope: {
        chain_id: 'vector',
        session_id: null,
        from_lamport: 0,
        to_lamport: 0,
      },
      head: null,
      trust_anchor: digest(new TextEncoder().encode('genesis')),
      counts: { receipts: 0, decisions: 0, nodes: 0, checkpoints: 0 },
      entries: [{ path: 'notes/hello.json', size: 20, sha256: digest(data) }],
    };
    const bytes = canonicalBytes(body);
    expect(toHex(bytes).slice(0, 40)).toBe('7b22636f756e7473223a7b22636865636b706f69');
    expect(digest(bytes)).toBe('sha256:93ed2f8cbbf99a1088c6651a310eba4a405fd96558727005eb98e922dcfa6e4c');
    const env = signEnvelope(body, [signer]);
    expect(env.signatures[0]?.sig).toBe(
      'iwrnOblqkECDZ_KGxMp4aiXpDGRQ3p03ilcDlLe08LAjahZpSAgmX59Rwnxm3WAm5p7bGhEVQlvMwxPRTss2CQ',
    );
    const tar = writeTar([
      { path: 'notes/hello.json', data },
      { path: 'manifest.json', data: canonicalBytes(env) },
    ]);
    expect(tar.length).toBe(3584);
    expect(digest(tar)).toBe('sha256:f2fdafa2978dd2b973dab5297d7c17404185649182f12738339c39cfecc5b180');
    expect(new TextDecoder().decode(tar.subarray(148, 156))).toBe('011712\0 ');
  });
});
