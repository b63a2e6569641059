import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest, signEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  bindEntries,
  buildEvidencePack,
  ENTRIES_PATH,
  EVIDENCEPACK_MANIFEST_TYPE,
  EvidencePackError,
  envelopeBody,
  formatReport,
  isSafePath,
  manifestEntries,
  readTar,
  receiptHashOf,
  replayEvidencePack,
  sortPaths,
  type TarEntry,
  verifyEvidencePack,
  writeTar,
} from '../src/index.ts';
import { buildWorld, executor, guardian, stranger } from './fixtures/world.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const world = buildWorld(8);
const pack = buildEvidencePack(world.input, executor);

/** Re-seal a modified set of entries with a fresh, correctly signed manifest. */
function reseal(
  entries: TarEntry[],
  patch: (m: Record<string, unknown>) => Record<string, unknown> = (m) => m,
  signer = executor,
): Uint8Array {
  const manifestEntry = entries.find((e) => e.path === 'manifest.json') as TarEntry;
  const old = envelopeBody<Record<string, unknown>>(
    JSON.parse(dec.decode(manifestEntry.data)) as SignedEnvelope,
  );
  const files = new Map(
    entries.filter((e) => e.path !== 'manifest.json' && e.path !== ENTRIES_PATH).map((e) => [e.path, e.data]),
  );
  const { ref, data } = bindEntries(manifestEntries(files));
  const body = patch({ ...old, entries: ref });
  const env = signEnvelope(body as { type: string }, [signer]);
  return writeTar([
    ...[...files].map(([path, data]) => ({ path, data })),
    { path: ENTRIES_PATH, data },
    { path: 'manifest.json', data: canonicalBytes(env) },
  ]);
}

/** Re-seal with an edited entry list: `manifest/entries.json` = f(list), bound (size, SHA-256, root) and signed. */
function resealList(
  entries: TarEntry[],
  f: (list: ReturnType<typeof manifestEntries>) => unknown[],
): Uint8Array {
  const files = new Map(
    entries.filter((e) => e.path !== 'manifest.json' && e.path !== ENTRIES_PATH).map((e) => [e.path, e.data]),
  );
  const list = f(manifestEntries(files)) as ReturnType<typeof manifestEntries>;
  const data = canonicalBytes(list);
  const ref = { ...bindEntries([]).ref, count: list.length, size: data.length, sha256: digest(data) };
  let root = ref.root;
  try {
    root = bindEntries(list).ref.root;
  } catch {
    // a malformed list has no root; keep the empty one
  }
  const manifestEntry = entries.find((e) => e.path === 'manifest.json') as TarEntry;
  const old = envelopeBody<Record<string, unknown>>(
    JSON.parse(dec.decode(manifestEntry.data)) as SignedEnvelope,
  );
  const env = signEnvelope({ ...old, entries: { ...ref, root } } as { type: string }, [executor]);
  return writeTar([
    ...[...files].map(([path, data]) => ({ path, data })),
    { path: ENTRIES_PATH, data },
    { path: 'manifest.json', data: canonicalBytes(env) },
  ]);
}

const mutate = (path: string, f: (v: Record<string, unknown>) => unknown) => (es: TarEntry[]) =>
  es.map((e) => (e.path === path ? { path, data: canonicalBytes(f(JSON.parse(dec.decode(e.data)))) } : e));

async function statusOf(bytes: Uint8Array, code: string) {
  const r = await verifyEvidencePack(bytes, { trustAnchor: world.anchor });
  return r.checks.find((c) => c.code === code)?.status;
}

describe('condensed packs: Merkle inclusion proofs against signed checkpoints', () => {
  const c = buildWorld(12, 'session-c', true);
  const built = buildEvidencePack(c.input, executor);

  it('verifies a pack whose LOW receipts were replaced by inclusion proofs', async () => {
    expect(c.input.condensed?.length).toBeGreaterThan(0);
    const r = await verifyEvidencePack(built.bytes, { trustAnchor: c.anchor });
    expect(r.checks.filter((x) => x.status !== 'PASS' && x.status !== 'SKIPPED')).toEqual([]);
    expect(r.checks.find((x) => x.code === 'CHECKPOINTS')?.status).toBe('PASS');
    const replay = replayEvidencePack(built.bytes);
    expect(replay.ok).toBe(true);
    expect(replay.condensed).toBe(c.input.condensed?.length);
  });

  it('fails on a forged inclusion proof or a dropped consistency proof', async () => {
    const entries = readTar(built.bytes);
    const first = entries.find((e) => e.path.startsWith('condensed/')) as TarEntry;
    const forged = reseal(
      mutate(first.path, (v) => ({
        ...v,
        inclusion_proof: [digest(enc.encode('x')), ...(v.inclusion_proof as string[]).slice(1)],
      }))(entries),
    );
    const r = await verifyEvidencePack(forged, { trustAnchor: c.anchor });
    expect(r.checks.find((x) => x.code === 'CHECKPOINTS')?.status).toBe('FAILED');
    const noConsistency = reseal(entries.filter((e) => e.path !== 'checkpoints/consistency.json'));
    expect((await verifyEvidencePack(noConsistency, { trustAnchor: c.anchor })).status).toBe('FAILED');
  });
});

describe('I-EVIDENCE-1: tampering and contradictions are FAILED with the right code', () => {
  const entries = readTar(pack.bytes);

  it('decision signed by a non-guardian key, orphan decision, args mismatch', async () => {
    const path = entries.find((e) => e.path.startsWith('decisions/'))?.path as string;
    const body = envelopeBody<Record<string, unknown>>(
      JSON.parse(dec.decode(entries.find((e) => e.path === path)?.data)) as SignedEnvelope,
    );
    const wrongKey = signEnvelope(body as { type: string }, [stranger]);
    const swap = (env: SignedEnvelope) => {
      const rest = entries.filter((e) => e.path !== path);
      return reseal([
        ...rest,
        { path: `decisions/${digest(canonicalBytes(env)).slice(7)}.json`, data: canonicalBytes(env) },
      ]);
    };
    expect(await statusOf(swap(wrongKey), 'DECISIONS')).toBe('FAILED');
    const orphan = signEnvelope({ ...body, decision_id: digest(enc.encode('nobody')) } as { type: string }, [
      guardian,
    ]);
    expect(await statusOf(swap(orphan), 'DECISIONS')).toBe('FAILED');
    const otherArgs = signEnvelope({ ...body, args_hash: digest(enc.encode('other')) } as { type: string }, [
      guardian,
    ]);
    expect(await statusOf(swap(otherArgs), 'DECISIONS')).toBe('FAILED');
  });

  it('misnamed and non-canonical entries fail ENTRY_NAMES', async () => {
    const r1 = entries.find((e) => e.path === 'receipts/000000000001.json') as TarEntry;
    const renamed = reseal([
      ...entries.filter((e) => e !== r1),
      { path: 'receipts/000000000009.json', data: r1.data },
    ]);
    expect(await statusOf(renamed, 'ENTRY_NAMES')).toBe('FAILED');
    const pretty = reseal(
      entries.map((e) =>
        e.path === 'index.json' ? { path: e.path, data: enc.encode(`${dec.decode(e.data)} `) } : e,
      ),
    );
    expect(await statusOf(pretty, 'ENTRY_NAMES')).toBe('FAILED');
    const d = entries.find((e) => e.path.startsWith('decisions/')) as TarEntry;
    const misnamedDecision = reseal([
      ...entries.filter((e) => e !== d),
      { path: `decisions/${'0'.repeat(64)}.json`, data: d.data },
    ]);
    expect(await statusOf(misnamedDecision, 'ENTRY_NAMES')).toBe('FAILED');
  });

  it('a swapped ProofGraph payload fails PROOFGRAPH; a receipt filed as a node fails the binding', async () => {
    const nodePaths = entries.filter((e) => e.path.startsWith('proofgraph/nodes/')).map((e) => e.path);
    const other = JSON.parse(dec.decode(entries.find((e) => e.path === 'receipts/000000000002.json')?.data));
    expect(
      await statusOf(
        reseal(mutate(nodePaths[0] as string, (v) => ({ ...v, payload: other }))(entries)),
        'PROOFGRAPH',
      ),
    ).toBe('FAILED');
    // Receipts are their own nodes: dropping a signed node that carried one is no longer a gap…
    const noNode = reseal(
      entries.filter((e) => e.path !== nodePaths[nodePaths.length - 1]),
      (m) => ({
        ...m,
        counts: { ...(m.counts as object), nodes: nodePaths.length - 1 },
      }),
    );
    expect(await statusOf(noNode, 'PROOFGRAPH_RECEIPTS')).toBe('PASS');
    // …but a receipt smuggled into proofgraph/nodes/ (or a node carrying a foreign receipt) is.
    const misfiled = reseal(mutate(nodePaths[0] as string, () => ({ envelope: other }))(entries));
    expect(await statusOf(misfiled, 'PROOFGRAPH_RECEIPTS')).toBe('FAILED');
    expect(await statusOf(misfiled, 'PROOFGRAPH')).toBe('FAILED');
    const foreignReceipt = buildWorld(2, 'elsewhere').input.receipts[0];
    const foreign = reseal(
      mutate(nodePaths[1] as string, (v) => ({ ...v, payload: foreignReceipt }))(entries),
    );
    expect(await statusOf(foreign, 'PROOFGRAPH_RECEIPTS')).toBe('FAILED');
  });

  it('a forged or reordered receipt node fails PROOFGRAPH', async () => {
    const p1 = 'receipts/000000000001.json';
    const forged = reseal(
      mutate(p1, (v) => ({
        ...v,
        payload: String(v.payload).replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A')),
      }))(entries),
    );
    expect(await statusOf(forged, 'PROOFGRAPH')).toBe('FAILED');
  });

  it('manifest lies about scope or counts, or is malformed / not canonical / signed by a stranger', async () => {
    expect(
      await statusOf(
        reseal(entries, (m) => ({ ...m, scope: { ...(m.scope as object), to_lamport: 99 } })),
        'RECEIPT_SCOPE',
      ),
    ).toBe('FAILED');
    expect(
      await statusOf(
        reseal(entries, (m) => ({ ...m, counts: { ...(m.counts as object), decisions: 1 } })),
        'RECEIPT_SCOPE',
      ),
    ).toBe('FAILED');
    expect(
      await statusOf(
        reseal(entries, (m) => ({ ...m, head: { lamport: 8, hash: digest(enc.encode('h')) } })),
        'RECEIPT_CHAIN',
      ),
    ).toBe('FAILED');
    expect(
      await statusOf(
        reseal(entries, (m) => ({ ...m, producer: 1 })),
        'MANIFEST_FORMAT',
      ),
    ).toBe('FAILED');
    expect(
      await statusOf(
        reseal(entries, (m) => ({ ...m, trust_anchor: 'x' })),
        'MANIFEST_FORMAT',
      ),
    ).toBe('FAILED');
    expect(
      await statusOf(
        // the scope has no trust base or stride any more: a manifest that still asserts one is refused
        reseal(entries, (m) => ({ ...m, scope: { ...(m.scope as object), trust_stride: 1000 } })),
        'MANIFEST_FORMAT',
      ),
    ).toBe('FAILED');
    expect(
      await statusOf(
        resealList(entries, (list) => [...list].reverse()),
        'MANIFEST_FORMAT',
      ),
    ).toBe('FAILED');
    expect(
      await statusOf(
        reseal(entries, (m) => ({ ...m, type: 'helm.other.v1' })),
        'MANIFEST_FORMAT',
      ),
    ).toBe('FAILED');
    expect(
      await statusOf(
        reseal(entries, (m) => m, stranger),
        'MANIFEST_SIGNATURE',
      ),
    ).toBe('FAILED');
    const notCanonical = entries.map((e) =>
      e.path === 'manifest.json' ? { path: e.path, data: enc.encode(`${dec.decode(e.data)}\n`) } : e,
    );
    expect(await statusOf(writeTar(notCanonical), 'MANIFEST_FORMAT')).toBe('FAILED');
    expect(
      await statusOf(writeTar(entries.filter((e) => e.path !== 'manifest.json')), 'MANIFEST_FORMAT'),
    ).toBe('FAILED');
  });

  it('missing trust material is UNVERIFIABLE; a broken snapshot or index is FAILED', async () => {
    const noTrust = reseal(entries.filter((e) => e.path !== 'trust/snapshot.json'));
    const r = await verifyEvidencePack(noTrust, { trustAnchor: world.anchor });
    expect(r.status).toBe('UNVERIFIABLE');
    expect(r.checks.find((c) => c.code === 'RECEIPT_CHAIN')?.status).toBe('UNVERIFIABLE');
    expect(formatReport(r)).toContain('UNVERIFIABLE');
    expect(
      await statusOf(
        reseal(mutate('trust/snapshot.json', (v) => ({ ...v, seq: 99 }))(entries)),
        'TRUST_SNAPSHOT',
      ),
    ).toBe('FAILED');
    expect(await statusOf(reseal(entries.filter((e) => e.path !== 'index.json')), 'ARTIFACTS')).toBe(
      'FAILED',
    );
    const idx = mutate('index.json', (v) => ({ ...v, tools: [] }))(entries);
    expect(await statusOf(reseal(idx), 'ARTIFACTS')).toBe('FAILED');
    const orphanRequest = reseal([
      ...entries,
      { path: 'requests/000000000077.json', data: canonicalBytes({}) },
    ]);
    expect(await statusOf(orphanRequest, 'REQUESTS')).toBe('FAILED');
  });

  it('formats a passing report', async () => {
    const r = await verifyEvidencePack(pack.bytes, { trustAnchor: world.anchor });
    expect(formatReport(r)).toContain('PASS: every check passed.');
    const bad = await verifyEvidencePack(writeTar(entries.filter((e) => !e.path.startsWith('index'))), {
      trustAnchor: world.anchor,
    });
    expect(formatReport(bad)).toContain('FAILED:');
  });
});

describe('strict tar', () => {
  const e = (path: string, text = 'x') => ({ path, data: enc.encode(text) });

  it('rejects unsafe or duplicate paths and stores long paths with a ustar prefix', () => {
    expect(() => writeTar([e('../x')])).toThrow(EvidencePackError);
    expect(() => writeTar([e('a'), e('a')])).toThrow(
      expect.objectContaining({ code: 'PACK_DUPLICATE_ENTRY' }) as unknown as Error,
    );
    expect(isSafePath('Upper/x')).toBe(false);
    expect(isSafePath('a/./b')).toBe(false);
    const long = `${'d'.repeat(90)}/${'e'.repeat(90)}/file.json`;
    expect(readTar(writeTar([e(long)])).map((x) => x.path)).toEqual([long]);
    expect(() => writeTar([e(`${'d'.repeat(120)}.json`)])).toThrow(EvidencePackError);
    expect(sortPaths([e('b'), e('a/c'), e('a')]).map((x) => x.path)).toEqual(['a', 'a/c', 'b']);
  });

  it('rejects truncation, bad checksums, non-files, trailing data, bad padding and oversize', () => {
    const ok = writeTar([e('a.json', '{}')]);
    expect(() => readTar(ok.subarray(0, 700))).toThrow(EvidencePackError);
    expect(() => readTar(ok.subarray(0, 1024))).toThrow(EvidencePackError);
    const badSum = Uint8Array.from(ok);
    badSum[0] = 0x62;
    expect(() => readTar(badSum)).toThrow(/checksum/);
    const withType = (t: string) => {
      const b = Uint8Array.from(ok);
      b[156] = t.charCodeAt(0);
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (b[i] as number);
      b.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
      return b;
    };
    expect(() => readTar(withType('x'))).toThrow(/not a regular file/);
    const trailing = new Uint8Array(ok.length + 512);
    trailing.set(ok);
    trailing[ok.length - 10] = 1;
    expect(() => readTar(trailing)).toThrow(EvidencePackError);
    const padding = Uint8Array.from(ok);
    padding[512 + 5] = 1;
    expect(() => readTar(padding)).toThrow(/padding/);
    const notUstar = Uint8Array.from(ok);
    notUstar.set(enc.encode('gnutar'), 257);
    expect(() => readTar(notUstar)).toThrow(EvidencePackError);
    expect(() => readTar(new Uint8Array(100))).toThrow(EvidencePackError);
  });
});

describe('export input validation', () => {
  it('rejects receipts of another chain, bad envelopes and conflicting documents', () => {
    expect(() => buildEvidencePack({ ...world.input, chainId: 'other' }, executor)).toThrow(
      EvidencePackError,
    );
    expect(() => envelopeBody({ type: 'x', payload: '!!', signatures: [] })).toThrow(EvidencePackError);
    expect(() => receiptHashOf({ type: 'x', payload: '', signatures: [] })).toThrow(EvidencePackError);
    const badCondensed = { ...world.input, condensed: [{ log_id: 'nope', lamport: 1 }] };
    expect(() => buildEvidencePack(badCondensed, executor)).toThrow(EvidencePackError);
    expect(EVIDENCEPACK_MANIFEST_TYPE).toBe('helm.evidencepack.manifest.v1');
  });

  it('an empty pack has no head and verifies its (empty) scope', async () => {
    const empty = buildEvidencePack(
      { ...world.input, receipts: [], decisions: [], nodes: [], requests: [] },
      executor,
    );
    expect(empty.manifest.head).toBeNull();
    const r = await verifyEvidencePack(empty.bytes, { trustAnchor: world.anchor });
    expect(r.checks.find((c) => c.code === 'RECEIPT_CHAIN')?.status).toBe('SKIPPED');
    expect(replayEvidencePack(empty.bytes)).toMatchObject({ ok: true, replayed: 0 });
  });

  it('a range export (from > 1) verifies with boundary parents', async () => {
    const slice = {
      ...world.input,
      receipts: world.input.receipts.slice(3),
      decisions: world.input.decisions.slice(3),
      nodes: world.input.nodes.slice(3),
      requests: (world.input.requests ?? []).slice(3),
    };
    const r = await verifyEvidencePack(buildEvidencePack(slice, executor).bytes, {
      trustAnchor: world.anchor,
    });
    expect(r.checks.filter((c) => c.status === 'FAILED')).toEqual([]);
  });

  it('replay reports a request without a receipt and tool/principal/clock divergences', () => {
    const requests = [
      ...(world.input.requests ?? []).map((q) =>
        q.lamport === 2
          ? {
              lamport: 2,
              body: {
                request: { tool: 'x', principal: 'bob', args_text: '{"path":"/data/1.txt"}' },
                clock_ms: 1,
              },
            }
          : q,
      ),
      { lamport: 50, body: { request: {} } },
    ];
    const r = replayEvidencePack(buildEvidencePack({ ...world.input, requests }, executor).bytes);
    expect(r.ok).toBe(false);
    expect(r.divergences.map((d) => d.field)).toEqual(
      expect.arrayContaining(['tool', 'principal', 'decision.decided_at_ms', 'receipt']),
    );
    expect(r.summary).toContain('divergence');
  });
});

describe('manifest field validation and minimal inputs', () => {
  const entries = readTar(pack.bytes);
  it('rejects each malformed manifest field', async () => {
    const patches: ((m: Record<string, unknown>) => Record<string, unknown>)[] = [
      (m) => ({ ...m, format_version: 2 }),
      (m) => ({ ...m, scope: null }),
      (m) => ({ ...m, scope: { ...(m.scope as object), session_id: 5 } }),
      (m) => ({ ...m, scope: { ...(m.scope as object), from_lamport: 'a' } }),
      (m) => ({ ...m, scope: { ...(m.scope as object), trust_base: 6 } }),
      (m) => ({ ...m, head: { lamport: 'x', hash: 'y' } }),
      (m) => ({ ...m, entries: 'none' }),
      (m) => ({ ...m, entries: [] }),
      (m) => ({ ...m, entries: { ...(m.entries as object), count: 1 } }),
      (m) => ({ ...m, entries: { ...(m.entries as object), root: digest(enc.encode('r')) } }),
      (m) => ({ ...m, entries: { ...(m.entries as object), size: 1 } }),
    ];
    for (const patch of patches)
      expect(await statusOf(reseal(entries, patch), 'MANIFEST_FORMAT')).toBe('FAILED');
    const lists: ((l: ReturnType<typeof manifestEntries>) => unknown[])[] = [
      () => [{ path: 'a', size: 'big', sha256: 'x' }],
      (l) => [{ path: 'manifest.json', size: 1, sha256: digest(enc.encode('m')) }, ...l],
      (l) => [...l, { path: ENTRIES_PATH, size: 1, sha256: digest(enc.encode('m')) }],
      (l) => [...l, l[0]],
    ];
    for (const f of lists) expect(await statusOf(resealList(entries, f), 'MANIFEST_FORMAT')).toBe('FAILED');
    // without the list file, or with the list file edited and not re-bound
    expect(await statusOf(writeTar(entries.filter((e) => e.path !== ENTRIES_PATH)), 'MANIFEST_FORMAT')).toBe(
      'FAILED',
    );
  });

  it('exports a minimal pack (no modules, requests, checkpoints; a tool without schemas)', async () => {
    const { modules: _m, requests: _r, ...rest } = world.input;
    const minimal = buildEvidencePack(
      { ...rest, tools: [{ type: 'helm.tool.v1', name: 'files.read' }], sessionId: null },
      executor,
    );
    const r = await verifyEvidencePack(minimal.bytes, { trustAnchor: world.anchor });
    // every receipt signed for a request (request_digest): a pack without them is incomplete
    expect(r.checks.filter((c) => c.status === 'FAILED').map((c) => c.code)).toEqual(['REQUESTS']);
    expect(r.checks.find((c) => c.code === 'REQUESTS')?.message).toMatch(/is missing/);
    // without receipts there is nothing to replay: SKIPPED
    const empty = buildEvidencePack(
      { ...rest, receipts: [], decisions: [], nodes: [], sessionId: null },
      executor,
    );
    const e = await verifyEvidencePack(empty.bytes, { trustAnchor: world.anchor });
    expect(e.checks.find((c) => c.code === 'REQUESTS')?.status).toBe('SKIPPED');
    // Two policies with the same bytes are one entry; different bytes under one path cannot occur.
    const twice = buildEvidencePack(
      { ...world.input, policies: [...world.input.policies, ...world.input.policies] },
      executor,
    );
    expect(twice.digest).not.toBe('');
  });
});

describe('more contradictions', () => {
  const entries = readTar(pack.bytes);
  it('two different documents for one path, verdict disagreement, missing schemas', async () => {
    const requests = [...(world.input.requests ?? []), { lamport: 1, body: { other: true } }];
    expect(() => buildEvidencePack({ ...world.input, requests }, executor)).toThrow(
      expect.objectContaining({ code: 'PACK_DUPLICATE_ENTRY' }) as unknown as Error,
    );
    const path = entries.find((e) => e.path.startsWith('decisions/'))?.path as string;
    const body = envelopeBody<Record<string, unknown>>(
      JSON.parse(dec.decode(entries.find((e) => e.path === path)?.data)) as SignedEnvelope,
    );
    const flipped = signEnvelope(
      { ...body, verdict: body.verdict === 'ALLOW' ? 'DENY' : 'ALLOW' } as { type: string },
      [guardian],
    );
    const swapped = reseal([
      ...entries.filter((e) => e.path !== path),
      { path: `decisions/${digest(canonicalBytes(flipped)).slice(7)}.json`, data: canonicalBytes(flipped) },
    ]);
    expect(await statusOf(swapped, 'DECISIONS')).toBe('FAILED');
    const idx = mutate('index.json', (v) => ({
      ...v,
      tools: (v.tools as Record<string, unknown>[]).map((t) => ({
        ...t,
        input_schema: digest(enc.encode('gone')),
      })),
    }))(entries);
    expect(await statusOf(reseal(idx), 'ARTIFACTS')).toBe('FAILED');
  });

  it('replay: unparsable recorded args and an expected reason code that differs', () => {
    const requests = (world.input.requests ?? []).map((q) =>
      q.lamport === 1
        ? {
            lamport: 1,
            body: {
              request: { tool: 'files.read', principal: 'alice', args_text: '{' },
              expected_reason_code: 'POLICY_DENY',
            },
          }
        : q,
    );
    const r = replayEvidencePack(buildEvidencePack({ ...world.input, requests }, executor).bytes);
    expect(r.divergences.map((d) => d.field)).toEqual([
      'receipt.args_hash',
      'decision.args_hash',
      'receipt.request_digest',
      'reason_code',
    ]);
  });

  it('tar: wrong ustar version and a truncated entry', () => {
    const big = writeTar([{ path: 'a.json', data: new Uint8Array(2000) }]);
    const fix = (b: Uint8Array) => {
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (b[i] as number);
      b.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
      return b;
    };
    const v = Uint8Array.from(big);
    v.set(enc.encode('01'), 263);
    expect(() => readTar(fix(v))).toThrow(/ustar/);
    expect(() => readTar(big.subarray(0, 1536))).toThrow(/truncated/);
  });
});

describe('replay never throws', () => {
  it('reports an unreadable pack as one divergence', () => {
    const r = replayEvidencePack(new Uint8Array(7));
    expect(r).toMatchObject({ ok: false, replayed: 0 });
    expect(r.summary).toContain('unreadable');
  });
});
