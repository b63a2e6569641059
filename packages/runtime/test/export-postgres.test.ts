// Export through the async store port from a real PostgreSQL server (fresh database for this file;
// HELM_TEST_DATABASE_URL overrides; no server = failure): a data directory's chain held by a
// PostgreSQL store — receipts, decisions, ProofGraph nodes, requests and the trust registry, written
// through the store port as the runtime writes them — exports the very same EvidencePack bytes as
// the embedded store's export, and the pack verifies offline. Attackers first: the store is the
// untrusted side here, so a store whose trust registry or receipts were tampered with must not
// yield a pack that verifies.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvidencePack, verifyEvidencePackFile } from '@helm/evidencepack';
import { ManualClock } from '@helm/guardian';
import type { GovernedCallRecord, RuntimeStore } from '@helm/store';
import { openPostgresStore, type PostgresStore } from '@helm/store-postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import {
  type DataDir,
  exportPack,
  exportPackFileFrom,
  exportPackFrom,
  GovernedRuntime,
  initDataDir,
} from '../src/index.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;

const db = await createTestDatabase('rt_export');
afterAll(() => db.drop());
const opened: PostgresStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function world() {
  const dir = mkdtempSync(join(tmpdir(), 'helm-export-pg-'));
  const { data, anchor } = initDataDir(dir, {
    chainId: 'export-pg',
    fingerprint: FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version: 1,
      rules: [
        { id: 'allow-echo', effect: 'allow', when: { principal: { in: ['alice'] }, tool: { in: ['echo'] } } },
      ],
    },
    identity: [
      { credential_id: 'cred-alice', principal: 'alice' },
      { credential_id: 'cred-bob', principal: 'bob' },
    ],
  });
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'echo',
    description: 'echo its args',
    input_schema: { type: 'object', additionalProperties: false, properties: { text: { type: 'string' } } },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    resource_pointer: '/text',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  const clock = new ManualClock(T0);
  const rt = await GovernedRuntime.open(data, { clock });
  try {
    // allowed, refused by the schema, denied by policy (bob), allowed again
    for (const [who, args] of [
      ['alice', { text: 'a' }],
      ['alice', { text: 1 }],
      ['bob', { text: 'b' }],
      ['alice', { text: 'c' }],
      ['alice', { text: 'd' }],
    ] as const) {
      await rt.execute({
        tool: 'echo',
        principal: who,
        args: args as never,
        context: { environment_fingerprint: FINGERPRINT, credential_id: `cred-${who}` },
      });
      clock.advance(1_000);
    }
  } finally {
    await rt.close();
  }
  return { dir, data, anchor };
}

/**
 * Write the data directory's chain into `store` through the store port, call by call, as the
 * runtime commits a call: receipt, its decision, its request and the ProofGraph nodes of its
 * Lamport in one `commitCall`; the trust registry's events as documents.
 */
async function copyInto(data: DataDir, store: RuntimeStore, trust = true): Promise<void> {
  const chainId = data.config().chain_id;
  const from = data.store;
  if (trust)
    for (const d of from.listDocumentsSync('trust')) await store.putDocument('trust', d.key, d.value);
  const requests = new Map(from.requestsSync({ chainId }).map((r) => [r.lamport, r]));
  const nodes = from.nodesSync();
  for (const r of from.receiptsSync({ chainId })) {
    const decision = r.decisionId ? from.decisionsSync([r.decisionId])[0] : undefined;
    const request = requests.get(r.lamport);
    const record: GovernedCallRecord = {
      sessionId: r.sessionId,
      chainId,
      receipt: {
        id: r.id,
        lamport: r.lamport,
        prevHash: r.prevHash,
        hash: r.hash,
        ...(r.decisionId === undefined ? {} : { decisionId: r.decisionId }),
        ...(r.riskTier === undefined ? {} : { riskTier: r.riskTier }),
        envelope: r.envelope,
      },
      ...(decision && !(await store.decisions([decision.id])).length
        ? { decision: { id: decision.id, envelope: decision.envelope } }
        : {}),
      ...(request ? { request: { id: request.id, body: request.body } } : {}),
      nodes: nodes
        .filter((n) => n.lamport === r.lamport)
        .map((n) => ({ id: n.id, kind: n.kind, lamport: n.lamport, parents: n.parents, body: n.body })),
    };
    await store.commitCall(record);
  }
}

async function pgStore(schema: string): Promise<PostgresStore> {
  const s = await openPostgresStore({ connectionString: db.url, nodeId: 'export-node', schema });
  opened.push(s);
  return s;
}

describe('export from PostgreSQL through the async store port', () => {
  it('the same pack bytes as the embedded export (whole chain, range, condensed); the pack verifies offline', async () => {
    const { dir, data, anchor } = await world();
    const store = await pgStore('export_same');
    await copyInto(data, store);
    expect((await store.chainHead('export-pg'))?.lamport).toBe(5);
    for (const [name, options] of [
      ['whole', {}],
      ['range', { from: 2, to: 4 }],
      ['condensed', { condense: true }],
    ] as const) {
      const embedded = exportPack(data, options);
      const fromPg = await exportPackFrom(data, store, options);
      expect(fromPg.digest, name).toBe(embedded.digest);
      expect(Buffer.compare(Buffer.from(fromPg.bytes), Buffer.from(embedded.bytes)), name).toBe(0);
      const file = join(dir, `${name}.tar`);
      const written = await exportPackFileFrom(data, store, file, options);
      expect(written.digest).toBe(embedded.digest);
      expect(Buffer.compare(readFileSync(file), Buffer.from(embedded.bytes))).toBe(0);
      if (name === 'whole') {
        expect((await verifyEvidencePackFile(file, { trustAnchor: anchor })).status).toBe('PASS');
      }
    }
    // Nothing on the chain in that range: refused, as the embedded export refuses.
    await expect(exportPackFrom(data, store, { from: 9 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('attacker: a receipt edited in the database, or the trust registry missing, never yields a pack that verifies', async () => {
    const { data, anchor } = await world();
    // 1. A receipt's payload edited in the shared database (its signature no longer covers it).
    const edited = await pgStore('export_edit');
    await copyInto(data, edited);
    const c = await raw(db.url);
    try {
      const { rows } = await c.query<{ envelope: unknown }>(
        `SELECT envelope FROM export_edit.receipts WHERE chain_id = 'export-pg' AND lamport = 3`,
      );
      const env = (
        typeof rows[0]?.envelope === 'string' ? JSON.parse(rows[0].envelope) : rows[0]?.envelope
      ) as {
        payload: string;
      };
      const body = JSON.parse(Buffer.from(env.payload, 'base64url').toString('utf8'));
      body.reason_code = 'ALLOW';
      body.status = 'SUCCEEDED';
      const forged = { ...env, payload: Buffer.from(JSON.stringify(body)).toString('base64url') };
      await c.query(
        `UPDATE export_edit.receipts SET envelope = $1 WHERE chain_id = 'export-pg' AND lamport = 3`,
        [typeof rows[0]?.envelope === 'string' ? JSON.stringify(forged) : forged],
      );
    } finally {
      await c.end();
    }
    // The export itself reads what the store holds; the offline verifier is what catches it.
    const pack = await exportPackFrom(data, edited, {});
    expect((await verifyEvidencePack(pack.bytes, { trustAnchor: anchor })).status).toBe('FAILED');

    // 2. The trust registry missing from the database: the export cannot rebuild the registry the
    //    signing key is registered in and refuses, rather than sign a pack under no registry.
    const bare = await pgStore('export_bare');
    await copyInto(data, bare, false);
    await expect(exportPackFrom(data, bare, {})).rejects.toThrow(/empty history/);
  });
});
