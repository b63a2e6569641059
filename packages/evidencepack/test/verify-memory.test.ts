// §5.2 "Memory" (issues #16 §4, #25): what verification keeps grows by a small, stated constant per
// receipt — never by the pack's bytes. Two packs (N and 5N receipts, real signatures, written by the
// bench's streaming generator and `writeEvidencePackFile`) are verified serially in child processes
// that measure the live memory (V8 heap + ArrayBuffers after a full GC) at every progress report;
// the growth per added receipt must stay under LIVE_BYTES_PER_RECEIPT (docs/PERFORMANCE.md). Before
// the compact entry table, entry-list join and receipt columns this was 1,767 B/receipt on the same
// packs (commit e74325c); before the listed digests were read again from the list, the decision
// index, the typed ProofGraph maps and the narrower columns it was 1,050 B (b7b788a): the test
// failed on both. With recorded requests checked in step with their receipts and the ProofGraph
// pass finding receipts by summary row, 421 B (480 B before, b8f0bff: the bound was 550 B).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** The documented bound (docs/PERFORMANCE.md, EvidencePack verify, "Memory"). */
const LIVE_BYTES_PER_RECEIPT = 440;
const here = import.meta.dirname;
const bench = join(here, '..', 'bench', 'index.ts');
const dir = mkdtempSync(join(tmpdir(), 'helm-verify-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string>): string {
  const r = spawnSync(process.execPath, args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout.trim().split('\n').pop() as string;
}

function measure(n: number): { live: number; status: string } {
  const d = join(dir, String(n));
  mkdirSync(d, { recursive: true });
  const env = { BENCH_N: String(n), BENCH_DIR: d };
  run([bench], { ...env, BENCH_ROLE: 'gen' });
  run([bench], { ...env, BENCH_ROLE: 'export' });
  return JSON.parse(run(['--expose-gc', join(here, 'memory', 'verify-child.ts')], env));
}

describe('verify memory (§5.2)', () => {
  it(`keeps at most ${LIVE_BYTES_PER_RECEIPT} B of live memory per receipt (1,000 vs 5,000 receipts)`, () => {
    const small = measure(1000);
    const big = measure(5000);
    expect([small.status, big.status]).toEqual(['PASS', 'PASS']);
    const perReceipt = (big.live - small.live) / 4000;
    expect(perReceipt, `${perReceipt.toFixed(0)} B per receipt`).toBeLessThanOrEqual(LIVE_BYTES_PER_RECEIPT);
  }, 600_000);
});
