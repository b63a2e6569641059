import { canonicalBytes, digest, toBase64Url } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  checkGraphItem,
  type GraphItem,
  InMemoryNodeStore,
  type LinkedNode,
  linkGraph,
  nodeSignerRole,
  ProofGraph,
  type SignedNode,
  signNode,
  validateGraph,
  verifyNode,
} from '../src/index.ts';
import { d, decodeBody, keysOf, resign, signerA, signerB } from './helpers.ts';

const keys = keysOf(signerA);
const items = (nodes: SignedNode[]): GraphItem[] =>
  nodes.map((n) => ({ envelope: n.envelope, hash: n.hash, payload: { value: n.payload } }));

/** Two sessions branching from one root, then merged. */
function sampleGraph() {
  const g = new ProofGraph();
  const root = g.append(
    { kind: 'TRUST_EVENT', parents: [], principal: 'system', payload: { boot: 1 }, issued_at_ms: 1 },
    signerA,
  );
  const a1 = g.append(
    {
      kind: 'INTENT',
      parents: [root.hash],
      principal: 'agent:a',
      payload: { s: 'a', n: 1 },
      issued_at_ms: 2,
    },
    signerA,
  );
  const a2 = g.append(
    { kind: 'EFFECT', parents: [a1.hash], principal: 'agent:a', payload: { s: 'a', n: 2 }, issued_at_ms: 3 },
    signerA,
  );
  const b1 = g.append(
    { kind: 'ATTESTATION', parents: [root.hash], principal: 'agent:b', payload: { s: 'b' }, issued_at_ms: 4 },
    signerA,
  );
  const m = g.append(
    {
      kind: 'CHECKPOINT',
      parents: [b1.hash, a2.hash],
      principal: 'system',
      payload: { merge: true },
      issued_at_ms: 5,
    },
    signerA,
  );
  return { g, root, a1, a2, b1, m, all: [root, a1, a2, b1, m] };
}

describe('ProofGraph', () => {
  it('computes lamport = max(parents) + 1, sorts parents, tracks heads and lamport ranges', () => {
    const { g, root, a1, a2, b1, m } = sampleGraph();
    expect([root, a1, a2, b1, m].map((n) => n.body.lamport)).toStrictEqual([1, 2, 3, 2, 4]);
    expect(m.body.parents).toStrictEqual([b1.hash, a2.hash].sort());
    expect(g.heads()).toStrictEqual([m.hash]);
    expect(g.rangeByLamport(2, 2).map((n) => n.hash)).toStrictEqual([a1.hash, b1.hash].sort());
    expect(g.rangeByLamport(0, 99)).toHaveLength(5);
    expect(g.get(a1.hash)).toBe(a1);
    expect(g.size).toBe(5);
    // Node hash = digest of the canonical signed envelope; the body binds the payload digest.
    expect(a1.hash).toBe(digest(canonicalBytes(a1.envelope)));
    expect(a1.body.payload_hash).toBe(digest(canonicalBytes({ s: 'a', n: 1 })));
  });

  it('branches keep two heads until merged; signing is deterministic', () => {
    const g = new ProofGraph();
    const root = g.append(
      { kind: 'INTENT', parents: [], principal: 'p', payload: 1, issued_at_ms: 0 },
      signerA,
    );
    const x = g.append(
      { kind: 'INTENT', parents: [root.hash], principal: 'p', payload: 'x', issued_at_ms: 0 },
      signerA,
    );
    const y = g.append(
      { kind: 'INTENT', parents: [root.hash], principal: 'p', payload: 'y', issued_at_ms: 0 },
      signerA,
    );
    expect(g.heads()).toStrictEqual([x.hash, y.hash].sort());
    const z = g.append(
      { kind: 'INTENT', parents: [root.hash], principal: 'p', payload: 'z', issued_at_ms: 0 },
      signerA,
    );
    // three nodes at lamport 2: the range lists them by hash, whatever the append order
    expect(g.rangeByLamport(2, 2).map((n) => n.hash)).toStrictEqual([x.hash, y.hash, z.hash].sort());
    expect(g.rangeByLamport(1, 1)).toStrictEqual([root]);
    expect(g.rangeByLamport(3, 9)).toStrictEqual([]);
    expect(g.heads()).toStrictEqual([x.hash, y.hash, z.hash].sort());
    const again = signNode(
      { kind: 'INTENT', parents: [root.hash], principal: 'p', payload: 'x', issued_at_ms: 0 },
      () => 1,
      signerA,
    );
    expect(again.envelope).toStrictEqual(x.envelope);
  });

  it('refuses missing parents, duplicate nodes and invalid input', () => {
    const { g, root } = sampleGraph();
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code: string }).code;
      }
      return 'none';
    };
    expect(
      code(() =>
        g.append(
          { kind: 'INTENT', parents: [d('ghost')], principal: 'p', payload: 1, issued_at_ms: 1 },
          signerA,
        ),
      ),
    ).toBe('PARENT_MISSING');
    expect(
      code(() =>
        g.append({ kind: 'INTENT', parents: ['nope'], principal: 'p', payload: 1, issued_at_ms: 1 }, signerA),
      ),
    ).toBe('PARENT_MISSING');
    expect(
      code(() =>
        g.append(
          { kind: 'TRUST_EVENT', parents: [], principal: 'system', payload: { boot: 1 }, issued_at_ms: 1 },
          signerA,
        ),
      ),
    ).toBe('DUPLICATE_NODE');
    expect(
      code(() =>
        g.append({ kind: 'intent', parents: [], principal: 'p', payload: 1, issued_at_ms: 1 }, signerA),
      ),
    ).toBe('NODE_INPUT_INVALID');
    expect(
      code(() =>
        g.append(
          { kind: 'X', parents: [root.hash, root.hash], principal: 'p', payload: 1, issued_at_ms: 1 },
          signerA,
        ),
      ),
    ).toBe('NODE_INPUT_INVALID');
    expect(
      code(() =>
        g.append({ kind: 'X', parents: [], principal: 'p', payload: () => 1, issued_at_ms: 1 }, signerA),
      ),
    ).toBe('NODE_INPUT_INVALID');
    expect(
      code(() => g.append({ kind: 'X', parents: [], principal: '', payload: 1, issued_at_ms: 1 }, signerA)),
    ).toBe('NODE_INPUT_INVALID');
    const s = new InMemoryNodeStore();
    expect(code(() => s.append(sampleGraph().a1))).toBe('PARENT_MISSING');
  });
});

describe('validateGraph', () => {
  it('accepts a whole graph and a slice whose parents are known', () => {
    const { all, a2, b1, m } = sampleGraph();
    expect(validateGraph(items(all), { keys })).toStrictEqual({ ok: true, count: 5, heads: [m.hash] });
    const known = new Map(all.slice(0, 3).map((n) => [n.hash, n.body.lamport]));
    const slice = validateGraph(items([b1, m]), { keys, known: (h) => known.get(h) });
    expect(slice).toMatchObject({ ok: true, count: 2, heads: [m.hash] });
    expect(validateGraph(items([a2]), { keys })).toMatchObject({
      ok: false,
      code: 'PARENT_MISSING',
      index: 0,
    });
  });

  it('detects children before parents, duplicates and a wrong claimed hash', () => {
    const { all } = sampleGraph();
    const swapped = [all[0], all[2], all[1], all[3], all[4]] as SignedNode[];
    expect(validateGraph(items(swapped), { keys })).toMatchObject({
      ok: false,
      code: 'PARENT_ORDER',
      index: 1,
    });
    expect(validateGraph(items([...all, all[1] as SignedNode]), { keys })).toMatchObject({
      ok: false,
      code: 'DUPLICATE_NODE',
      index: 5,
    });
    const wrong = items(all);
    wrong[2] = { ...(wrong[2] as GraphItem), hash: d('x') };
    expect(validateGraph(wrong, { keys })).toMatchObject({ ok: false, code: 'HASH_MISMATCH', index: 2 });
    const known = new Map([[all[0]?.hash as string, 1]]);
    expect(validateGraph(items(all), { keys, known: (h) => known.get(h) })).toMatchObject({
      ok: false,
      code: 'DUPLICATE_NODE',
      index: 0,
    });
  });

  it('detects a wrong lamport, tampered payload, edited body, unknown or wrong-role keys', () => {
    const { all, a1 } = sampleGraph();
    const badLamport = resign({ ...decodeBody(a1.envelope), lamport: 5 });
    const l = items(all);
    l[1] = { envelope: badLamport };
    expect(validateGraph(l, { keys })).toMatchObject({ ok: false, code: 'LAMPORT_INVALID', index: 1 });
    const p = items(all);
    p[1] = { ...(p[1] as GraphItem), payload: { value: { s: 'a', n: 999 } } };
    expect(validateGraph(p, { keys })).toMatchObject({ ok: false, code: 'PAYLOAD_MISMATCH', index: 1 });
    const unhashable = items(all);
    unhashable[1] = { ...(unhashable[1] as GraphItem), payload: { value: 10n } };
    expect(validateGraph(unhashable, { keys })).toMatchObject({ ok: false, code: 'PAYLOAD_MISMATCH' });
    // Payload withheld: still valid (the digest is signed).
    expect(
      validateGraph(
        all.map((n) => ({ envelope: n.envelope })),
        { keys },
      ),
    ).toMatchObject({ ok: true });
    const edited = items(all);
    const body = decodeBody(a1.envelope);
    body.principal = 'agent:mallory';
    edited[1] = { envelope: { ...a1.envelope, payload: toBase64Url(canonicalBytes(body)) } };
    expect(validateGraph(edited, { keys })).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID', index: 1 });
    expect(validateGraph(items(all), { keys: keysOf(signerB) })).toMatchObject({
      ok: false,
      code: 'KEY_UNKNOWN',
      index: 0,
    });
    const roles: string[] = [];
    const onlyIntents = (k: string, role: string) => {
      roles.push(role);
      return role === nodeSignerRole('INTENT') || role === nodeSignerRole('TRUST_EVENT')
        ? keys(k)
        : undefined;
    };
    expect(validateGraph(items(all), { keys: onlyIntents })).toMatchObject({
      ok: false,
      code: 'KEY_UNKNOWN',
      index: 2,
    });
    expect(roles.slice(0, 2)).toStrictEqual(['node:TRUST_EVENT', 'node:INTENT']);
    const keyidMismatch = resign({ ...decodeBody(a1.envelope), keyid: signerB.keyId });
    expect(verifyNode(keyidMismatch, keys)).toMatchObject({ ok: false, code: 'KEYID_MISMATCH' });
  });

  it.each([
    ['not an object', 5],
    ['wrong type', { type: 'helm.receipt.v1', payload: '', signatures: [] }],
    ['extra field', { type: 'helm.node.v1', payload: '', signatures: [], x: 1 }],
    ['non-string payload', { type: 'helm.node.v1', payload: 1, signatures: [{ keyid: 'k', sig: 's' }] }],
    ['no signature', { type: 'helm.node.v1', payload: 'e30', signatures: [] }],
    ['bad signature entry', { type: 'helm.node.v1', payload: 'e30', signatures: [{ keyid: 1, sig: 's' }] }],
    ['bad base64', { type: 'helm.node.v1', payload: 'e30=', signatures: [{ keyid: 'k', sig: 'AA' }] }],
    [
      'not JSON',
      {
        type: 'helm.node.v1',
        payload: toBase64Url(new TextEncoder().encode('{')),
        signatures: [{ keyid: 'k', sig: 'AA' }],
      },
    ],
    [
      'non-canonical',
      {
        type: 'helm.node.v1',
        payload: toBase64Url(new TextEncoder().encode('{ }')),
        signatures: [{ keyid: 'k', sig: 'AA' }],
      },
    ],
    [
      'array payload',
      {
        type: 'helm.node.v1',
        payload: toBase64Url(new TextEncoder().encode('[]')),
        signatures: [{ keyid: 'k', sig: 'AA' }],
      },
    ],
  ])('malformed envelope: %s → NODE_MALFORMED', (_n, env) => {
    expect(verifyNode(env, keys)).toMatchObject({ ok: false, code: 'NODE_MALFORMED' });
    expect(validateGraph([{ envelope: env }], { keys })).toMatchObject({
      ok: false,
      code: 'NODE_MALFORMED',
      index: 0,
    });
  });

  it.each([
    ['unknown field', { x: 1 }],
    ['bad kind', { kind: 'lower' }],
    ['unsorted parents', { parents: [d('b'), d('a')].sort().reverse(), lamport: 2 }],
    ['bad parent digest', { parents: ['x'], lamport: 2 }],
    ['root with lamport 2', { lamport: 2 }],
    ['bad lamport', { lamport: 0 }],
    ['bad payload hash', { payload_hash: 'x' }],
    ['bad keyid', { keyid: 'x' }],
    ['bad time', { issued_at_ms: -1 }],
    ['wrong body type', { type: 'helm.other.v1' }],
    ['empty principal', { principal: '' }],
  ])('malformed body: %s → NODE_MALFORMED', (_n, patch) => {
    const { root } = sampleGraph();
    const env = resign({ ...decodeBody(root.envelope), ...patch });
    const fixed = patch.type ? { ...env, type: 'helm.node.v1' } : env;
    expect(verifyNode(fixed, keys)).toMatchObject({ ok: false, code: 'NODE_MALFORMED' });
  });
});

describe('checkGraphItem + linkGraph (validateGraph in two parts)', () => {
  /** The two parts by hand: each item alone, then the link pass with the first item failure. */
  const twoParts = (list: readonly GraphItem[], known?: (h: string) => number | undefined) => {
    const nodes: LinkedNode[] = [];
    let failure: { code: never; index: number; message: string } | undefined;
    for (let i = 0; i < list.length && !failure; i++) {
      const c = checkGraphItem(list[i] as GraphItem, { keys });
      if (c.ok) nodes.push({ hash: c.node.hash, lamport: c.node.body.lamport, parents: c.node.body.parents });
      else failure = { code: c.code as never, index: i, message: c.message };
    }
    const hashes = list.map((it) => it.hash);
    return linkGraph(
      nodes,
      { ...(known ? { known } : {}), firstPosition: (h) => hashes.indexOf(h) },
      failure,
    );
  };

  it('gives validateGraph verdict on honest, reordered, duplicated, re-hashed and tampered sequences', () => {
    const { all } = sampleGraph();
    const wrongHash = items(all);
    wrongHash[3] = { ...(wrongHash[3] as GraphItem), hash: d('x') };
    const tampered = items(all);
    tampered[2] = { ...(tampered[2] as GraphItem), payload: { value: { other: 1 } } };
    // A link failure (child first) before an item failure (tampered payload) later: the link one.
    const both = items([all[0], all[2], all[1], all[3], all[4]] as SignedNode[]);
    both[4] = { ...(both[4] as GraphItem), payload: { value: 'x' } };
    const known = new Map([[all[0]?.hash as string, 1]]);
    const cases: [GraphItem[], ((h: string) => number | undefined)?][] = [
      [items(all)],
      [items([all[0], all[2], all[1], all[3], all[4]] as SignedNode[])],
      [items([...all, all[1] as SignedNode])],
      [wrongHash],
      [tampered],
      [both],
      [items(all.slice(1)), (h) => known.get(h)],
      [items(all), (h) => known.get(h)],
      [items([all[2]] as SignedNode[])],
    ];
    const codes: string[] = [];
    for (const [list, k] of cases) {
      const whole = validateGraph(list, { keys, ...(k ? { known: k } : {}) });
      expect(twoParts(list, k)).toStrictEqual(whole);
      codes.push(whole.ok ? 'ok' : `${whole.code}@${whole.index}`);
    }
    expect(codes).toEqual([
      'ok',
      'PARENT_ORDER@1',
      'DUPLICATE_NODE@5',
      'HASH_MISMATCH@3',
      'PAYLOAD_MISMATCH@2',
      'PARENT_ORDER@1',
      'ok',
      'DUPLICATE_NODE@0',
      'PARENT_MISSING@0',
    ]);
  });

  it('checkGraphItem is verifyNode plus the claimed hash, and never throws', () => {
    const { all } = sampleGraph();
    const n = all[1] as SignedNode;
    expect(checkGraphItem({ envelope: n.envelope }, { keys })).toStrictEqual(verifyNode(n.envelope, keys));
    expect(checkGraphItem({ envelope: n.envelope, hash: d('y') }, { keys })).toStrictEqual({
      ok: false,
      code: 'HASH_MISMATCH',
      message: 'claimed hash differs',
    });
    expect(checkGraphItem({ envelope: null }, { keys })).toMatchObject({ ok: false, code: 'NODE_MALFORMED' });
  });
});
