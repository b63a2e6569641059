// I-EVIDENCE-9 — a checkpoint attests exactly the receipts of its range: the verifier recomputes
// `anchor_required` from the risk tiers of the full and condensed receipts in each checkpoint's
// range and refolds the tree from every receipt (full ones included), so an insider holding the
// checkpoint key cannot flip `anchor_required` or sign a tree that leaves a full receipt out (or
// lies about its tier) and still get PASS. Also the export-side refusals that keep packs
// verifiable: Lamport values / tree sizes ≥ 10^12 and range exports with checkpoints.
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest, signEnvelope } from '@helm/crypto';
import { MerkleLog } from '@helm/proofgraph';
import { receiptHash } from '@helm/receipts';
import { describe, expect, it } from 'vitest';
import {
  buildEvidencePack,
  EvidencePackError,
  envelopeBody,
  type TarEntry,
  verifyEvidencePack,
} from '../../src/index.ts';
import { type HonestPack, honest, json, put, reseal } from '../fixtures/packs.ts';
import { buildWorld, checkpointer, executor } from '../fixtures/world.ts';

const hexOf = (d: string) => d.slice('sha256:'.length);
const pad = (n: number) => String(n).padStart(12, '0');

async function verifyBytes(bytes: Uint8Array, pack: HonestPack) {
  return verifyEvidencePack(bytes, { trustAnchor: pack.world.anchor, workers: 0 });
}
const checkOf = (r: Awaited<ReturnType<typeof verifyBytes>>, code: string) =>
  r.checks.find((c) => c.code === code);

/**
 * The insider with the checkpoint key: edit every checkpoint body (oldest first), re-sign each,
 * re-chain `prev_checkpoint_hash`, re-point the (unsigned) condensed entries at the new hashes,
 * rename the entries by content and re-seal the manifest with the executor key.
 */
function resignCheckpoints(
  pack: HonestPack,
  edit: (body: Record<string, unknown>, index: number) => Record<string, unknown>,
): Uint8Array {
  const cps = pack.entries
    .filter((e) => e.path.startsWith('checkpoints/') && e.path !== 'checkpoints/consistency.json')
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  let entries: TarEntry[] = pack.entries.filter((e) => !cps.includes(e));
  const renamed = new Map<string, string>();
  let prev: string | undefined;
  cps.forEach((e, i) => {
    const old = json(e.data) as SignedEnvelope;
    const body = envelopeBody<Record<string, unknown>>(old);
    const env = signEnvelope(
      edit({ ...body, ...(prev ? { prev_checkpoint_hash: prev } : {}) }, i) as { type: string },
      [checkpointer],
    );
    const bytes = canonicalBytes(env);
    prev = digest(bytes);
    renamed.set(digest(e.data), prev);
    entries.push({ path: `checkpoints/${pad(Number(body.tree_size))}-${hexOf(prev)}.json`, data: bytes });
  });
  for (const e of entries.filter((x) => x.path.startsWith('condensed/'))) {
    const c = json(e.data) as Record<string, unknown>;
    const to = renamed.get(String(c.checkpoint_hash));
    if (to) entries = put(entries, e.path, canonicalBytes({ ...c, checkpoint_hash: to }));
  }
  return reseal(entries);
}

/** Add one checkpoint (signed by the checkpoint key over `log`) to a pack without checkpoints. */
function withCheckpoint(pack: HonestPack, log: MerkleLog): Uint8Array {
  const cp = log.checkpoint(checkpointer, 1_767_225_700_000);
  const bytes = canonicalBytes(cp.envelope);
  const entries = put(
    pack.entries,
    `checkpoints/${pad(cp.body.tree_size)}-${hexOf(digest(bytes))}.json`,
    bytes,
  );
  return reseal(entries, (m) => ({
    ...m,
    counts: { ...(m.counts as Record<string, unknown>), checkpoints: 1 },
  }));
}

const condensedPack = () => honest('condensed', buildWorld(6, 'adv9-condensed', true));
const plainPack = () => honest('plain', buildWorld(4, 'adv9-plain'));
const tierOf = (e: SignedEnvelope) => envelopeBody<{ risk_tier: 'LOW' | 'HIGH' }>(e).risk_tier;

describe('I-EVIDENCE-9: checkpoints attest their range (anchor_required, every receipt a leaf)', () => {
  it('the honest condensed pack passes, with the HIGH checkpoint marked for anchoring (baseline)', async () => {
    const pack = condensedPack();
    const report = await verifyBytes(pack.bytes, pack);
    expect(report.status).toBe('PASS');
    expect(checkOf(report, 'CHECKPOINTS')?.status).toBe('PASS');
    // and re-signing without an edit keeps it PASS (the attack helper itself is faithful)
    expect(
      (
        await verifyBytes(
          resignCheckpoints(pack, (b) => b),
          pack,
        )
      ).status,
    ).toBe('PASS');
  });

  it('anchor_required flipped true → false on the checkpoint covering a HIGH receipt, re-signed: FAILED (CHECKPOINTS, ANCHOR_REQUIRED_MISMATCH)', async () => {
    const pack = condensedPack();
    const bytes = resignCheckpoints(pack, (b, i) => (i === 1 ? { ...b, anchor_required: false } : b));
    const report = await verifyBytes(bytes, pack);
    expect(report.status).toBe('FAILED');
    expect(checkOf(report, 'CHECKPOINTS')).toMatchObject({
      status: 'FAILED',
      detail: 'ANCHOR_REQUIRED_MISMATCH',
    });
    expect(checkOf(report, 'RECEIPT_CHAIN')?.status).toBe('PASS');
  });

  it('anchor_required flipped false → true on a checkpoint with only LOW receipts, re-signed and re-chained: FAILED (ANCHOR_REQUIRED_MISMATCH)', async () => {
    const pack = condensedPack();
    const bytes = resignCheckpoints(pack, (b, i) => (i === 0 ? { ...b, anchor_required: true } : b));
    const report = await verifyBytes(bytes, pack);
    expect(report.status).toBe('FAILED');
    expect(checkOf(report, 'CHECKPOINTS')).toMatchObject({
      status: 'FAILED',
      detail: 'ANCHOR_REQUIRED_MISMATCH',
    });
  });

  it('a checkpoint whose tree records a full HIGH receipt as LOW (no anchoring), signed: FAILED (CHECKPOINTS, CHECKPOINT_TREE_MISMATCH)', async () => {
    const pack = plainPack();
    const receipts = pack.world.input.receipts;
    expect(receipts.map(tierOf)).toContain('HIGH');
    const log = new MerkleLog({ logId: pack.world.input.chainId });
    for (const e of receipts)
      log.append({
        entry_hash: receiptHash(e) as string,
        lamport: envelopeBody<{ lamport: number }>(e).lamport,
        risk_tier: 'LOW',
      });
    const report = await verifyBytes(withCheckpoint(pack, log), pack);
    expect(report.status).toBe('FAILED');
    expect(checkOf(report, 'CHECKPOINTS')).toMatchObject({
      status: 'FAILED',
      detail: 'CHECKPOINT_TREE_MISMATCH',
    });
  });

  it('a checkpoint over a tree without a full receipt of its range (another entry at its leaf), signed: FAILED (CHECKPOINT_TREE_MISMATCH)', async () => {
    const pack = plainPack();
    const log = new MerkleLog({ logId: pack.world.input.chainId });
    for (const [i, e] of pack.world.input.receipts.entries())
      log.append({
        entry_hash: i === 1 ? `sha256:${'7'.repeat(64)}` : (receiptHash(e) as string),
        lamport: i + 1,
        risk_tier: tierOf(e),
      });
    const report = await verifyBytes(withCheckpoint(pack, log), pack);
    expect(report.status).toBe('FAILED');
    expect(checkOf(report, 'CHECKPOINTS')).toMatchObject({
      status: 'FAILED',
      detail: 'CHECKPOINT_TREE_MISMATCH',
    });
  });

  it('a checkpoint covering receipts the pack leaves out (tail dropped), signed: FAILED (CHECKPOINT_TREE_MISMATCH)', async () => {
    const pack = plainPack();
    const log = new MerkleLog({ logId: pack.world.input.chainId });
    for (const [i, e] of pack.world.input.receipts.entries())
      log.append({ entry_hash: receiptHash(e) as string, lamport: i + 1, risk_tier: tierOf(e) });
    const dropped = { ...pack, entries: pack.entries.filter((e) => !e.path.endsWith('000000000004.json')) };
    const report = await verifyBytes(withCheckpoint(dropped, log), pack);
    expect(report.status).toBe('FAILED');
    expect(checkOf(report, 'CHECKPOINTS')).toMatchObject({
      status: 'FAILED',
      detail: 'CHECKPOINT_TREE_MISMATCH',
    });
  });

  it('an honest checkpoint added to a plain pack passes (full receipts are its leaves)', async () => {
    const pack = plainPack();
    const log = new MerkleLog({ logId: pack.world.input.chainId });
    for (const [i, e] of pack.world.input.receipts.entries())
      log.append({ entry_hash: receiptHash(e) as string, lamport: i + 1, risk_tier: tierOf(e) });
    expect((await verifyBytes(withCheckpoint(pack, log), pack)).status).toBe('PASS');
  });
});

describe('export refusals that keep every pack verifiable', () => {
  const expectCode = (f: () => unknown, code: string) => {
    try {
      f();
    } catch (error) {
      expect(error).toBeInstanceOf(EvidencePackError);
      expect((error as EvidencePackError).code).toBe(code);
      return;
    }
    throw new Error(`expected ${code}`);
  };

  it('a range export with checkpoints is refused at export (PACK_RANGE_WITH_CHECKPOINTS)', () => {
    const { input } = buildWorld(6, 'adv9-range', true);
    const condensed = input.condensed ?? [];
    expectCode(
      () =>
        buildEvidencePack({ ...input, condensed: condensed.filter((c) => Number(c.lamport) > 1) }, executor),
      'PACK_RANGE_WITH_CHECKPOINTS',
    );
  });

  it('a Lamport value or tree size ≥ 10^12 is refused at export (PACK_LAMPORT_TOO_LARGE)', () => {
    const { input } = buildWorld(2, 'adv9-big');
    const big = signEnvelope({ type: 'helm.receipt.v1', chain_id: 'adv9-big', lamport: 1_000_000_000_000 }, [
      executor,
    ]);
    expectCode(() => buildEvidencePack({ ...input, receipts: [big] }, executor), 'PACK_LAMPORT_TOO_LARGE');
    const cp = signEnvelope({ type: 'helm.checkpoint.v1', tree_size: 1_000_000_000_000 }, [checkpointer]);
    expectCode(() => buildEvidencePack({ ...input, checkpoints: [cp] }, executor), 'PACK_LAMPORT_TOO_LARGE');
    // 10^12 − 1 still has a 12-digit name
    const edge = signEnvelope({ type: 'helm.receipt.v1', chain_id: 'adv9-big', lamport: 999_999_999_999 }, [
      executor,
    ]);
    expect(() => buildEvidencePack({ ...input, receipts: [edge] }, executor)).not.toThrow();
  });

  it('a 13-digit entry name (Lamport ≥ 10^12) is refused by the verifier: FAILED (ENTRY_NAMES)', async () => {
    const pack = plainPack();
    const from = 'requests/000000000004.json';
    const data = (pack.entries.find((e) => e.path === from) as TarEntry).data;
    const entries = put(
      pack.entries.filter((e) => e.path !== from),
      'requests/1000000000004.json',
      data,
    );
    const report = await verifyBytes(reseal(entries), pack);
    expect(report.status).toBe('FAILED');
    expect(checkOf(report, 'ENTRY_NAMES')?.status).toBe('FAILED');
    expect(checkOf(report, 'ENTRY_NAMES')?.message).toContain('10^12');
  });
});
