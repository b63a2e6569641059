import { readFileSync } from 'node:fs';
import { sha256 } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_TREE_ROOT,
  InMemoryLeafHashStore,
  inclusionProof,
  leafHashSource,
  MerkleFrontier,
  merkleLeafHash,
  merkleNodeHash,
  merkleRoot,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.ts';

interface Vectors {
  leaves: string[];
  leaf_hashes: string[];
  roots: { tree_size: number; root: string }[];
  node_hashes: { level: number; index: number; hash: string }[];
  inclusion_proofs: {
    leaf_index: number;
    tree_size: number;
    leaf_hash: string;
    root: string;
    proof: string[];
  }[];
  consistency_proofs: { size1: number; size2: number; root1: string; root2: string; proof: string[] }[];
  inclusion_probes: {
    file: string;
    desc: string;
    want_error: boolean;
    leaf_index: number;
    tree_size: number;
    leaf_hash: string;
    root: string;
    proof: string[];
  }[];
  consistency_probes: {
    file: string;
    desc: string;
    want_error: boolean;
    size1: number;
    size2: number;
    root1: string;
    root2: string;
    proof: string[];
  }[];
  derived: {
    inclusion_proofs: { leaf_index: number; tree_size: number; proof: string[] }[];
    consistency_proofs: { size1: number; size2: number; proof: string[] }[];
  };
}

const V: Vectors = JSON.parse(
  readFileSync(new URL('../../../../shared/testdata/merkle/rfc6962_vectors.json', import.meta.url), 'utf8'),
);
const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leafHashes = V.leaves.map((l) => merkleLeafHash(hex(l)));
const source = leafHashSource(leafHashes);
const rootOf = (n: number) => V.roots.find((r) => r.tree_size === n)?.root as string;

function storeWith(n: number): InMemoryLeafHashStore {
  const s = new InMemoryLeafHashStore();
  for (let i = 0; i < n; i++) s.append(leafHashes[i] as Uint8Array);
  return s;
}

const PROOF_OK = { ok: true };

describe('RFC 9162 Merkle tree against the shared vectors', () => {
  it('leaf hashes and the empty root', () => {
    expect(leafHashes.map(toHex)).toStrictEqual(V.leaf_hashes);
    expect(toHex(EMPTY_TREE_ROOT)).toBe(rootOf(0));
  });

  it('every root, recursively, from a store, and incrementally from the frontier', () => {
    const f = new MerkleFrontier();
    const store = storeWith(8);
    expect(toHex(f.root())).toBe(rootOf(0));
    for (const { tree_size, root } of V.roots) {
      expect(toHex(merkleRoot(source, tree_size))).toBe(root);
      expect(toHex(merkleRoot(store, tree_size))).toBe(root);
      if (tree_size > 0) {
        f.append(leafHashes[tree_size - 1] as Uint8Array);
        expect(toHex(f.root())).toBe(root);
        expect(f.size).toBe(tree_size);
      }
    }
  });

  it('node hashes of complete subtrees', () => {
    const store = storeWith(8);
    for (const { level, index, hash } of V.node_hashes) {
      expect(toHex(store.perfectSubtreeHash(level, index))).toBe(hash);
    }
  });

  it('generates exactly the upstream and derived inclusion proofs, which verify', () => {
    const store = storeWith(8);
    const all = [...V.inclusion_proofs, ...V.derived.inclusion_proofs];
    expect(all.length).toBe(41);
    for (const p of all) {
      expect(inclusionProof(source, p.leaf_index, p.tree_size).map(toHex)).toStrictEqual(p.proof);
      expect(inclusionProof(store, p.leaf_index, p.tree_size).map(toHex)).toStrictEqual(p.proof);
      const leaf = leafHashes[p.leaf_index] as Uint8Array;
      expect(
        verifyInclusion(p.leaf_index, p.tree_size, leaf, p.proof.map(hex), hex(rootOf(p.tree_size))),
      ).toStrictEqual(PROOF_OK);
    }
  });

  it('generates exactly the upstream and derived consistency proofs, which verify', () => {
    const store = storeWith(8);
    for (const p of [...V.consistency_proofs, ...V.derived.consistency_proofs]) {
      expect(consistencyProof(source, p.size1, p.size2).map(toHex)).toStrictEqual(p.proof);
      expect(consistencyProof(store, p.size1, p.size2).map(toHex)).toStrictEqual(p.proof);
      expect(
        verifyConsistency(p.size1, p.size2, hex(rootOf(p.size1)), hex(rootOf(p.size2)), p.proof.map(hex)),
      ).toStrictEqual(PROOF_OK);
    }
  });

  it.each(V.inclusion_probes.map((p) => [`${p.file} (${p.desc})`, p] as const))(
    'inclusion probe %s',
    (_n, p) => {
      const check = verifyInclusion(
        p.leaf_index,
        p.tree_size,
        hex(p.leaf_hash),
        p.proof.map(hex),
        hex(p.root),
      );
      expect(check.ok).toBe(!p.want_error);
      if (!check.ok) expect(['PROOF_MALFORMED', 'ROOT_MISMATCH']).toContain(check.code);
    },
  );

  it.each(V.consistency_probes.map((p) => [`${p.file} (${p.desc})`, p] as const))(
    'consistency probe %s',
    (_n, p) => {
      const check = verifyConsistency(p.size1, p.size2, hex(p.root1), hex(p.root2), p.proof.map(hex));
      expect(check.ok).toBe(!p.want_error);
      if (!check.ok) expect(['PROOF_MALFORMED', 'ROOT_MISMATCH']).toContain(check.code);
    },
  );

  it('every single-bit change of a derived proof element is rejected', () => {
    for (const p of V.derived.inclusion_proofs) {
      for (let e = 0; e < p.proof.length; e++) {
        for (const bit of [0, 77, 255]) {
          const proof = p.proof.map(hex);
          const el = proof[e] as Uint8Array;
          el[bit >> 3] = (el[bit >> 3] as number) ^ (1 << (bit & 7));
          const leaf = leafHashes[p.leaf_index] as Uint8Array;
          // a well-formed proof whose element changed leads to another root
          expect(
            verifyInclusion(p.leaf_index, p.tree_size, leaf, proof, hex(rootOf(p.tree_size))),
          ).toMatchObject({ ok: false, code: 'ROOT_MISMATCH' });
        }
      }
    }
    for (const p of V.derived.consistency_proofs) {
      for (let e = 0; e < p.proof.length; e++) {
        const proof = p.proof.map(hex);
        const el = proof[e] as Uint8Array;
        el[31] = (el[31] as number) ^ 1;
        expect(
          verifyConsistency(p.size1, p.size2, hex(rootOf(p.size1)), hex(rootOf(p.size2)), proof),
        ).toMatchObject({ ok: false, code: 'ROOT_MISMATCH' });
      }
    }
  });
});

describe('Merkle edge cases', () => {
  it('proof generation rejects out-of-range requests', () => {
    expect(() => inclusionProof(source, 8, 8)).toThrow(expect.objectContaining({ code: 'MERKLE_RANGE' }));
    expect(() => inclusionProof(source, -1, 8)).toThrow(expect.objectContaining({ code: 'MERKLE_RANGE' }));
    expect(() => inclusionProof(source, 0, 9)).toThrow(expect.objectContaining({ code: 'MERKLE_RANGE' }));
    expect(() => consistencyProof(source, 0, 8)).toThrow(expect.objectContaining({ code: 'MERKLE_RANGE' }));
    expect(() => consistencyProof(source, 5, 4)).toThrow(expect.objectContaining({ code: 'MERKLE_RANGE' }));
    expect(() => merkleRoot(source, 1.5)).toThrow(expect.objectContaining({ code: 'MERKLE_RANGE' }));
    expect(() => merkleNodeHash(new Uint8Array(31), new Uint8Array(32))).toThrow();
    expect(consistencyProof(source, 8, 8)).toStrictEqual([]);
  });

  it('verifiers reject malformed numbers and lengths', () => {
    const leaf = leafHashes[0] as Uint8Array;
    expect(rootFromInclusionProof(0.5, 2, leaf, [])).toBeUndefined();
    expect(rootFromInclusionProof(0, 2, leaf, [new Uint8Array(31)])).toBeUndefined();
    const malformed = { ok: false, code: 'PROOF_MALFORMED' };
    expect(verifyConsistency(1.5, 2, leaf, leaf, [leaf])).toMatchObject(malformed);
    expect(verifyConsistency(3, 4, leaf, leaf, [new Uint8Array(3)])).toMatchObject(malformed);
    expect(verifyConsistency(0, 0, leaf, leaf, [])).toMatchObject(malformed);
    expect(verifyConsistency(2, 2, leaf, leaf, [leaf])).toMatchObject(malformed);
    expect(verifyConsistency(2, 2, leaf, leafHashes[1] as Uint8Array, [])).toMatchObject({
      ok: false,
      code: 'ROOT_MISMATCH',
    });
    expect(verifyConsistency(2, 2, leaf, leaf, [])).toStrictEqual(PROOF_OK);
    expect(verifyConsistency(3, 4, leaf, leaf, [])).toMatchObject(malformed);
    // too long and too short: the same well-formed hashes, the wrong count for these sizes
    const p = V.derived.consistency_proofs.find(
      (c) => c.proof.length > 1,
    ) as (typeof V.derived.consistency_proofs)[number];
    const roots = [hex(rootOf(p.size1)), hex(rootOf(p.size2))] as const;
    expect(verifyConsistency(p.size1, p.size2, ...roots, [...p.proof.map(hex), leaf])).toMatchObject(
      malformed,
    );
    expect(verifyConsistency(p.size1, p.size2, ...roots, p.proof.slice(1).map(hex))).toMatchObject(malformed);
    expect(verifyInclusion(0.5, 2, leaf, [], leaf)).toMatchObject(malformed);
    expect(verifyInclusion(0, 2, leaf, [leaf, leaf], leaf)).toMatchObject(malformed);
    expect(toHex(merkleNodeHash(leaf, leaf))).toBe(toHex(sha256(Uint8Array.from([1, ...leaf, ...leaf]))));
  });

  it('the frontier holds O(log n) hashes, resumes from its nodes and validates them', () => {
    const f = new MerkleFrontier();
    const store = new InMemoryLeafHashStore();
    for (let i = 0; i < 1000; i++) {
      const h = merkleLeafHash(Uint8Array.of(i & 255, i >> 8));
      f.append(h);
      store.append(h);
    }
    expect(f.nodes.length).toBe(6); // 1000 = 0b1111101000
    expect(f.root()).toStrictEqual(merkleRoot(store));
    const g = MerkleFrontier.from(f.size, f.nodes);
    const h = merkleLeafHash(Uint8Array.of(9));
    g.append(h);
    store.append(h);
    expect(g.root()).toStrictEqual(merkleRoot(store));
    expect(
      verifyInclusion(500, 1001, store.leafHash(500), inclusionProof(store, 500, 1001), g.root()).ok,
    ).toBe(true);
    expect(verifyConsistency(1000, 1001, f.root(), g.root(), consistencyProof(store, 1000, 1001)).ok).toBe(
      true,
    );
    expect(() => MerkleFrontier.from(3, f.nodes)).toThrow(expect.objectContaining({ code: 'MERKLE_RANGE' }));
    expect(() => f.append(new Uint8Array(5))).toThrow(expect.objectContaining({ code: 'MERKLE_RANGE' }));
  });

  it('the leaf store copies out and validates indices', () => {
    const store = storeWith(4);
    const a = store.leafHash(1);
    a[0] = 0;
    expect(store.leafHash(1)).toStrictEqual(leafHashes[1]);
    const p = store.perfectSubtreeHash(2, 0);
    p[0] = (p[0] as number) ^ 1;
    expect(toHex(store.perfectSubtreeHash(2, 0))).toBe(rootOf(4));
    expect(() => store.leafHash(4)).toThrow();
    expect(() => store.perfectSubtreeHash(3, 0)).toThrow();
    expect(() => store.perfectSubtreeHash(-1, 0)).toThrow();
    expect(() => store.append(new Uint8Array(1))).toThrow();
  });
});
