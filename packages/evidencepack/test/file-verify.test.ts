// The file verifier (verifyEvidencePackFile: the archive read entry by entry) against the bytes
// verifier (verifyEvidencePack): the same report for every spec vector, honest and tampered, serial
// and on the worker pool, and for damaged archives; the file reader's windows against the in-memory
// reader; and the memory rule of docs/spec/evidencepack.md §5.2, structurally: the verifier uses an
// entry's bytes only until its next read, and reads each entry at most twice.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readTar, type TarEntry, verifyEvidencePack, writeTar } from '../src/index.ts';
import { bytesSource, type EntrySource } from '../src/internal/entry-source.ts';
import { verifyEntrySource } from '../src/verify.ts';
import { verifyAsFile } from './fixtures/file.ts';
import { editEntry, honestPacks, rebody, relistUnsigned } from './fixtures/packs.ts';
import { VECTOR_DIR, type VectorItem } from './vectors/generate.ts';

const index = JSON.parse(readFileSync(`${VECTOR_DIR}index.json`, 'utf8')) as { vectors: VectorItem[] };
const packs = honestPacks();

describe('verifyEvidencePackFile gives the report verifyEvidencePack gives', () => {
  for (const v of index.vectors) {
    for (const workers of [0, 2]) {
      it(`${v.file}${v.expect_head ? ' (expected head)' : ''}${v.trust_head ? ' (trust head pinned)' : ''}${v.min_trust_seq ? ' (min trust seq)' : ''}, ${workers ? 'worker pool' : 'serial'}`, async () => {
        const bytes = new Uint8Array(readFileSync(`${VECTOR_DIR}${v.file}`));
        const options = {
          ...(v.trust_anchor === null ? {} : { trustAnchor: v.trust_anchor }),
          ...(v.expect_head === undefined ? {} : { expectHead: v.expect_head }),
          ...(v.trust_head === undefined ? {} : { trustHead: v.trust_head }),
          ...(v.min_trust_seq === undefined ? {} : { minTrustSeq: v.min_trust_seq }),
          workers,
          parallelThreshold: 1,
        };
        const fromBytes = await verifyEvidencePack(bytes, options);
        expect(fromBytes.status).toBe(v.expected.status);
        expect(await verifyAsFile(bytes, options)).toEqual(fromBytes);
      });
    }
  }

  it('for truncated, extended and random archives (same verdict, same pack digest)', async () => {
    const honest = packs[0]?.bytes as Uint8Array;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.nat({ max: honest.length }).map((n) => honest.slice(0, n)),
          fc.nat({ max: 8 }).map((k) => {
            const out = new Uint8Array(honest.length + 512 * k);
            out.set(honest);
            return out;
          }),
          fc.uint8Array({ maxLength: 4096 }),
        ),
        async (bytes) => {
          const options = { trustAnchor: packs[0]?.world.anchor as string };
          expect(await verifyAsFile(bytes, options)).toEqual(await verifyEvidencePack(bytes, options));
        },
      ),
      { seed: 0x16f, numRuns: 60 },
    );
  });
});

describe('the file reader', () => {
  // Entry sizes that put headers and padding across the reader's 4 MiB windows.
  const WINDOW = 4 * 1024 * 1024;
  const sizes = [WINDOW - 700, 1, 513, WINDOW + 5, 0, 511, 2 * WINDOW - 1024 - 3];
  const entries = sizes.map((size, i) => ({
    path: `modules/${String(i).padStart(2, '0')}.bin`,
    data: new Uint8Array(size).fill(i + 1),
  }));
  const archive = writeTar(entries);

  it('finds the entries and bytes the in-memory reader finds, across window boundaries', async () => {
    const { fileSource } = await import('../src/internal/entry-source.ts');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'helm-tar-'));
    try {
      const file = join(dir, 'a.tar');
      writeFileSync(file, archive);
      const source = fileSource(file);
      try {
        expect(source.packDigest).toBe(bytesSource(archive).packDigest);
        if ('error' in source.scan) throw source.scan.error;
        const read = readTar(archive);
        expect([...source.scan.entries].map((e) => e.path)).toEqual(read.map((e) => e.path));
        [...source.scan.entries].forEach((e, i) => {
          expect(Buffer.compare(source.read(e), (read[i] as { data: Uint8Array }).data)).toBe(0);
        });
      } finally {
        source.close();
      }
      // Damage past the first window is found, with the in-memory reader's error.
      for (const at of [WINDOW + 200, archive.length - 1]) {
        const bad = archive.slice();
        bad[at] = 7;
        writeFileSync(file, bad);
        const s = fileSource(file);
        const m = bytesSource(bad);
        expect('error' in s.scan && (s.scan.error as Error).message).toBe(
          'error' in m.scan && (m.scan.error as Error).message,
        );
        expect(s.packDigest).toBe(m.packDigest);
        s.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('memory (§5.2): entries are read one at a time and not kept', () => {
  /**
   * A source that hands out a fresh copy per read and overwrites the previous copy on the next read:
   * a verifier that kept an entry's bytes past its next read (instead of what it derived from them)
   * would see garbage and fail the honest pack.
   */
  function poisoningSource(bytes: Uint8Array) {
    const inner = bytesSource(bytes);
    const reads = new Map<string, number>();
    let last: Uint8Array | undefined;
    let largest = 0;
    const source: EntrySource = {
      packDigest: inner.packDigest,
      scan: inner.scan,
      read(e) {
        last?.fill(0xa5);
        reads.set(e.path, (reads.get(e.path) ?? 0) + 1);
        largest = Math.max(largest, e.size);
        last = inner.read(e).slice();
        return last;
      },
      stream(e, consume) {
        reads.set(e.path, (reads.get(e.path) ?? 0) + 1);
        return inner.stream(e, consume);
      },
      // The entry list's blocks, read again for the listed digests: a fresh copy each time.
      readRange: (e, start, length) => inner.readRange(e, start, length).slice(),
      close: () => {},
    };
    return { source, reads, largest: () => largest };
  }

  for (const [i, name] of ['plain', 'condensed', 'range'].entries()) {
    for (const workers of [0, 2]) {
      it(`${name} pack (${workers ? 'worker pool' : 'serial'}): PASS with each read's bytes destroyed at the next read; every entry read at most twice (receipts, nodes and indexed artifacts), others once`, async () => {
        const pack = packs[i] as (typeof packs)[number];
        const { source, reads } = poisoningSource(pack.bytes);
        const report = await verifyEntrySource(source, {
          trustAnchor: pack.world.anchor,
          workers,
          parallelThreshold: 1,
        });
        expect(report).toEqual(
          await verifyEvidencePack(pack.bytes, {
            trustAnchor: pack.world.anchor,
            workers,
            parallelThreshold: 1,
          }),
        );
        expect(report.status).toBe('PASS');
        for (const [path, n] of reads) {
          // The graph pass reads receipts and nodes again; ARTIFACTS hashes the index's items again.
          const twice = [
            'receipts/',
            'proofgraph/nodes/',
            'policies/',
            'tools/',
            'schemas/',
            'modules/',
          ].some((p) => path.startsWith(p));
          expect(n, path).toBeLessThanOrEqual(twice ? 2 : 1);
        }
        // Every entry was read (hashed against the list) at least once.
        const all = 'entries' in source.scan ? [...source.scan.entries] : [];
        expect(all.filter((e) => !reads.has(e.path)).map((e) => e.path)).toEqual([]);
      });
    }
  }
});

describe('the entry list read again (listed digests are not kept, §5.2)', () => {
  // I-EVIDENCE-1. The attacker swaps the archive under the verifier after the entry list was
  // streamed and hashed against its signed SHA-256: an entry's bytes and, in the list, its digits
  // (same length), so that the two agree again. Verification must not accept the swapped entry as
  // the listed one: a verifier that re-reads listed digits without checking them against the first
  // read would report ENTRY_HASHES PASS here.
  for (const workers of [0, 2])
    it(`an entry and its listed digits changed after the list was hashed: not accepted (${workers ? 'worker pool' : 'serial'})`, async () => {
      const { canonicalBytes, digest } = await import('@helm/crypto');
      const pack = packs[0] as (typeof packs)[number];
      const inner = bytesSource(pack.bytes);
      const entries = 'entries' in inner.scan ? [...inner.scan.entries] : [];
      const target = entries.find((e) => e.path === 'index.json') as (typeof entries)[number];
      const original = inner.read(target);
      // Same length: one key renamed inside the JSON (still canonical; its SHA-256 differs).
      const value = JSON.parse(new TextDecoder().decode(original)) as Record<string, unknown>;
      const swapped = canonicalBytes({ ...value, type: `${String(value.type).slice(0, -1)}X` });
      expect(swapped.length).toBe(original.length);
      const oldHex = digest(original).slice('sha256:'.length);
      const newHex = digest(swapped).slice('sha256:'.length);
      const listRef = entries.find((e) => e.path === 'manifest/entries.json') as (typeof entries)[number];
      const source: EntrySource = {
        packDigest: inner.packDigest,
        scan: inner.scan,
        read: (e) => (e.path === target.path ? swapped : inner.read(e)),
        stream: (e, consume) => inner.stream(e, consume),
        readRange(e, start, length) {
          const bytes = inner.readRange(e, start, length).slice();
          if (e.path !== listRef.path) return bytes;
          // The list as the attacker rewrote it: every occurrence of the old digits in this range.
          const text = new TextDecoder().decode(bytes).replaceAll(oldHex, newHex);
          return new TextEncoder().encode(text);
        },
        close: () => {},
      };
      const report = await verifyEntrySource(source, {
        trustAnchor: pack.world.anchor,
        workers,
        parallelThreshold: 1,
      });
      expect(report.status).not.toBe('PASS');
      const hashes = report.checks.find((c) => c.code === 'ENTRY_HASHES');
      expect(hashes?.status).toBe('FAILED');
      // Stopped: the block read again does not hash to what the first read gave.
      expect(report.checks.some((c) => /changed while the pack was verified/.test(c.message))).toBe(true);
    });
});

describe('entriesRoot', () => {
  it('is the RFC 9162 root over JCS({path, size, sha256}) of each entry, for any strings', async () => {
    const { canonicalBytes, toHex } = await import('@helm/crypto');
    const { leafHashSource, merkleLeafHash, merkleRoot } = await import('@helm/proofgraph');
    const { entriesRoot } = await import('../src/index.ts');
    const text = fc.oneof(
      fc.stringMatching(/^[a-z0-9./_-]{1,40}$/),
      fc.string({ unit: 'binary', maxLength: 12 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ path: text, size: fc.nat(), sha256: text }), { maxLength: 9 }),
        (list) => {
          const leaves = list.map((e) =>
            merkleLeafHash(canonicalBytes({ path: e.path, size: e.size, sha256: e.sha256 })),
          );
          expect(entriesRoot(list)).toBe(
            `sha256:${toHex(merkleRoot(leafHashSource(leaves), leaves.length))}`,
          );
        },
      ),
      { seed: 0x1ea, numRuns: 300 },
    );
  });
});

describe('the entry list scan', () => {
  it('accepts exactly canonical, well-shaped lists, with the items and root the general path finds', async () => {
    const { bytesEqual, canonicalBytes, toHex } = await import('@helm/crypto');
    const { entriesRoot } = await import('../src/index.ts');
    const { scanCanonicalEntryList } = await import('../src/internal/entry-list.ts');
    const { entriesProblem } = await import('../src/internal/shapes.ts');
    const enc = new TextEncoder();
    const item = fc.record({
      path: fc.oneof(
        fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}(\/[a-z0-9][a-z0-9._-]{0,20}){0,2}$/),
        fc.constantFrom('A', 'a/', 'a b', 'é', '-a'),
      ),
      size: fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, 2 ** 53)),
      sha256: fc.oneof(fc.stringMatching(/^sha256:[0-9a-f]{64}$/), fc.constantFrom('sha256:AB', 'x')),
    });
    // Canonical texts, and texts one edit away (spacing, key order, number spelling, trailing bytes).
    const edits = [
      (t: string) => t,
      (t: string) => t.replace(',', ', '),
      (t: string) => t.replace('{"path"', '{"size":0,"path"'),
      (t: string) => `${t} `,
      (t: string) => t.replace(/"size":(\d+)/, '"size":$1.0'),
      (t: string) => t.replace(/"size":(\d+)/, '"size":0$1'),
      (t: string) => t.replace('},{', '}, {'),
    ];
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), fc.nat({ max: edits.length - 1 }), (list, e) => {
        const text = (edits[e] as (t: string) => string)(new TextDecoder().decode(canonicalBytes(list)));
        const data = enc.encode(text);
        let value: { path: string; size: number; sha256: string }[] = [];
        let general = false;
        try {
          value = JSON.parse(text);
          general = bytesEqual(canonicalBytes(value), data) && entriesProblem(value) === undefined;
        } catch {
          // not JSON: the general path refuses it
        }
        const scanned = scanCanonicalEntryList(data);
        if (!general) expect(scanned).toBeUndefined();
        else if (scanned) {
          expect(scanned.paths).toEqual(value.map((x) => x.path));
          expect([...scanned.sizes]).toEqual(value.map((x) => x.size));
          expect(toHex(scanned.digests)).toBe(value.map((x) => x.sha256.slice(7)).join(''));
          expect(`sha256:${toHex(scanned.root)}`).toBe(entriesRoot(value as never));
        }
        // A canonical list of the right shape is always taken by the scan.
        if (general && e === 0) expect(scanned).toBeDefined();
      }),
      { seed: 0x1eb, numRuns: 500 },
    );
  });
});

describe('the entry list scan, in chunks', () => {
  it('finds the same items and root (or the same refusal) whatever the chunk boundaries', async () => {
    const { canonicalBytes, toHex } = await import('@helm/crypto');
    const { EntryListScanner, scanCanonicalEntryList } = await import('../src/internal/entry-list.ts');
    const item = fc.record({
      path: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,60}(\/[a-z0-9][a-z0-9._-]{0,60}){0,2}$/),
      size: fc.nat(),
      sha256: fc.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }))),
        (list, cuts, flip) => {
          const data = canonicalBytes(list).slice();
          // Sometimes one byte changed: the chunked scan must refuse exactly what the whole scan refuses.
          if (flip && data.length > 0) data[flip[0] % data.length] = flip[1];
          const whole = scanCanonicalEntryList(data);
          const items: string[] = [];
          const scanner = new EntryListScanner((path, size, sha256) => {
            items.push(`${path} ${size} ${toHex(sha256)}`);
          });
          const at = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          let from = 0;
          for (const c of [...at, data.length]) {
            scanner.push(data.subarray(from, c));
            from = c;
          }
          const r = scanner.finish();
          if (whole === undefined) expect(r).toBeUndefined();
          else {
            expect(r?.count).toBe(whole.paths.length);
            expect(toHex(r?.root as Uint8Array)).toBe(toHex(whole.root));
            expect(items).toEqual(
              whole.paths.map(
                (p, i) => `${p} ${whole.sizes[i]} ${toHex(whole.digests.subarray(32 * i, 32 * i + 32))}`,
              ),
            );
          }
        },
      ),
      { seed: 0xc4a, numRuns: 400 },
    );
  });
});

describe('decisions on the worker pool', () => {
  // Decision signatures go to the workers, the checks around them stay on this thread: the first
  // failure in path order must be the one the serial verifier reports, whichever check it is.
  const pack = packs[0] as (typeof packs)[number];
  const decisions = pack.entries.filter((e) => e.path.startsWith('decisions/')).map((e) => e.path);
  const flipSig = (v: Record<string, unknown>) => {
    const sigs = v.signatures as { keyid: string; sig: string }[];
    const s = sigs[0] as { keyid: string; sig: string };
    return { ...v, signatures: [{ ...s, sig: `${s.sig[0] === 'A' ? 'B' : 'A'}${s.sig.slice(1)}` }] };
  };
  const cases: [string, (entries: TarEntry[]) => TarEntry[]][] = [
    ['the second decision signature broken', (e) => editEntry(e, decisions[1] as string, flipSig)],
    [
      'the last decision signature broken and the first unreadable',
      (e) =>
        editEntry(editEntry(e, decisions.at(-1) as string, flipSig), decisions[0] as string, (v) => ({
          ...v,
          payload: 'AAAA',
        })),
    ],
    [
      'the first decision re-bodied (a binding failure after a signature failure)',
      (e) =>
        editEntry(e, decisions[0] as string, (v) =>
          rebody(v as never, (b) => ({ ...b, args_hash: b.decision_id })),
        ),
    ],
  ];
  for (const [name, edit] of cases) {
    it(`${name}: the pool's report is the serial report`, async () => {
      const bytes = writeTar(relistUnsigned(edit([...pack.entries])));
      const options = { trustAnchor: pack.world.anchor, parallelThreshold: 1 };
      const serial = await verifyEvidencePack(bytes, { ...options, workers: 0 });
      expect(serial.checks.find((c) => c.code === 'DECISIONS')?.status).toBe('FAILED');
      expect(await verifyEvidencePack(bytes, { ...options, workers: 2 })).toEqual(serial);
      expect(await verifyAsFile(bytes, { ...options, workers: 2 })).toEqual(serial);
    });
  }
});
