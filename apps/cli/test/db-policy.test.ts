// I-MULTINODE-2 (policy bundle). `helmts policy publish` / `policy sign` with --database-url put a
// P1 bundle in force on every node of a shared database (a fresh database for this file; a missing
// server fails, never skips): published through node B's data directory, obeyed by node A's next
// call although A's own policy/ still holds the old bundle; an older bundle is refused. Real
// separate `helmts` processes.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../packages/store-postgres/test/harness.ts';
import { spawnHelmts } from './cli-process.ts';
import { deployOnDatabase, errorCode } from './db-deployment.ts';

const db = await createTestDatabase('cli_dbpolicy');
const dir = mkdtempSync(join(tmpdir(), 'helm-cli-dbpolicy-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe('policy on a shared database', () => {
  it('a bundle published through node B is obeyed by node A; an older one is refused', async () => {
    const url = db.url;
    const {
      a,
      nodes: [b],
      onDb,
    } = await deployOnDatabase(dir, url, ['node-b']);
    const run = async (node: string) => {
      const r = await onDb(node, ['run', '--tool', 'echo', '--principal', 'local', '--args', '{"x":1}']);
      return (r.json as { status?: string } | undefined)?.status ?? `exit ${r.code}: ${r.stderr}`;
    };
    expect(await run(a)).toBe('SUCCEEDED');

    const source = JSON.parse(readFileSync(join(b, 'policy', 'bundle.json'), 'utf8')) as {
      version: number;
      rules: unknown[];
    };
    const v2 = join(dir, 'v2.json');
    writeFileSync(v2, JSON.stringify({ ...source, version: source.version + 1, rules: [] }));
    const published = await onDb(b, ['policy', 'publish', v2]);
    expect(published.code, published.stdout + published.stderr).toBe(0);
    expect((published.json as { version: number }).version).toBe(source.version + 1);
    expect(existsSync(join(b, 'helm.db'))).toBe(false);
    // A's policy/ still holds version 1: its next call runs under version 2 (denied).
    expect(await run(a)).toBe('DENIED');
    expect(await run(b)).toBe('DENIED');

    // The old version again: refused, nothing appended; A stays denied.
    const old = join(dir, 'v1.json');
    writeFileSync(old, JSON.stringify(source));
    const refused = await onDb(b, ['policy', 'publish', old]);
    expect(refused.code).toBe(2);
    expect(errorCode(refused.json)).toBe('POLICY_INVALID');
    expect(await run(a)).toBe('DENIED');

    // `policy sign` with a database publishes too: version 3 allows the call again everywhere.
    const v3 = join(dir, 'v3.json');
    writeFileSync(v3, JSON.stringify({ ...source, version: source.version + 2 }));
    const signed = await onDb(a, ['policy', 'sign', v3]);
    expect(signed.code, signed.stdout + signed.stderr).toBe(0);
    expect(await run(b)).toBe('SUCCEEDED');
    expect(await run(a)).toBe('SUCCEEDED');
    // `policy show` on the database shows the published bundle, not A's file.
    const shown = await onDb(a, ['policy', 'show']);
    expect(shown.code, shown.stdout + shown.stderr).toBe(0);
    expect(shown.json).toMatchObject({ source: 'published', bundle: { version: source.version + 2 } });
  });

  it('on the embedded store: publish puts the bundle in force; `policy sign` then refuses (it would be superseded)', async () => {
    const c = join(dir, 'node-c');
    expect((await spawnHelmts(['--data-dir', c, 'init', '--json'])).code).toBe(0);
    const tool = join(dir, 'echo.json');
    expect((await spawnHelmts(['--data-dir', c, 'tool', 'register', tool, '--json'])).code).toBe(0);
    const before = await spawnHelmts([
      '--data-dir',
      c,
      'run',
      '--tool',
      'echo',
      '--principal',
      'local',
      '--args',
      '{"x":1}',
      '--json',
    ]);
    expect((before.json as { status?: string }).status).toBe('SUCCEEDED');
    const source = JSON.parse(readFileSync(join(c, 'policy', 'bundle.json'), 'utf8')) as { version: number };
    const v2 = join(dir, 'c-v2.json');
    writeFileSync(v2, JSON.stringify({ ...source, version: source.version + 1, rules: [] }));
    const shownBefore = await spawnHelmts(['--data-dir', c, 'policy', 'show', '--json']);
    const published = await spawnHelmts(['--data-dir', c, 'policy', 'publish', v2, '--json']);
    expect(published.code, published.stdout + published.stderr).toBe(0);
    const r = await spawnHelmts([
      '--data-dir',
      c,
      'run',
      '--tool',
      'echo',
      '--principal',
      'local',
      '--args',
      '{"x":1}',
      '--json',
    ]);
    expect((r.json as { status?: string }).status).toBe('DENIED');
    const shown = await spawnHelmts(['--data-dir', c, 'policy', 'show', '--json']);
    expect(shown.json).toMatchObject({ source: 'published', bundle: { version: source.version + 1 } });
    // The stack hash shown is the one in force: a digest, and another once a bundle is published.
    const stackHash = (j: unknown) => (j as { stack_hash?: unknown }).stack_hash;
    expect(stackHash(shownBefore.json)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(stackHash(shown.json)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(stackHash(shown.json)).not.toBe(stackHash(shownBefore.json));
    const v3 = join(dir, 'c-v3.json');
    writeFileSync(v3, JSON.stringify({ ...source, version: source.version + 2 }));
    const signed = await spawnHelmts(['--data-dir', c, 'policy', 'sign', v3, '--json']);
    expect(signed.code).toBe(2);
    expect(errorCode(signed.json)).toBe('POLICY_INVALID');
  });
});
