import { readFileSync } from 'node:fs';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  createSigner,
  ED25519_BACKENDS,
  fromHex,
  generateKeyPair,
  getBackend,
  isKeyId,
  isValidPublicKey,
  keyIdFor,
  keyPairFromSeed,
  nobleBackend,
  nodeBackend,
  sha256Hex,
  toAsyncSigner,
  toHex,
  verifyEd25519,
} from '../src/index.ts';
import {
  isCanonicalPointEncoding,
  isCanonicalScalar,
  SMALL_ORDER_ENCODINGS,
} from '../src/internal/ed25519-policy.ts';

const ED = new URL('../../../../shared/testdata/ed25519/', import.meta.url);

interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid';
}
interface WycheproofGroup {
  publicKey: { pk: string };
  tests: WycheproofTest[];
}
const wycheproof = JSON.parse(readFileSync(new URL('wycheproof_ed25519_test.json', ED), 'utf8')) as {
  numberOfTests: number;
  testGroups: WycheproofGroup[];
};
const rfc8032 = JSON.parse(readFileSync(new URL('rfc8032.json', ED), 'utf8')) as {
  name: string;
  secret_key_hex: string;
  public_key_hex: string;
  message_hex: string;
  signature_hex: string;
}[];

function hex(h: string): Uint8Array {
  const out = fromHex(h);
  if (!out) throw new Error(`bad hex ${h}`);
  return out;
}

/** Wycheproof signatures may have odd lengths or odd hex; decode leniently, the verifier must reject. */
function looseHex(h: string): Uint8Array {
  return Uint8Array.from((h.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)));
}

const cases = wycheproof.testGroups.flatMap((g) => g.tests.map((t) => ({ pk: g.publicKey.pk, ...t })));

describe.each(ED25519_BACKENDS.map((b) => [b.name, b] as const))('backend %s', (_name, backend) => {
  it(`gives the expected result on all ${wycheproof.numberOfTests} Wycheproof cases`, () => {
    expect(cases.length).toBe(wycheproof.numberOfTests);
    const wrong: number[] = [];
    for (const t of cases) {
      const ok = verifyEd25519(hex(t.pk), looseHex(t.msg), looseHex(t.sig), backend).ok;
      if (ok !== (t.result === 'valid')) wrong.push(t.tcId);
    }
    expect(wrong).toEqual([]);
  });

  it.each(rfc8032.map((v) => [v.name, v] as const))('reproduces RFC 8032 %s byte for byte', (_n, v) => {
    const seed = hex(v.secret_key_hex);
    const pair = keyPairFromSeed(seed, backend);
    expect(toHex(pair.publicKey)).toBe(v.public_key_hex);
    const signer = createSigner(seed, backend);
    const sig = signer.sign(hex(v.message_hex));
    expect(toHex(sig)).toBe(v.signature_hex);
    expect(verifyEd25519(pair.publicKey, hex(v.message_hex), sig, backend).ok).toBe(true);
    expect(signer.keyId).toBe(keyIdFor(pair.publicKey));
  });

  it('rejects bad seeds with KEY_INVALID', () => {
    expect(() => backend.publicKeyFromSeed(new Uint8Array(31))).toThrow(CryptoError);
    expect(() => backend.signerFor(new Uint8Array(33))).toThrow(CryptoError);
    expect(() => createSigner('x' as unknown as Uint8Array, backend)).toThrow(CryptoError);
  });

  it('returns false (never throws) on malformed input', () => {
    const { publicKey } = keyPairFromSeed(new Uint8Array(32).fill(1));
    const msg = new Uint8Array([1]);
    expect(backend.verify(publicKey, msg, new Uint8Array(63))).toBe(false);
    expect(backend.verify(publicKey.subarray(1), msg, new Uint8Array(64))).toBe(false);
    expect(backend.verify(publicKey, 'x' as unknown as Uint8Array, new Uint8Array(64))).toBe(false);
    expect(backend.verify(null as unknown as Uint8Array, msg, new Uint8Array(64))).toBe(false);
  });
});

describe('verifyEd25519 answers with a code that says why', () => {
  const seed = new Uint8Array(32).fill(5);
  const message = new TextEncoder().encode('codes');
  const { publicKey } = keyPairFromSeed(seed);
  const sig = createSigner(seed).sign(message);
  const codeOf = (
    pk: Uint8Array,
    msg: Uint8Array,
    s: Uint8Array,
    backend?: (typeof ED25519_BACKENDS)[number],
  ) => {
    const check = verifyEd25519(pk, msg, s, backend);
    return check.ok ? 'OK' : check.code;
  };

  it('every Wycheproof case: ok exactly when valid, the same code on both backends, and a code the policy explains', () => {
    for (const t of cases) {
      const pk = hex(t.pk);
      const [node, noble] = ED25519_BACKENDS.map((b) => codeOf(pk, looseHex(t.msg), looseHex(t.sig), b));
      expect(node, `tcId ${t.tcId}`).toBe(noble);
      expect(node === 'OK', `tcId ${t.tcId}`).toBe(t.result === 'valid');
      // Wycheproof's keys are valid: a failure is about the signature, never KEY_INVALID
      if (t.result === 'invalid') expect(['SIGNATURE_MALFORMED', 'SIGNATURE_INVALID']).toContain(node);
      if (looseHex(t.sig).length !== 64) expect(node, `tcId ${t.tcId}`).toBe('SIGNATURE_MALFORMED');
    }
  });

  it('KEY_INVALID for a key that breaks A1–A3 or is not 32 bytes, whatever the signature', () => {
    for (const bad of [...SMALL_ORDER_ENCODINGS, publicKey.subarray(1), hex('02'.repeat(32))]) {
      expect(codeOf(bad as Uint8Array, message, sig)).toBe('KEY_INVALID');
      expect(codeOf(bad as Uint8Array, message, new Uint8Array(10))).toBe('KEY_INVALID');
    }
    expect(codeOf(null as unknown as Uint8Array, message, sig)).toBe('KEY_INVALID');
  });

  it('SIGNATURE_MALFORMED for a wrong length, S ≥ L or a small-order R; SIGNATURE_INVALID for a wrong message', () => {
    expect(codeOf(publicKey, message, sig.subarray(1))).toBe('SIGNATURE_MALFORMED');
    const highS = Uint8Array.from(sig);
    highS[63] = 0xff;
    expect(codeOf(publicKey, message, highS)).toBe('SIGNATURE_MALFORMED');
    const smallR = Uint8Array.from(sig);
    smallR.set(SMALL_ORDER_ENCODINGS[0] as Uint8Array, 0);
    expect(codeOf(publicKey, message, smallR)).toBe('SIGNATURE_MALFORMED');
    expect(codeOf(publicKey, new TextEncoder().encode('other'), sig)).toBe('SIGNATURE_INVALID');
    expect(codeOf(publicKey, message, sig)).toBe('OK');
  });

  it('never throws and does not allocate an answer per success (one frozen value)', () => {
    const a = verifyEd25519(publicKey, message, sig);
    expect(a).toBe(verifyEd25519(publicKey, message, sig, nodeBackend));
    expect(Object.isFrozen(a)).toBe(true);
    for (const junk of [undefined, null, 'x', 1, {}, []])
      expect(() =>
        verifyEd25519(
          junk as unknown as Uint8Array,
          junk as unknown as Uint8Array,
          junk as unknown as Uint8Array,
        ),
      ).not.toThrow();
  });
});

describe('strict policy details', () => {
  const seed = new Uint8Array(32).fill(9);
  const message = new TextEncoder().encode('policy');
  const { publicKey } = keyPairFromSeed(seed);
  const sig = createSigner(seed).sign(message);

  it('lists exactly the 8 canonical small-order encodings (cross-checked with noble)', () => {
    expect(SMALL_ORDER_ENCODINGS.map(toHex).sort()).toEqual([...ED25519_TORSION_SUBGROUP].sort());
    for (const enc of SMALL_ORDER_ENCODINGS) expect(isValidPublicKey(enc)).toBe(false);
  });

  it('S1: rejects S >= L (S + L is the classic malleation)', () => {
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i] as number);
    const sPlusL = s + L;
    const mauled = Uint8Array.from(sig);
    for (let i = 0; i < 32; i++) mauled[32 + i] = Number((sPlusL >> BigInt(8 * i)) & 0xffn);
    expect(isCanonicalScalar(mauled)).toBe(false);
    for (const b of ED25519_BACKENDS) expect(b.verify(publicKey, message, mauled)).toBe(false);
    const exactlyL = Uint8Array.from(sig);
    for (let i = 0; i < 32; i++) exactlyL[32 + i] = Number((L >> BigInt(8 * i)) & 0xffn);
    expect(isCanonicalScalar(exactlyL)).toBe(false);
  });

  it('P1: recognises non-canonical point encodings (y >= p, x = 0 with the sign bit)', () => {
    const yEqualsP = hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    const yPMinus1 = hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    expect(isCanonicalPointEncoding(yEqualsP)).toBe(false);
    expect(isCanonicalPointEncoding(yPMinus1)).toBe(true);
    expect(
      isCanonicalPointEncoding(hex('0100000000000000000000000000000000000000000000000000000000000080')),
    ).toBe(false);
    expect(
      isCanonicalPointEncoding(hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff')),
    ).toBe(false);
    expect(
      isCanonicalPointEncoding(hex('0200000000000000000000000000000000000000000000000000000000000080')),
    ).toBe(true);
    expect(isCanonicalPointEncoding(publicKey)).toBe(true);
  });

  it('A2: a small-order public key never verifies, even the "signs everything" identity forgery', () => {
    const identity = SMALL_ORDER_ENCODINGS[0] as Uint8Array;
    const forged = new Uint8Array(64);
    forged.set(identity, 0); // R = identity, S = 0: satisfies [S]B = R + [k]A for A = identity
    for (const b of ED25519_BACKENDS) expect(b.verify(identity, message, forged)).toBe(false);
  });

  // Crafted with the private scalar: R' = rB + T (T of order 8) with S = r + k'a. The cofactored
  // equation (noble's own verify) accepts it; the cofactorless policy must reject it in both backends.
  it('V1: both backends reject a torsioned R that a cofactored verifier accepts', () => {
    const { Point } = ed25519;
    const L = Point.Fn.ORDER;
    const le = (b: Uint8Array) => {
      let n = 0n;
      for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number);
      return n;
    };
    const toLE = (n: bigint) => {
      const out = new Uint8Array(32);
      for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
      return out;
    };
    const h = sha512(seed);
    const head = h.slice(0, 32);
    head[0] = (head[0] as number) & 248;
    head[31] = ((head[31] as number) & 127) | 64;
    const a = le(head) % L;
    const T = Point.fromHex(ED25519_TORSION_SUBGROUP[1] as string);
    const r = 1234567n;
    const R = Point.BASE.multiply(r).add(T).toBytes();
    const k = le(sha512(new Uint8Array([...R, ...publicKey, ...message]))) % L;
    const S = (r + k * a) % L;
    const crafted = new Uint8Array([...R, ...toLE(S)]);
    expect(ed25519.verify(crafted, message, publicKey)).toBe(true); // noble's cofactored check
    for (const b of ED25519_BACKENDS) expect(b.verify(publicKey, message, crafted)).toBe(false);
  });

  it('A3: a mixed-order public key (A + T) is rejected by both backends', () => {
    const { Point } = ed25519;
    const mixed = Point.fromBytes(publicKey)
      .add(Point.fromHex(ED25519_TORSION_SUBGROUP[2] as string))
      .toBytes();
    expect(isValidPublicKey(mixed)).toBe(false);
    for (const b of ED25519_BACKENDS) expect(b.verify(mixed, message, sig)).toBe(false);
    expect(isValidPublicKey(publicKey)).toBe(true);
    expect(isValidPublicKey(hex('02'.repeat(32)))).toBe(false); // y not on the curve
  });
});

describe('keys, signers and backends', () => {
  it('derives key ids as ed25519:<sha256 hex of the raw key>', () => {
    const { publicKey, keyId } = keyPairFromSeed(new Uint8Array(32).fill(1));
    expect(keyId).toBe(`ed25519:${sha256Hex(publicKey)}`);
    expect(isKeyId(keyId)).toBe(true);
    expect(isKeyId('ed25519:ABC')).toBe(false);
    expect(() => keyIdFor(new Uint8Array(31))).toThrow(CryptoError);
  });

  it('generates keys only from injected entropy', () => {
    const pair = generateKeyPair((n) => new Uint8Array(n).fill(5));
    expect(pair.publicKey).toEqual(keyPairFromSeed(new Uint8Array(32).fill(5)).publicKey);
    expect(generateKeyPair((n) => new Uint8Array(n).fill(5), nobleBackend).keyId).toBe(pair.keyId);
    expect(() => generateKeyPair(() => new Uint8Array(16))).toThrow(CryptoError);
    expect(() => generateKeyPair((n) => new Uint8Array(n))).toThrow(/all-zero/);
  });

  it('copies the seed into the key pair', () => {
    const seed = new Uint8Array(32).fill(3);
    const pair = keyPairFromSeed(seed);
    seed.fill(4);
    expect(pair.seed).toEqual(new Uint8Array(32).fill(3));
  });

  it('looks backends up by name', () => {
    expect(getBackend('node')).toBe(nodeBackend);
    expect(getBackend('noble')).toBe(nobleBackend);
    expect(() => getBackend('wasm' as 'node')).toThrow(CryptoError);
  });

  it('wraps a sync signer as an async one', async () => {
    const signer = createSigner(new Uint8Array(32).fill(2));
    const asyncSigner = toAsyncSigner(signer);
    const msg = new Uint8Array([1, 2, 3]);
    expect(await asyncSigner.sign(msg)).toEqual(signer.sign(msg));
    expect(asyncSigner.keyId).toBe(signer.keyId);
  });

  it('both backends produce identical signatures and keys', () => {
    const seed = new Uint8Array(32).map((_, i) => i);
    const msg = new TextEncoder().encode('same bytes');
    const a = createSigner(seed, nodeBackend);
    const b = createSigner(seed, nobleBackend);
    expect(a.publicKey).toEqual(b.publicKey);
    expect(a.sign(msg)).toEqual(b.sign(msg));
  });
});
