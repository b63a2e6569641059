// The verifier's compact per-entry and per-receipt tables (§5.2 "Memory") must answer exactly what
// the plain structures they replace answered: an entry table rebuilds every scanned path byte for
// byte and finds paths as a sorted string array does; receipt infos come back Object.is-equal to
// what was pushed; the decision index and the digest map answer as Maps do. Each property fails on a table that, e.g., lower-
// cases hex, drops the distinction between null and a digest, or merges -0 with 0.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecisionIndex } from '../src/internal/decision-index.ts';
import { DigestMap, RowDigestIndex } from '../src/internal/digest-map.ts';
import { EntryTable } from '../src/internal/entry-table.ts';
import { LinkStore } from '../src/internal/graph-slices.ts';
import { ReceiptInfos, ReceiptSummaries } from '../src/internal/receipt-infos.ts';

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const digits = fc.stringMatching(/^[0-9]{12}$/);
const path = fc.oneof(
  digits.map((d) => `receipts/${d}.json`),
  digits.map((d) => `requests/${d}.json`),
  digits.map((d) => `condensed/${d}.json`),
  hex(64).map((h) => `decisions/${h}.json`),
  fc.tuple(digits, hex(64)).map(([d, h]) => `proofgraph/nodes/${d}-${h}.json`),
  // Near misses the templates must not take (kept as strings) and other folders.
  fc.stringMatching(/^receipts\/[0-9a-zA-Z]{1,14}\.json$/),
  fc.stringMatching(/^decisions\/[0-9a-fA-F]{63,65}\.json$/),
  fc.stringMatching(/^proofgraph\/nodes\/[0-9]{11,13}-[0-9a-f]{64}\.json$/),
  fc.stringMatching(/^[a-z]{1,9}\/[a-z0-9.-]{1,12}$/),
  fc.constantFrom('manifest.json', 'manifest/entries.json', 'index.json', 'trust/snapshot.json'),
);

describe('EntryTable', () => {
  it('rebuilds every path exactly, and indexOf / under agree with a sorted string array', () => {
    fc.assert(
      fc.property(
        // Past 64 entries: digest places and offsets are counted from every 64th entry.
        fc.uniqueArray(path, { maxLength: 200 }),
        fc.array(path, { maxLength: 20 }),
        (paths, probes) => {
          const sorted = [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          const table = new EntryTable();
          sorted.forEach((p, i) => {
            table.push(p, 512 * (i + 1), i * 7);
          });
          expect(table.length).toBe(sorted.length);
          sorted.forEach((p, i) => {
            expect(table.pathAt(i)).toBe(p);
            expect(table.at(i)).toEqual({ path: p, offset: 512 * (i + 1), size: i * 7, index: i });
          });
          for (const q of [...probes, ...sorted]) expect(table.indexOf(q)).toBe(sorted.indexOf(q));
          for (const prefix of ['receipts/', 'decisions/', 'proofgraph/nodes/', 'requests/', 'zz/']) {
            const range = table.under(prefix);
            expect(range.paths()).toEqual(sorted.filter((p) => p.startsWith(prefix)));
          }
        },
      ),
      { seed: 0x7ab1e, numRuns: 400 },
    );
  });
});

describe('EntryTable offsets and sizes', () => {
  // Offsets are kept only every 64 entries and where they are not where a strict archive puts them
  // (the entry before's offset + its padded size + a 512-byte header); sizes ≥ 2^32 aside. Any
  // sequence of pushes must come back exactly.
  it('gives back every pushed offset and size, strict or not, across checkpoints', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(fc.nat(3000), fc.constantFrom(0, 512, 1024, 2 ** 32 - 1, 2 ** 32, 2 ** 33 + 5)),
            fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0), fc.nat(5000)),
          ),
          { maxLength: 300 },
        ),
        (rows) => {
          const table = new EntryTable();
          const want: { offset: number; size: number }[] = [];
          let next = 512;
          rows.forEach(([size, bump], i) => {
            const offset = next + bump;
            table.push(`x/${String(i).padStart(6, '0')}`, offset, size);
            want.push({ offset, size });
            next = offset + Math.ceil(size / 512) * 512 + 512;
          });
          if (rows.length % 2 === 0) table.trim();
          want.forEach((w, i) => {
            expect(table.at(i)).toMatchObject(w);
            expect(table.sizeAt(i)).toBe(w.size);
          });
        },
      ),
      { seed: 0x0ff5, numRuns: 300 },
    );
  });
});

describe('ReceiptInfos', () => {
  const anyValue = fc.oneof(
    hex(64).map((h) => `sha256:${h}`),
    fc.stringMatching(/^sha256:[0-9a-fA-F]{63,65}$/),
    fc.constantFrom(null, undefined, -0, 0, Number.NaN, 1e21, '', 'sha256:'),
    fc.double(),
    fc.string(),
  );
  it('gives back exactly the values pushed', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            lamport: fc.oneof(fc.nat(), fc.constantFrom(-0, Number.NaN)),
            trust_seq: fc.oneof(fc.nat(), fc.double()),
            decision_id: fc.oneof(
              hex(64).map((h) => `sha256:${h}`),
              fc.string(),
            ),
            args_hash: anyValue,
            tool: anyValue,
            principal: anyValue,
            issued_at_ms: anyValue,
            verdict: anyValue,
            reason_code: anyValue,
            status: anyValue,
          }),
          { maxLength: 40 },
        ),
        (rows) => {
          const infos = new ReceiptInfos();
          rows.forEach((r, i) => {
            expect(infos.push(r).index).toBe(i);
          });
          rows.forEach((r, i) => {
            const got = infos.at(i) as unknown as Record<string, unknown>;
            for (const [k, v] of Object.entries(r)) expect(Object.is(got[k], v), k).toBe(true);
            expect(Object.is(infos.lamportAt(i), r.lamport)).toBe(true);
          });
          expect(infos.at(rows.length)).toBeUndefined();
        },
      ),
      { seed: 0x1f05, numRuns: 300 },
    );
  });
});

describe('DecisionIndex', () => {
  // Few distinct ids, so that several receipts name the same one; digests that share their first
  // bytes (the index compares four bytes first), near misses and other strings.
  const id = fc.oneof(
    fc.constantFrom(
      `sha256:${'ab'.repeat(32)}`,
      `sha256:${'ab'.repeat(31)}ac`,
      `sha256:${'ab'.repeat(2)}${'00'.repeat(30)}`,
    ),
    hex(64).map((h) => `sha256:${h}`),
    fc.stringMatching(/^sha256:[0-9a-fA-F]{63,65}$/),
    fc.constantFrom('', 'sha256:', 'undefined', `sha256:${'AB'.repeat(32)}`),
  );
  it('finds exactly the rows naming an id, ascending, as a Map of row lists does', () => {
    fc.assert(
      fc.property(fc.array(id, { maxLength: 60 }), fc.array(id, { maxLength: 10 }), (ids, probes) => {
        const infos = new ReceiptInfos();
        for (const decision_id of ids)
          infos.push({
            lamport: 1,
            trust_seq: 1,
            decision_id,
            args_hash: null,
            tool: 't',
            principal: 'p',
            issued_at_ms: 1,
            verdict: 'ALLOW',
            reason_code: 'ALLOW',
            status: 'SUCCEEDED',
          });
        const index = new DecisionIndex(infos);
        for (const q of [...ids, ...probes]) {
          const want = ids.flatMap((x, row) => (x === q ? [row] : []));
          expect(index.rowsOf(q)).toEqual(want);
        }
      }),
      { seed: 0xdec1, numRuns: 500 },
    );
  });
});

describe('LinkStore', () => {
  const hash = fc.oneof(
    fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`),
    fc.stringMatching(/^sha256:[0-9a-fA-F]{63,65}$/),
    fc.string(),
  );
  it('gives back every node pushed, chained to the one before or not', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            hash,
            fc.oneof(fc.nat(), fc.constantFrom(-0, Number.NaN, 2 ** 40)),
            fc.array(hash, { maxLength: 3 }),
            fc.boolean(),
          ),
          { maxLength: 40 },
        ),
        fc.nat(50),
        (items, capacity) => {
          const nodes = items.map(([h, lamport, parents], i) => ({
            hash: h,
            lamport,
            // Where the flag is set, the parent list is exactly [the previous node's hash].
            parents: (items[i]?.[3] ?? false) && i > 0 ? [items[i - 1]?.[0] as string] : parents,
          }));
          const store = new LinkStore(capacity);
          for (const n of nodes) store.push(n);
          expect(store.length).toBe(nodes.length);
          nodes.forEach((n, i) => {
            const got = store.at(i);
            expect(got.hash).toBe(n.hash);
            expect(Object.is(got.lamport, n.lamport)).toBe(true);
            expect(got.parents).toEqual(n.parents);
          });
        },
      ),
      { seed: 0x1ee7, numRuns: 300 },
    );
  });
});

describe('DigestMap', () => {
  const key = fc.oneof(
    // Digests that agree on the 16 bytes the slot hash reads: they share probe chains.
    fc.nat(15).map((k) => `sha256:${'cd'.repeat(16)}${k.toString(16).padStart(2, '0').repeat(16)}`),
    hex(64).map((h) => `sha256:${h}`),
    fc.stringMatching(/^sha256:[0-9a-fA-F]{63,65}$/),
    fc.string(),
  );
  it('answers get and size as a Map does, through growth and overwrites', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), key, fc.oneof(fc.double(), fc.nat())), { maxLength: 200 }),
        (ops) => {
          const map = new DigestMap();
          const plain = new Map<string, number>();
          for (const [isSet, k, v] of ops) {
            if (isSet) {
              map.set(k, v);
              plain.set(k, v);
            }
            expect(Object.is(map.get(k), plain.get(k))).toBe(true);
            expect(map.size).toBe(plain.size);
          }
          for (const k of plain.keys()) expect(Object.is(map.get(k), plain.get(k))).toBe(true);
        },
      ),
      { seed: 0xd16e, numRuns: 400 },
    );
  });
});

describe('RowDigestIndex', () => {
  // Digests sharing the 16 bytes the slot hash reads (one probe chain), repeats, and non-digests.
  const hash = fc.oneof(
    fc.nat(15).map((k) => `sha256:${'cd'.repeat(16)}${k.toString(16).padStart(2, '0').repeat(16)}`),
    hex(64).map((h) => `sha256:${h}`),
    fc.stringMatching(/^sha256:[0-9a-fA-F]{63,65}$/),
    fc.string(),
  );
  it("finds the first summary row holding a hash, as the rows' indexOf does (over the first `count` rows)", () => {
    fc.assert(
      fc.property(
        fc.array(hash, { maxLength: 120 }),
        fc.array(hash, { maxLength: 10 }),
        fc.nat(),
        (hashes, probes, cut) => {
          const store = new ReceiptSummaries();
          for (const h of hashes)
            store.push({
              hash: h,
              receipt_id: h,
              chain_id: 'c',
              lamport: 1,
              prev_hash: h,
              keyid: 'k',
              risk_tier: 'LOW',
              trust_seq: 1,
              trust_head: h,
            });
          const count = hashes.length === 0 ? 0 : cut % (hashes.length + 1);
          const index = new RowDigestIndex(store.hashes, count);
          for (const q of [...hashes, ...probes]) {
            const first = hashes.slice(0, count).indexOf(q);
            // Only digest strings are indexed (other values are never a receipt's hash).
            expect(index.rowOf(q)).toBe(/^sha256:[0-9a-f]{64}$/.test(q) ? first : -1);
          }
        },
      ),
      { seed: 0x20f5, numRuns: 400 },
    );
  });
});

describe('ReceiptSummaries', () => {
  const digest = fc.oneof(
    fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`),
    fc.stringMatching(/^sha256:[0-9a-fA-F]{63,65}$/),
    fc.string(),
  );
  const summary = fc.record({
    hash: digest,
    receipt_id: digest,
    chain_id: fc.string(),
    lamport: fc.oneof(fc.nat(), fc.constantFrom(-0, Number.NaN)),
    prev_hash: digest,
    keyid: fc.string(),
    risk_tier: fc.constantFrom('LOW', 'MEDIUM', 'HIGH'),
    trust_seq: fc.nat(),
    trust_head: digest,
  });
  it('gives back equal summaries, also through the array view linkReceipts reads', () => {
    fc.assert(
      fc.property(fc.array(summary, { maxLength: 30 }), (rows) => {
        const store = new ReceiptSummaries();
        for (const r of rows) store.push(r);
        const view = store.view();
        expect(view.length).toBe(rows.length);
        rows.forEach((r, i) => {
          for (const got of [store.at(i), view[i]] as Record<string, unknown>[])
            for (const [k, v] of Object.entries(r)) expect(Object.is(got[k], v), k).toBe(true);
        });
        expect(store.at(rows.length)).toBeUndefined();
        expect(view[rows.length]).toBeUndefined();
        expect(store.at(-1)).toBeUndefined();
      }),
      { seed: 0x5a11, numRuns: 300 },
    );
  });
  it('gives back prev_hash exactly when it links to the row before (stored once) or not', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(summary, fc.boolean()), { maxLength: 30 }), (pairs) => {
        // A chain with breaks: where the flag is set, prev_hash is the previous row's hash.
        const rows = pairs.map(([r]) => ({ ...r }));
        pairs.forEach(([, linked], i) => {
          if (linked && i > 0)
            (rows[i] as { prev_hash: string }).prev_hash = (rows[i - 1] as { hash: string }).hash;
        });
        const store = new ReceiptSummaries(pairs.length % 2 === 0 ? pairs.length : 0);
        for (const r of rows) store.push(r);
        rows.forEach((r, i) => {
          for (const [k, v] of Object.entries(r))
            expect(Object.is((store.at(i) as Record<string, unknown>)[k], v), k).toBe(true);
        });
      }),
      { seed: 0xc4a1, numRuns: 300 },
    );
  });
});
