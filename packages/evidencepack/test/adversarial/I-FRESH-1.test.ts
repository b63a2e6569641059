// I-FRESH-1 — a stale trust snapshot does not resurrect a rotated-out key once the verifier
// pins freshness. The attack (issue "stale trust snapshot"): an attacker steals executor key E1;
// the operator rotates the executor key to E2 at seq 4 and keeps working. The attacker forks the
// chain before the rotation, signs a call with E1 claiming the last pre-rotation state (seq 3, its
// true head), and seals the pack with E1 against the registry as it was before the rotation — a
// valid older snapshot. Unpinned, that pack PASSes, and the report says so (`unpinned`, seq 3);
// pinned (`minTrustSeq` or `trustHead`), it FAILs: the snapshot is stale, and a fresh snapshot makes
// the manifest need a key valid at its head, which E1 is not. A registry fork (a different seq 4
// under the same genesis: root-signed here; redteam-selffork.test.ts forks by self-rotation, no root
// needed) passes a bare minimum seq — reported as `pin: min-seq`, which rules out staleness, not
// forks — but not a pinned head.
import { canonicalBytes, createSigner, signEnvelope } from '@helm/crypto';
import { commitTrustEvent, exportTrustSnapshot, TrustRegistry } from '@helm/trust';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildEvidencePack,
  envelopeBody,
  formatReport,
  type PackInput,
  readTar,
  sealArchive,
  type VerifyOptions,
  verifyEvidencePack,
  writeTar,
} from '../../src/index.ts';
import {
  bodyOf,
  checkOf,
  E1,
  E2,
  type History,
  hashOf,
  history,
  ROTATED_AT,
  resign,
  root,
  seal,
} from '../fixtures/insider.ts';

let h: History;
let stale: TrustRegistry;
let attack: Uint8Array;
beforeAll(async () => {
  h = await history();
  stale = TrustRegistry.load(h.registry.events().slice(0, ROTATED_AT - 1), { genesis: h.registry.genesis });
  attack = forged(stale).bytes;
});

/**
 * The attacker's pack: the operator's receipts 1–2, then receipt 3 re-signed by the stolen E1 with
 * a forged output, at the pre-rotation state it truly had; sealed by E1 against `registry`.
 */
function forged(registry: TrustRegistry) {
  const chain = resign(
    h.receipts.slice(0, ROTATED_AT - 1),
    ROTATED_AT - 2,
    () => E1,
    () => ({ output_hash: hashOf({ text: 'forged' }) }),
  );
  const input: PackInput = h.input({
    receipts: chain,
    decisions: h.decisions.slice(0, ROTATED_AT - 1),
    requests: h.requests.slice(0, ROTATED_AT - 1),
    trustSnapshot: exportTrustSnapshot(registry) as unknown as PackInput['trustSnapshot'],
  });
  return buildEvidencePack(input, E1);
}

const verify = (bytes: Uint8Array, pin: Partial<VerifyOptions> = {}) =>
  verifyEvidencePack(bytes, { trustAnchor: h.anchor, workers: 0, ...pin });

const current = () => ({ seq: h.registry.seq, head: h.registry.head });

describe('I-FRESH-1: a pinned verifier refuses a stale snapshot that resurrects a rotated-out key', () => {
  it('the forged receipt is by the rotated-out key at a state where it was valid', () => {
    const last = bodyOf(h.receipts[ROTATED_AT - 2] as never);
    expect(last.trust_seq).toBe(ROTATED_AT - 1);
    expect(h.registry.keyValidFor(E1.keyId, 'executor', ROTATED_AT - 1).ok).toBe(true);
    expect(h.registry.keyValidFor(E1.keyId, 'executor', ROTATED_AT).ok).toBe(false);
  });

  it('unpinned, the attack PASSes — and the report says the freshness is unpinned, at the stale seq', async () => {
    const report = await verify(attack);
    expect(report.status).toBe('PASS');
    expect(report.freshness).toEqual({
      pinned: false,
      pin: 'none',
      source: 'none',
      seq: ROTATED_AT - 1,
      head: stale.head,
      min_seq: null,
      pinned_head: null,
    });
    expect(formatReport(report)).toMatch(/Trust freshness: unpinned \(registry seq 3, head sha256:/);
  });

  it('pinned to the current head, the attack is FAILED (TRUST_SNAPSHOT_STALE)', async () => {
    const report = await verify(attack, { trustHead: current() });
    expect(report.status).toBe('FAILED');
    expect(checkOf(report, 'TRUST_SNAPSHOT')).toMatchObject({
      status: 'FAILED',
      detail: 'TRUST_SNAPSHOT_STALE',
    });
    expect(report.freshness).toMatchObject({ pinned: true, source: 'flag', seq: 3, min_seq: 4 });
    expect(formatReport(report)).toMatch(/Trust freshness: pinned by flag to continuing head sha256:/);
  });

  it('pinned to a minimum seq at or after the rotation, the attack is FAILED (TRUST_SNAPSHOT_STALE)', async () => {
    const report = await verify(attack, { minTrustSeq: ROTATED_AT });
    expect(checkOf(report, 'TRUST_SNAPSHOT')?.detail).toBe('TRUST_SNAPSHOT_STALE');
    expect(report.status).toBe('FAILED');
    // A pin from before the rotation does not help — it is the verifier's statement of what it knows.
    expect((await verify(attack, { minTrustSeq: ROTATED_AT - 1 })).status).toBe('PASS');
  });

  it('carrying the fresh snapshot to meet the pin, the E1-sealed pack is FAILED (MANIFEST_SIGNATURE)', async () => {
    const report = await verify(forged(h.registry).bytes, { trustHead: current() });
    expect(checkOf(report, 'TRUST_SNAPSHOT')?.status).toBe('PASS');
    // The forged receipt itself verifies at its own pre-rotation seq; the seal is what E1 cannot make.
    expect(checkOf(report, 'RECEIPT_CHAIN')?.status).toBe('PASS');
    expect(checkOf(report, 'MANIFEST_SIGNATURE')?.status).toBe('FAILED');
    expect(report.status).toBe('FAILED');
  });

  it('a forked registry (another seq 4 under the same genesis, root-signed) passes a minimum seq but not a pinned head (TRUST_SNAPSHOT_FORKED)', async () => {
    const fork = TrustRegistry.load(stale.events(), { genesis: h.registry.genesis });
    commitTrustEvent(
      fork,
      {
        kind: 'key_publish',
        publicKey: createSigner(new Uint8Array(32).fill(0x5f)).publicKey,
        roles: ['guardian'],
      },
      [root],
    );
    expect(fork.seq).toBe(ROTATED_AT);
    expect(fork.head).not.toBe(h.registry.head);
    const pack = forged(fork).bytes;
    const minimum = await verify(pack, { minTrustSeq: ROTATED_AT });
    expect(minimum.status).toBe('PASS');
    // …and says so: a minimum seq is reported as such, with what it does not rule out.
    expect(minimum.freshness).toMatchObject({ pinned: true, pin: 'min-seq', pinned_head: null });
    expect(formatReport(minimum)).toMatch(/refuses a stale copy of the registry, not a fork/);
    const pinned = await verify(pack, { trustHead: current() });
    expect(checkOf(pinned, 'TRUST_SNAPSHOT')).toMatchObject({
      status: 'FAILED',
      detail: 'TRUST_SNAPSHOT_FORKED',
    });
    expect(pinned.status).toBe('FAILED');
  });

  it('the honest pack PASSes pinned to the current head, to an earlier head it continues, and by minimum seq', async () => {
    const honest = seal(h.input()).bytes;
    const atHead = await verify(honest, { trustHead: current() });
    expect(atHead.status).toBe('PASS');
    expect(atHead.freshness).toEqual({
      pinned: true,
      pin: 'trust-head',
      source: 'flag',
      seq: h.registry.seq,
      head: h.registry.head,
      min_seq: h.registry.seq,
      pinned_head: current(),
    });
    const earlier = { seq: 2, head: h.registry.headAt(2) as string };
    expect((await verify(honest, { trustHead: earlier })).status).toBe('PASS');
    expect((await verify(honest, { minTrustSeq: h.registry.seq })).status).toBe('PASS');
    const dataDir = await verify(honest, { trustHead: current(), pinSource: 'data-dir' });
    expect(dataDir.freshness.source).toBe('data-dir');
    expect(formatReport(dataDir)).toMatch(/pinned by the data directory/);
  });

  it('an honest pack exported before the registry moved on is stale against the newer pin', async () => {
    const honest = seal(h.input()).bytes;
    const report = await verify(honest, { minTrustSeq: h.registry.seq + 1 });
    expect(checkOf(report, 'TRUST_SNAPSHOT')?.detail).toBe('TRUST_SNAPSHOT_STALE');
    expect(report.status).toBe('FAILED');
  });

  it('a malformed pin is FAILED (TRUST_PIN_INVALID), never ignored', async () => {
    const honest = seal(h.input()).bytes;
    for (const pin of [
      { minTrustSeq: 0 },
      { minTrustSeq: 1.5 },
      { trustHead: { seq: 0, head: h.registry.head } },
      { trustHead: { seq: 4, head: 'sha256:xyz' } },
    ]) {
      const report = await verify(honest, pin);
      expect(checkOf(report, 'TRUST_SNAPSHOT')?.detail).toBe('TRUST_PIN_INVALID');
      expect(report.status).toBe('FAILED');
    }
  });

  it('a pack relabelled as a newer manifest version is held against the pin too (§5.1): FAILED, not UNVERIFIABLE', async () => {
    // The thief seals the stale pack as a v2 manifest with E1: only the version-independent checks
    // run, and the v1 trust snapshot among them meets the pin.
    const entries = readTar(attack);
    const manifest = entries.find((e) => e.path === 'manifest.json');
    const body = envelopeBody<Record<string, unknown>>(
      JSON.parse(new TextDecoder().decode(manifest?.data)) as never,
    );
    const v2 = signEnvelope({ ...body, type: 'helm.evidencepack.manifest.v2' }, [E1]);
    const relabelled = writeTar([
      ...entries.filter((e) => e.path !== 'manifest.json'),
      { path: 'manifest.json', data: canonicalBytes(v2) },
    ]);
    const unpinned = await verify(relabelled);
    expect(unpinned.format_unsupported).toBe(true);
    expect(unpinned.status).toBe('UNVERIFIABLE');
    expect(unpinned.freshness).toMatchObject({ pinned: false, seq: ROTATED_AT - 1 });
    const pinned = await verify(relabelled, { trustHead: current() });
    expect(checkOf(pinned, 'TRUST_SNAPSHOT')?.detail).toBe('TRUST_SNAPSHOT_STALE');
    expect(pinned.status).toBe('FAILED');
  });

  it('a pin with no verified trust snapshot is not reported as pinned (UNVERIFIABLE, never PASS)', async () => {
    // The snapshot removed (COMPLETENESS fails), and removed and re-sealed by the executor key.
    const all = readTar(seal(h.input()).bytes);
    const entries = all.filter((e) => e.path !== 'trust/snapshot.json');
    const manifest = all.find((e) => e.path === 'manifest.json');
    const body = envelopeBody<Record<string, unknown>>(
      JSON.parse(new TextDecoder().decode(manifest?.data)) as never,
    );
    const files = new Map(entries.filter((e) => e.path !== 'manifest.json').map((e) => [e.path, e.data]));
    const resealed = sealArchive(files, body, [E2]);
    for (const bytes of [writeTar(entries), resealed]) {
      for (const pin of [{ trustHead: current() }, { minTrustSeq: 1 }]) {
        const report = await verify(bytes, pin);
        expect(report.status).not.toBe('PASS');
        expect(report.freshness.pinned).toBe(false);
        expect(report.freshness.seq).toBeNull();
        expect(formatReport(report)).toMatch(/Trust freshness: not established/);
      }
    }
  });

  it('E2, the key in force, still seals honestly after the rotation (the pin does not refuse old receipts)', async () => {
    // Receipts 1–3 were signed by E1 before the rotation: valid at their own trust_seq, and the pack
    // is sealed by E2 at the current head.
    const report = await verify(seal(h.input(), E2).bytes, { trustHead: current() });
    expect(report.status).toBe('PASS');
    expect(bodyOf(h.receipts[0] as never).keyid).toBe(E1.keyId);
  });
});
