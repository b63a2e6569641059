// Recomputes the test vector of docs/spec/evidencepack.md §7.
import { canonicalBytes, createSigner, digest, signEnvelope, toHex } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { bindEntries, writeTar } from '../src/index.ts';

describe('docs/spec/evidencepack.md test vector', () => {
  it('reproduces the manifest bytes, digest, signature and archive digest', () => {
    const signer = createSigner(new Uint8Array(32).fill(1));
    expect(signer.keyId).toBe('ed25519:34750f98bd59fcfc946da45aaabe933be154a4b5094e1c4abf42866505f3c97e');
    const data = new TextEncoder().encode('{"hello":"evidence"}');
    expect(digest(data)).toBe('sha256:cdb82567a0e5bbd182d4f958164b3880f364c4edbf6fe2f72c7c539c0b1e1ead');
    const list = [{ path: 'notes/hello.json', size: 20, sha256: digest(data) }];
    const bound = bindEntries(list);
    // manifest/entries.json: the JCS entry list; the manifest binds its size, SHA-256 and RFC 9162 root
    expect(new TextDecoder().decode(bound.data)).toBe(
      '[{"path":"notes/hello.json","sha256":"sha256:cdb82567a0e5bbd182d4f958164b3880f364c4edbf6fe2f72c7c539c0b1e1ead","size":20}]',
    );
    expect(bound.ref).toEqual({
      count: 1,
      size: 122,
      sha256: 'sha256:de89546cddd72fe9e33f795aaea705fb1c260cd21bcf30a811e65901a110a96b',
      // one leaf: SHA-256(0x00 || JCS(entry))
      root: 'sha256:53aaa978bdf25d0dc71e7082ee600856b6707ecadf500c6f8d915fe9f45526b5',
    });
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
      entries: bound.ref,
    };
    const bytes = canonicalBytes(body);
    expect(toHex(bytes)).toBe(
      '7b22636f756e7473223a7b22636865636b706f696e7473223a302c226465636973696f6e73223a302c226e6f646573223a302c227265636569707473223a307d2c22656e7472696573223a7b22636f756e74223a312c22726f6f74223a227368613235363a35336161613937386264663235643064633731653730383265653630303835366236373037656361646635303063366638643931356665396634353532366235222c22736861323536223a227368613235363a64653839353436636464643732666539653333663739356161656137303566623163323630636432316263663330613831316536353930316131313061393662222c2273697a65223a3132327d2c22666f726d61745f76657273696f6e223a312c2268656164223a6e756c6c2c2270726f6475636572223a2268656c6d2d74732f766563746f72222c2273636f7065223a7b22636861696e5f6964223a22766563746f72222c2266726f6d5f6c616d706f7274223a302c2273657373696f6e5f6964223a6e756c6c2c22746f5f6c616d706f7274223a307d2c2274727573745f616e63686f72223a227368613235363a61656562616434613739366663633265313564633463363036316234356564396233373366323661646663373938636137643264386363353831383237313865222c2274797065223a2268656c6d2e65766964656e63657061636b2e6d616e69666573742e7631227d',
    );
    expect(digest(bytes)).toBe('sha256:e25c4620340f63187d42e112ae2dc6f07887c51dbd7be367cfbbe319e2902dac');
    const env = signEnvelope(body, [signer]);
    expect(env.signatures[0]?.sig).toBe(
      'VWjhwS07AQYyCnjFPgcHedPnD19WiAL3tuxA8eJ0tIuHn6iX1Npz-jG4uvOxpHSVzIkHflKhq3rM_aL2MfzrCw',
    );
    const tar = writeTar([
      { path: 'notes/hello.json', data },
      { path: 'manifest/entries.json', data: bound.data },
      { path: 'manifest.json', data: canonicalBytes(env) },
    ]);
    expect(tar.length).toBe(4608);
    expect(digest(tar)).toBe('sha256:d13eefab462b85fe4e62200ecbfebe4eedbaa7c136d7fa6d11489efd65140b7b');
    expect(new TextDecoder().decode(tar.subarray(148, 156))).toBe('011714\0 ');
  });
});
