// Regenerates every `vector` block of the crypto-owned spec pages and compares it with the page,
// so the published vectors can never drift from the implementation.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Effect } from '@helm/contracts';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import {
  canonicalBytes,
  canonicalize,
  createSigner,
  digest,
  effectDigest,
  fromHex,
  nobleBackend,
  preAuthEncoding,
  signEnvelope,
  toBase64Url,
  toHex,
  verifyEd25519,
} from '../src/index.ts';
import { verifyBoth } from './verify-both.ts';

const SPEC = new URL('../../../docs/spec/', import.meta.url);

/** `name: value` lines of every ```vector block of a page. */
function vectorOf(page: string): Record<string, string> {
  const text = readFileSync(new URL(page, SPEC), 'utf8');
  const out: Record<string, string> = {};
  for (const block of text.matchAll(/```vector\n([\s\S]*?)```/g)) {
    for (const line of (block[1] as string).split('\n')) {
      const i = line.indexOf(': ');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 2);
    }
  }
  return out;
}

const seed = new Uint8Array(32).fill(1);
const signer = createSigner(seed);

describe('docs/spec/envelope.md vector', () => {
  const v = vectorOf('envelope.md');

  it('has every field', () => {
    for (const k of [
      'seed_hex',
      'public_key_hex',
      'keyid',
      'body_json',
      'jcs_hex',
      'jcs_sha256',
      'pae_hex',
      'signature_hex',
      'envelope_json',
    ]) {
      expect(v[k], k).toBeDefined();
    }
  });

  it('regenerates byte for byte', () => {
    expect(v.seed_hex).toBe(toHex(seed));
    expect(v.public_key_hex).toBe(toHex(signer.publicKey));
    expect(v.keyid).toBe(signer.keyId);
    const body = JSON.parse(v.body_json as string);
    const jcs = canonicalBytes(body);
    expect(v.jcs_utf8).toBe(canonicalize(body));
    expect(v.jcs_hex).toBe(toHex(jcs));
    expect(v.jcs_sha256).toBe(digest(jcs));
    expect(v.payload_b64url).toBe(toBase64Url(jcs));
    const pae = preAuthEncoding(body.type, jcs);
    expect(v.pae_hex).toBe(toHex(pae));
    expect(v.signature_hex).toBe(toHex(signer.sign(pae)));
    expect(v.signature_b64url).toBe(toBase64Url(signer.sign(pae)));
    const envelope = signEnvelope(body, [signer]);
    expect(v.envelope_json).toBe(JSON.stringify(envelope));
  });

  it('verifies from the page alone, with both backends', () => {
    const envelope = JSON.parse(v.envelope_json as string);
    const publicKey = fromHex(v.public_key_hex as string) as Uint8Array;
    const lookup = (id: string) => (id === v.keyid ? publicKey : undefined);
    expect(verifyBoth(envelope, 'helm.example.v1', lookup).body).toEqual(JSON.parse(v.body_json as string));
    expect(verifyBoth(envelope, 'helm.example.v1', lookup, { backend: nobleBackend }).keyIds).toEqual([
      v.keyid,
    ]);
    const pae = fromHex(v.pae_hex as string) as Uint8Array;
    expect(verifyEd25519(publicKey, pae, fromHex(v.signature_hex as string) as Uint8Array).ok).toBe(true);
  });
});

describe('envelope vector checked independently of @helm/crypto (spec text + noble + naive JCS)', () => {
  const v = vectorOf('envelope.md');
  it('rebuilds PAE from the spec rule and verifies with noble directly', () => {
    const payload = Buffer.from(v.payload_b64url as string, 'base64url');
    expect(payload.toString('hex')).toBe(v.jcs_hex);
    // naive JCS for this body: sorted keys, JSON.stringify leaves
    const naive = (x: unknown): string =>
      Array.isArray(x)
        ? `[${x.map(naive).join(',')}]`
        : x !== null && typeof x === 'object'
          ? `{${Object.keys(x)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${naive((x as Record<string, unknown>)[k])}`)
              .join(',')}}`
          : JSON.stringify(x);
    expect(Buffer.from(naive(JSON.parse(v.body_json as string)), 'utf8').equals(payload)).toBe(true);
    const type = 'helm.example.v1';
    const pae = Buffer.concat([
      Buffer.from(`HELMSIG1 ${Buffer.byteLength(type)} ${type} ${payload.length} `),
      payload,
    ]);
    expect(pae.toString('hex')).toBe(v.pae_hex);
    const pk = Buffer.from(v.public_key_hex as string, 'hex');
    expect(ed25519.verify(Buffer.from(v.signature_hex as string, 'hex'), pae, pk)).toBe(true);
    expect(`ed25519:${createHash('sha256').update(pk).digest('hex')}`).toBe(v.keyid);
  });
});

describe('docs/spec/signatures.md vector', () => {
  const v = vectorOf('signatures.md');
  it('regenerates byte for byte', () => {
    expect(v.seed_hex).toBe(toHex(seed));
    expect(v.public_key_hex).toBe(toHex(signer.publicKey));
    expect(v.keyid).toBe(signer.keyId);
    const message = fromHex(v.message_hex as string) as Uint8Array;
    expect(new TextDecoder().decode(message)).toBe('HELM-TS signature test vector');
    expect(v.signature_hex).toBe(toHex(signer.sign(message)));
    // spki_der_hex, pkcs8_der_hex, jwk_public_json: the key formats, in @helm/interop's vectors test
  });
});

describe('docs/spec/jcs.md vector', () => {
  const v = vectorOf('jcs.md');
  it('regenerates byte for byte', () => {
    const input = JSON.parse(v.input_json as string);
    expect(v.jcs_utf8).toBe(canonicalize(input));
    expect(v.jcs_hex).toBe(toHex(canonicalBytes(input)));
    expect(v.jcs_sha256).toBe(digest(canonicalBytes(input)));
  });
});

describe('docs/spec/effect.md vector', () => {
  const v = vectorOf('effect.md');
  it('regenerates byte for byte', () => {
    const args = JSON.parse(v.args_json as string);
    expect(v.args_hash).toBe(digest(canonicalBytes(args)));
    const effect = JSON.parse(v.effect_json as string) as Effect;
    expect(effect.args_hash).toBe(v.args_hash);
    expect(v.effect_json).toBe(canonicalize(effect));
    expect(v.effect_jcs_hex).toBe(toHex(canonicalBytes(effect)));
    expect(v.effect_digest).toBe(effectDigest(effect));
  });
});
