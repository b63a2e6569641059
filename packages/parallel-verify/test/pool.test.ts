import type { SignedEnvelope } from '@helm/contracts';
import { type CryptoError, createSigner, openVerifiedEnvelope, signEnvelope } from '@helm/crypto';
import { checkGraphItem, ProofGraph } from '@helm/proofgraph';
import { ReceiptChain, type ReceiptInput, verifyReceiptChain, verifyReceiptSignatures } from '@helm/receipts';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ParallelVerifyError,
  packSlice,
  ReceiptVerifyPool,
  verifyReceiptChainParallel,
  workerEntry,
} from '../src/index.ts';

const signer = createSigner(new Uint8Array(32).fill(2));
const other = createSigner(new Uint8Array(32).fill(3));
const keys = new Map([[signer.keyId, signer.publicKey]]);
const lookup = (k: string) => keys.get(k);
const h = (n: number, c: string) => `sha256:${String(n).padStart(8, '0')}${c.repeat(56)}`;

function input(n: number): ReceiptInput {
  return {
    decision_id: h(n, 'a'),
    effect_id: h(n, 'b'),
    effect_class: 'read',
    status: 'SUCCEEDED',
    verdict: 'ALLOW',
    reason_code: 'ALLOW',
    args_hash: h(n, 'c'),
    request_digest: h(n, '9'),
    output_hash: h(n, 'd'),
    session_id: null,
    policy_hash: h(0, 'e'),
    tool: 't',
    principal: 'agent:a',
    risk_tier: 'LOW',
    issued_at_ms: n,
    // one trust registry event per receipt: receipt i is signed under registry seq i + 1
    trust_seq: n + 1,
    trust_head: h(n + 1, 'f'),
  };
}

function chainOf(n: number, s = signer, id = 'c'): SignedEnvelope[] {
  const chain = new ReceiptChain({ signer: s, chainId: id });
  return Array.from({ length: n }, (_, i) => chain.mint(input(i)).envelope);
}

const pool = new ReceiptVerifyPool({ size: 2 });
afterAll(() => pool.close());
const list = chainOf(300);

describe('ReceiptVerifyPool', () => {
  it('gives exactly verifyReceiptChain’s answer on a valid chain, for several slice sizes', async () => {
    const serial = verifyReceiptChain(list, { keys: lookup });
    expect(serial.ok).toBe(true);
    for (const sliceSize of [1, 7, 64, 1000]) {
      expect(await pool.verifyChain(list, { keys, sliceSize })).toStrictEqual(serial);
    }
  });

  it('reports the same first failure as the serial verifier for every kind of tampering', async () => {
    const swapped = [...list];
    [swapped[100], swapped[101]] = [swapped[101] as SignedEnvelope, swapped[100] as SignedEnvelope];
    const badSig = [...list];
    badSig[250] = {
      ...(list[250] as SignedEnvelope),
      signatures: [{ keyid: signer.keyId, sig: (list[249] as SignedEnvelope).signatures[0]?.sig as string }],
    };
    const both = [...swapped];
    both[250] = badSig[250] as SignedEnvelope;
    const foreign = [...list.slice(0, 10), ...chainOf(3, other, 'c').slice(1, 2), ...list.slice(10)];
    const cases: [string, unknown[]][] = [
      ['reordered', swapped],
      ['dropped', list.filter((_, i) => i !== 123)],
      ['duplicated', [...list.slice(0, 200), list[150], ...list.slice(200)]],
      ['bad signature', badSig],
      ['link failure before a signature failure', both],
      ['unknown key', foreign],
      ['malformed', [...list.slice(0, 5), { nope: true }, ...list.slice(5)]],
    ];
    for (const [name, seq] of cases) {
      const serial = verifyReceiptChain(seq, { keys: lookup });
      expect(serial.ok, name).toBe(false);
      expect(await pool.verifyChain(seq, { keys, sliceSize: 32 }), name).toStrictEqual(serial);
    }
  });

  it('supports slices, expected heads and a main-thread key authorization', async () => {
    const serialHead = verifyReceiptChain(list, { keys: lookup });
    if (!serialHead.ok) throw new Error('unreachable');
    expect(await pool.verifyChain(list.slice(0, 200), { keys, expectedHead: serialHead.head })).toMatchObject(
      {
        ok: false,
        code: 'TRUNCATED',
        index: 200,
      },
    );
    const mid = verifyReceiptChain(list.slice(0, 100), { keys: lookup });
    if (!mid.ok) throw new Error('unreachable');
    expect(await pool.verifyChain(list.slice(100), { keys, from: mid.head })).toMatchObject({
      ok: true,
      count: 200,
    });
    const roles: string[] = [];
    const authorize = (_k: string, role: string, trustSeq: number) => {
      roles.push(role);
      return trustSeq <= 42;
    };
    expect(await pool.verifyChain(list, { keys, authorize })).toMatchObject({
      ok: false,
      code: 'KEY_UNKNOWN',
      index: 42,
    });
    expect(roles[0]).toBe('receipt-signer');
    // Authorization is not consulted past an earlier phase-1 failure.
    const early = [...list];
    early[3] = { nope: 1 } as unknown as SignedEnvelope;
    expect(await pool.verifyChain(early, { keys, authorize: () => false })).toMatchObject({
      ok: false,
      code: 'KEY_UNKNOWN',
      index: 0,
    });
    expect(await pool.verifyChain(early, { keys, authorize: (_k, _r, seq) => seq <= 3 })).toMatchObject({
      ok: false,
      code: 'MALFORMED',
      index: 3,
    });
    expect(await pool.verifyChain([], { keys })).toMatchObject({ ok: true, count: 0 });
  });

  it('runs many chains concurrently on the same pool', async () => {
    const chains = [chainOf(50, signer, 'x'), chainOf(60, signer, 'y'), chainOf(70, signer, 'z')];
    const res = await Promise.all(chains.map((c) => pool.verifyChain(c, { keys, sliceSize: 16 })));
    expect(res.map((r) => r.ok && r.count)).toStrictEqual([50, 60, 70]);
  });

  it('one-shot helper, default pool size, and a closed pool refuses work', async () => {
    expect(await verifyReceiptChainParallel(list.slice(0, 20), { keys, size: 1 })).toMatchObject({
      ok: true,
      count: 20,
    });
    expect(await verifyReceiptChainParallel(list.slice(0, 5), { keys })).toMatchObject({
      ok: true,
      count: 5,
    });
    const p = new ReceiptVerifyPool({ size: 1 });
    const pending = p.verifyChain(list, { keys, sliceSize: 10 }).catch((e: unknown) => e);
    await p.close();
    expect(await pending).toBeInstanceOf(ParallelVerifyError);
    await expect(p.verifyChain(list, { keys })).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });

  it('a task that cannot be sent rejects with WORKER_FAILED (never a verdict) and the pool keeps working', async () => {
    const p = new ReceiptVerifyPool({ size: 1 });
    const badKeys = new Map([[signer.keyId, (() => 1) as unknown as Uint8Array]]);
    await expect(p.verifyChain(list.slice(0, 3), { keys: badKeys })).rejects.toMatchObject({
      code: 'WORKER_FAILED',
    });
    // A key that is not bytes reaches the worker and simply does not verify.
    const wrongType = new Map([[signer.keyId, 'not bytes' as unknown as Uint8Array]]);
    expect(await p.verifyChain(list.slice(0, 3), { keys: wrongType })).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
      index: 0,
    });
    expect(await p.verifyChain(list.slice(0, 3), { keys })).toMatchObject({ ok: true });
    await p.close();
  });

  it('workers that die fail their tasks with WORKER_FAILED; a pool without workers refuses work', async () => {
    const broken = new ReceiptVerifyPool({
      size: 2,
      workerUrl: new URL('./fixtures/crash-worker.mjs', import.meta.url),
    });
    await expect(broken.verifyChain(list, { keys, sliceSize: 10 })).rejects.toMatchObject({
      code: 'WORKER_FAILED',
    });
    await new Promise((r) => setTimeout(r, 50));
    await expect(broken.verifyChain(list, { keys })).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    await broken.close();
  });

  it('a worker-reported error rejects with WORKER_FAILED; stray replies and idle crashes are tolerated', async () => {
    const erring = new ReceiptVerifyPool({
      size: 1,
      workerUrl: new URL('./fixtures/error-worker.mjs', import.meta.url),
    });
    await expect(erring.verifyChain(list.slice(0, 3), { keys })).rejects.toMatchObject({
      code: 'WORKER_FAILED',
    });
    await erring.close();
    const dying = new ReceiptVerifyPool({
      size: 1,
      workerUrl: new URL('./fixtures/startup-crash.mjs', import.meta.url),
    });
    await new Promise((r) => setTimeout(r, 300));
    await expect(dying.verifyChain(list.slice(0, 3), { keys })).rejects.toMatchObject({
      code: 'WORKER_FAILED',
    });
    await dying.close();
  });

  it('picks the worker entry matching how the module runs', () => {
    expect(workerEntry('file:///x/src/pool.ts').pathname).toBe('/x/src/worker.ts');
    expect(workerEntry('file:///x/dist/pool.js').pathname).toBe('/x/dist/worker.js');
  });
});

describe('packSlice', () => {
  it('packs exactly the plain envelope shape and sends everything else raw', () => {
    const env = list[0] as SignedEnvelope;
    const odd: unknown[] = [
      env,
      { ...env, extra: 1 },
      { ...env, signatures: [{ ...env.signatures[0], x: 1 }] },
      { ...env, signatures: [env.signatures[0], env.signatures[0]] },
      { ...env, signatures: [null] },
      { ...env, signatures: 'x' },
      { ...env, payload: 5 },
      Object.assign(Object.create({ inherited: 1 }), env),
      null,
      [env.type, env.payload],
    ];
    const { packed, raw } = packSlice(odd);
    expect(packed.slice(0, 4)).toStrictEqual([
      env.type,
      env.payload,
      env.signatures[0]?.keyid,
      env.signatures[0]?.sig,
    ]);
    expect(raw.map(([i]) => i)).toStrictEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(packed).toHaveLength(40);
  });

  it('odd envelopes get the serial verdicts through the pool', async () => {
    const env = list[1] as SignedEnvelope;
    for (const bad of [
      { ...env, extra: 1 },
      { ...env, signatures: [{ ...env.signatures[0], x: 1 }] },
      [env],
    ]) {
      const seq = [list[0], bad];
      expect(await pool.verifyChain(seq, { keys })).toStrictEqual(verifyReceiptChain(seq, { keys: lookup }));
    }
  });

  it('verifySignatures: one slice gives exactly verifyReceiptSignatures’ summaries and first failure', async () => {
    const slice = list.slice(10, 40);
    const serial = verifyReceiptSignatures(slice, lookup, 10);
    expect(await pool.verifySignatures(slice, keys, 10)).toStrictEqual(serial);
    const bad = slice.map((e, i) => (i === 5 ? { ...e, payload: `${e.payload.slice(0, -2)}AA` } : e));
    const badSerial = verifyReceiptSignatures(bad, lookup, 10);
    expect(badSerial.failure?.index).toBe(15);
    expect(await pool.verifySignatures(bad, keys, 10)).toStrictEqual(badSerial);
  });

  it('verifyEnvelopes: the verdicts verifyEnvelope gives, on the worker', async () => {
    const type = 'helm.decision.v1';
    const good = signEnvelope({ type, n: 1 }, [signer]);
    const wrongKey = signEnvelope({ type, n: 2 }, [other]);
    const tampered = { ...good, payload: signEnvelope({ type, n: 3 }, [signer]).payload };
    const items = [good, wrongKey, tampered, { not: 'an envelope' }].map(
      (e) => [e, new Map([[signer.keyId, signer.publicKey]])] as const,
    );
    const serial = items.map(([e]) => {
      try {
        openVerifiedEnvelope(e, type, lookup);
        return null;
      } catch (error) {
        return (error as CryptoError).code;
      }
    });
    expect(serial[0]).toBeNull();
    expect(serial.slice(1).every((c) => typeof c === 'string')).toBe(true);
    const verdicts = await pool.verifyEnvelopes(type, items);
    expect(verdicts.map((v) => (v === null ? null : v.code))).toStrictEqual(serial);
  });

  it('verifyNodes: checkGraphItem on the worker, keys answered by key id', async () => {
    const g = new ProofGraph();
    const root = g.append(
      { kind: 'INTENT', parents: [], principal: 'a', payload: { n: 1 }, issued_at_ms: 1 },
      signer,
    );
    const child = g.append(
      { kind: 'EFFECT', parents: [root.hash], principal: 'a', payload: { n: 2 }, issued_at_ms: 2 },
      signer,
    );
    const stranger = g.append(
      { kind: 'EFFECT', parents: [child.hash], principal: 'a', payload: { n: 3 }, issued_at_ms: 3 },
      other,
    );
    const items = [
      [root.envelope, { value: root.payload }],
      [child.envelope],
      [child.envelope, { value: { n: 9 } }],
      [stranger.envelope],
      [{ not: 'a node' }],
    ] as const;
    const r = await pool.verifyNodes(items, keys);
    const serial = items.map(([envelope, payload]) =>
      checkGraphItem(payload ? { envelope, payload } : { envelope }, { keys: lookup }),
    );
    expect(r.nodes.map((n) => n?.hash ?? null)).toStrictEqual(serial.map((c) => (c.ok ? c.node.hash : null)));
    expect(r.nodes[1]).toStrictEqual({
      hash: child.hash,
      lamport: 2,
      parents: [root.hash],
      keyid: signer.keyId,
      kind: 'EFFECT',
    });
    expect(r.failures).toStrictEqual(serial.flatMap((c, i) => (c.ok ? [] : [[i, c.code, c.message]])));
    expect(r.failures.map(([i, code]) => `${i}:${code}`)).toStrictEqual([
      '2:PAYLOAD_MISMATCH',
      '3:KEY_UNKNOWN',
      '4:NODE_MALFORMED',
    ]);
  });
});
