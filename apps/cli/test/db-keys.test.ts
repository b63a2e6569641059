// I-MULTINODE-2 (key registry). `helmts keys rotate <name> --database-url` rotates the key in the
// administrator's directory and publishes the rotation to the shared database in one command
// (real `helmts` processes, a fresh database; a missing server fails, never skips): other nodes
// decide under the rotated registry from their next open; every rotation is made against the database's
// registry (a node directory keeps none), so one that missed another's rotation follows it, never forks it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../packages/store-postgres/test/harness.ts';
import { deployOnDatabase, errorCode } from './db-deployment.ts';

const db = await createTestDatabase('cli_dbkeys');
const dir = mkdtempSync(join(tmpdir(), 'helm-cli-dbkeys-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe('keys rotate on a shared database', () => {
  it('a rotation made through node B is published and obeyed; a later one through C follows it', async () => {
    const url = db.url;
    const {
      a,
      nodes: [b, c],
      onDb,
    } = await deployOnDatabase(dir, url, ['node-b', 'node-c']);
    const s = await openPostgresStore({ connectionString: url, nodeId: 'ops', migrate: false });
    try {
      const before = (await s.listDocuments('trust')).length;

      const rotated = await onDb(b, ['keys', 'rotate', 'approver-1']);
      expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0);
      expect(rotated.json).toMatchObject({ published: 1, trust_seq: before + 1 });
      expect((await s.listDocuments('trust')).length).toBe(before + 1);
      // Node A (its own registry copy without the rotation) opens under the database's registry.
      const run = await onDb(a, ['run', '--tool', 'echo', '--principal', 'local', '--args', '{"x":1}']);
      expect((run.json as { status?: string }).status, run.stdout + run.stderr).toBe('SUCCEEDED');

      // Node C's directory never saw B's rotation (a node directory keeps no registry of its own):
      // its rotation is made against the database's registry — it follows the chain from its old
      // approver seed to B's successor — never a fork from an older registry.
      const again = await onDb(c, ['keys', 'rotate', 'approver-1']);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.json).toMatchObject({ published: 1, trust_seq: before + 2 });
      expect((again.json as { followed: string[] }).followed).toEqual([
        (rotated.json as { old_keyid: string }).old_keyid,
        (rotated.json as { new_keyid: string }).new_keyid,
      ]);
      expect((await s.listDocuments('trust')).length).toBe(before + 2);
      // B's file holds the key C rotated out: B's next rotation follows it to C's successor.
      const third = await onDb(b, ['keys', 'rotate', 'approver-1']);
      expect(third.code, third.stdout + third.stderr).toBe(0);
      expect((third.json as { followed: string[] }).followed).toEqual([
        (rotated.json as { new_keyid: string }).new_keyid,
        (again.json as { new_keyid: string }).new_keyid,
      ]);
      // The root ceremony is not run against the database.
      const ceremony = await onDb(b, ['keys', 'rotate', 'root', '--confirm']);
      expect(ceremony.code).toBe(2);
      expect(errorCode(ceremony.json)).toBe('DATABASE_RUNTIME_UNSUPPORTED');
    } finally {
      await s.close();
    }
  });
});
