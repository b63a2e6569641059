// biome-ignore-all lint/suspicious/noExplicitAny: page.evaluate bodies run in the browser on the bundle's untyped global
// @helm/crypto's browser entry (package.json "exports" → browser, "imports" → #platform browser
// targets) passes the same spec vectors as Node, in Chromium: the crypto pages' vectors
// (docs/spec/envelope.md, signatures.md, jcs.md, effect.md) and the receipt.v1 vectors, regenerated
// byte for byte and verified in the page. The bundle is built here with Vite's browser conditions
// and is checked to hold no node built-in and to run without Buffer.
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from './browser.ts';

const SPEC = new URL('../../../docs/spec/', import.meta.url);
function vectorOf(page: string): Record<string, string> {
  const text = readFileSync(new URL(page, SPEC), 'utf8');
  const out: Record<string, string> = {};
  for (const block of text.matchAll(/```vector\n([\s\S]*?)```/g))
    for (const line of (block[1] as string).split('\n')) {
      const i = line.indexOf(': ');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 2);
    }
  return out;
}
const RECEIPTS = JSON.parse(
  readFileSync(new URL('../../../packages/receipts/test/vectors/receipt.v1.json', import.meta.url), 'utf8'),
);

let browser: Browser;
let bundle = '';
let out = '';

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'helm-console-vectors-'));
  await build({
    configFile: false,
    logLevel: 'silent',
    root: new URL('..', import.meta.url).pathname,
    build: {
      outDir: out,
      emptyOutDir: true,
      minify: false,
      lib: {
        entry: new URL('./fixtures/vectors-entry.ts', import.meta.url).pathname,
        formats: ['es'],
        fileName: 'vectors',
      },
      rollupOptions: { external: [] },
    },
  });
  const file = (await readdir(out)).find((f) => f.endsWith('.js')) as string;
  bundle = await readFile(join(out, file), 'utf8');
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (out) await rm(out, { recursive: true, force: true });
});

async function page() {
  const p = await browser.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  await p.setContent('<!doctype html><html><body></body></html>');
  await p.addScriptTag({ content: bundle, type: 'module' });
  await p.waitForFunction(() => 'helm' in globalThis);
  expect(errors).toEqual([]);
  expect(await p.evaluate(() => typeof (globalThis as { Buffer?: unknown }).Buffer)).toBe('undefined');
  return p;
}

describe('I-CONSOLE-3 @helm/crypto browser build in Chromium', () => {
  it('the bundle holds no node built-in and the node backend is absent', async () => {
    expect(bundle).not.toMatch(/from\s*["']node:/);
    expect(bundle).not.toMatch(/require\(["']node:/);
    const p = await page();
    expect(
      await p.evaluate(() => (globalThis as any).helm.crypto.ED25519_BACKENDS.map((b: any) => b.name)),
    ).toEqual(['noble']);
    expect(await p.evaluate(() => 'nodeBackend' in (globalThis as any).helm.crypto)).toBe(false);
    await p.close();
  });

  it('envelope, signatures, jcs and effect vectors regenerate byte for byte', async () => {
    const p = await page();
    const pages = {
      envelope: vectorOf('envelope.md'),
      signatures: vectorOf('signatures.md'),
      jcs: vectorOf('jcs.md'),
      effect: vectorOf('effect.md'),
    };
    const got = await p.evaluate((v) => {
      const c = (globalThis as any).helm.crypto;
      const k = (globalThis as any).helm.keys;
      const seed = new Uint8Array(32).fill(1);
      const signer = c.createSigner(seed);
      const e = v.envelope;
      const body = JSON.parse(e.body_json);
      const jcs = c.canonicalBytes(body);
      const pae = c.preAuthEncoding(body.type, jcs);
      const publicKey = c.fromHex(e.public_key_hex);
      const envelope = JSON.parse(e.envelope_json);
      const lookup = (id: string) => (id === e.keyid ? publicKey : undefined);
      const verified = c.verifyEnvelope(envelope, 'helm.example.v1', lookup);
      const tampered = { ...envelope, payload: `${envelope.payload.slice(0, -2)}AA` };
      const refused = c.verifyEnvelope(tampered, 'helm.example.v1', lookup);
      const s = v.signatures;
      const message = c.fromHex(s.message_hex);
      const jin = JSON.parse(v.jcs.input_json);
      const args = JSON.parse(v.effect.args_json);
      const effect = JSON.parse(v.effect.effect_json);
      return {
        envelope: {
          seed_hex: c.toHex(seed),
          public_key_hex: c.toHex(signer.publicKey),
          keyid: signer.keyId,
          jcs_utf8: c.canonicalize(body),
          jcs_hex: c.toHex(jcs),
          jcs_sha256: c.digest(jcs),
          payload_b64url: c.toBase64Url(jcs),
          pae_hex: c.toHex(pae),
          signature_hex: c.toHex(signer.sign(pae)),
          signature_b64url: c.toBase64Url(signer.sign(pae)),
          envelope_json: JSON.stringify(c.signEnvelope(body, [signer])),
          verified: verified.ok === true && c.canonicalize(verified.body) === c.canonicalize(body),
          refused: refused.ok === false,
          ed25519: c.verifyEd25519(publicKey, c.fromHex(e.pae_hex), c.fromHex(e.signature_hex)).ok,
        },
        signatures: {
          signature_hex: c.toHex(signer.sign(message)),
          spki_der_hex: c.toHex(k.exportPublicKeySpki(signer.publicKey)),
          pkcs8_der_hex: c.toHex(k.exportPrivateKeyPkcs8(seed)),
          jwk_public_json: JSON.stringify(k.exportPublicKeyJwk(signer.publicKey)),
          pem_roundtrip:
            c.toHex(k.importPublicKeyPem(k.exportPublicKeyPem(signer.publicKey))) ===
            c.toHex(signer.publicKey),
        },
        jcs: {
          jcs_utf8: c.canonicalize(jin),
          jcs_hex: c.toHex(c.canonicalBytes(jin)),
          jcs_sha256: c.digest(c.canonicalBytes(jin)),
        },
        effect: {
          args_hash: c.digest(c.canonicalBytes(args)),
          effect_json: c.canonicalize(effect),
          effect_jcs_hex: c.toHex(c.canonicalBytes(effect)),
          effect_digest: c.effectDigest(effect),
        },
      };
    }, pages);
    const e = pages.envelope;
    expect(got.envelope).toEqual({
      seed_hex: e.seed_hex,
      public_key_hex: e.public_key_hex,
      keyid: e.keyid,
      jcs_utf8: e.jcs_utf8,
      jcs_hex: e.jcs_hex,
      jcs_sha256: e.jcs_sha256,
      payload_b64url: e.payload_b64url,
      pae_hex: e.pae_hex,
      signature_hex: e.signature_hex,
      signature_b64url: e.signature_b64url,
      envelope_json: e.envelope_json,
      verified: true,
      refused: true,
      ed25519: true,
    });
    const s = pages.signatures;
    expect(got.signatures).toEqual({
      signature_hex: s.signature_hex,
      spki_der_hex: s.spki_der_hex,
      pkcs8_der_hex: s.pkcs8_der_hex,
      jwk_public_json: s.jwk_public_json,
      pem_roundtrip: true,
    });
    expect(got.jcs).toEqual({
      jcs_utf8: pages.jcs.jcs_utf8,
      jcs_hex: pages.jcs.jcs_hex,
      jcs_sha256: pages.jcs.jcs_sha256,
    });
    expect(got.effect).toEqual({
      args_hash: pages.effect.args_hash,
      effect_json: pages.effect.effect_json,
      effect_jcs_hex: pages.effect.effect_jcs_hex,
      effect_digest: pages.effect.effect_digest,
    });
    await p.close();
  });

  it('receipt.v1 vectors: minting reproduces every byte and the chain verifies in the page', async () => {
    const p = await page();
    const got = await p.evaluate((V) => {
      const { crypto: c, ReceiptChain, verifyReceiptChain } = (globalThis as any).helm;
      const signer = c.createSigner(c.fromHex(V.seed_hex));
      const chain = new ReceiptChain({ signer, chainId: V.chain_id });
      const minted = V.receipts.map((v: any) => {
        const r = chain.mint(v.input);
        return {
          payload_hex: c.toHex(c.fromBase64Url(r.envelope.payload)),
          signature_hex: c.toHex(c.fromBase64Url(r.envelope.signatures[0].sig)),
          receipt_id: r.body.receipt_id,
          receipt_hash: r.hash,
          envelope: JSON.stringify(r.envelope),
        };
      });
      const key = c.fromHex(V.public_key_hex);
      const keys = (k: string) => (k === V.keyid ? key : undefined);
      const res = verifyReceiptChain(
        V.receipts.map((v: any) => v.envelope),
        { keys },
      );
      const swapped = verifyReceiptChain([V.receipts[1].envelope, V.receipts[0].envelope], { keys });
      return {
        keyid: signer.keyId,
        minted,
        ok: res.ok,
        count: res.count,
        head: res.head?.hash,
        swappedOk: swapped.ok,
      };
    }, RECEIPTS);
    expect(got.keyid).toBe(RECEIPTS.keyid);
    expect(got.minted).toEqual(
      RECEIPTS.receipts.map((v: any) => ({
        payload_hex: v.payload_hex,
        signature_hex: v.signature_hex,
        receipt_id: v.receipt_id,
        receipt_hash: v.receipt_hash,
        envelope: JSON.stringify(v.envelope),
      })),
    );
    expect(got).toMatchObject({
      ok: true,
      count: 2,
      head: RECEIPTS.receipts[1].receipt_hash,
      swappedOk: false,
    });
    await p.close();
  });
});
