// Red team (I-CONSOLE-4): "its RFC 9162 inclusion proof ... is verified in the page ... against the
// checkpoint's signed root ... a full receipt whose tier was downgraded show[s] ✗ ROOT_MISMATCH".
//
// Attack (anyone who can hand the auditor a pack; no HELM key needed): downgrade a full receipt's
// tier (its log leaf changes), then replace the checkpoint with one whose root is recomputed over
// the edited leaves, signed by a key the pack's trust registry never gave the `checkpoint` role.
// The inclusion view takes `root_hash` from the checkpoint body without checking who signed it, so
// every receipt — the downgraded one included — is shown "✓ VERIFIES … leads to the signed root".
// (The verdict above says FAILED; the per-receipt proof, which is what I-CONSOLE-4 promises an
// auditor looking at one receipt, says the opposite.)
//
// Invariant checked: a receipt whose leaf was changed is never shown as VERIFIES against a root
// that no authorized checkpoint key signed.
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, fromBase64Url, signEnvelope, toHex } from '@helm/crypto';
import { envelopeBody, receiptHashOf, writeTar } from '@helm/evidencepack';
import { inclusionProof, leafHashSource } from '@helm/proofgraph';
import { logLeafHash, rootFromInclusionProof } from '@helm/proofgraph/verify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { honest } from '../../../packages/evidencepack/test/fixtures/packs.ts';
import { buildWorld, stranger } from '../../../packages/evidencepack/test/fixtures/world.ts';
import { launch } from './browser.ts';
import { requireBuild, routeOffline } from './offline-console.ts';

const dec = new TextDecoder();

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

function forge() {
  const world = buildWorld(6, 'redteam-inclusion', true);
  const pack = honest('condensed', world);
  const leaves = new Map<number, Uint8Array>();
  let target = -1;
  const edited = pack.entries.map((e) => {
    if (/^receipts\/\d+\.json$/.test(e.path)) {
      const env = JSON.parse(dec.decode(e.data)) as SignedEnvelope;
      const b = envelopeBody<Record<string, unknown>>(env);
      let body = b;
      if (target < 0) {
        target = Number(b.lamport);
        body = { ...b, risk_tier: b.risk_tier === 'LOW' ? 'HIGH' : 'LOW' };
      }
      const out = { ...env, payload: Buffer.from(canonicalBytes(body as never)).toString('base64url') };
      leaves.set(
        Number(body.lamport),
        logLeafHash({
          entry_hash: receiptHashOf(env),
          prev_hash: String(body.prev_hash),
          lamport: Number(body.lamport),
          risk_tier: body.risk_tier as 'LOW',
        }),
      );
      return { path: e.path, data: canonicalBytes(out as never) };
    }
    if (/^condensed\/\d+\.json$/.test(e.path)) {
      const c = JSON.parse(dec.decode(e.data)) as Record<string, unknown>;
      leaves.set(
        Number(c.lamport),
        logLeafHash({
          entry_hash: String(c.entry_hash),
          prev_hash: String(c.prev_hash),
          lamport: Number(c.lamport),
          risk_tier: c.risk_tier as 'LOW',
        }),
      );
    }
    return e;
  });
  expect(target).toBeGreaterThan(0);
  const forged = edited.map((e) => {
    if (!/^checkpoints\/\d+-[0-9a-f]{64}\.json$/.test(e.path)) return e;
    const env = JSON.parse(dec.decode(e.data)) as SignedEnvelope;
    const b = JSON.parse(dec.decode(fromBase64Url(env.payload) as Uint8Array)) as Record<string, unknown>;
    const size = Number(b.tree_size);
    const ls = Array.from({ length: size }, (_, i) => leaves.get(i + 1) as Uint8Array);
    const proof = inclusionProof(leafHashSource(ls), 0, size);
    const root = rootFromInclusionProof(0, size, ls[0] as Uint8Array, proof) as Uint8Array;
    const next = signEnvelope({ ...b, root_hash: `sha256:${toHex(root)}` } as never, [stranger]);
    return { path: e.path, data: canonicalBytes(next as never) };
  });
  return { bytes: writeTar(forged), target, anchor: world.anchor };
}

describe('redteam I-CONSOLE-4: a proof verifies only against a root an authorized checkpoint key signed', () => {
  it('does not show a downgraded receipt as VERIFIES against a checkpoint re-rooted by a stranger', async () => {
    requireBuild();
    const { bytes, target, anchor } = forge();
    const page = await browser.newPage();
    await routeOffline(page);
    await page.goto('http://console.test/console/#/explorer');
    await page.waitForSelector('#pack-file', { state: 'attached' });
    await page.fill('#trust-anchor', anchor);
    await page.setInputFiles('#pack-file', {
      name: 'forged.tar',
      mimeType: 'application/x-tar',
      buffer: Buffer.from(bytes),
    });
    await page.waitForSelector('#verdict', { timeout: 30_000 });
    const verdict = await page.getAttribute('#verdict', 'data-status');
    await page.click(`#timeline li[data-lamport="${target}"]`);
    await page.waitForSelector('#inclusion .proof, #inclusion-none', { timeout: 10_000 });
    const proofs = await page
      .locator('#inclusion .proof')
      .evaluateAll((els) =>
        els.map((el) => ({ ok: el.getAttribute('data-ok'), text: el.textContent ?? '' })),
      );
    await page.close();
    expect(verdict).not.toBe('PASS');
    expect(proofs.length).toBeGreaterThan(0);
    for (const p of proofs) expect(p.ok, `receipt L${target} shown as: ${p.text}`).toBe('false');
  });
});
