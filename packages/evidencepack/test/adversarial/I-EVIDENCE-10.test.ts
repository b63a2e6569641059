// I-EVIDENCE-10 — bounded resources: the signed manifest has a fixed size whatever the number of
// entries (the entry list is bound by digest and Merkle root, not inlined), and an unlisted or
// oversized entry is refused without being parsed (docs/spec/evidencepack.md §4, §5.2).
//
// "Never parsed" is observed without timing: JSON.parse is spied and no call may see a text as long
// as the planted entry.
import { canonicalBytes, digest } from '@helm/crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { bindEntries, ENTRIES_PATH, type TarEntry, verifyEvidencePack, writeTar } from '../../src/index.ts';
import { type HonestPack, honestPacks, manifestBody, put, reseal } from '../fixtures/packs.ts';

const BIG = 20 * 1024 * 1024;
let plain: HonestPack;
beforeAll(() => {
  [plain] = honestPacks() as [HonestPack];
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A canonical JSON document of about `n` bytes. */
function bigJson(n: number): Uint8Array {
  return canonicalBytes({ pad: 'a'.repeat(n - 10) });
}

/** Verify while counting JSON.parse calls on a text of at least `min` characters. */
async function verifyCountingParses(bytes: Uint8Array, min: number) {
  const parse = JSON.parse;
  let big = 0;
  vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: never) => {
    if (typeof text === 'string' && text.length >= min) big++;
    return parse(text, reviver);
  });
  const report = await verifyEvidencePack(bytes, { trustAnchor: plain.world.anchor });
  vi.restoreAllMocks();
  return { report, big };
}

const check = (r: { checks: readonly { code: string; status: string; detail?: string }[] }, code: string) =>
  r.checks.find((c) => c.code === code);

describe('I-EVIDENCE-10: the manifest does not grow with the entries', () => {
  it('a pack whose inline entry list would exceed 16 MiB has a manifest body under 1 KiB', () => {
    const COUNT = 150_000; // fixed: ~19 MB as an inline list
    const entries = Array.from({ length: COUNT }, (_, i) => {
      const path = `receipts/${String(i + 1).padStart(12, '0')}.json`;
      return { path, size: 1000 + (i % 97), sha256: digest(new TextEncoder().encode(path)) };
    });
    const inline = canonicalBytes(entries).length;
    expect(inline).toBeGreaterThan(16 * 1024 * 1024);
    const { ref, data } = bindEntries(entries);
    expect(data.length).toBe(inline);
    expect(ref.count).toBe(COUNT);
    const body = { ...manifestBody(plain.entries), entries: ref };
    expect(canonicalBytes(body).length).toBeLessThan(1024);
  });
});

describe('I-EVIDENCE-10: unlisted and oversized entries are refused without being parsed', () => {
  it(`an unlisted ${BIG / 1024 / 1024} MB JSON entry is FAILED (COMPLETENESS) and never parsed`, async () => {
    const planted = put(plain.entries, 'requests/000000000099.json', bigJson(BIG));
    const { report, big } = await verifyCountingParses(writeTar(planted), BIG / 2);
    expect(report.status).toBe('FAILED');
    expect(check(report, 'COMPLETENESS')?.status).toBe('FAILED');
    expect(big).toBe(0);
  });

  it('a listed (re-sealed) oversized receipt is FAILED under RECEIPT_CHAIN, ENTRY_TOO_LARGE, never parsed', async () => {
    const path = plain.entries.find((e) => e.path.startsWith('receipts/'))?.path as string;
    const bytes = reseal(put(plain.entries, path, bigJson(BIG)));
    const { report, big } = await verifyCountingParses(bytes, BIG / 2);
    expect(check(report, 'COMPLETENESS')?.status).toBe('PASS');
    expect(check(report, 'RECEIPT_CHAIN')).toMatchObject({
      status: 'FAILED',
      detail: 'ENTRY_TOO_LARGE',
      path,
    });
    expect(big).toBe(0);
  });

  it('an oversized request and decision are FAILED under their own checks', async () => {
    for (const [prefix, code] of [
      ['requests/', 'REQUESTS'],
      ['decisions/', 'DECISIONS'],
    ] as const) {
      const path = plain.entries.find((e) => e.path.startsWith(prefix))?.path as string;
      const r = await verifyEvidencePack(reseal(put(plain.entries, path, bigJson(BIG))), {
        trustAnchor: plain.world.anchor,
      });
      expect(check(r, code), prefix).toMatchObject({ status: 'FAILED', detail: 'ENTRY_TOO_LARGE' });
    }
  });

  it('an entry whose bytes differ from the listed SHA-256 is not parsed either', async () => {
    const path = plain.entries.find((e) => e.path.startsWith('requests/'))?.path as string;
    const edited: TarEntry[] = put(plain.entries, path, bigJson(BIG));
    const { report, big } = await verifyCountingParses(writeTar(edited), BIG / 2);
    expect(check(report, 'ENTRY_HASHES')?.status).toBe('FAILED');
    expect(big).toBe(0);
  });

  it('the entry list is checked against its signed size and SHA-256 before it is parsed', async () => {
    const list = plain.entries.find((e) => e.path === ENTRIES_PATH) as TarEntry;
    const { report, big } = await verifyCountingParses(
      writeTar(put(plain.entries, ENTRIES_PATH, bigJson(BIG))),
      BIG / 2,
    );
    expect(list.data.length).toBeLessThan(BIG);
    expect(check(report, 'MANIFEST_FORMAT')?.status).toBe('FAILED');
    expect(big).toBe(0);
  });
});
