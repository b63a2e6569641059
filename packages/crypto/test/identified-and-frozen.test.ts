// Content-addressed signing (signIdentifiedEnvelope), frozen envelopes, digestText, and the removed
// self-issued shortcut: an envelope this process signed is verified in full like any other (docs/spec/envelope.md §4a).
import type { SignedEnvelope } from '@helm/contracts';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  canonicalBytes,
  canonicalDigest,
  createSigner,
  digest,
  digestText,
  type Ed25519Backend,
  nobleBackend,
  nodeBackend,
  type Signer,
  signEnvelope,
  signEnvelopeAsync,
  signIdentifiedEnvelope,
  toAsyncSigner,
  verifyEnvelope,
} from '../src/index.ts';
import { verifyBoth } from './verify-both.ts';

const TYPE = 'helm.test.v1';
const alice = createSigner(new Uint8Array(32).fill(1));
const bob = createSigner(new Uint8Array(32).fill(2));
const keys = new Map([alice, bob].map((s) => [s.keyId, s.publicKey]));
const lookup = (id: string) => keys.get(id);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof CryptoError ? error.code : `not a CryptoError: ${String(error)}`;
  }
}

describe('signIdentifiedEnvelope', () => {
  const bodies = [
    { type: TYPE, z: 1, a: 'x', m: { k: [1, 2, { y: null }] } },
    { type: TYPE, zz_last: true },
    { type: TYPE, aaa: 'before every id name' },
    { type: TYPE, '10': 'integer-like key', é: 'non-ASCII key', s: '\u2028 "quoted" \\' },
  ];
  for (const idField of ['decision_id', 'a_id', 'zzz_id', '0id']) {
    it(`gives exactly the two-pass bytes and id (${idField})`, () => {
      for (const body of bodies) {
        const one = signIdentifiedEnvelope(body, idField, [alice]);
        const id = canonicalDigest(body);
        expect(one.id).toBe(id);
        expect(one.body).toEqual({ ...body, [idField]: id });
        const two = signEnvelope({ ...body, [idField]: id }, [alice]);
        expect(one.envelope).toEqual(two);
        expect(verifyBoth(one.envelope, TYPE, lookup).body).toEqual(one.body);
      }
    });
  }

  it('refuses a body that already has the id, a bad type, no or duplicate signers', () => {
    expect(code(() => signIdentifiedEnvelope({ type: TYPE, x_id: 'y' }, 'x_id', [alice]))).toBe(
      'ENVELOPE_MALFORMED',
    );
    expect(code(() => signIdentifiedEnvelope({ type: 'nope' }, 'x_id', [alice]))).toBe('ENVELOPE_MALFORMED');
    expect(code(() => signIdentifiedEnvelope({ type: TYPE }, 'x_id', []))).toBe('ENVELOPE_MALFORMED');
    expect(code(() => signIdentifiedEnvelope({ type: TYPE }, 'x_id', [alice, alice]))).toBe(
      'ENVELOPE_MALFORMED',
    );
    expect(code(() => signIdentifiedEnvelope({ type: TYPE, bad: undefined }, 'x_id', [alice]))).toBe(
      'JCS_UNSUPPORTED_VALUE',
    );
  });
});

describe('digestText', () => {
  it('is the digest of the UTF-8 bytes', () => {
    for (const text of ['', 'abc', '{"é":"\u{1F600}"}', 'x'.repeat(5000)]) {
      expect(digestText(text)).toBe(digest(new TextEncoder().encode(text)));
    }
    const value = { b: [1, 'ü'], a: null };
    expect(canonicalDigest(value)).toBe(digest(canonicalBytes(value)));
  });
});

describe('frozen envelopes', () => {
  it('signEnvelope, signIdentifiedEnvelope and signEnvelopeAsync return frozen envelopes', async () => {
    const envelopes = [
      signEnvelope({ type: TYPE, n: 1 }, [alice]),
      signIdentifiedEnvelope({ type: TYPE, n: 1 }, 'id', [alice]).envelope,
      await signEnvelopeAsync({ type: TYPE, n: 1 }, [toAsyncSigner(alice)]),
    ];
    for (const e of envelopes) {
      expect(Object.isFrozen(e)).toBe(true);
      expect(Object.isFrozen(e.signatures)).toBe(true);
      expect(Object.isFrozen(e.signatures[0])).toBe(true);
      expect(() => {
        (e as { payload: string }).payload = 'x';
      }).toThrow(TypeError);
    }
  });
});

describe('verifyEnvelope of an envelope this process signed (no in-process shortcut)', () => {
  it('gives the full result for an envelope this process signed', () => {
    for (const signer of [alice, createSigner(new Uint8Array(32).fill(1), nobleBackend)]) {
      const e = signEnvelope({ type: TYPE, n: 7, s: 'ü' }, [signer, bob]);
      const fast = verifyBoth(e, TYPE, lookup);
      const full = verifyBoth(e, TYPE, lookup);
      expect(fast).toEqual(full);
      // the returned body and payload are fresh copies each time
      expect(fast.body).not.toBe(verifyBoth(e, TYPE, lookup).body);
      fast.payload[0] = 0;
      expect(verifyBoth(e, TYPE, lookup).payload).toEqual(full.payload);
    }
  });

  it('requires every key id to resolve to exactly the key it was signed with', () => {
    const e = signEnvelope({ type: TYPE, n: 1 }, [alice]);
    expect(code(() => verifyBoth(e, TYPE, () => undefined))).toBe('ENVELOPE_KEY_UNKNOWN');
    expect(code(() => verifyBoth(e, TYPE, () => bob.publicKey))).toBe('ENVELOPE_KEY_UNKNOWN');
    expect(code(() => verifyBoth(e, 'helm.other.v1', lookup))).toBe('ENVELOPE_TYPE_MISMATCH');
  });

  it('never trusts an envelope made by an object that merely implements Signer', () => {
    // Claims alice's key id and key, but its signature is garbage.
    const impostor: Signer = {
      keyId: alice.keyId,
      publicKey: alice.publicKey,
      sign: () => new Uint8Array(64),
    };
    const e = signEnvelope({ type: TYPE, n: 1 }, [impostor]);
    expect(code(() => verifyBoth(e, TYPE, lookup))).toBe('ENVELOPE_SIGNATURE_INVALID');
    const mixed = signEnvelope({ type: TYPE, n: 2 }, [bob, impostor]);
    expect(code(() => verifyBoth(mixed, TYPE, lookup))).toBe('ENVELOPE_SIGNATURE_INVALID');
  });

  it('mutating a signer object cannot redirect verification to another key', () => {
    const seed = new Uint8Array(32).fill(9);
    const s = createSigner(seed);
    const pk = Uint8Array.from(s.publicKey);
    (s.publicKey as Uint8Array).set(bob.publicKey);
    const e = signEnvelope({ type: TYPE, n: 1 }, [s]);
    const ids = new Map([[s.keyId, pk]]);
    expect(verifyBoth(e, TYPE, (id) => ids.get(id)).keyIds).toEqual([s.keyId]);
    expect(code(() => verifyBoth(e, TYPE, () => bob.publicKey))).toBe('ENVELOPE_KEY_UNKNOWN');
  });

  it('a copy verifies and an edited copy does not', () => {
    const e = signEnvelope({ type: TYPE, n: 1 }, [alice]);
    const copy = JSON.parse(JSON.stringify(e)) as SignedEnvelope;
    expect(verifyBoth(copy, TYPE, lookup).body).toEqual({ type: TYPE, n: 1 });
    const edited = { ...e, payload: signEnvelope({ type: TYPE, n: 2 }, [alice]).payload };
    expect(code(() => verifyBoth(edited, TYPE, lookup))).toBe('ENVELOPE_SIGNATURE_INVALID');
  });

  /** A backend that counts signature checks. */
  function countingBackend(): { backend: Ed25519Backend; calls: () => number } {
    let n = 0;
    return {
      backend: {
        ...nodeBackend,
        verify: (key, message, sig) => {
          n++;
          return nodeBackend.verify(key, message, sig);
        },
      },
      calls: () => n,
    };
  }

  it('runs Ed25519 for every signature of an in-process envelope, option or not', () => {
    const counter = countingBackend();
    const one = signEnvelope({ type: TYPE, n: 1 }, [alice]);
    const two = signIdentifiedEnvelope({ type: TYPE, n: 2 }, 'id', [alice, bob]).envelope;
    const options = { backend: counter.backend };
    // verifyEnvelope itself (verifyBoth would verify twice per call)
    expect(verifyEnvelope(one, TYPE, lookup, options)).toEqual(verifyEnvelope(one, TYPE, lookup));
    expect(verifyEnvelope(two, TYPE, lookup, options)).toMatchObject({
      ok: true,
      keyIds: [alice.keyId, bob.keyId],
    });
    expect(counter.calls()).toBe(3);
  });
});
