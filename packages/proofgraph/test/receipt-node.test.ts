// Receipt nodes (docs/spec/node.md §Receipt nodes): a signed receipt is its own EFFECT node, with
// real receipts from @helm/receipts and the real receipt verifier.
import { RECEIPT_GENESIS_PREV_HASH, type SignedEnvelope } from '@helm/contracts';
import { fromBase64Url, toBase64Url } from '@helm/crypto';
import { type MintedReceipt, ReceiptChain, type ReceiptInput, verifyReceipt } from '@helm/receipts';
import { describe, expect, it } from 'vitest';
import {
  isReceiptNode,
  ProofGraph,
  ProofGraphError,
  RECEIPT_NODE_KIND,
  receiptNode,
  validateGraph,
} from '../src/index.ts';
import { d, signerA, signerB } from './helpers.ts';

const input = (n: number): ReceiptInput => ({
  decision_id: d(`decision-${n}`),
  effect_id: d(`effect-${n}`),
  effect_class: 'fs.read',
  status: 'SUCCEEDED',
  verdict: 'ALLOW',
  reason_code: 'ALLOW',
  args_hash: d(`args-${n}`),
  request_digest: d(`request-${n}`),
  output_hash: d(`out-${n}`),
  session_id: null,
  policy_hash: d('policy'),
  tool: 'files.read',
  principal: n % 2 === 0 ? 'alice' : 'bob',
  risk_tier: 'LOW',
  issued_at_ms: 1_764_115_200_000 + n,
  trust_seq: 1,
  trust_head: d('trust-head-1'),
});

function mintChain(count: number, chainId = 'c1', signer = signerA): MintedReceipt[] {
  const chain = new ReceiptChain({ signer, chainId });
  return Array.from({ length: count }, (_, i) => chain.mint(input(i)));
}

const receiptKeys = (keyid: string, role: string) =>
  role === 'receipt-signer' ? [signerA, signerB].find((s) => s.keyId === keyid)?.publicKey : undefined;
const receipts = (e: unknown) => verifyReceipt(e, receiptKeys);
const nodeKeys = (keyid: string) => [signerA, signerB].find((s) => s.keyId === keyid)?.publicKey;

describe('receipt nodes', () => {
  it('the node view is read from the receipt: hash, parents, lamport, principal, time, key, id', () => {
    const minted = mintChain(3);
    const g = new ProofGraph();
    const nodes = minted.map((m) => g.appendReceipt(m));
    for (const [i, n] of nodes.entries()) {
      const m = minted[i] as MintedReceipt;
      expect(isReceiptNode(n)).toBe(true);
      expect(n.envelope).toBe(m.envelope);
      expect(n.hash).toBe(m.hash);
      expect(n.body).toEqual({
        type: 'helm.node.v1',
        kind: RECEIPT_NODE_KIND,
        parents: i === 0 ? [] : [minted[i - 1]?.hash],
        lamport: i + 1,
        principal: m.body.principal,
        payload_hash: m.body.receipt_id,
        keyid: signerA.keyId,
        issued_at_ms: m.body.issued_at_ms,
      });
    }
    expect(g.heads()).toEqual([minted[2]?.hash]);
    expect(g.size).toBe(3);
  });

  it('a receipt whose predecessor is not in the graph, or appended twice, is refused', () => {
    const minted = mintChain(2);
    const g = new ProofGraph();
    expect(() => g.appendReceipt(minted[1] as MintedReceipt)).toThrow(ProofGraphError);
    g.appendReceipt(minted[0] as MintedReceipt);
    expect(() => g.appendReceipt(minted[0] as MintedReceipt)).toThrow(ProofGraphError);
  });

  it('refuses a non-receipt envelope and a lamport/genesis mismatch', () => {
    const [m] = mintChain(1) as [MintedReceipt];
    const notReceipt = { ...m.envelope, type: 'helm.node.v1' };
    expect(() => receiptNode(notReceipt, m.body, m.hash)).toThrow(ProofGraphError);
    expect(() => receiptNode(m.envelope, { ...m.body, lamport: 2 }, m.hash)).toThrow(ProofGraphError);
    expect(() => receiptNode(m.envelope, { ...m.body, prev_hash: d('x') }, m.hash)).toThrow(ProofGraphError);
    expect(receiptNode(m.envelope, m.body, m.hash).body.parents).toEqual([]);
    expect(m.body.prev_hash).toBe(RECEIPT_GENESIS_PREV_HASH);
  });

  it('validateGraph verifies receipt nodes with the receipt verifier, beside signed nodes', () => {
    const minted = mintChain(3);
    const other = mintChain(2, 'c2', signerB);
    const g = new ProofGraph();
    for (const m of [...minted, ...other]) g.appendReceipt(m);
    // A signed node merging the two branches, then a child of it.
    const merge = g.append(
      {
        kind: 'CHECKPOINT',
        parents: [minted[2]?.hash as string, other[1]?.hash as string],
        principal: 'ops',
        payload: { note: 'merge' },
        issued_at_ms: 5,
      },
      signerA,
    );
    expect(merge.body.lamport).toBe(4);
    const nodes = g.rangeByLamport(1, 10);
    const items = nodes.map((n) =>
      isReceiptNode(n)
        ? { envelope: n.envelope, hash: n.hash }
        : { envelope: n.envelope, payload: { value: n.payload } },
    );
    expect(validateGraph(items, { keys: nodeKeys, receipts })).toEqual({
      ok: true,
      count: 6,
      heads: [merge.hash],
    });
  });

  it('detects a forged, reordered, duplicated, dropped or mislabelled receipt node', () => {
    const minted = mintChain(4);
    const items = minted.map((m) => ({ envelope: m.envelope as unknown, hash: m.hash }));
    const opts = { keys: nodeKeys, receipts };
    // forged: one payload character changed
    const env = minted[1]?.envelope as SignedEnvelope;
    const bytes = fromBase64Url(env.payload) as Uint8Array;
    const text = new TextDecoder().decode(bytes).replace('"files.read"', '"files.wipe"');
    const forged = { ...env, payload: toBase64Url(new TextEncoder().encode(text)) };
    expect(
      validateGraph(
        items.map((it, i) => (i === 1 ? { envelope: forged } : it)),
        opts,
      ),
    ).toMatchObject({
      ok: false,
      code: 'RECEIPT_INVALID',
      index: 1,
    });
    // reordered: a child before its parent
    expect(validateGraph([items[1], items[0], ...items.slice(2)] as typeof items, opts)).toMatchObject({
      ok: false,
      code: 'PARENT_ORDER',
      index: 0,
    });
    // duplicated
    expect(validateGraph([...items, items[3]] as typeof items, opts)).toMatchObject({
      ok: false,
      code: 'DUPLICATE_NODE',
      index: 4,
    });
    // dropped: the middle receipt is missing
    expect(validateGraph([items[0], items[2]] as typeof items, opts)).toMatchObject({
      ok: false,
      code: 'PARENT_MISSING',
      index: 1,
    });
    // a claimed hash that is not the receipt hash
    expect(validateGraph([{ ...items[0], hash: minted[1]?.hash }] as typeof items, opts)).toMatchObject({
      ok: false,
      code: 'HASH_MISMATCH',
    });
    // a slice continuing from known nodes
    expect(
      validateGraph(items.slice(2), { ...opts, known: (h) => (h === minted[1]?.hash ? 2 : undefined) }),
    ).toMatchObject({ ok: true, count: 2 });
  });

  it('a receipt node needs a receipt verifier, carries no payload, and must be a real receipt', () => {
    const [m] = mintChain(1) as [MintedReceipt];
    expect(validateGraph([{ envelope: m.envelope }], { keys: nodeKeys })).toMatchObject({
      ok: false,
      code: 'NODE_MALFORMED',
    });
    expect(
      validateGraph([{ envelope: m.envelope, payload: { value: 1 } }], { keys: nodeKeys, receipts }),
    ).toMatchObject({ ok: false, code: 'NODE_MALFORMED' });
    // unknown receipt key
    expect(
      validateGraph([{ envelope: m.envelope }], {
        keys: nodeKeys,
        receipts: (e) => verifyReceipt(e, () => undefined),
      }),
    ).toMatchObject({ ok: false, code: 'RECEIPT_INVALID' });
    // a verifier answering with an inconsistent body is caught by the view rules
    expect(
      validateGraph([{ envelope: m.envelope }], {
        keys: nodeKeys,
        receipts: () => ({ ok: true, body: { ...m.body, lamport: 3 }, summary: { hash: m.hash } }),
      }),
    ).toMatchObject({ ok: false, code: 'NODE_MALFORMED' });
    // a receipt with two signatures has no receipt hash: malformed for the receipt verifier
    const twice = { ...m.envelope, signatures: [...m.envelope.signatures, ...m.envelope.signatures] };
    expect(validateGraph([{ envelope: twice }], { keys: nodeKeys, receipts })).toMatchObject({
      ok: false,
      code: 'RECEIPT_INVALID',
    });
  });
});

describe('published receipt-node vector (docs/spec/node.md §Vector: receipt nodes)', () => {
  it('the receipt vectors validate as a graph and the spec quotes every node value', async () => {
    const { readFileSync } = await import('node:fs');
    const vector = JSON.parse(
      readFileSync(new URL('../../receipts/test/vectors/receipt.v1.json', import.meta.url), 'utf8'),
    ) as {
      public_key_hex: string;
      keyid: string;
      receipts: { envelope: SignedEnvelope; receipt_hash: string }[];
    };
    const spec = readFileSync(new URL('../../../docs/spec/node.md', import.meta.url), 'utf8');
    const publicKey = Uint8Array.from(Buffer.from(vector.public_key_hex, 'hex'));
    const keys = (keyid: string, role: string) =>
      keyid === vector.keyid && role === 'receipt-signer' ? publicKey : undefined;
    const items = vector.receipts.map((r) => ({ envelope: r.envelope as unknown, hash: r.receipt_hash }));
    const g = validateGraph(items, { keys: () => undefined, receipts: (e) => verifyReceipt(e, keys) });
    expect(g).toEqual({ ok: true, count: 2, heads: [vector.receipts[1]?.receipt_hash] });
    for (const r of vector.receipts) {
      const check = verifyReceipt(r.envelope, keys);
      if (!check.ok) throw new Error(check.message);
      const n = receiptNode(r.envelope, check.body, check.summary.hash);
      const parents = n.body.parents.length === 0 ? '[]' : `["${n.body.parents[0]}"]`;
      expect(spec).toContain(
        `| ${n.body.lamport} | \`${n.hash}\` | \`${parents}\` | \`${n.body.payload_hash}\` | \`${n.body.principal}\` | \`${n.body.issued_at_ms}\` |`,
      );
    }
  });
});
