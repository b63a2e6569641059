import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar, verifyEvidencePack, writeTar } from '@helm/evidencepack';
import { DataDir, exportPack } from '@helm/runtime';
import { openSqliteStore } from '@helm/store';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../src/commands/demo.ts';

const root = mkdtempSync(join(tmpdir(), 'helm-cli-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('helmts demo', () => {
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

  it('exports the same bytes from a store whose rows were inserted in reverse physical order', async () => {
    const a = join(root, 'a');
    const b = join(root, 'reversed');
    mkdirSync(b);
    for (const part of ['config.json', 'keys', 'policy', 'tools', 'modules']) {
      cpSync(join(a, part), join(b, part), { recursive: true });
    }
    const target = openSqliteStore(join(b, 'helm.db'));
    target.closeSync();
    const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
    const db = new DatabaseSync(join(b, 'helm.db'));
    db.exec(`ATTACH DATABASE '${join(a, 'helm.db')}' AS src`);
    const tables = (
      db
        .prepare("SELECT name FROM src.sqlite_master WHERE type = 'table' AND name != 'schema_migrations'")
        .all() as { name: string }[]
    ).map((t) => t.name);
    db.exec('BEGIN');
    for (const t of tables) db.exec(`INSERT INTO main.${t} SELECT * FROM src.${t} ORDER BY rowid DESC`);
    db.exec('COMMIT');
    // The physical order really differs.
    const first = (schema: string) =>
      (
        db.prepare(`SELECT receipt_id FROM ${schema}.receipts ORDER BY rowid LIMIT 1`).get() as {
          receipt_id: string;
        }
      ).receipt_id;
    expect(first('main')).not.toBe(first('src'));
    db.exec('DETACH DATABASE src');
    db.close();
    const original = exportPack(new DataDir(a));
    const reversed = exportPack(new DataDir(b));
    expect(reversed.digest).toBe(original.digest);
  });

  it('refuses to reuse an existing data directory', async () => {
    await expect(runDemo({ dataDir: join(root, 'a') })).rejects.toMatchObject({ code: 'DATA_DIR_EXISTS' });
  });
});
