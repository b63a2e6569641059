import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar, verifyEvidencePack, writeTar } from '@helm/evidencepack';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../src/commands/demo.ts';

const root = mkdtempSync(join(tmpdir(), 'helm-cli-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('helm demo', () => {
  it('runs every step as expected, and is reproducible byte for byte', async () => {
    const a = await runDemo({ dataDir: join(root, 'a') });
    expect(a.exitCode).toBe(0);
    const steps = a.json.steps as { step: string; ok: boolean }[];
    expect(steps.filter((s) => !s.ok)).toEqual([]);
    expect(steps.map((s) => s.step)).toEqual([
      'allowed call',
      'denied by policy',
      'denied by schema',
      'output drift caught',
      'idempotent repeat',
      'sandboxed WASM tool runs',
      'WASM tool exhausts its gas',
      'escalation held',
      'escalation approved 2-of-3',
      'delegated call in scope',
      'delegated call out of scope',
      'export EvidencePack',
      'verify EvidencePack',
      'tampered copy rejected',
      'condensed pack verifies',
      're-execution replay',
      'replay recorded requests',
    ]);
    // Fixed demo keys and a manual clock: a second run yields the identical pack.
    const b = await runDemo({ dataDir: join(root, 'b') });
    const pa = a.json.pack as { path: string; sha256: string };
    const pb = b.json.pack as { path: string; sha256: string };
    expect(pb.sha256).toBe(pa.sha256);

    // The pack on disk verifies offline with the anchor alone; a reordered archive of the same
    // entries is still the same bytes once rewritten (sorted), and a dropped entry fails.
    const bytes = new Uint8Array(readFileSync(pa.path));
    const anchor = a.json.trust_anchor as string;
    expect((await verifyEvidencePack(bytes, { trustAnchor: anchor })).status).toBe('PASS');
    const entries = readTar(bytes);
    expect(writeTar([...entries].reverse())).toEqual(bytes);
    const dropped = writeTar(entries.filter((e) => !e.path.startsWith('decisions/')).slice());
    expect((await verifyEvidencePack(dropped, { trustAnchor: anchor })).status).toBe('FAILED');
  }, 120_000);

  it('refuses to reuse an existing data directory', async () => {
    await expect(runDemo({ dataDir: join(root, 'a') })).rejects.toMatchObject({ code: 'DATA_DIR_EXISTS' });
  });
});
