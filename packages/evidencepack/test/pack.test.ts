import { ProofGraph } from '@helm/proofgraph';
import { receiptHash } from '@helm/receipts';
import { describe, expect, it } from 'vitest';
import {
  buildEvidencePack,
  type PackInput,
  readTar,
  replayEvidencePack,
  verifyEvidencePack,
  writeTar,
} from '../src/index.ts';
import { buildWorld, executor, stranger } from './fixtures/world.ts';

const world = buildWorld(12);

function shuffle<T>(xs: readonly T[]): T[] {
  // Deterministic reversal + rotation: a different physical order.
  const r = [...xs].reverse();
  return [...r.slice(3), ...r.slice(0, 3)];
}

describe('export', () => {
  it('is byte-identical for identical content (twice, and from a different row order)', () => {
    const a = buildEvidencePack(world.input, executor);
    const b = buildEvidencePack(world.input, executor);
    expect(b.digest).toBe(a.digest);
    const reordered: PackInput = {
      ...world.input,
      receipts: shuffle(world.input.receipts),
      decisions: shuffle(world.input.decisions),
      nodes: shuffle(world.input.nodes),
      requests: shuffle(world.input.requests ?? []),
    };
    expect(buildEvidencePack(reordered, executor).digest).toBe(a.digest);
    expect(a.manifest.scope).toEqual({
      chain_id: 'session-1',
      session_id: 'session-1',
      from_lamport: 1,
      to_lamport: 12,
    });
  });

  it('writes deterministic ustar headers (mtime 0, uid/gid 0, mode 0644, sorted)', () => {
    const { bytes } = buildEvidencePack(world.input, executor);
    const paths = readTar(bytes).map((e) => e.path);
    expect(paths).toEqual([...paths].sort());
    const h = bytes.subarray(0, 512);
    const text = (o: number, l: number) => new TextDecoder().decode(h.subarray(o, o + l));
    expect(text(100, 7)).toBe('0000644');
    expect(text(108, 7)).toBe('0000000');
    expect(text(116, 7)).toBe('0000000');
    expect(text(136, 11)).toBe('00000000000');
    expect(text(257, 5)).toBe('ustar');
    expect(h[156]).toBe('0'.charCodeAt(0));
  });
});

describe('verify', () => {
  const pack = buildEvidencePack(world.input, executor);

  it('passes every check with the pinned anchor', async () => {
    const r = await verifyEvidencePack(pack.bytes, { trustAnchor: world.anchor });
    expect(r.checks.filter((c) => c.status === 'FAILED' || c.status === 'UNVERIFIABLE')).toEqual([]);
    expect(r.status).toBe('PASS');
  });

  it('is UNVERIFIABLE without a pinned anchor and FAILED with a different one', async () => {
    expect((await verifyEvidencePack(pack.bytes)).status).toBe('UNVERIFIABLE');
    const other = `sha256:${'1'.repeat(64)}`;
    const r = await verifyEvidencePack(pack.bytes, { trustAnchor: other });
    expect(r.status).toBe('FAILED');
    expect(r.checks.find((c) => c.code === 'TRUST_ANCHOR')?.status).toBe('FAILED');
  });

  it('uses the worker pool for big packs with the same verdict', async () => {
    const r = await verifyEvidencePack(pack.bytes, {
      trustAnchor: world.anchor,
      parallelThreshold: 1,
      workers: 2,
    });
    expect(r.status).toBe('PASS');
  });

  it('rejects a manifest signed by a key without the executor role', async () => {
    const forged = buildEvidencePack(world.input, stranger);
    const r = await verifyEvidencePack(forged.bytes, { trustAnchor: world.anchor });
    expect(r.checks.find((c) => c.code === 'MANIFEST_SIGNATURE')?.status).toBe('FAILED');
  });

  const entries = readTar(pack.bytes);
  const rebuild = (
    mutate: (es: { path: string; data: Uint8Array }[]) => { path: string; data: Uint8Array }[],
  ) => writeTar(mutate(entries.map((e) => ({ path: e.path, data: e.data }))));
  const failedCodes = async (bytes: Uint8Array) =>
    (await verifyEvidencePack(bytes, { trustAnchor: world.anchor })).checks
      .filter((c) => c.status === 'FAILED')
      .map((c) => c.code);

  it('detects a tampered entry, an extra file, a missing file', async () => {
    const tampered = rebuild((es) =>
      es.map((e) =>
        e.path === 'receipts/000000000003.json'
          ? {
              path: e.path,
              data: new TextEncoder().encode(new TextDecoder().decode(e.data).replace('"sig":"', '"sig":"A')),
            }
          : e,
      ),
    );
    expect(await failedCodes(tampered)).toContain('ENTRY_HASHES');
    const extra = rebuild((es) => [...es, { path: 'notes.txt', data: new Uint8Array([1]) }]);
    expect(await failedCodes(extra)).toEqual(['COMPLETENESS']);
    const missing = rebuild((es) =>
      es.filter((e) => e.path !== 'decisions/' && !e.path.startsWith('requests/000000000002')),
    );
    // the missing request was signed for by its receipt (request_digest): REQUESTS fails too
    expect(await failedCodes(missing)).toEqual(['COMPLETENESS', 'REQUESTS']);
  });

  it('detects a truncated pack (last receipt removed, manifest re-signed by the exporter key)', async () => {
    const truncated = buildEvidencePack(
      { ...world.input, receipts: world.input.receipts.slice(0, -1), nodes: world.input.nodes },
      executor,
    );
    const codes = await failedCodes(truncated.bytes);
    expect(codes).toContain('PROOFGRAPH_RECEIPTS');
  });

  it('reports a broken tar and a newer format precisely', async () => {
    const junk = new Uint8Array(1024).fill(7);
    expect(await failedCodes(junk)).toEqual(['PACK_FORMAT']);
    const newer = rebuild((es) =>
      es.map((e) => {
        if (e.path !== 'manifest.json') return e;
        const env = JSON.parse(new TextDecoder().decode(e.data));
        const body = JSON.parse(Buffer.from(env.payload, 'base64url').toString());
        body.type = 'helm.evidencepack.manifest.v2';
        env.payload = Buffer.from(JSON.stringify(body)).toString('base64url');
        return { path: e.path, data: new TextEncoder().encode(JSON.stringify(env)) };
      }),
    );
    // Relabelling the body (not the signed envelope type) is a contradiction, never a newer format
    // to shrug at (I-EVIDENCE-4 covers genuinely newer formats).
    const r = await verifyEvidencePack(newer, { trustAnchor: world.anchor });
    expect(r.status).toBe('FAILED');
    expect(r.checks.find((c) => c.code === 'MANIFEST_FORMAT')?.status).toBe('FAILED');
  });
});

describe('replay', () => {
  it('re-derives every recorded request and reports divergences precisely', () => {
    const pack = buildEvidencePack(world.input, executor);
    expect(replayEvidencePack(pack.bytes)).toMatchObject({ ok: true, replayed: 12 });
    const requests = (world.input.requests ?? []).map((r) =>
      r.lamport === 4
        ? {
            lamport: 4,
            body: {
              ...(r.body as object),
              request: { tool: 'files.read', principal: 'alice', args: { path: '/x' } },
            },
          }
        : r,
    );
    const diverged = replayEvidencePack(buildEvidencePack({ ...world.input, requests }, executor).bytes);
    expect(diverged.ok).toBe(false);
    expect(diverged.divergences[0]).toMatchObject({ lamport: 4, field: 'receipt.args_hash' });
  });
});

describe('progress', () => {
  it('reports receipt and ProofGraph progress, ending at the total', async () => {
    const big = buildWorld(1200, 'big');
    const calls: [string, number, number][] = [];
    const r = await verifyEvidencePack(buildEvidencePack(big.input, executor).bytes, {
      trustAnchor: big.anchor,
      onProgress: (phase, done, total) => calls.push([phase, done, total]),
    });
    expect(r.status).toBe('PASS');
    const receipts = calls.filter((c) => c[0] === 'receipts').map((c) => c[1]);
    expect(receipts).toEqual([0, 500, 1000, 1200, 1200]);
    // 1200 receipt nodes + 1200 signed EFFECT nodes of the fixture
    expect(calls.filter((c) => c[0] === 'proofgraph').at(-1)).toEqual(['proofgraph', 2400, 2400]);
  });
});

describe('receipt nodes', () => {
  it('are not filed as signed nodes: the pack is the same with or without them in the input', async () => {
    const w = buildWorld(5, 'rn');
    const graph = new ProofGraph();
    const chainNodes = w.input.receipts.map((e) => {
      const body = JSON.parse(Buffer.from(e.payload, 'base64url').toString('utf8'));
      return graph.appendReceipt({ envelope: e, body, hash: receiptHash(e) as string });
    });
    const withReceiptNodes = {
      ...w.input,
      nodes: [...w.input.nodes, ...chainNodes.map((n) => ({ envelope: n.envelope }))],
    };
    const a = buildEvidencePack(w.input, executor).bytes;
    const b = buildEvidencePack(withReceiptNodes, executor).bytes;
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    const r = await verifyEvidencePack(b, { trustAnchor: w.anchor });
    expect(r.checks.find((c) => c.code === 'PROOFGRAPH')?.status).toBe('PASS');
  });
});
