// I-EVIDENCE-8 — replay never reports a match on a pack that does not verify: `replayEvidencePack`
// verifies the pack first (docs/spec/evidencepack.md §6), and unless it verifies (PASS; with no
// anchor pinned, every check but TRUST_ANCHOR) its result is `ok: false`, `verified: false`, and its
// summary starts "NOT VERIFIED" and never says the requests match the signed evidence.
//
// Written from the attacker's side: honest packs edited entry by entry, then either left unsigned
// (no key) or re-sealed with the executor key (the insider); a property over such packs, fixed seed.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { replayEvidencePack, type TarEntry, verifyEvidencePack, writeTar } from '../../src/index.ts';
import { history, seal } from '../fixtures/insider.ts';
import { type HonestPack, honestPacks, put, relistUnsigned, reseal } from '../fixtures/packs.ts';

const SEED = 0x1e8;
let packs: HonestPack[];
beforeAll(() => {
  packs = honestPacks();
});

function notAMatch(r: ReturnType<typeof replayEvidencePack>, why: string): void {
  expect(r.ok, why).toBe(false);
  expect(r.verified, why).toBe(false);
  expect(r.summary, why).toMatch(/^NOT VERIFIED/);
  expect(r.summary, why).not.toMatch(/matches the signed evidence/);
}

describe('I-EVIDENCE-8: replay verifies the pack first', () => {
  it('honest packs replay as a match, pinned or not (unpinned says so)', () => {
    for (const p of packs) {
      const pinned = replayEvidencePack(p.bytes, { trustAnchor: p.world.anchor });
      expect(pinned, p.name).toMatchObject({ ok: true, verified: true, verification: 'PASS' });
      expect(pinned.summary).toMatch(/matches the signed evidence$/);
      const unpinned = replayEvidencePack(p.bytes);
      expect(unpinned).toMatchObject({ ok: true, verified: true, verification: 'UNVERIFIABLE' });
      expect(unpinned.summary).toMatch(/trust anchor not pinned/);
    }
  });

  it('a wrong pinned anchor, or a pack truncated before the expected head: NOT VERIFIED', () => {
    const p = packs[0] as HonestPack;
    notAMatch(replayEvidencePack(p.bytes, { trustAnchor: `sha256:${'0'.repeat(64)}` }), 'anchor');
    notAMatch(replayEvidencePack(p.bytes, { trustAnchor: p.world.anchor, expectLamport: 99 }), 'lamport');
  });

  it('an insider pack with a dropped decision (re-sealed) is NOT VERIFIED, though every request re-derives', async () => {
    const h = await history();
    const pack = seal(h.input({ decisions: h.decisions.slice(1) }));
    const r = replayEvidencePack(pack.bytes, { trustAnchor: h.anchor });
    notAMatch(r, 'dropped decision');
    expect(r.divergences).toEqual([]);
    expect(r.verification_failure?.code).toBe('DECISIONS');
  });

  it('property: an edited pack that does not verify never replays as a match (unsigned or re-sealed)', async () => {
    let tampered = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(packs.length - 1),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('flip', 'drop', 'add'),
        fc.boolean(),
        async (k, at, pos, xor, op, resign) => {
          const pack = packs[k] as HonestPack;
          const files = pack.entries.filter((e) => e.path !== 'manifest.json');
          const target = files[at % files.length] as TarEntry;
          let entries: TarEntry[];
          if (op === 'drop') entries = pack.entries.filter((e) => e.path !== target.path);
          else if (op === 'add')
            entries = put(
              pack.entries,
              `${target.path.split('/')[0]}/extra-${at % 7}.json`,
              new Uint8Array([123, 125]),
            );
          else {
            const data = Uint8Array.from(target.data);
            if (data.length) data[pos % data.length] = (data[pos % data.length] as number) ^ xor;
            entries = put(pack.entries, target.path, data);
          }
          const bytes = resign ? reseal(entries) : writeTar(relistUnsigned(entries));
          const report = await verifyEvidencePack(bytes, { trustAnchor: pack.world.anchor, workers: 0 });
          const r = replayEvidencePack(bytes, { trustAnchor: pack.world.anchor });
          expect(r.verification).toBe(report.status);
          if (report.status !== 'PASS') {
            tampered++;
            notAMatch(r, `${op} ${target.path} resign=${resign}`);
            const unpinned = replayEvidencePack(bytes);
            if (report.status === 'FAILED') notAMatch(unpinned, `unpinned ${op} ${target.path}`);
          }
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
    expect(tampered).toBeGreaterThan(100);
  });
});
