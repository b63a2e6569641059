// I-FRESH-1 (red team, finding 2) — the executor-key insider holding only the ROTATED-OUT key E1
// (no root key). A non-root key may rotate itself without any root signature (trust-event.md,
// I-REGISTRY-1 "self-rotation chains"), so E1 can fork the registry at the state before its rotation
// (seq 3) and self-rotate E1 → F1 → F2 → … to any height, every event signed only by keys it
// generated. The forked snapshot reaches every minimum seq, F_n holds `executor` at its head and
// seals the manifest, and the forged receipt verifies at seq 3 where E1 was valid.
//
// What is specified (evidencepack.md §5.3): a `minTrustSeq` pin alone refuses a stale copy of the
// registry, not a fork — so this pack PASSes a minimum seq, and the report must say exactly that
// (`freshness.pin: 'min-seq'`, no pinned head, the human line says it does not rule out a fork and
// points at --trust-head). A `trustHead` pin — alone, or with the minimum seq — FAILs it
// (TRUST_SNAPSHOT_FORKED). The CLI never lets a minimum seq replace its data directory's head pin
// (apps/cli/test/adversarial/I-FRESH-1.test.ts).
import { createSigner, type Signer } from '@helm/crypto';
import { commitTrustEvent, exportTrustSnapshot, TrustRegistry } from '@helm/trust';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildEvidencePack, formatReport, type PackInput, verifyEvidencePack } from '../../src/index.ts';
import { checkOf, E1, type History, hashOf, history, ROTATED_AT, resign, root } from '../fixtures/insider.ts';

let h: History;
let fork: TrustRegistry;
let sealer: Signer;
const TARGET = 40; // any height the attacker wants: far beyond the real head

beforeAll(async () => {
  h = await history();
  // The attacker's fork: the real history up to the last state where E1 was valid (seq 3)…
  fork = TrustRegistry.load(h.registry.events().slice(0, ROTATED_AT - 1), { genesis: h.registry.genesis });
  // …then self-rotations, each signed only by the outgoing and the incoming attacker key.
  let current: Signer = E1;
  let n = 0;
  while (fork.seq < TARGET) {
    const seed = new Uint8Array(32).fill(0xa5);
    seed[0] = ++n;
    const next = createSigner(seed);
    commitTrustEvent(fork, { kind: 'key_rotate', keyid: current.keyId, newPublicKey: next.publicKey }, [
      current,
      next,
    ]);
    current = next;
  }
  sealer = current;
});

function attackPack(): Uint8Array {
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
    trustSnapshot: exportTrustSnapshot(fork) as unknown as PackInput['trustSnapshot'],
  });
  return buildEvidencePack(input, sealer).bytes;
}

describe('I-FRESH-1: a rotated-out non-root key forges a fresh-enough registry by self-rotation', () => {
  it('the fork uses no root key: every event after seq 3 is signed by attacker keys only', () => {
    for (const env of fork.events().slice(ROTATED_AT - 1)) {
      expect(env.signatures.map((s) => s.keyid)).not.toContain(root.keyId);
    }
    expect(h.registry.keyValidFor(E1.keyId, 'executor', ROTATED_AT).ok).toBe(false);
    expect(fork.seq).toBe(TARGET);
  });

  it('pinned to the real head (alone or with any minimum seq), the E1 pack is FAILED: TRUST_SNAPSHOT_FORKED', async () => {
    const bytes = attackPack();
    const trustHead = { seq: h.registry.seq, head: h.registry.head };
    for (const minTrustSeq of [undefined, ROTATED_AT, h.registry.seq, TARGET]) {
      const report = await verifyEvidencePack(bytes, {
        trustAnchor: h.anchor,
        workers: 0,
        trustHead,
        ...(minTrustSeq === undefined ? {} : { minTrustSeq }),
      });
      expect(report.status).toBe('FAILED');
      expect(checkOf(report, 'TRUST_SNAPSHOT')).toMatchObject({
        status: 'FAILED',
        detail: 'TRUST_SNAPSHOT_FORKED',
      });
      expect(report.freshness).toMatchObject({ pinned: true, pin: 'trust-head' });
    }
  });

  it('pinned by a minimum seq alone, the report says it is a min-seq pin that does not rule out this fork', async () => {
    const bytes = attackPack();
    for (const minTrustSeq of [ROTATED_AT, h.registry.seq, TARGET]) {
      const report = await verifyEvidencePack(bytes, { trustAnchor: h.anchor, workers: 0, minTrustSeq });
      // Specified behaviour (§5.3): a minimum seq establishes staleness, not fork-freedom.
      expect(report.freshness).toEqual({
        pinned: true,
        pin: 'min-seq',
        source: 'flag',
        seq: TARGET,
        head: fork.head,
        min_seq: minTrustSeq,
        pinned_head: null,
      });
      expect(checkOf(report, 'TRUST_SNAPSHOT')?.message).toMatch(/not a fork: pin its head/);
      const text = formatReport(report);
      expect(text).toMatch(/pinned by flag to at least seq \d+ .*not a fork/);
      expect(text).toMatch(/--trust-head <seq>:<head>/);
    }
  });
});
