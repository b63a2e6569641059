// Red team (s7), I-MULTINODE-2 (key registry): "A key rotated with `--database-url` is made against
// the database's registry and written there" — two administrators rotating at once are told apart
// by a read-back ("a concurrent trust event at the same seq → DATABASE_TRUST_MISMATCH").
// Attack (two administrators, no attacker at all): the event is written with putDocument, an
// upsert. Administrator B reads the registry (seq N), is descheduled before its write; A rotates a
// key (say, a compromised one), writes event N+1, reads it back and reports success; B's write then
// REPLACES A's committed event, B reads its own back and reports success too. Both commands exit 0;
// the registry holds only B's rotation — A's rotated-out key stays valid everywhere.
// Timing only is shaped: a trigger parks the FIRST trust-event insert on an advisory lock the test
// holds (B's process descheduled between its read and its write); nothing it writes is changed.
// Control: the two rotations done one after the other are both in the registry.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import { rotateKeyOnDatabase } from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'a9'.repeat(32)}`;
const db = await createTestDatabase('rt_s7_rotate_race');
const root = mkdtempSync(join(tmpdir(), 'helm-s7-rotate-race-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

/** Every keyid named in the payloads of the database's trust events. */
async function registryText(sql: Awaited<ReturnType<typeof raw>>, schema: string): Promise<string> {
  const rows = await sql.query(
    `SELECT value FROM ${schema}.documents WHERE namespace = 'trust' ORDER BY doc_key`,
  );
  return rows.rows
    .map((r) => {
      const v = typeof r.value === 'string' ? JSON.parse(r.value) : r.value;
      return Buffer.from(String(v.payload), 'base64url').toString('utf8');
    })
    .join('\n');
}

const outcome = (p: Promise<{ new_keyid: string }>) =>
  p.then(
    (r) => ({ ok: true as const, new_keyid: r.new_keyid }),
    (e: { code?: string }) => ({ ok: false as const, code: String(e.code) }),
  );

async function admins(schema: string) {
  const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
  const a = nodeDir(t, root, `${schema}-admin-a`);
  const b = nodeDir(t, root, `${schema}-admin-b`);
  t.close();
  return { a, b };
}

describe('red team s7: two administrators rotating keys on the database at once', () => {
  it('control: rotations one after the other are both in the registry', async () => {
    const schema = 's7_rot_seq';
    const { a, b } = await admins(schema);
    const sql = await raw(db.url);
    try {
      const ra = await rotateKeyOnDatabase(a, 'approver-1', { url: db.url, schema });
      const rb = await rotateKeyOnDatabase(b, 'approver-2', { url: db.url, schema });
      const text = await registryText(sql, schema);
      expect(text).toContain(ra.new_keyid);
      expect(text).toContain(rb.new_keyid);
    } finally {
      await sql.end();
      a.close();
      b.close();
    }
  });

  it("a rotation reported done is in the registry: the later writer does not replace the earlier one's event", async () => {
    const schema = 's7_rot_race';
    const { a, b } = await admins(schema);
    const sql = await raw(db.url);
    const gate = await raw(db.url);
    try {
      await gate.query('SELECT pg_advisory_lock(770001)');
      await sql.query(`
        CREATE FUNCTION ${schema}.s7_park() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.namespace = 'trust' AND pg_try_advisory_lock(770002) THEN
            PERFORM pg_advisory_lock(770001);
            PERFORM pg_advisory_unlock(770001);
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER s7_park BEFORE INSERT ON ${schema}.documents
          FOR EACH ROW EXECUTE FUNCTION ${schema}.s7_park();`);
      const keyidBefore = {
        a: a.localKey('approver-1').signer.keyId,
        b: b.localKey('approver-2').signer.keyId,
      };
      // B reads the registry and writes its event: parked before the insert.
      const bDone = outcome(rotateKeyOnDatabase(b, 'approver-2', { url: db.url, schema }));
      for (;;) {
        const w = await sql.query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 770001 AND NOT granted`,
        );
        if (w.rowCount) break;
        await new Promise((r) => setImmediate(r));
      }
      // A rotates meanwhile and finishes.
      const ra = await outcome(rotateKeyOnDatabase(a, 'approver-1', { url: db.url, schema }));
      await gate.query('SELECT pg_advisory_unlock(770001)');
      const rb = await bDone;
      const text = await registryText(sql, schema);
      const reportedDone = [ra, rb].filter((r) => r.ok);
      // Every rotation a command reported done is in the database's registry.
      expect(
        reportedDone.map((r) => ({ new_keyid: r.new_keyid, inRegistry: text.includes(r.new_keyid ?? '?') })),
      ).toEqual(reportedDone.map((r) => ({ new_keyid: r.new_keyid, inRegistry: true })));
      // A refused rotation leaves the administrator's key file as it was (the old key, still valid
      // in the registry), never an unpublished seed.
      const keyidAfter = {
        a: a.localKey('approver-1').signer.keyId,
        b: b.localKey('approver-2').signer.keyId,
      };
      expect({ a: ra.ok ? 'rotated' : keyidAfter.a, b: rb.ok ? 'rotated' : keyidAfter.b }).toEqual({
        a: ra.ok ? 'rotated' : keyidBefore.a,
        b: rb.ok ? 'rotated' : keyidBefore.b,
      });
      expect([ra.ok, rb.ok].filter(Boolean)).toHaveLength(1);
    } finally {
      await gate.end();
      await sql.end();
      a.close();
      b.close();
    }
  });
});
