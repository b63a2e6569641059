import { MAX_ENVELOPE_SIGNATURES, type SignedEnvelope } from '@helm/contracts';
import { describe, expect, it } from 'vitest';
import {
  type AsyncSigner,
  CryptoError,
  canonicalBytes,
  createKeyRing,
  createSigner,
  fromBase64Url,
  isEnvelopeType,
  nobleBackend,
  openEnvelope,
  openVerifiedEnvelope,
  preAuthEncoding,
  type Signer,
  signEnvelope,
  signEnvelopeAsync,
  toAsyncSigner,
  toBase64Url,
  verifyEnvelope,
} from '../src/index.ts';
import { verifyBoth } from './verify-both.ts';

const TYPE = 'helm.test.v1';
const alice = createSigner(new Uint8Array(32).fill(1));
const bob = createSigner(new Uint8Array(32).fill(2));
const carol = createSigner(new Uint8Array(32).fill(3));
const keys = new Map([alice, bob, carol].map((s) => [s.keyId, s.publicKey]));
const lookup = (id: string) => keys.get(id);
const body = { type: TYPE, n: 1, nested: { b: [1, 'two'], a: null } };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return undefined;
}

/** Re-sign arbitrary payload bytes (to test verifier checks that come after the signature). */
function signRaw(type: string, payload: Uint8Array, signer: Signer = alice): SignedEnvelope {
  return {
    type,
    payload: toBase64Url(payload),
    signatures: [{ keyid: signer.keyId, sig: toBase64Url(signer.sign(preAuthEncoding(type, payload))) }],
  };
}

describe('signEnvelope / verifyEnvelope', () => {
  it('round-trips and returns the exact signed bytes', () => {
    const env = signEnvelope(body, [alice]);
    expect(env.type).toBe(TYPE);
    expect(fromBase64Url(env.payload)).toEqual(canonicalBytes(body));
    const verified = verifyBoth(env, TYPE, lookup);
    expect(verified.body).toEqual(body);
    expect(verified.payload).toEqual(canonicalBytes(body));
    expect(verified.keyIds).toEqual([alice.keyId]);
    expect(Object.getPrototypeOf(verified.body)).toBe(Object.prototype);
  });

  it('is deterministic and independent of key order in the body', () => {
    const a = signEnvelope({ type: TYPE, x: 1, y: 2 }, [alice]);
    const b = signEnvelope({ y: 2, x: 1, type: TYPE }, [alice]);
    expect(a).toEqual(b);
  });

  it('PAE is HELMSIG1 SP len(type) SP type SP len(payload) SP payload', () => {
    const pae = preAuthEncoding('helm.x.v1', new TextEncoder().encode('{"a":1}'));
    expect(new TextDecoder().decode(pae)).toBe('HELMSIG1 9 helm.x.v1 7 {"a":1}');
    expect(new TextDecoder().decode(preAuthEncoding('helm.x.v1', new Uint8Array()))).toBe(
      'HELMSIG1 9 helm.x.v1 0 ',
    );
    // len(type) counts UTF-8 bytes, not UTF-16 code units
    expect(new TextDecoder().decode(preAuthEncoding('h\u00e9', new Uint8Array()))).toBe(
      'HELMSIG1 3 h\u00e9 0 ',
    );
  });

  it('accepts a key ring instead of a lookup function', () => {
    const env = signEnvelope(body, [alice, bob]);
    const ring = createKeyRing([alice.publicKey, bob.publicKey]);
    expect(verifyBoth(env, TYPE, ring).keyIds).toEqual([alice.keyId, bob.keyId]);
    expect(code(() => verifyBoth(env, TYPE, createKeyRing([alice.publicKey])))).toBe('ENVELOPE_KEY_UNKNOWN');
  });

  it('verifies with the noble backend too', () => {
    const env = signEnvelope(body, [createSigner(new Uint8Array(32).fill(1), nobleBackend)]);
    expect(verifyBoth(env, TYPE, lookup, { backend: nobleBackend }).keyIds).toEqual([alice.keyId]);
    expect(verifyBoth(env, TYPE, lookup).keyIds).toEqual([alice.keyId]);
  });

  it('supports several signers and async (KMS-style) signers', async () => {
    const env = signEnvelope(body, [alice, bob]);
    expect(verifyBoth(env, TYPE, lookup).keyIds).toEqual([alice.keyId, bob.keyId]);
    const remote: AsyncSigner = {
      keyId: carol.keyId,
      publicKey: carol.publicKey,
      sign: async (m) => carol.sign(m),
    };
    const envAsync = await signEnvelopeAsync(body, [alice, remote, toAsyncSigner(bob)]);
    expect(verifyBoth(envAsync, TYPE, lookup).keyIds).toEqual([alice.keyId, carol.keyId, bob.keyId]);
    expect(envAsync.payload).toBe(env.payload);
  });

  it('rejects bad signing requests', async () => {
    expect(code(() => signEnvelope({ type: 'receipt' }, [alice]))).toBe('ENVELOPE_MALFORMED');
    expect(code(() => signEnvelope({ type: 'helm.receipt' }, [alice]))).toBe('ENVELOPE_MALFORMED');
    expect(code(() => signEnvelope(body, []))).toBe('ENVELOPE_MALFORMED');
    expect(code(() => signEnvelope(body, [alice, alice]))).toBe('ENVELOPE_MALFORMED');
    expect(code(() => signEnvelope(null as unknown as typeof body, [alice]))).toBe('ENVELOPE_MALFORMED');
    const many = Array.from({ length: MAX_ENVELOPE_SIGNATURES + 1 }, () => alice);
    expect(code(() => signEnvelope(body, many))).toBe('ENVELOPE_MALFORMED');
    expect(code(() => signEnvelope({ type: TYPE, bad: undefined }, [alice]))).toBe('JCS_UNSUPPORTED_VALUE');
    const broken: Signer = { ...alice, sign: () => new Uint8Array(10) };
    expect(code(() => signEnvelope(body, [broken]))).toBe('SIGNER_FAILED');
    await expect(
      signEnvelopeAsync(body, [{ ...alice, sign: async () => new Uint8Array(0) }]),
    ).rejects.toThrow(CryptoError);
    const throwing: Signer = {
      ...alice,
      sign: () => {
        throw new Error('HSM offline');
      },
    };
    expect(code(() => signEnvelope(body, [throwing]))).toBe('SIGNER_FAILED');
    const rejecting: AsyncSigner = { ...alice, sign: async () => Promise.reject(new Error('KMS denied')) };
    const failure = await signEnvelopeAsync(body, [rejecting]).catch((e: unknown) => e);
    expect((failure as CryptoError).code).toBe('SIGNER_FAILED');
    expect(((failure as CryptoError).cause as Error).message).toBe('KMS denied');
    const cryptoThrowing: Signer = {
      ...alice,
      sign: () => {
        throw new CryptoError('KEY_INVALID', 'bad key');
      },
    };
    expect(code(() => signEnvelope(body, [cryptoThrowing]))).toBe('KEY_INVALID');
    await expect(signEnvelopeAsync(body, [])).rejects.toThrow(CryptoError);
  });

  it('validates envelope type strings', () => {
    expect(isEnvelopeType('helm.receipt.v1')).toBe(true);
    expect(isEnvelopeType('helm.trust.key_added.v12')).toBe(true);
    expect(isEnvelopeType('helm.Receipt.v1')).toBe(false);
    expect(isEnvelopeType('helm.receipt.v1 ')).toBe(false);
    expect(isEnvelopeType(`helm.${'a'.repeat(130)}.v1`)).toBe(false);
    expect(isEnvelopeType(1)).toBe(false);
  });
});

describe('verifyEnvelope rejects tampering and malformed envelopes', () => {
  const env = signEnvelope(body, [alice, bob]);

  it.each<[string, () => unknown, string]>([
    ['wrong expected type', () => verifyBoth(env, 'helm.other.v1', lookup), 'ENVELOPE_TYPE_MISMATCH'],
    [
      'envelope type swapped (domain separation)',
      () => verifyBoth({ ...env, type: 'helm.other.v1' }, 'helm.other.v1', lookup),
      'ENVELOPE_SIGNATURE_INVALID',
    ],
    [
      'payload swapped',
      () =>
        verifyBoth({ ...env, payload: signEnvelope({ ...body, n: 2 }, [alice, bob]).payload }, TYPE, lookup),
      'ENVELOPE_SIGNATURE_INVALID',
    ],
    [
      'signature swapped between signers',
      () =>
        verifyBoth(
          {
            ...env,
            signatures: [
              { keyid: env.signatures[0]?.keyid as string, sig: env.signatures[1]?.sig as string },
              env.signatures[1] as { keyid: string; sig: string },
            ],
          },
          TYPE,
          lookup,
        ),
      'ENVELOPE_SIGNATURE_INVALID',
    ],
    [
      'unknown signer',
      () => verifyBoth(env, TYPE, (id) => (id === alice.keyId ? alice.publicKey : undefined)),
      'ENVELOPE_KEY_UNKNOWN',
    ],
    [
      'lookup returns a key that the id does not name',
      () => verifyBoth(env, TYPE, () => alice.publicKey),
      'ENVELOPE_KEY_UNKNOWN',
    ],
    ['no signatures', () => verifyBoth({ ...env, signatures: [] }, TYPE, lookup), 'ENVELOPE_MALFORMED'],
    [
      'signatures not an array',
      () => verifyBoth({ ...env, signatures: {} as never }, TYPE, lookup),
      'ENVELOPE_MALFORMED',
    ],
    [
      'duplicate signature entry',
      () => verifyBoth({ ...env, signatures: [env.signatures[0], env.signatures[0]] as never }, TYPE, lookup),
      'ENVELOPE_MALFORMED',
    ],
    [
      'payload with padding',
      () => verifyBoth({ ...env, payload: `${env.payload}=` }, TYPE, lookup),
      'ENVELOPE_MALFORMED',
    ],
    [
      'payload not a string',
      () => verifyBoth({ ...env, payload: 5 as never }, TYPE, lookup),
      'ENVELOPE_MALFORMED',
    ],
    [
      'signature not base64url',
      () => verifyBoth({ ...env, signatures: [{ keyid: alice.keyId, sig: '!!' }] }, TYPE, lookup),
      'ENVELOPE_SIGNATURE_INVALID',
    ],
    [
      'signature entry with extra field',
      () =>
        verifyBoth(
          { ...env, signatures: [{ ...(env.signatures[0] as object), alg: 'none' }] as never },
          TYPE,
          lookup,
        ),
      'ENVELOPE_MALFORMED',
    ],
    [
      'signature entry not an object',
      () => verifyBoth({ ...env, signatures: ['x'] as never }, TYPE, lookup),
      'ENVELOPE_MALFORMED',
    ],
    [
      'keyid not a string',
      () => verifyBoth({ ...env, signatures: [{ keyid: 1, sig: 'x' }] as never }, TYPE, lookup),
      'ENVELOPE_MALFORMED',
    ],
    [
      'unsigned extra envelope field',
      () => verifyBoth({ ...env, body: { n: 9 } } as never, TYPE, lookup),
      'ENVELOPE_MALFORMED',
    ],
    ['not an object', () => verifyBoth(null as never, TYPE, lookup), 'ENVELOPE_MALFORMED'],
    ['type not a string', () => verifyBoth({ ...env, type: 1 } as never, TYPE, lookup), 'ENVELOPE_MALFORMED'],
    [
      'expected type malformed',
      () => verifyBoth({ ...env, type: 'nothelm' }, 'nothelm', lookup),
      'ENVELOPE_MALFORMED',
    ],
    [
      'too many signatures',
      () =>
        verifyBoth(
          { ...env, signatures: Array.from({ length: 33 }, (_, i) => ({ keyid: `k${i}`, sig: '' })) },
          TYPE,
          lookup,
        ),
      'ENVELOPE_MALFORMED',
    ],
    ['bad threshold', () => verifyBoth(env, TYPE, lookup, { threshold: 0 }), 'ENVELOPE_MALFORMED'],
    [
      'NaN size limit',
      () => verifyBoth(env, TYPE, lookup, { limits: { maxBytes: Number.NaN } }),
      'ENVELOPE_MALFORMED',
    ],
    [
      'NaN depth limit',
      () => verifyBoth(env, TYPE, lookup, { limits: { maxDepth: Number.NaN } }),
      'ENVELOPE_MALFORMED',
    ],
    [
      'payload over the size limit',
      () => verifyBoth(env, TYPE, lookup, { limits: { maxBytes: 10 } }),
      'JSON_TOO_LARGE',
    ],
  ])('%s', (_label, fn, expected) => {
    expect(code(fn)).toBe(expected);
  });

  it('detects any single-bit flip in payload or signature', () => {
    const single = signEnvelope(body, [alice]);
    const payload = fromBase64Url(single.payload) as Uint8Array;
    const sig = fromBase64Url(single.signatures[0]?.sig as string) as Uint8Array;
    for (let bit = 0; bit < payload.length * 8; bit += 7) {
      const p = Uint8Array.from(payload);
      p[bit >> 3] = (p[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(code(() => verifyBoth({ ...single, payload: toBase64Url(p) }, TYPE, lookup))).toBe(
        'ENVELOPE_SIGNATURE_INVALID',
      );
    }
    for (let bit = 0; bit < 512; bit++) {
      const s = Uint8Array.from(sig);
      s[bit >> 3] = (s[bit >> 3] as number) ^ (1 << (bit & 7));
      const tampered = { ...single, signatures: [{ keyid: alice.keyId, sig: toBase64Url(s) }] };
      expect(code(() => verifyBoth(tampered, TYPE, lookup))).toBe('ENVELOPE_SIGNATURE_INVALID');
    }
  });

  it('checks the signed bytes after the signature: canonical, strict, same type, an object', () => {
    const enc = new TextEncoder();
    expect(verifyBoth(signRaw(TYPE, enc.encode('{"n":1,"type":"helm.test.v1"}')), TYPE, lookup).body.n).toBe(
      1,
    );
    expect(
      code(() => verifyBoth(signRaw(TYPE, enc.encode('{"n":1, "type":"helm.test.v1"}')), TYPE, lookup)),
    ).toBe('ENVELOPE_NOT_CANONICAL');
    expect(
      code(() => verifyBoth(signRaw(TYPE, enc.encode('{"type":"helm.test.v1","n":1}')), TYPE, lookup)),
    ).toBe('ENVELOPE_NOT_CANONICAL');
    expect(
      code(() => verifyBoth(signRaw(TYPE, enc.encode('{"n":1.0,"type":"helm.test.v1"}')), TYPE, lookup)),
    ).toBe('ENVELOPE_NOT_CANONICAL');
    expect(
      code(() => verifyBoth(signRaw(TYPE, enc.encode('{"n":1,"n":1,"type":"helm.test.v1"}')), TYPE, lookup)),
    ).toBe('ENVELOPE_MALFORMED');
    expect(
      code(() =>
        verifyBoth(signRaw(TYPE, enc.encode('{"s":"\\ud800","type":"helm.test.v1"}')), TYPE, lookup),
      ),
    ).toBe('ENVELOPE_MALFORMED');
    expect(code(() => verifyBoth(signRaw(TYPE, Uint8Array.of(0x7b, 0xff, 0x7d)), TYPE, lookup))).toBe(
      'ENVELOPE_MALFORMED',
    );
    expect(
      code(() => verifyBoth(signRaw(TYPE, canonicalBytes({ type: 'helm.other.v1' })), TYPE, lookup)),
    ).toBe('ENVELOPE_TYPE_MISMATCH');
    expect(code(() => verifyBoth(signRaw(TYPE, canonicalBytes([TYPE])), TYPE, lookup))).toBe(
      'ENVELOPE_MALFORMED',
    );
    expect(
      code(() =>
        verifyBoth(signRaw(TYPE, canonicalBytes({ type: TYPE, d: [[[1]]] })), TYPE, lookup, {
          limits: { maxDepth: 2 },
        }),
      ),
    ).toBe('JSON_TOO_DEEP');
    // a payload with a __proto__ member is data, not a prototype
    const hostile = verifyBoth<{ type: string; __proto__: unknown }>(
      signRaw(TYPE, enc.encode('{"__proto__":{"admin":true},"type":"helm.test.v1"}')),
      TYPE,
      lookup,
    );
    expect((hostile.body as unknown as { admin?: boolean }).admin).toBeUndefined();
    expect(Object.keys(hostile.body)).toEqual(['__proto__', 'type']);
  });
});

describe('threshold verification', () => {
  const stranger = createSigner(new Uint8Array(32).fill(9));

  it('counts distinct known signers and skips unknown ones', () => {
    const env = signEnvelope(body, [alice, stranger, bob]);
    expect(code(() => verifyBoth(env, TYPE, lookup))).toBe('ENVELOPE_KEY_UNKNOWN');
    expect(verifyBoth(env, TYPE, lookup, { threshold: 2 }).keyIds).toEqual([alice.keyId, bob.keyId]);
    expect(code(() => verifyBoth(env, TYPE, lookup, { threshold: 3 }))).toBe('ENVELOPE_THRESHOLD_NOT_MET');
    const onlyStranger = signEnvelope(body, [stranger]);
    expect(code(() => verifyBoth(onlyStranger, TYPE, lookup, { threshold: 1 }))).toBe(
      'ENVELOPE_THRESHOLD_NOT_MET',
    );
  });

  it('still fails closed on a bad signature by a known key', () => {
    const env = signEnvelope(body, [alice, bob]);
    const forged = {
      ...env,
      signatures: [env.signatures[0], { keyid: bob.keyId, sig: env.signatures[0]?.sig }] as never,
    };
    expect(code(() => verifyBoth(forged, TYPE, lookup, { threshold: 1 }))).toBe('ENVELOPE_SIGNATURE_INVALID');
  });

  it('does not let one key count twice under two ids', () => {
    const env = signEnvelope(body, [alice]);
    const aliased = (id: string) => (id === alice.keyId || id === 'alias' ? alice.publicKey : undefined);
    expect(verifyBoth(env, TYPE, aliased, { threshold: 1 }).keyIds).toEqual([alice.keyId]);
    const twice = {
      ...env,
      signatures: [env.signatures[0], { keyid: 'alias', sig: env.signatures[0]?.sig }] as never,
    };
    // 'alias' does not name alice's key (keyIdFor), so it is skipped as unknown: still only one signer
    expect(code(() => verifyBoth(twice, TYPE, aliased, { threshold: 2 }))).toBe('ENVELOPE_THRESHOLD_NOT_MET');
  });
});

describe('verifyEnvelope answers every input with a result', () => {
  it('never throws on its input: junk is a failure with the code openVerifiedEnvelope throws', () => {
    const env = signEnvelope(body, [alice]);
    const junk: unknown[] = [
      null,
      undefined,
      0,
      'x',
      [],
      {},
      { ...env, type: 7 },
      { ...env, payload: null },
      { ...env, signatures: null },
      { ...env, signatures: [null] },
      { ...env, signatures: [{ keyid: 1, sig: 2 }] },
      { ...env, extra: true },
    ];
    for (const input of junk) {
      const check = verifyEnvelope(input, TYPE, lookup);
      expect(check.ok).toBe(false);
      expect(code(() => verifyBoth(input, TYPE, lookup))).toBe(check.ok ? undefined : check.code);
    }
  });

  it('a verified answer carries the body, the signed bytes and the signers', () => {
    const check = verifyEnvelope(signEnvelope(body, [alice, bob]), TYPE, lookup);
    expect(check).toMatchObject({ ok: true, body, keyIds: [alice.keyId, bob.keyId] });
    expect(check.ok && check.payload).toEqual(canonicalBytes(body));
  });

  it("an exception thrown by the caller's key lookup propagates (not an input)", () => {
    const env = signEnvelope(body, [alice]);
    const broken = () => {
      throw new Error('key store down');
    };
    expect(() => verifyEnvelope(env, TYPE, broken)).toThrow('key store down');
    expect(() => openVerifiedEnvelope(env, TYPE, broken)).toThrow('key store down');
  });
});

describe('payload decoded into the PAE (one array)', () => {
  const env = signEnvelope(body, [alice]);

  it('the opened payload is exactly the tail of the PAE, and the PAE is preAuthEncoding(type, payload)', () => {
    const opened = openEnvelope(env, TYPE);
    const bytes = canonicalBytes(body);
    expect(opened.payload).toEqual(bytes);
    expect(opened.pae).toEqual(preAuthEncoding(TYPE, bytes));
    expect(opened.pae.subarray(opened.pae.length - bytes.length)).toEqual(bytes);
    expect(opened.pae.buffer.byteLength).toBe(opened.pae.length); // owns its buffer, no pool slice
  });

  it('every single-character edit of the payload text: refused unless it is canonical base64url of other bytes', () => {
    const text = env.payload;
    const swaps = ['+', '/', '=', '*', ' ', '\u00e9', 'A', '_', '-'];
    for (let i = 0; i < text.length; i++) {
      for (const ch of swaps) {
        const edited = text.slice(0, i) + ch + text.slice(i + 1);
        const tampered = { ...env, payload: edited };
        // independent reference: canonical exactly when Node's encoder gives the text back
        const canonical = Buffer.from(edited, 'base64url').toString('base64url') === edited;
        const strict = fromBase64Url(edited);
        expect(strict !== undefined).toBe(canonical);
        const got = code(() => openEnvelope(tampered, TYPE));
        if (!canonical) expect(got).toBe('ENVELOPE_MALFORMED');
        else if (got === undefined) expect(openEnvelope(tampered, TYPE).payload).toEqual(strict);
      }
      for (const cut of [text.slice(0, i), text.slice(0, i) + text.slice(i + 1)]) {
        const canonical = Buffer.from(cut, 'base64url').toString('base64url') === cut;
        expect(fromBase64Url(cut) !== undefined).toBe(canonical);
        if (!canonical)
          expect(code(() => openEnvelope({ ...env, payload: cut }, TYPE))).toBe('ENVELOPE_MALFORMED');
      }
    }
  });
});
