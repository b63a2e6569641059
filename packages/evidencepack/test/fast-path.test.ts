// Differential test of the verifier's fast paths (#16 item 4): the canonical check by text, node
// hashes read off canonical node documents, envelope bodies decoded once, and receipt nodes built
// from phase 1's verified fields instead of a re-read. With them off (`plain`) the verifier does the
// plain work; the whole report — every check's status, message, detail and path — must be the same
// on honest packs and on tampered ones, serially and on the worker pool.
import { readFileSync } from 'node:fs';
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, fromBase64Url, signEnvelope } from '@helm/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type TarEntry, type VerifyOptions, writeTar } from '../src/index.ts';
import { bytesSource } from '../src/internal/entry-source.ts';
import { verifyEntrySource } from '../src/verify.ts';
import {
  editEntry,
  honest,
  honestPacks,
  json,
  put,
  rebody,
  relistUnsigned,
  reseal,
} from './fixtures/packs.ts';
import { buildWorld, executor, guardian } from './fixtures/world.ts';
import { VECTOR_DIR, type VectorItem } from './vectors/generate.ts';

const index = JSON.parse(readFileSync(`${VECTOR_DIR}index.json`, 'utf8')) as { vectors: VectorItem[] };
const packs = honestPacks();

async function bothAgree(bytes: Uint8Array, options: VerifyOptions): Promise<string> {
  const fast = await verifyEntrySource(bytesSource(bytes), options);
  const plain = await verifyEntrySource(bytesSource(bytes), options, { plain: true });
  expect(fast).toEqual(plain);
  return fast.status;
}

describe('fast and plain verification give the same report', () => {
  // The vectors exercise every verdict (PASS, FAILED, UNVERIFIABLE): the comparison is not only
  // over passing packs.
  for (const v of index.vectors)
    for (const workers of [0, 2])
      it(`${v.file}${v.expect_head ? ' (expected head)' : ''}${v.trust_head ? ' (trust head pinned)' : ''}${v.min_trust_seq ? ' (min trust seq)' : ''}, ${workers ? 'worker pool' : 'serial'}`, async () => {
        const bytes = new Uint8Array(readFileSync(`${VECTOR_DIR}${v.file}`));
        const options: VerifyOptions = {
          ...(v.trust_anchor === null ? {} : { trustAnchor: v.trust_anchor }),
          ...(v.expect_head === undefined ? {} : { expectHead: v.expect_head }),
          ...(v.trust_head === undefined ? {} : { trustHead: v.trust_head }),
          ...(v.min_trust_seq === undefined ? {} : { minTrustSeq: v.min_trust_seq }),
          workers,
          parallelThreshold: 1,
        };
        expect(await bothAgree(bytes, options)).toBe(v.expected.status);
      });

  const nodePath = (entries: readonly TarEntry[]) =>
    entries.find((e) => e.path.startsWith('proofgraph/nodes/'))?.path as string;
  const receiptPath = (entries: readonly TarEntry[], k = 0) =>
    entries.filter((e) => e.path.startsWith('receipts/'))[k]?.path as string;
  const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
  const withBom = (data: Uint8Array) => {
    const out = new Uint8Array(data.length + 3);
    out.set(bom);
    out.set(data, 3);
    return out;
  };

  // Edits that reach the fast paths: canonical-looking bytes that are not canonical, node documents
  // whose slice is not the envelope's JCS, receipts that fail phase 1 or the graph pass.
  /** A node's body edited and signed again by `signer` (its keyid in the body too). */
  const resignNode = (
    es: readonly TarEntry[],
    signer: typeof executor,
    f: (b: Record<string, unknown>) => Record<string, unknown> = (b) => b,
    k = 0,
  ) => {
    const p = es.filter((e) => e.path.startsWith('proofgraph/nodes/'))[k]?.path as string;
    return editEntry(es, p, (d) => {
      const env = d.envelope as SignedEnvelope;
      const body = json(fromBase64Url(env.payload) as Uint8Array) as Record<string, unknown>;
      return { ...d, envelope: signEnvelope({ ...f(body), keyid: signer.keyId } as never, [signer]) };
    });
  };
  const edits: { name: string; edit: (entries: readonly TarEntry[]) => Uint8Array }[] = [
    // The per-node checks made as nodes are read (serially, or on the pool with this thread's
    // authorization of each worker's key): keys, signatures, payloads, then the link pass.
    {
      name: 'a node signed by the guardian, not the executor (resealed)',
      edit: (es) => reseal(resignNode(es, guardian)),
    },
    {
      name: 'a node whose body names another key than its signature (resealed)',
      edit: (es) =>
        reseal(
          editEntry(es, nodePath(es), (d) => ({
            envelope: rebody(d.envelope as SignedEnvelope, (b) => ({ ...b, keyid: guardian.keyId })),
          })),
        ),
    },
    {
      name: 'a node with a flipped signature byte (relisted)',
      edit: (es) =>
        writeTar(
          relistUnsigned(
            editEntry(es, nodePath(es), (d) => {
              const env = d.envelope as SignedEnvelope;
              const sig = env.signatures[0] as { keyid: string; sig: string };
              const c = sig.sig[5] === 'A' ? 'B' : 'A';
              return {
                ...d,
                envelope: {
                  ...env,
                  signatures: [{ ...sig, sig: sig.sig.slice(0, 5) + c + sig.sig.slice(6) }],
                },
              };
            }),
          ),
        ),
    },
    {
      name: 'a node re-signed by the executor with an unknown parent (resealed)',
      edit: (es) =>
        reseal(resignNode(es, executor, (b) => ({ ...b, parents: [`sha256:${'0'.repeat(64)}`] }))),
    },
    {
      name: 'a node re-signed by the executor with a wrong Lamport (resealed)',
      edit: (es) => reseal(resignNode(es, executor, (b) => ({ ...b, lamport: Number(b.lamport) + 5 }), 1)),
    },
    {
      name: 'a node whose payload does not match its payload_hash (resealed)',
      edit: (es) =>
        reseal(resignNode(es, executor, (b) => ({ ...b, payload_hash: `sha256:${'1'.repeat(64)}` }))),
    },
    {
      name: 'a node document with a byte order mark (relisted)',
      edit: (es) => {
        const p = nodePath(es);
        return writeTar(
          relistUnsigned(put(es, p, withBom(es.find((e) => e.path === p)?.data as Uint8Array))),
        );
      },
    },
    {
      name: 'a receipt with a byte order mark (resealed)',
      edit: (es) => {
        const p = receiptPath(es);
        return reseal(put(es, p, withBom(es.find((e) => e.path === p)?.data as Uint8Array)));
      },
    },
    {
      name: 'a node document with members in the wrong order (resealed)',
      edit: (es) => {
        const p = nodePath(es);
        const doc = json(es.find((e) => e.path === p)?.data as Uint8Array) as { envelope: SignedEnvelope };
        const e = doc.envelope;
        const text = `{"envelope":{"signatures":${JSON.stringify(e.signatures)},"payload":${JSON.stringify(e.payload)},"type":${JSON.stringify(e.type)}}}`;
        return reseal(put(es, p, new TextEncoder().encode(text)));
      },
    },
    {
      name: 'a node document with a payload member (resealed)',
      edit: (es) => reseal(editEntry(es, nodePath(es), (d) => ({ ...d, payload: { any: 1 } }))),
    },
    {
      name: 'a node whose body changed, name kept (resealed)',
      edit: (es) =>
        reseal(
          editEntry(es, nodePath(es), (d) => ({
            envelope: rebody(d.envelope as SignedEnvelope, (b) => ({ ...b, issued_at_ms: 1 })),
          })),
        ),
    },
    {
      name: 'a receipt whose body changed (resealed: phase 1 fails, the graph pass re-reads it)',
      edit: (es) =>
        reseal(
          editEntry(es, receiptPath(es, 1), (r) =>
            rebody(r as SignedEnvelope, (b) => ({ ...b, principal: 'mallory' })),
          ),
        ),
    },
    {
      name: 'two receipts swapped (resealed: links and the graph fail)',
      edit: (es) => {
        const a = receiptPath(es, 0);
        const b = receiptPath(es, 1);
        const da = es.find((e) => e.path === a)?.data as Uint8Array;
        const db = es.find((e) => e.path === b)?.data as Uint8Array;
        return reseal(put(put(es, a, db), b, da));
      },
    },
    {
      name: 'a receipt re-encoded with an escaped character (relisted)',
      edit: (es) => {
        const p = receiptPath(es);
        const text = new TextDecoder()
          .decode(es.find((e) => e.path === p)?.data)
          .replace('"type"', '"\\u0074ype"');
        return writeTar(relistUnsigned(put(es, p, new TextEncoder().encode(text))));
      },
    },
    {
      name: 'a decision with a non-canonical number (relisted)',
      edit: (es) => {
        const p = es.find((e) => e.path.startsWith('decisions/'))?.path as string;
        const d = json(es.find((e) => e.path === p)?.data as Uint8Array) as SignedEnvelope;
        const text = new TextDecoder().decode(canonicalBytes({ ...d, x: 1 })).replace('"x":1', '"x":1.0');
        return writeTar(relistUnsigned(put(es, p, new TextEncoder().encode(text))));
      },
    },
  ];

  for (const pack of packs)
    for (const { name, edit } of edits.filter(
      // Edits of a second receipt need two full receipts (the condensed pack keeps one).
      (x) =>
        !x.name.includes('receipt') || pack.entries.filter((e) => e.path.startsWith('receipts/')).length >= 2,
    ))
      it(`${pack.name} pack: ${name}`, async () => {
        const bytes = edit(pack.entries);
        for (const workers of [0, 2])
          expect(
            await bothAgree(bytes, { trustAnchor: pack.world.anchor, workers, parallelThreshold: 1 }),
          ).toBe('FAILED');
      });

  it('on honest packs and random single-byte changes of their entries (relisted, not re-signed)', async () => {
    for (const pack of packs)
      expect(await bothAgree(pack.bytes, { trustAnchor: pack.world.anchor, workers: 0 })).toBe('PASS');
    const json = packs.flatMap((p) =>
      p.entries
        .filter((e) => e.path.endsWith('.json') && !e.path.startsWith('manifest'))
        .map((e) => ({ p, e })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: json.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0x20, max: 0x7e }),
        async (k, at, byte) => {
          const { p, e } = json[k] as (typeof json)[number];
          const data = e.data.slice();
          data[at % data.length] = byte;
          const bytes = writeTar(relistUnsigned(put(p.entries, e.path, data)));
          await bothAgree(bytes, { trustAnchor: p.world.anchor, workers: 0 });
        },
      ),
      { seed: 0x16f4, numRuns: 120 },
    );
  });

  it('on random single-byte changes, on the worker pool (signed nodes checked on workers)', async () => {
    const json = packs.flatMap((p) =>
      p.entries
        .filter((e) => /^(?:proofgraph\/nodes|receipts|decisions)\//.test(e.path))
        .map((e) => ({ p, e })),
    );
    // The entries whose signatures the workers check; fewer runs than serially (a pool each).
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: json.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0x20, max: 0x7e }),
        async (k, at, byte) => {
          const { p, e } = json[k] as (typeof json)[number];
          const data = e.data.slice();
          data[at % data.length] = byte;
          const bytes = writeTar(relistUnsigned(put(p.entries, e.path, data)));
          await bothAgree(bytes, { trustAnchor: p.world.anchor, workers: 2, parallelThreshold: 1 });
        },
      ),
      { seed: 0x25f4, numRuns: 12 },
    );
  }, 180_000);

  it('whatever the ProofGraph slice size (plain: 1, 7, 128; fast link pass: 1, 7, 4096; 60 items)', async () => {
    const pack = honest('sliced', buildWorld(30, 'sliced'));
    const es = pack.entries;
    const receipts = es.filter((e) => e.path.startsWith('receipts/')).map((e) => e.path);
    const nodes = es.filter((e) => e.path.startsWith('proofgraph/nodes/')).map((e) => e.path);
    const data = (p: string) => es.find((e) => e.path === p)?.data as Uint8Array;
    const variants = [
      pack.bytes,
      // A receipt moved across a slice boundary (links and graph fail), and a node's body edited.
      reseal(
        put(
          put(es, receipts[6] as string, data(receipts[20] as string)),
          receipts[20] as string,
          data(receipts[6] as string),
        ),
      ),
      reseal(
        editEntry(es, nodes[17] as string, (d) => ({
          envelope: rebody(d.envelope as SignedEnvelope, (b) => ({ ...b, lamport: 3 })),
        })),
      ),
    ];
    const statuses: string[] = [];
    for (const bytes of variants) {
      const options = { trustAnchor: pack.world.anchor, workers: 0 };
      const reports = [];
      for (const graphSlice of [1, 7, 128])
        reports.push(await verifyEntrySource(bytesSource(bytes), options, { plain: true, graphSlice }));
      expect(reports[0]).toEqual(reports[2]);
      expect(reports[1]).toEqual(reports[2]);
      // The fast path links in slices too (default 4096): slices of 1 and 7 cross every boundary.
      for (const graphSlice of [1, 7, undefined])
        expect(
          await verifyEntrySource(bytesSource(bytes), options, graphSlice ? { graphSlice } : {}),
        ).toEqual(reports[2]);
      statuses.push((reports[2] as { status: string }).status);
    }
    expect(statuses).toEqual(['PASS', 'FAILED', 'FAILED']);
  });
});
