// I-EVIDENCE-4 — an unknown manifest version never reads as a pass. A pack whose manifest type is
// `helm.evidencepack.manifest.v<N>` (N > 1) is checked only as far as a v1 verifier can without
// understanding it — the archive (PACK_FORMAT), the v1 trust snapshot, the pinned anchor and the
// manifest signature (the type is inside the signed PAE, so relabelling a v1 pack breaks it:
// FAILED) — and is otherwise reported UNVERIFIABLE with `format_unsupported: true`, every other
// step listed as not checked and a "NOT VERIFIED" line. Never PASS; `helm verify` exits 1.
//
// Written from the attacker's side: relabel honest packs (without the executor key) and, for the
// genuine-newer-format case, seal a v2 manifest with the executor key.
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, signEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  CHECK_CODES,
  type CheckCode,
  formatReport,
  readTar,
  type VerifyReport,
  verifyEvidencePack,
  writeTar,
} from '../../src/index.ts';
import {
  editEntry,
  editManifestUnsigned,
  type HonestPack,
  honestPacks,
  json,
  manifestBody,
  put,
  reseal,
} from '../fixtures/packs.ts';
import { executor, stranger } from '../fixtures/world.ts';

const V2 = 'helm.evidencepack.manifest.v2';
const plain = honestPacks()[0] as HonestPack;
const anchor = plain.world.anchor;

const statusOf = (r: VerifyReport, code: CheckCode) => r.checks.find((c) => c.code === code)?.status;

/** A v2 manifest body (v1 fields plus something new) sealed by `signer`: what a newer producer writes. */
function sealedV2(signer = executor): Uint8Array {
  const body = { ...manifestBody(plain.entries), type: V2, format_version: 2, novel: { x: 1 } };
  const env = signEnvelope(body, [signer]);
  return writeTar(put(plain.entries, 'manifest.json', canonicalBytes(env)));
}

function notAPass(r: VerifyReport): void {
  expect(r.status).not.toBe('PASS');
  expect(r.format_unsupported).toBe(true);
  expect(r.manifest).toBeNull();
  expect(formatReport(r)).toMatch(/NOT VERIFIED: .*helm\.evidencepack\.manifest\.v2/);
  expect(formatReport(r)).not.toMatch(/^PASS/m);
  // Only the version-independent checks may pass; everything else is reported as not checked.
  const mayPass = new Set<CheckCode>(['PACK_FORMAT', 'TRUST_SNAPSHOT', 'TRUST_ANCHOR', 'MANIFEST_SIGNATURE']);
  for (const c of r.checks) if (!mayPass.has(c.code)) expect(c.status, c.code).not.toBe('PASS');
  expect(r.checks.map((c) => c.code).sort()).toEqual([...CHECK_CODES].sort());
}

describe('I-EVIDENCE-4: an unknown manifest version never reads as a pass', () => {
  it('a v1 pack relabelled v2 without the executor key is FAILED at MANIFEST_SIGNATURE', async () => {
    const relabelled = writeTar(
      editManifestUnsigned(plain.entries, (m) => ({ ...m, type: V2 })).map((e) => {
        if (e.path !== 'manifest.json') return e;
        const env = json(e.data) as SignedEnvelope;
        return { path: e.path, data: canonicalBytes({ ...env, type: V2 }) };
      }),
    );
    const r = await verifyEvidencePack(relabelled, { trustAnchor: anchor });
    notAPass(r);
    expect(r.status).toBe('FAILED');
    expect(statusOf(r, 'MANIFEST_FORMAT')).toBe('UNVERIFIABLE');
    expect(statusOf(r, 'MANIFEST_SIGNATURE')).toBe('FAILED');
    // Only the body relabelled (envelope type still v1): a contradiction, FAILED.
    const half = await verifyEvidencePack(
      writeTar(editManifestUnsigned(plain.entries, (m) => ({ ...m, type: V2 }))),
      {
        trustAnchor: anchor,
      },
    );
    expect(half.status).toBe('FAILED');
    expect(statusOf(half, 'MANIFEST_FORMAT')).toBe('FAILED');
  });

  it('a genuinely signed v2 pack is UNVERIFIABLE, flagged format_unsupported, "NOT VERIFIED"', async () => {
    const r = await verifyEvidencePack(sealedV2(), { trustAnchor: anchor });
    notAPass(r);
    expect(r.status).toBe('UNVERIFIABLE');
    expect(statusOf(r, 'PACK_FORMAT')).toBe('PASS');
    expect(statusOf(r, 'MANIFEST_FORMAT')).toBe('UNVERIFIABLE');
    expect(r.checks.find((c) => c.code === 'MANIFEST_FORMAT')?.detail).toBe('FORMAT_UNSUPPORTED');
    expect(statusOf(r, 'TRUST_SNAPSHOT')).toBe('PASS');
    expect(statusOf(r, 'TRUST_ANCHOR')).toBe('PASS');
    expect(statusOf(r, 'MANIFEST_SIGNATURE')).toBe('PASS');
    expect(formatReport(r)).toMatch(/upgrade helm/);
    // Without a pinned anchor, and with a different one.
    notAPass(await verifyEvidencePack(sealedV2()));
    const other = await verifyEvidencePack(sealedV2(), { trustAnchor: `sha256:${'1'.repeat(64)}` });
    notAPass(other);
    expect(other.status).toBe('FAILED');
  });

  it('a v2 manifest signed by a key without the executor role is FAILED', async () => {
    const r = await verifyEvidencePack(sealedV2(stranger), { trustAnchor: anchor });
    notAPass(r);
    expect(r.status).toBe('FAILED');
    expect(statusOf(r, 'MANIFEST_SIGNATURE')).toBe('FAILED');
  });

  it('v2 with a missing, unknown or broken trust snapshot: never PASS', async () => {
    const v2 = sealedV2();
    const entries = readTar(v2);
    const missing = await verifyEvidencePack(
      writeTar(entries.filter((e) => e.path !== 'trust/snapshot.json')),
      {
        trustAnchor: anchor,
      },
    );
    notAPass(missing);
    expect(statusOf(missing, 'MANIFEST_SIGNATURE')).toBe('UNVERIFIABLE');
    const newer = await verifyEvidencePack(
      writeTar(editEntry(entries, 'trust/snapshot.json', (v) => ({ ...v, type: 'helm.trust.snapshot.v2' }))),
      { trustAnchor: anchor },
    );
    notAPass(newer);
    expect(statusOf(newer, 'TRUST_SNAPSHOT')).toBe('UNVERIFIABLE');
    const broken = await verifyEvidencePack(
      writeTar(editEntry(entries, 'trust/snapshot.json', (v) => ({ ...v, events: 5 }))),
      { trustAnchor: anchor },
    );
    notAPass(broken);
    expect(broken.status).toBe('FAILED');
  });

  it('v2 in a non-canonical archive is FAILED at PACK_FORMAT; malformed versions are FAILED', async () => {
    const v2 = sealedV2();
    const extra = new Uint8Array(v2.length + 512);
    extra.set(v2);
    const r = await verifyEvidencePack(extra, { trustAnchor: anchor });
    expect(r.status).toBe('FAILED');
    expect(r.checks.map((c) => c.code)).toEqual(['PACK_FORMAT']);
    for (const type of [
      'helm.evidencepack.manifest.v0',
      'helm.evidencepack.manifest.v02',
      'helm.evidencepack.manifestx.v2',
    ]) {
      const bad = await verifyEvidencePack(
        reseal(plain.entries, (m) => ({ ...m, type })),
        { trustAnchor: anchor },
      );
      expect(bad.status, type).toBe('FAILED');
      expect(statusOf(bad, 'MANIFEST_FORMAT')).toBe('FAILED');
      expect(bad.format_unsupported).toBe(false);
    }
  });

  it('a v1 pack reports format_unsupported false', async () => {
    const r = await verifyEvidencePack(plain.bytes, { trustAnchor: anchor });
    expect(r.status).toBe('PASS');
    expect(r.format_unsupported).toBe(false);
    expect(formatReport(r)).not.toMatch(/NOT VERIFIED/);
  });
});
