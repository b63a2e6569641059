// Property tests (fast-check): canonicalization laws, parser round trip, backend agreement and
// tamper detection. Deterministic seeds are fast-check's default per run; failures print a seed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  canonicalize,
  createSigner,
  nobleBackend,
  nodeBackend,
  parseStrictJson,
  signEnvelope,
} from '../src/index.ts';
import { verifyBoth } from './verify-both.ts';

/** Independent, naive RFC 8785 reference: sorted UTF-16 keys, JSON.stringify for leaves. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Rebuild objects with their keys inserted in reverse (same data, different insertion order). */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).reverse()) {
      Object.defineProperty(out, k, {
        value: reversed((value as Record<string, unknown>)[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

const json = fc.jsonValue({ maxDepth: 5 });
// strings over the whole of Unicode (astral planes included, so surrogate pairs appear)
const unicodeJson = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' });

describe('canonicalization properties', () => {
  it('matches the naive reference on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.oneof(json, unicodeJson), (value) => {
        expect(canonicalize(value)).toBe(reference(value));
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent: canonicalize(parse(canonicalize(x))) === canonicalize(x)', () => {
    fc.assert(
      fc.property(fc.oneof(json, unicodeJson), (value) => {
        const once = canonicalize(value);
        expect(canonicalize(parseStrictJson(once))).toBe(once);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips: parseStrictJson(canonicalize(x)) deep-equals x', () => {
    fc.assert(
      fc.property(fc.oneof(json, unicodeJson), (value) => {
        const normalized = JSON.parse(JSON.stringify(value)); // -0 → 0
        expect(parseStrictJson(canonicalize(value), { nullPrototype: false })).toEqual(normalized);
      }),
      { numRuns: 300 },
    );
  });

  it('is independent of key insertion order', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalize(reversed(value))).toBe(canonicalize(value));
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with JSON.parse on every text it accepts', () => {
    fc.assert(
      fc.property(json, fc.integer({ min: 0, max: 2 }), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(parseStrictJson(text, { nullPrototype: false })).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts what JSON.parse rejects, and agrees with it on what both accept (mutated texts)', () => {
    const alphabet = [
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\',
      '0',
      '-',
      '.',
      'e',
      ' ',
      'u',
      'a',
      '\n',
      '\u0001',
      't',
    ];
    fc.assert(
      fc.property(
        json,
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...alphabet), fc.boolean()), { maxLength: 3 }),
        (value, edits) => {
          let text = JSON.stringify(value);
          for (const [at, ch, insert] of edits) {
            const i = text.length === 0 ? 0 : at % text.length;
            text = insert ? text.slice(0, i) + ch + text.slice(i) : text.slice(0, i) + ch + text.slice(i + 1);
          }
          let reference: unknown;
          let referenceOk = true;
          try {
            reference = JSON.parse(text);
          } catch {
            referenceOk = false;
          }
          let ours: unknown;
          let oursOk = true;
          try {
            ours = parseStrictJson(text, { nullPrototype: false });
          } catch (error) {
            expect(error).toBeInstanceOf(CryptoError);
            oursOk = false;
          }
          if (!referenceOk) expect(oursOk, text).toBe(false);
          if (oursOk) expect(ours).toEqual(reference);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('always rejects a string holding a lone surrogate, wherever it sits', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0xd800, max: 0xdfff }), fc.boolean(), (s, unit, asKey) => {
        const bad = s + String.fromCharCode(unit);
        const value = asKey ? { [bad]: 1 } : [bad];
        expect(() => canonicalize(value)).toThrow(CryptoError);
        const escaped = `\\u${unit.toString(16)}`;
        expect(() => parseStrictJson(`[${JSON.stringify(s).slice(0, -1)}${escaped}"]`)).toThrow(CryptoError);
      }),
      { numRuns: 200 },
    );
  });
});

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const messageArb = fc.uint8Array({ minLength: 0, maxLength: 300 });

describe('Ed25519 backend agreement and tamper detection', () => {
  it('both backends derive the same key and the same signature, and both verify it', () => {
    fc.assert(
      fc.property(seedArb, messageArb, (seed, message) => {
        const a = createSigner(seed, nodeBackend);
        const b = createSigner(seed, nobleBackend);
        expect(b.publicKey).toEqual(a.publicKey);
        const sig = a.sign(message);
        expect(b.sign(message)).toEqual(sig);
        expect(nodeBackend.verify(a.publicKey, message, sig)).toBe(true);
        expect(nobleBackend.verify(a.publicKey, message, sig)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('both backends agree on mutated signatures, keys and messages', () => {
    fc.assert(
      fc.property(
        seedArb,
        messageArb,
        fc.constantFrom('sig', 'key', 'msg'),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (seed, message, target, position, mask) => {
          const signer = createSigner(seed);
          let sig = signer.sign(message);
          let key = signer.publicKey;
          let msg = message;
          const flip = (bytes: Uint8Array) => {
            if (bytes.length === 0) return Uint8Array.of(mask);
            const copy = Uint8Array.from(bytes);
            const i = position % copy.length;
            copy[i] = (copy[i] as number) ^ mask;
            return copy;
          };
          if (target === 'sig') sig = flip(sig);
          else if (target === 'key') key = flip(key);
          else msg = flip(msg);
          const a = nodeBackend.verify(key, msg, sig);
          const b = nobleBackend.verify(key, msg, sig);
          expect(a).toBe(b);
          expect(a).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('both backends agree on random garbage', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        messageArb,
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (key, message, sig) => {
          expect(nodeBackend.verify(key, message, sig)).toBe(nobleBackend.verify(key, message, sig));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('any single-bit flip in message, signature or key fails verification', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.constantFrom('sig', 'key', 'msg'),
        fc.nat(),
        (seed, message, target, bitSeed) => {
          const signer = createSigner(seed);
          const sig = signer.sign(message);
          const flipBit = (bytes: Uint8Array) => {
            const copy = Uint8Array.from(bytes);
            const bit = bitSeed % (copy.length * 8);
            copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
            return copy;
          };
          const key = target === 'key' ? flipBit(signer.publicKey) : signer.publicKey;
          const msg = target === 'msg' ? flipBit(message) : message;
          const s = target === 'sig' ? flipBit(sig) : sig;
          expect(nodeBackend.verify(key, msg, s)).toBe(false);
          expect(nobleBackend.verify(key, msg, s)).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('envelopes round-trip arbitrary JSON bodies', () => {
    const signer = createSigner(new Uint8Array(32).fill(4));
    const lookup = (id: string) => (id === signer.keyId ? signer.publicKey : undefined);
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json, { maxKeys: 6 }), (fields) => {
        const body = { ...JSON.parse(JSON.stringify(fields)), type: 'helm.prop.v1' };
        const verified = verifyBoth(signEnvelope(body, [signer]), 'helm.prop.v1', lookup);
        expect(canonicalize(verified.body)).toBe(canonicalize(body));
      }),
      { numRuns: 100 },
    );
  });
});
