import type { CondensedEntry, RiskTier, SignedEnvelope } from '@helm/contracts';
import { type MintedReceipt, ReceiptChain, verifyReceipt } from '@helm/receipts';
import { describe, expect, it } from 'vitest';
import {
  type CondensedHistoryInput,
  condenseHistory,
  type HistoryItem,
  MerkleLog,
  type SignedCheckpoint,
  verifyCondensedHistory,
} from '../src/index.ts';
import { d, keysOf, signerA, signerB } from './helpers.ts';

const keys = keysOf(signerA);
const TIERS: RiskTier[] = ['LOW', 'LOW', 'MEDIUM', 'LOW', 'HIGH', 'LOW', 'LOW', 'MEDIUM', 'LOW', 'LOW'];

function receipt(chain: ReceiptChain, n: number, tier: RiskTier): MintedReceipt {
  return chain.mint({
    decision_id: d(`dec-${n}`),
    effect_id: d(`eff-${n}`),
    effect_class: 'read',
    status: 'SUCCEEDED',
    verdict: 'ALLOW',
    reason_code: 'ALLOW',
    args_hash: d(`args-${n}`),
    request_digest: d(`request-${n}`),
    output_hash: d(`out-${n}`),
    session_id: 's',
    policy_hash: d('policy'),
    tool: 't',
    principal: 'agent:a',
    risk_tier: tier,
    issued_at_ms: n,
    trust_seq: 1,
    trust_head: d('trust-head-1'),
  });
}

/** 10 receipts, a checkpoint after 6 and after 10, condensed against the last one. */
function scenario() {
  const chain = new ReceiptChain({ signer: signerA, chainId: 'chain-1' });
  const log = new MerkleLog({ logId: 'chain-1' });
  const receipts: MintedReceipt[] = [];
  const checkpoints: SignedCheckpoint[] = [];
  TIERS.forEach((tier, i) => {
    const r = receipt(chain, i + 1, tier);
    receipts.push(r);
    log.append({ entry_hash: r.hash, lamport: r.body.lamport, risk_tier: tier });
    if (i === 5 || i === 9) checkpoints.push(log.checkpoint(signerA, 1000 + i));
  });
  const refs = receipts.map((r) => ({
    envelope: r.envelope,
    hash: r.hash,
    lamport: r.body.lamport,
    risk_tier: r.body.risk_tier,
  }));
  const last = checkpoints[1] as SignedCheckpoint;
  const c = condenseHistory(refs, log, last);
  const input: CondensedHistoryInput = {
    logId: 'chain-1',
    history: c.history,
    checkpoints: checkpoints.map((cp) => cp.envelope),
    consistency: [log.consistencyProof(6, 10)],
    keys,
    verifyReceipt: (env) => verifyReceipt(env, keys),
  };
  return { chain, log, receipts, refs, checkpoints, c, input };
}

const entryAt = (h: readonly unknown[], i: number) => h[i] as CondensedEntry;

describe('condenseHistory', () => {
  it('condenses only LOW receipts under the checkpoint, keeps MEDIUM/HIGH, lists HIGH for anchoring', () => {
    const { c, receipts } = scenario();
    const kinds = c.history.map((h) => ('leaf_index' in h ? 'C' : 'F')).join('');
    expect(kinds).toBe('CCFCFCCFCC');
    expect(c.condensed).toBe(7);
    expect(c.anchor).toStrictEqual([receipts[4]?.hash]);
    expect(entryAt(c.history, 0)).toMatchObject({
      type: 'helm.condensed.v1',
      leaf_index: 0,
      lamport: 1,
      tree_size: 10,
      risk_tier: 'LOW',
    });
  });

  it('keeps LOW receipts after the checkpoint and refuses receipts that are not the log leaves', () => {
    const { refs, log, checkpoints } = scenario();
    const early = condenseHistory(refs, log, checkpoints[0] as SignedCheckpoint);
    expect(early.condensed).toBe(4);
    expect(early.history.slice(6).every((h) => !('leaf_index' in h))).toBe(true);
    const swapped = [...refs];
    swapped[1] = { ...(refs[1] as (typeof refs)[number]), risk_tier: 'MEDIUM' };
    expect(() => condenseHistory(swapped, log, checkpoints[1] as SignedCheckpoint)).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_INPUT_INVALID' }),
    );
    expect(() => condenseHistory(refs.slice(1), log, checkpoints[1] as SignedCheckpoint)).toThrow();
    const other = new MerkleLog({ logId: 'other' });
    expect(() => condenseHistory(refs, other, checkpoints[1] as SignedCheckpoint)).toThrow();
  });
});

describe('verifyCondensedHistory', () => {
  it('verifies a condensed history end to end and reports checkpoints to anchor', () => {
    const { input, checkpoints, receipts } = scenario();
    const res = verifyCondensedHistory(input);
    expect(res).toStrictEqual({
      ok: true,
      count: 10,
      condensed: 7,
      head: { lamport: 10, hash: receipts[9]?.hash },
      anchor: [checkpoints[0]?.hash],
    });
    // The uncondensed history verifies too.
    expect(verifyCondensedHistory({ ...input, history: receipts.map((r) => r.envelope) })).toMatchObject({
      ok: true,
      condensed: 0,
    });
  });

  const tamper = (
    f: (h: HistoryItem[], input: CondensedHistoryInput) => Partial<CondensedHistoryInput> | undefined,
  ) => {
    const { input } = scenario();
    const history = [...input.history] as HistoryItem[];
    const patch = f(history, input) ?? {};
    return verifyCondensedHistory({ ...input, history, ...patch });
  };

  it.each([
    ['entry hash', (e: CondensedEntry) => ({ ...e, entry_hash: d('x') }), 'LEAF_HASH_MISMATCH'],
    ['prev hash', (e: CondensedEntry) => ({ ...e, prev_hash: d('x') }), 'LEAF_HASH_MISMATCH'],
    ['leaf hash', (e: CondensedEntry) => ({ ...e, leaf_hash: d('x') }), 'LEAF_HASH_MISMATCH'],
    ['lamport', (e: CondensedEntry) => ({ ...e, lamport: 5 }), 'POSITION_MISMATCH'],
    ['leaf index', (e: CondensedEntry) => ({ ...e, leaf_index: 5 }), 'POSITION_MISMATCH'],
    ['log id', (e: CondensedEntry) => ({ ...e, log_id: 'chain-2' }), 'POSITION_MISMATCH'],
    [
      'tier upgraded to MEDIUM',
      (e: CondensedEntry) => ({ ...e, risk_tier: 'MEDIUM' as const }),
      'CONDENSED_TIER_FORBIDDEN',
    ],
    [
      'proof element',
      (e: CondensedEntry) => ({ ...e, inclusion_proof: [d('x'), ...e.inclusion_proof.slice(1)] }),
      'INCLUSION_INVALID',
    ],
    [
      'proof truncated',
      (e: CondensedEntry) => ({ ...e, inclusion_proof: e.inclusion_proof.slice(1) }),
      'INCLUSION_INVALID',
    ],
    [
      'checkpoint reference',
      (e: CondensedEntry) => ({ ...e, checkpoint_hash: d('x') }),
      'CHECKPOINT_UNKNOWN',
    ],
    ['tree size', (e: CondensedEntry) => ({ ...e, tree_size: 6 }), 'CHECKPOINT_UNKNOWN'],
    ['extra field', (e: CondensedEntry) => ({ ...e, note: 1 }), 'CONDENSED_MALFORMED'],
    ['bad proof digest', (e: CondensedEntry) => ({ ...e, inclusion_proof: ['x'] }), 'CONDENSED_MALFORMED'],
    ['bad tier', (e: CondensedEntry) => ({ ...e, risk_tier: 'NONE' }), 'CONDENSED_MALFORMED'],
    ['bad number', (e: CondensedEntry) => ({ ...e, lamport: 0 }), 'CONDENSED_MALFORMED'],
    ['bad digest', (e: CondensedEntry) => ({ ...e, entry_hash: 'x' }), 'CONDENSED_MALFORMED'],
    ['bad log id', (e: CondensedEntry) => ({ ...e, log_id: 'a b' }), 'CONDENSED_MALFORMED'],
  ])('tampering with a condensed entry (%s) is detected', (_n, edit, code) => {
    const res = tamper((h) => {
      h[3] = edit(entryAt(h, 3)) as HistoryItem;
      return undefined;
    });
    expect(res).toMatchObject({ ok: false, code, where: 'history', index: 3 });
  });

  it('swapping two condensed entries, dropping one or replacing a full receipt is detected', () => {
    expect(
      tamper((h) => {
        [h[0], h[1]] = [h[1] as HistoryItem, h[0] as HistoryItem];
      }),
    ).toMatchObject({
      ok: false,
      code: 'POSITION_MISMATCH',
      index: 0,
    });
    expect(tamper((h) => void h.splice(1, 1))).toMatchObject({ ok: false, index: 1 });
    const { receipts } = scenario();
    // A full receipt replaced by another validly signed one of a forked chain.
    const fork = new ReceiptChain({
      signer: signerA,
      chainId: 'chain-1',
      head: { chain_id: 'chain-1', lamport: 2, hash: receipts[1]?.hash as string },
    });
    const forged = receipt(fork, 77, 'MEDIUM');
    expect(
      tamper((h) => {
        h[2] = forged.envelope;
      }),
    ).toMatchObject({
      ok: false,
      code: 'CHAIN_BROKEN',
      index: 3,
    });
    // A condensed entry whose (log-attested) prev_hash does not match: dropping a full receipt and
    // shifting positions cannot pass either.
    const { input } = scenario();
    const moved = [...input.history] as HistoryItem[];
    const e3 = entryAt(moved, 3);
    moved[3] = { ...e3, prev_hash: e3.entry_hash };
    expect(verifyCondensedHistory({ ...input, history: moved })).toMatchObject({ ok: false, index: 3 });
    // Editing a full receipt breaks its signature.
    expect(
      tamper((h) => {
        h[2] = {
          ...(h[2] as SignedEnvelope),
          payload: (receipts[7] as MintedReceipt).envelope.payload,
        };
      }),
    ).toMatchObject({
      ok: false,
      code: 'RECEIPT_INVALID',
      index: 2,
    });
    const otherChain = new ReceiptChain({ signer: signerA, chainId: 'chain-9' });
    expect(
      tamper((h) => {
        h[0] = receipt(otherChain, 1, 'LOW').envelope;
      }),
    ).toMatchObject({
      ok: false,
      code: 'POSITION_MISMATCH',
      index: 0,
    });
  });

  it('tampering with checkpoints or the consistency proof is detected', () => {
    const { input, checkpoints, log } = scenario();
    const [c1, c2] = checkpoints as [SignedCheckpoint, SignedCheckpoint];
    const forgedPayload = { ...c2.envelope, payload: c1.envelope.payload };
    expect(verifyCondensedHistory({ ...input, checkpoints: [c1.envelope, forgedPayload] })).toMatchObject({
      ok: false,
      code: 'CHECKPOINT_INVALID',
      where: 'checkpoint',
      index: 1,
    });
    expect(
      verifyCondensedHistory({ ...input, checkpoints: [c1.envelope, c2.envelope], keys: keysOf(signerB) }),
    ).toMatchObject({ ok: false, code: 'CHECKPOINT_INVALID', index: 0 });
    expect(
      verifyCondensedHistory({ ...input, consistency: [[d('x'), ...(input.consistency[0] ?? []).slice(1)]] }),
    ).toMatchObject({ ok: false, code: 'CONSISTENCY_INVALID', index: 1 });
    expect(verifyCondensedHistory({ ...input, consistency: [] })).toMatchObject({
      ok: false,
      code: 'CONSISTENCY_INVALID',
    });
    // Dropping the first checkpoint: the second does not start the log.
    expect(verifyCondensedHistory({ ...input, checkpoints: [c2.envelope] })).toMatchObject({
      ok: false,
      code: 'CHECKPOINT_CHAIN_BROKEN',
      index: 0,
    });
    // Reordered checkpoints.
    expect(verifyCondensedHistory({ ...input, checkpoints: [c1.envelope, c1.envelope] })).toMatchObject({
      ok: false,
      code: 'CHECKPOINT_CHAIN_BROKEN',
      index: 1,
    });
    // A checkpoint of another log, and one with a lamport range that does not match the chain log.
    const other = new MerkleLog({ logId: 'chain-2' });
    other.append({ entry_hash: d('x'), lamport: 1, risk_tier: 'LOW' });
    expect(
      verifyCondensedHistory({ ...input, checkpoints: [other.checkpoint(signerA, 1).envelope] }),
    ).toMatchObject({ ok: false, code: 'CHECKPOINT_INVALID' });
    const odd = new MerkleLog({ logId: 'chain-1' });
    odd.append({ entry_hash: d('x'), lamport: 7, risk_tier: 'LOW' });
    expect(
      verifyCondensedHistory({ ...input, checkpoints: [odd.checkpoint(signerA, 1).envelope] }),
    ).toMatchObject({ ok: false, code: 'CHECKPOINT_RANGE_INVALID' });
    // Without checkpoints, condensed entries have nothing to stand on.
    expect(verifyCondensedHistory({ ...input, checkpoints: [], consistency: [] })).toMatchObject({
      ok: false,
      code: 'CHECKPOINT_UNKNOWN',
      index: 0,
    });
    void log;
  });
});
