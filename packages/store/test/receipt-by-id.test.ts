// receiptByIdSync: one receipt (and the request the runtime records under the receipt's id) by
// id, through the receipt_id unique index — what `GET /v1/calls/{id}` of `helmts serve` asks,
// which must not scan the chain as it grows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/index.ts';
import { type ChainState, GENESIS, makeCall } from './fixtures/chain.ts';

const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
const dir = mkdtempSync(join(tmpdir(), 'helm-store-byid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SqliteStore.receiptByIdSync', () => {
  it('answers the receipt a range read holds, with the request recorded under its id; unknown ids are undefined', async () => {
    const path = join(dir, 'byid.db');
    const s = openSqliteStore(path);
    const st: ChainState = { lamport: 0, hash: GENESIS };
    for (let i = 0; i < 5; i++) {
      const call = makeCall(st, 's', i, 'c');
      // The runtime records each call's request under its receipt's id.
      await s.commitCall({ ...call, request: { id: call.receipt.id, body: { i } } });
    }
    const all = s.receiptsSync({ chainId: 'c' });
    for (const r of all) {
      const found = s.receiptByIdSync(r.id);
      expect(found?.receipt).toEqual(r);
      expect(found?.request?.body).toEqual({ i: r.lamport - 1 });
      expect(found?.request?.lamport).toBe(r.lamport);
    }
    // Not a Lamport, not a pattern, not a prefix: only the exact id.
    for (const id of ['1', '%', 'r-s-%', 'r-s-1 OR 1=1', "r-s-1' --", 'R-S-1', ''])
      expect(s.receiptByIdSync(id)).toBeUndefined();
    s.closeSync();
  });

  it('a receipt committed without a request answers without one', async () => {
    const s = openSqliteStore(join(dir, 'noreq.db'));
    const call = makeCall({ lamport: 0, hash: GENESIS }, 's', 0);
    const { request: _dropped, ...rest } = call;
    await s.commitCall(rest);
    const found = s.receiptByIdSync(call.receipt.id);
    expect(found?.receipt.id).toBe(call.receipt.id);
    expect(found?.request).toBeUndefined();
    s.closeSync();
  });

  it('both lookups use an index (SQLite plans a SEARCH, never a SCAN of the table)', () => {
    const path = join(dir, 'plan.db');
    openSqliteStore(path).closeSync();
    const db = new DatabaseSync(path);
    try {
      for (const sql of [
        'SELECT * FROM receipts WHERE receipt_id = ?',
        'SELECT * FROM requests WHERE request_id = ? AND receipt_id = ?',
      ]) {
        const plan = (
          db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(
            ...sql
              .split('?')
              .slice(1)
              .map(() => 'x'),
          ) as { detail: string }[]
        )
          .map((r) => r.detail)
          .join('; ');
        expect(plan, sql).toMatch(/SEARCH .* USING (INDEX|PRIMARY KEY|COVERING INDEX)/);
        expect(plan, sql).not.toMatch(/\bSCAN\b/);
      }
    } finally {
      db.close();
    }
  });
});
