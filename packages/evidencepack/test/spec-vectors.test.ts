// The machine-readable vectors of docs/spec/evidencepack.md §7 (docs/spec/vectors/evidencepack/):
// (a) the committed files are exactly what the generator writes today (they never go stale), and
// (b) the verifier gives every vector its expected status and check statuses.
import { readdirSync, readFileSync } from 'node:fs';
import { digest } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { verifyEvidencePack } from '../src/index.ts';
import { generateVectors, REGENERATE, VECTOR_DIR, type VectorItem } from './vectors/generate.ts';

const index = JSON.parse(readFileSync(`${VECTOR_DIR}index.json`, 'utf8')) as { vectors: VectorItem[] };

describe('EvidencePack spec vectors', () => {
  it(`are byte-identical to a fresh generation (else run: ${REGENERATE})`, () => {
    const { files } = generateVectors();
    expect([...readdirSync(VECTOR_DIR)].sort()).toEqual([...files.keys()].sort());
    for (const [name, bytes] of files) {
      expect(digest(readFileSync(`${VECTOR_DIR}${name}`)), `${name} is stale; run: ${REGENERATE}`).toBe(
        digest(bytes),
      );
    }
  });

  it('cover honest, condensed and range packs and every targeted check', () => {
    const failed = new Set(
      index.vectors.flatMap((v) =>
        Object.entries(v.expected.checks)
          .filter(([, s]) => s === 'FAILED')
          .map(([c]) => c),
      ),
    );
    for (const code of [
      'PACK_FORMAT',
      'MANIFEST_FORMAT',
      'ENTRY_HASHES',
      'COMPLETENESS',
      'ENTRY_NAMES',
      'TRUST_SNAPSHOT',
      'TRUST_ANCHOR',
      'MANIFEST_SIGNATURE',
      'RECEIPT_CHAIN',
      'RECEIPT_SCOPE',
      'DECISIONS',
      'REQUESTS',
      'ARTIFACTS',
      'CHECKPOINTS',
    ])
      expect(failed, code).toContain(code);
    const pass = index.vectors.filter((v) => v.expected.status === 'PASS').map((v) => v.file);
    expect(pass).toEqual(
      expect.arrayContaining(['honest-plain.tar', 'honest-condensed.tar', 'honest-range.tar']),
    );
  });

  for (const v of index.vectors) {
    it(`${v.file}${v.trust_anchor === null ? ' (no anchor)' : ''}${v.expect_head ? ' (expected head)' : ''}${v.trust_head ? ' (trust head pinned)' : ''}${v.min_trust_seq ? ' (min trust seq)' : ''}: ${v.expected.status}`, async () => {
      const bytes = new Uint8Array(readFileSync(`${VECTOR_DIR}${v.file}`));
      const report = await verifyEvidencePack(bytes, {
        ...(v.trust_anchor === null ? {} : { trustAnchor: v.trust_anchor }),
        ...(v.expect_head === undefined ? {} : { expectHead: v.expect_head }),
        ...(v.trust_head === undefined ? {} : { trustHead: v.trust_head }),
        ...(v.min_trust_seq === undefined ? {} : { minTrustSeq: v.min_trust_seq }),
      });
      expect(report.status).toBe(v.expected.status);
      expect(Object.fromEntries(report.checks.map((c) => [c.code, c.status]))).toEqual(v.expected.checks);
      expect(report.freshness).toEqual(v.expected.freshness);
    });
  }
});
