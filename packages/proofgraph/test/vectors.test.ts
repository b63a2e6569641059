// Published vectors (docs/spec/node.md, checkpoint.md, condensed-entry.md) are regenerated and
// must match byte for byte; the spec pages must contain every published value.
import { readFileSync } from 'node:fs';
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes } from '@helm/crypto';
import { ReceiptChain, type ReceiptInput, verifyReceipt } from '@helm/receipts';
import { describe, expect, it } from 'vitest';
import {
  condenseHistory,
  logLeafData,
  logLeafHash,
  MerkleLog,
  ProofGraph,
  verifyCondensedHistory,
} from '../src/index.ts';
import { keysOf, signerA } from './helpers.ts';

const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');
const hexOf = (b64: string) => Buffer.from(b64, 'base64url').toString('hex');
const N = JSON.parse(read('./vectors/node.v1.json'));
const C = JSON.parse(read('./vectors/checkpoint.v1.json'));
const R = JSON.parse(read('../../receipts/test/vectors/receipt.v1.json'));
const nodeSpec = read('../../../docs/spec/node.md');
const cpSpec = read('../../../docs/spec/checkpoint.md');
const condSpec = read('../../../docs/spec/condensed-entry.md');

describe('node.v1 vectors', () => {
  it('reproduces both nodes and their hashes', () => {
    expect(signerA.keyId).toBe(N.keyid);
    const g = new ProofGraph();
    for (const v of N.nodes) {
      const n = g.append(
        {
          kind: v.body.kind,
          parents: v.body.parents,
          principal: v.body.principal,
          payload: v.payload,
          issued_at_ms: v.body.issued_at_ms,
        },
        signerA,
      );
      expect(hexOf(n.envelope.payload)).toBe(v.payload_hex);
      expect(hexOf((n.envelope.signatures[0] as { sig: string }).sig)).toBe(v.signature_hex);
      expect(new TextDecoder().decode(canonicalBytes(n.envelope))).toBe(v.envelope_jcs);
      expect(n.hash).toBe(v.node_hash);
      for (const value of [v.payload_hex, v.signature_hex, v.node_hash]) expect(nodeSpec).toContain(value);
    }
  });
});

describe('checkpoint.v1 / condensed.v1 vectors', () => {
  it('reproduces leaves, root, checkpoint and the condensed entry; they verify', () => {
    const chain = new ReceiptChain({ signer: signerA, chainId: R.chain_id });
    const receipts = (R.receipts as { input: ReceiptInput }[]).map((v) => chain.mint(v.input));
    const log = new MerkleLog({ logId: R.chain_id });
    receipts.forEach((r, i) => {
      const leaf = C.leaves[i];
      expect(new TextDecoder().decode(logLeafData(leaf.fields))).toBe(leaf.leaf_data);
      expect(Buffer.from(logLeafHash(leaf.fields)).toString('hex')).toBe(leaf.leaf_hash_hex);
      log.append({ entry_hash: r.hash, lamport: r.body.lamport, risk_tier: r.body.risk_tier });
      expect(cpSpec).toContain(leaf.leaf_hash_hex);
    });
    expect(Buffer.from(log.root()).toString('hex')).toBe(C.root_hex);
    const cp = log.checkpoint(signerA, C.checkpoint.body.issued_at_ms);
    expect(cp.envelope).toStrictEqual(C.checkpoint.envelope);
    expect(cp.hash).toBe(C.checkpoint.checkpoint_hash);
    for (const value of [
      C.root_hex,
      C.checkpoint.payload_hex,
      C.checkpoint.signature_hex,
      C.checkpoint.checkpoint_hash,
    ]) {
      expect(cpSpec).toContain(value);
    }
    const refs = receipts.map((r) => ({
      envelope: r.envelope,
      hash: r.hash,
      lamport: r.body.lamport,
      risk_tier: r.body.risk_tier,
    }));
    const condensed = condenseHistory(refs, log, cp);
    expect(condensed.history[1]).toStrictEqual(C.condensed);
    expect(condSpec).toContain(C.condensed.leaf_hash);
    expect(condSpec).toContain(C.condensed.inclusion_proof[0]);
    const keys = keysOf(signerA);
    const res = verifyCondensedHistory({
      logId: R.chain_id,
      history: [receipts[0]?.envelope as SignedEnvelope, C.condensed],
      checkpoints: [C.checkpoint.envelope],
      consistency: [],
      keys,
      verifyReceipt: (e) => verifyReceipt(e, keys),
    });
    expect(res).toMatchObject({ ok: true, condensed: 1, count: 2 });
  });
});
