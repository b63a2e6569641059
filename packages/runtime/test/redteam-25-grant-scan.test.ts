// Red team #25 (I-GOVERN-2, I-SCALE-1): open reads only the receipts appended since the last open;
// which grants the earlier receipts used is carried by a guardian-signed scan record. A data-
// directory writer who deletes a consumed grant's row and then rolls the scan record back, forges
// one with another key, or deletes it, must still be refused — the record can only make open read
// more. And open must not read the chain's history when the record is current.
import { join } from 'node:path';
import type { DatabaseSync as DatabaseSyncType } from 'node:sqlite';
import { signEnvelope } from '@helm/crypto';
import type { Json } from '@helm/store';
import { describe, expect, it } from 'vitest';
import { DataDir, GovernedRuntime } from '../src/index.ts';
import {
  approve,
  deployCall,
  freshGovernance,
  ManualClock,
  T0,
  TIMELOCK,
  withData,
  withRuntime,
} from './governance-fixture.ts';

const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');

function sql(dir: string, fn: (db: DatabaseSyncType) => void): void {
  const db = new DatabaseSync(join(dir, 'helm.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

const SCAN = 'grant-scan:gov-test';

/** A data directory whose approved deploy ran once; the scan record from before and after it. */
async function usedGrant() {
  const { dir } = freshGovernance();
  const clock = new ManualClock(T0);
  const id = await withRuntime(dir, clock, async (rt) => {
    const held = await rt.execute(deployCall());
    expect(held.status).toBe('ESCALATED');
    return held.approval_challenge_id as string;
  });
  approve(dir, id, 'approver-1', T0 + 1);
  approve(dir, id, 'approver-2', T0 + 2);
  clock.set(T0 + TIMELOCK + 1);
  // An open before the use: its scan record covers the escalation's receipt, no grant used.
  await withRuntime(dir, clock, async () => undefined);
  const before = withData(dir, (data) => data.store.getDocumentSync('meta', SCAN));
  expect(before).toBeDefined();
  const first = await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
  expect(first.status).toBe('SUCCEEDED');
  // One more open: its scan record now names the used grant.
  await withRuntime(dir, clock, async () => undefined);
  const after = withData(dir, (data) => data.store.getDocumentSync('meta', SCAN));
  expect(JSON.stringify(after)).not.toBe(JSON.stringify(before));
  return { dir, clock, before: before as Json };
}

async function secondRun(dir: string, clock: ManualClock): Promise<string> {
  clock.advance(1_000);
  try {
    const r = await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
    return r.status;
  } catch (error) {
    return `refused ${(error as { code?: string }).code}`;
  }
}

describe('redteam-25 I-GOVERN-2: the grant scan record cannot hide a used grant', () => {
  it('row deleted and the scan record rolled back to before the use: refused', async () => {
    const { dir, clock, before } = await usedGrant();
    sql(dir, (db) => db.exec('DELETE FROM governance_grants'));
    withData(dir, (data) => data.store.putDocumentSync('meta', SCAN, before));
    expect(await secondRun(dir, clock)).toBe('refused GOVERNANCE_LOG_INVALID');
  });

  it('row deleted and a scan record naming no grant signed by another key (an approver): refused', async () => {
    const { dir, clock } = await usedGrant();
    sql(dir, (db) => db.exec('DELETE FROM governance_grants'));
    withData(dir, (data) => {
      const head = data.store.chainHeadSync('gov-test');
      const forged = signEnvelope(
        {
          type: 'helm.runtime.grant_scan.v1',
          chain_id: 'gov-test',
          lamport: head?.lamport,
          hash: head?.hash,
          used: {},
        },
        [data.localKey('approver-1').signer],
      );
      data.store.putDocumentSync('meta', SCAN, forged as unknown as Json);
    });
    expect(await secondRun(dir, clock)).toBe('refused GOVERNANCE_LOG_INVALID');
  });

  it('row deleted and the scan record deleted: refused (the whole chain is read again)', async () => {
    const { dir, clock } = await usedGrant();
    sql(dir, (db) => {
      db.exec('DELETE FROM governance_grants');
      db.exec(`DELETE FROM documents WHERE doc_key = '${SCAN}'`);
    });
    expect(await secondRun(dir, clock)).toBe('refused GOVERNANCE_LOG_INVALID');
  });
});

describe('I-SCALE-1: open reads the chain head, not its history', () => {
  it('with a current scan record, no receipt before the head is read at open', async () => {
    const { dir, clock } = await usedGrant();
    const data = new DataDir(dir);
    const reads: { fromLamport?: number | undefined }[] = [];
    const original = data.store.receiptsSync.bind(data.store);
    data.store.receiptsSync = (query = {}) => {
      reads.push(query);
      return original(query);
    };
    try {
      const head = data.store.chainHeadSync('gov-test')?.lamport as number;
      expect(head).toBeGreaterThan(1);
      const rt = await GovernedRuntime.open(data, { clock });
      await rt.close();
      expect(reads.length).toBeGreaterThan(0);
      for (const q of reads) expect(q.fromLamport).toBeGreaterThanOrEqual(head);
    } finally {
      data.close();
    }
  });

  it('the ProofGraph holds the head node and reads the rest from the store on demand', async () => {
    const { dir, clock } = await usedGrant();
    await withRuntime(dir, clock, async (rt, data) => {
      const receipts = data.store.receiptsSync({ chainId: 'gov-test' });
      const head = receipts[receipts.length - 1];
      expect(rt.graph.heads()).toEqual([head?.hash]);
      expect(rt.graph.size).toBe(receipts.length);
      expect(rt.graph.get(head?.hash as string)?.envelope).toEqual(head?.envelope);
      expect(rt.graph.rangeByLamport(1, receipts.length).map((n) => n.hash)).toEqual(
        receipts.map((r) => r.hash),
      );
      // A new call's receipt node becomes the head.
      const r = await rt.execute(deployCall('9.9.9'));
      expect(rt.graph.heads()).toEqual([r.receipt_hash]);
    });
  });
});
