// The store-port contract (src/port.ts), run against every engine: SQLite here
// (contract-sqlite.test.ts) and PostgreSQL in packages/store-postgres. A behaviour asserted here
// is one a runtime may rely on whatever the engine; an engine that differs fails this suite.
import { afterEach, describe, expect, it } from 'vitest';
import { type GovernedCallRecord, type RuntimeStore, StoreError } from '../src/index.ts';
import { describeGovernanceContract } from './contract-governance.ts';
import { type ChainState, GENESIS, makeCall, verifyChain } from './fixtures/chain.ts';

/** A fresh, empty database and a way to open more handles on it. */
export interface ContractDatabase {
  readonly store: RuntimeStore;
  /** Another handle on the same database (another connection pool, as another process would have). */
  peer(): Promise<RuntimeStore>;
}

const fresh = (): ChainState => ({ lamport: 0, hash: GENESIS });

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof StoreError && e.code === code);
}

const admission = (id: string, extra: { chainId?: string; reservationId?: string } = {}) => ({
  id,
  sessionId: 's',
  ...(extra.chainId ? { chainId: extra.chainId } : {}),
  ...(extra.reservationId ? { reservationId: extra.reservationId } : {}),
  body: { admission: id },
});

export function describeStoreContract(name: string, open: () => Promise<ContractDatabase>): void {
  describe(`store contract: ${name}`, () => {
    const opened: RuntimeStore[] = [];
    const db = async (): Promise<ContractDatabase> => {
      const d = await open();
      opened.push(d.store);
      return {
        store: d.store,
        peer: async () => {
          const p = await d.peer();
          opened.push(p);
          return p;
        },
      };
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('migrates idempotently', async () => {
      const { store } = await db();
      expect(await store.migrate()).toBe(0);
      expect(await store.migrate()).toBe(0);
    });

    it('commits a governed call atomically with all its parts and reads them back', async () => {
      const { store: s } = await db();
      const st = fresh();
      const call = makeCall(st, 's1', 0);
      expect(await s.commitCall(call)).toEqual({ receiptId: call.receipt.id, lamport: 1 });
      expect(await s.chainHead()).toEqual({
        chainId: 'default',
        lamport: 1,
        hash: call.receipt.hash,
        receiptId: call.receipt.id,
      });
      expect(await s.idempotency(call.idempotency?.key ?? '')).toEqual({ receipt: call.receipt.id });
      expect(await s.idempotency('nope')).toBeUndefined();
      expect(await s.budgetBalance('budget:s1')).toBe(1);
      expect(await s.budgetBalance('none')).toBe(0);
      const nodes = await s.nodes({ sessionId: 's1' });
      expect(nodes).toEqual([{ ...call.nodes?.[0], sessionId: 's1' }]);
      expect(await s.requests({ sessionId: 's1' })).toEqual([
        {
          id: call.request?.id,
          receiptId: call.receipt.id,
          chainId: 'default',
          lamport: 1,
          sessionId: 's1',
          body: { i: 0, clock_ms: 1_700_000_000_000 },
        },
      ]);
      expect(await s.sessions()).toEqual(['s1']);
      const decisions = await s.decisions(['nope', call.decision?.id ?? '', call.decision?.id ?? '']);
      expect(decisions).toEqual([
        { id: call.decision?.id, sessionId: 's1', envelope: call.decision?.envelope },
      ]);
      const [stored] = await s.receipts();
      expect(stored).toEqual({ ...call.receipt, chainId: 'default', sessionId: 's1' });
      // Optional receipt columns round-trip as absent or present, never as null.
      const { decisionId: _d, ...bare } = makeCall(st, 's1', 1).receipt;
      await s.commitCall({ sessionId: 's1', receipt: { ...bare, riskTier: 'HIGH' } });
      const second = (await s.receipts({ fromLamport: 2 }))[0];
      expect(second?.riskTier).toBe('HIGH');
      expect(second && 'decisionId' in second).toBe(false);
      expect(verifyChain(await s.receipts())).toBe(2);
    });

    it('rejects a call that does not extend its chain and writes none of it', async () => {
      const { store: s } = await db();
      const st = fresh();
      await s.commitCall(makeCall(st, 's', 0));
      await rejectsWith(
        s.commitCall(makeCall({ lamport: 5, hash: st.hash }, 's', 1)),
        'STORE_CHAIN_CONFLICT',
      );
      await rejectsWith(
        s.commitCall(makeCall({ lamport: 1, hash: GENESIS }, 's', 1)),
        'STORE_CHAIN_CONFLICT',
      );
      await rejectsWith(
        s.commitCall(makeCall({ lamport: 0, hash: GENESIS }, 's', 1)),
        'STORE_CHAIN_CONFLICT',
      );
      expect((await s.receipts()).length).toBe(1);
      expect((await s.nodes()).length).toBe(1);
      expect((await s.requests()).length).toBe(1);
      expect(await s.budgetBalance('budget:s')).toBe(1);
      expect((await s.chainHead())?.lamport).toBe(1);
      await s.commitCall(makeCall(st, 's', 1));
      expect(verifyChain(await s.receipts())).toBe(2);
    });

    it('rolls back the whole call on a duplicate row, idempotency key, reused nonce or budget overrun', async () => {
      const { store: s } = await db();
      const st = fresh();
      const first = makeCall(st, 's', 0);
      await s.commitCall({ ...first, nonces: [{ scope: 'deleg', nonce: 'n1' }] });
      const base = (): GovernedCallRecord => makeCall({ ...st }, 's', 1);
      await rejectsWith(s.commitCall({ ...base(), nodes: first.nodes ?? [] }), 'STORE_DUPLICATE');
      await rejectsWith(s.commitCall({ ...base(), decision: first.decision as never }), 'STORE_DUPLICATE');
      await rejectsWith(s.commitCall({ ...base(), request: first.request as never }), 'STORE_DUPLICATE');
      await rejectsWith(
        s.commitCall({ ...base(), receipt: { ...base().receipt, id: first.receipt.id } }),
        'STORE_DUPLICATE',
      );
      await rejectsWith(
        s.commitCall({ ...base(), idempotency: { key: first.idempotency?.key ?? '', value: 1 } }),
        'STORE_IDEMPOTENCY_CONFLICT',
      );
      await rejectsWith(
        s.commitCall({ ...base(), nonces: [{ scope: 'deleg', nonce: 'n1' }] }),
        'STORE_NONCE_REUSED',
      );
      await rejectsWith(
        s.commitCall({
          ...base(),
          nonces: [
            { scope: 'deleg', nonce: 'n2' },
            { scope: 'deleg', nonce: 'n2' },
          ],
        }),
        'STORE_NONCE_REUSED',
      );
      await rejectsWith(
        s.commitCall({ ...base(), budget: [{ key: 'budget:s', delta: 5, limit: 3 }] }),
        'STORE_BUDGET_EXCEEDED',
      );
      await rejectsWith(s.commitCall({ ...base(), sessionId: '' }), 'STORE_INVALID_RECORD');
      await rejectsWith(
        s.commitCall({ ...base(), budget: [{ key: 'b', delta: 0.5 }] }),
        'STORE_INVALID_RECORD',
      );
      await rejectsWith(
        s.commitCall({ ...base(), ledger: [{ op: 'reserve', id: 'x', charges: [], amount: -1 }] }),
        'STORE_INVALID_RECORD',
      );
      await rejectsWith(
        s.commitCall({ ...base(), ledger: [{ op: 'commit', id: 'nope' }] }),
        'STORE_RESERVATION_UNKNOWN',
      );
      expect((await s.receipts()).length).toBe(1);
      expect((await s.decisions([base().decision?.id ?? ''])).length).toBe(0);
      expect(await s.budgetBalance('budget:s')).toBe(1);
      expect(await s.nonceUsed('deleg', 'n1')).toBe(true);
      expect(await s.nonceUsed('deleg', 'n2')).toBe(false);
      expect(await s.idempotency(base().idempotency?.key ?? '')).toBeUndefined();
      // Budget movements accumulate and a limit is checked against the balance after the movement.
      await s.commitCall({ ...makeCall(st, 's', 1), budget: [{ key: 'budget:s', delta: 2, limit: 3 }] });
      expect(await s.budgetBalance('budget:s')).toBe(3);
      expect(verifyChain(await s.receipts())).toBe(2);
    });

    it('group commit: concurrent calls land in order; a failing call does not take its batch down', async () => {
      const { store: s } = await db();
      const st = fresh();
      const calls = Array.from({ length: 40 }, (_, i) => makeCall(st, 'g', i));
      const bad = makeCall({ lamport: 99, hash: GENESIS }, 'g', 999);
      const results = await Promise.allSettled(
        [...calls.slice(0, 20), bad, ...calls.slice(20)].map((c) => s.commitCall(c)),
      );
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(40);
      expect(results[20]).toMatchObject({ status: 'rejected', reason: { code: 'STORE_CHAIN_CONFLICT' } });
      expect(verifyChain(await s.receipts())).toBe(40);
      const batch = await s.commitCalls([
        makeCall(st, 'g', 40),
        makeCall(fresh(), 'g', 41),
        makeCall(st, 'g', 42),
      ]);
      expect(batch[0]).toEqual({ receiptId: 'r-g-41', lamport: 41 });
      expect(batch[1]).toMatchObject({ code: 'STORE_CHAIN_CONFLICT' });
      expect(batch[2]).toEqual({ receiptId: 'r-g-42', lamport: 42 });
      expect(await s.commitCalls([])).toEqual([]);
      // A call that fails after some of its rows were written leaves none of them behind.
      const dup = makeCall({ ...st }, 'g', 43);
      const ok = makeCall({ ...st }, 'g', 43);
      const mixed = await s.commitCalls([
        { ...dup, nonces: [{ scope: 'x', nonce: '1' }], budget: [{ key: 'k', delta: 9, limit: 1 }] },
        ok,
      ]);
      expect(mixed[0]).toMatchObject({ code: 'STORE_BUDGET_EXCEEDED' });
      expect(mixed[1]).toEqual({ receiptId: 'r-g-43', lamport: 43 });
      expect(await s.nonceUsed('x', '1')).toBe(false);
      expect(await s.budgetBalance('k')).toBe(0);
      expect(verifyChain(await s.receipts())).toBe(43);
      expect((await s.chainHead())?.lamport).toBe(43);
    });

    it('in one group over several chains, each failing call is rolled back alone', async () => {
      const { store: s } = await db();
      await s.consumeNonce('n', 'used');
      const records = Array.from({ length: 10 }, (_, i) => ({
        ...makeCall(fresh(), `p${i}`, i, `chain-${i}`),
        ...(i % 2
          ? { nonces: [{ scope: 'n', nonce: 'used' }] }
          : { nonces: [{ scope: 'n', nonce: `fresh-${i}` }] }),
      }));
      const out = await s.commitCalls(records);
      expect(out.map((r) => (r instanceof StoreError ? r.code : 'ok'))).toEqual(
        records.map((_, i) => (i % 2 ? 'STORE_NONCE_REUSED' : 'ok')),
      );
      expect((await s.receipts()).map((r) => r.chainId)).toEqual([
        'chain-0',
        'chain-2',
        'chain-4',
        'chain-6',
        'chain-8',
      ]);
      expect((await s.nodes()).length).toBe(5);
      expect(await s.nonceUsed('n', 'fresh-1')).toBe(false);
      expect(await s.nonceUsed('n', 'fresh-2')).toBe(true);
      expect(await s.chainHead('chain-1')).toBeUndefined();
    });

    it('keeps chains apart and selects by session, chain and Lamport range', async () => {
      const { store: s } = await db();
      const a = fresh();
      const b = fresh();
      for (let i = 0; i < 5; i++) {
        await s.commitCall(makeCall(a, 'A', i));
        await s.commitCall(makeCall(b, 'B', i, 'other'));
      }
      expect((await s.receipts({ sessionId: 'A' })).map((r) => r.lamport)).toEqual([1, 2, 3, 4, 5]);
      expect((await s.receipts({ chainId: 'other', fromLamport: 2, toLamport: 3 })).map((r) => r.id)).toEqual(
        ['r-B-2', 'r-B-3'],
      );
      expect((await s.receipts()).map((r) => `${r.chainId}:${r.lamport}`)).toEqual([
        'default:1',
        'default:2',
        'default:3',
        'default:4',
        'default:5',
        'other:1',
        'other:2',
        'other:3',
        'other:4',
        'other:5',
      ]);
      expect((await s.requests({ sessionId: 'B', fromLamport: 5 })).map((r) => r.id)).toEqual(['q-r-B-5']);
      expect((await s.requests({ chainId: 'default', toLamport: 2 })).length).toBe(2);
      expect((await s.chainHead('other'))?.lamport).toBe(5);
      expect(await s.chainHead('none')).toBeUndefined();
      expect(await s.sessions()).toEqual(['A', 'B']);
      expect((await s.nodes()).map((n) => n.id)).toEqual([
        'n-r-A-1',
        'n-r-B-1',
        'n-r-A-2',
        'n-r-B-2',
        'n-r-A-3',
        'n-r-B-3',
        'n-r-A-4',
        'n-r-B-4',
        'n-r-A-5',
        'n-r-B-5',
      ]);
    });

    it('receiptById: the exact id on any chain, with the request committed under it; nothing else', async () => {
      const { store: s, peer } = await db();
      const a = fresh();
      const b = fresh();
      for (let i = 0; i < 4; i++) {
        // The runtime records each call's request under its receipt's id; chain B's without one.
        const call = makeCall(a, 'A', i);
        await s.commitCall({ ...call, request: { id: call.receipt.id, body: { i } } });
        const { request: _none, ...bare } = makeCall(b, 'B', i, 'other');
        await s.commitCall(bare);
      }
      for (const r of await s.receipts()) {
        const found = await s.receiptById(r.id);
        expect(found?.receipt).toEqual(r);
        if (r.chainId === 'other') expect(found?.request).toBeUndefined();
        else
          expect(found?.request).toEqual({
            id: r.id,
            receiptId: r.id,
            chainId: 'default',
            lamport: r.lamport,
            sessionId: 'A',
            body: { i: r.lamport - 1 },
          });
      }
      // Only the exact id: not a Lamport, a pattern, a prefix, another case.
      for (const id of ['1', '%', 'r-A-%', 'r-A-1 OR 1=1', "r-A-1' --", 'R-A-1', 'r-A-', '', 'q-r-B-1'])
        expect(await s.receiptById(id)).toBeUndefined();
      // Another handle (another node) finds what this one committed.
      expect((await (await peer()).receiptById('r-B-3'))?.receipt.lamport).toBe(3);
    });

    it('orders text keys by their bytes (UTF-8), whatever the locale', async () => {
      const { store: s } = await db();
      const keys = ['b', 'a', 'B', '_', 'é', 'z', 'A1', 'a1', '~', '€'];
      for (const k of keys) await s.putDocument('ns', k, k);
      const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect((await s.listDocuments('ns')).map((d) => d.key)).toEqual(byBytes);
      const st = new Map(keys.map((k) => [k, fresh()]));
      for (const k of keys) await s.commitCall({ ...makeCall(st.get(k) as ChainState, k, 0, `c-${k}`) });
      expect(await s.sessions()).toEqual(byBytes);
    });

    it('stores content-addressed artifacts, session links, documents and nonces', async () => {
      const { store: s } = await db();
      const bytes = new TextEncoder().encode('{"policy":1}');
      const d = await s.putArtifact({ kind: 'policy', name: 'default', version: '1', bytes });
      expect(d).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await s.putArtifact({ kind: 'policy', name: 'default', version: '1', bytes })).toBe(d);
      expect(await s.artifact(d)).toEqual({
        digest: d,
        kind: 'policy',
        name: 'default',
        version: '1',
        bytes,
      });
      expect((await s.artifact(d))?.bytes).toBeInstanceOf(Uint8Array);
      expect(await s.artifact('sha256:00')).toBeUndefined();
      const binary = new Uint8Array([0, 255, 1, 128]);
      const d2 = await s.putArtifact({ kind: 'schema', name: 'x', version: '1', bytes: binary });
      expect((await s.artifact(d2))?.bytes).toEqual(binary);
      expect((await s.artifacts()).map((a) => a.kind)).toEqual(['policy', 'schema']);
      expect((await s.artifacts({ kind: 'policy' })).map((a) => a.digest)).toEqual([d]);
      await s.linkArtifact('sess', d);
      await s.linkArtifact('sess', d);
      expect((await s.sessionArtifacts('sess')).map((x) => x.digest)).toEqual([d]);
      expect(await s.sessionArtifacts('other')).toEqual([]);
      await rejectsWith(s.linkArtifact('sess', 'sha256:nope'), 'STORE_INVALID_RECORD');
      await s.putDocument('keys', 'k1', { role: 'receipt' });
      await s.putDocument('keys', 'k1', { role: 'receipt', revoked: true });
      await s.putDocument('keys', 'k0', 1);
      await s.putDocument('other', 'k9', null);
      expect(await s.getDocument('keys', 'k1')).toEqual({ role: 'receipt', revoked: true });
      expect(await s.getDocument('other', 'k9')).toBeNull();
      expect(await s.getDocument('keys', 'none')).toBeUndefined();
      expect(await s.listDocuments('keys')).toEqual([
        { key: 'k0', value: 1 },
        { key: 'k1', value: { role: 'receipt', revoked: true } },
      ]);
      expect(await s.consumeNonce('x', '1')).toBe(true);
      expect(await s.consumeNonce('x', '1')).toBe(false);
      expect(await s.consumeNonce('y', '1')).toBe(true);
      expect(await s.nonceUsed('x', '1')).toBe(true);
      expect(await s.nonceUsed('x', '2')).toBe(false);
    });

    it('batched admissions: one transaction, a failing admission rolled back alone with its movements', async () => {
      const { store: s, peer } = await db();
      const charges = [{ account: 'batch', ceiling: 10 }];
      const taken: string[] = [];
      const reserve = (id: string, amount: number) => () => {
        taken.push(id);
        return [{ op: 'reserve' as const, id, charges, amount }];
      };
      const out = await s.admitCalls([
        { admission: admission('b1', { reservationId: 'r-b1' }), ledger: reserve('r-b1', 4) },
        // over the ceiling once b1's reservation is counted: fails alone, writes nothing
        { admission: admission('b2', { reservationId: 'r-b2' }), ledger: reserve('r-b2', 7) },
        { admission: admission('b3') },
        { admission: admission('b1') }, // duplicate id within the batch
        { admission: { id: 5 } as never },
        { admission: admission('b4', { reservationId: 'r-b4' }), ledger: reserve('r-b4', 6) },
      ]);
      expect(out.map((r) => (r === true ? true : (r as StoreError).code))).toEqual([
        true,
        'STORE_BUDGET_EXCEEDED',
        true,
        'STORE_DUPLICATE',
        'STORE_INVALID_RECORD',
        true,
      ]);
      // each item's movements were drawn exactly once (a retried transaction never draws again)
      expect(taken).toEqual(['r-b1', 'r-b2', 'r-b4']);
      const other = await peer();
      expect((await other.admissions()).map((a) => a.id)).toEqual(['b1', 'b3', 'b4']);
      expect(await other.ledgerState('batch')).toEqual({ spent: 0, reserved: 10 });
      expect(await other.ledgerReservation('r-b2')).toBeUndefined();
      expect(await s.admitCalls([])).toEqual([]);
    });

    it('batched admissions against what the database holds, and racing across handles: never overspent, never twice', async () => {
      const { store: s, peer } = await db();
      const charges = [{ account: 'race', ceiling: 25 }];
      const item = (id: string, amount = 1) => ({
        admission: admission(id, { reservationId: `r-${id}` }),
        ledger: () => [{ op: 'reserve' as const, id: `r-${id}`, charges, amount }],
      });
      await s.admitCall(admission('held', { reservationId: 'r-held' }), [
        { op: 'reserve', id: 'r-held', charges, amount: 5 },
      ]);
      await s.ledgerReserve([{ account: 'race', ceiling: 25 }], 0); // an unrelated open reservation
      // an admission id and a reservation id the database already holds fail alone
      const first = await s.admitCalls([
        item('x1'),
        { admission: admission('held') },
        {
          admission: admission('x2', { reservationId: 'r-held' }),
          ledger: () => [{ op: 'reserve' as const, id: 'r-held', charges, amount: 1 }],
        },
        item('x3', 14), // 5 + 1 + 14 = 20
        item('x4', 6), // 26 > 25
        item('x5', 5), // 25
      ]);
      expect(first.map((r) => (r === true ? true : (r as StoreError).code))).toEqual([
        true,
        'STORE_DUPLICATE',
        'STORE_DUPLICATE',
        true,
        'STORE_BUDGET_EXCEEDED',
        true,
      ]);
      expect(await s.ledgerState('race')).toEqual({ spent: 0, reserved: 25 });
      // free 14 units (x3 refunded by its receipt), then two handles race 2 × 12 single-unit admissions for them
      await s.commitCall({
        ...makeCall(fresh(), 's', 0),
        admissionId: 'x3',
        ledger: [{ op: 'refund', id: 'r-x3' }],
      });
      const other = await peer();
      const race = await Promise.all(
        [s, other].map((h, k) => h.admitCalls(Array.from({ length: 12 }, (_, i) => item(`race-${k}-${i}`)))),
      );
      const admitted = race.flat().filter((r) => r === true).length;
      expect(admitted).toBe(14);
      expect(race.flat().every((r) => r === true || (r as StoreError).code === 'STORE_BUDGET_EXCEEDED')).toBe(
        true,
      );
      expect(await other.ledgerState('race')).toEqual({ spent: 0, reserved: 25 });
      expect((await other.admissions()).filter((a) => a.id.startsWith('race-'))).toHaveLength(14);
    });

    it('admission journal: durable before the driver, closed exactly once by the receipt', async () => {
      const { store: s } = await db();
      const st = fresh();
      const charges = [{ account: 'acct', ceiling: 10 }];
      await s.admitCall(admission('a1', { reservationId: 'r-a1' }), [
        { op: 'reserve', id: 'r-a1', charges, amount: 4 },
      ]);
      await s.admitCall(admission('a2', { chainId: 'other' }));
      expect(await s.ledgerState('acct')).toEqual({ spent: 0, reserved: 4 });
      expect(await s.ledgerReservation('r-a1')).toEqual({ accounts: ['acct'], amount: 4 });
      const open = await s.admissions();
      expect(open.map((a) => [a.id, a.chainId, a.sessionId, a.reservationId, a.body])).toEqual([
        ['a1', 'default', 's', 'r-a1', { admission: 'a1' }],
        ['a2', 'other', 's', null, { admission: 'a2' }],
      ]);
      expect(open[0]?.seq).toBeLessThan(open[1]?.seq ?? 0);
      expect((await s.admissions('other')).map((a) => a.id)).toEqual(['a2']);
      expect(await s.admissions('none')).toEqual([]);
      await rejectsWith(s.admitCall(admission('a1')), 'STORE_DUPLICATE');
      await rejectsWith(
        s.admitCall(admission('a5', { reservationId: 'r-a1' }), [
          { op: 'reserve', id: 'r-a1', charges, amount: 1 },
        ]),
        'STORE_DUPLICATE',
      );
      // A reservation over the ceiling fails the admission and writes nothing.
      await rejectsWith(
        s.admitCall(admission('a3', { reservationId: 'r-a3' }), [
          { op: 'reserve', id: 'r-a3', charges, amount: 7 },
        ]),
        'STORE_BUDGET_EXCEEDED',
      );
      await rejectsWith(s.admitCall({ id: 5 } as never), 'STORE_INVALID_RECORD');
      await rejectsWith(s.admitCall(admission('a4'), [{ op: 'bogus' } as never]), 'STORE_INVALID_RECORD');
      expect((await s.admissions()).map((a) => a.id)).toEqual(['a1', 'a2']);
      expect(await s.ledgerReservation('r-a3')).toBeUndefined();
      // The receipt closes the admission and spends its reservation in one transaction.
      const call = makeCall(st, 's', 0);
      await s.commitCall({ ...call, admissionId: 'a1', ledger: [{ op: 'commit', id: 'r-a1' }] });
      expect((await s.admissions()).map((a) => a.id)).toEqual(['a2']);
      expect(await s.ledgerState('acct')).toEqual({ spent: 4, reserved: 0 });
      // One admission never gets two receipts.
      await rejectsWith(
        s.commitCall({ ...makeCall({ ...st }, 's', 1), admissionId: 'a1' }),
        'STORE_INVALID_RECORD',
      );
      await rejectsWith(
        s.commitCall({ ...makeCall({ ...st }, 's', 1), admissionId: 'never' }),
        'STORE_INVALID_RECORD',
      );
      expect((await s.receipts()).length).toBe(1);
    });

    it('budget ledger: all-or-nothing reservations under ceilings, settled exactly once', async () => {
      const { store: s } = await db();
      const both = [
        { account: 'p', ceiling: 10 },
        { account: 't', ceiling: 5 },
      ];
      const r1 = await s.ledgerReserve(both, 3);
      expect(r1).toMatch(/^budget-res-\d+$/);
      expect(await s.ledgerReserve(both, 3)).toBeNull(); // t would reach 6 > 5: neither account moves
      expect(await s.ledgerState('p')).toEqual({ spent: 0, reserved: 3 });
      expect(await s.ledgerState('t')).toEqual({ spent: 0, reserved: 3 });
      const r2 = await s.ledgerReserve([{ account: 'p', ceiling: 10 }], 7);
      expect(r2).not.toBe(r1);
      expect(await s.ledgerReserve([{ account: 'p', ceiling: 10 }], 1)).toBeNull();
      expect(await s.ledgerReserve([{ account: 'p', ceiling: 10 }], 0)).not.toBeNull(); // zero fits exactly
      await s.ledgerCommit(r1 as string);
      await rejectsWith(s.ledgerCommit(r1 as string), 'STORE_RESERVATION_UNKNOWN');
      await rejectsWith(s.ledgerRefund(r1 as string), 'STORE_RESERVATION_UNKNOWN');
      await s.ledgerRefund(r2 as string);
      await rejectsWith(s.ledgerRefund('budget-res-999'), 'STORE_RESERVATION_UNKNOWN');
      expect(await s.ledgerState('p')).toEqual({ spent: 3, reserved: 0 });
      expect(await s.ledgerState('t')).toEqual({ spent: 3, reserved: 0 });
      expect(await s.ledgerState('never')).toEqual({ spent: 0, reserved: 0 });
      expect(await s.ledgerReservation(r1 as string)).toBeUndefined();
      // Spent counts against the ceiling.
      expect(await s.ledgerReserve([{ account: 't', ceiling: 5 }], 3)).toBeNull();
      await rejectsWith(s.ledgerReserve([{ account: 'p', ceiling: 10 }], 1.5), 'STORE_INVALID_RECORD');
      await rejectsWith(s.ledgerReserve([{ account: 'p', ceiling: 10 }], -1), 'STORE_INVALID_RECORD');
    });

    it('ledgerSnapshot: the named accounts and the open reservations of this handle, at one instant', async () => {
      const { store: s } = await db();
      const r1 = (await s.ledgerReserve([{ account: 'p', ceiling: 10 }], 3)) as string;
      const r2 = (await s.ledgerReserve(
        [
          { account: 'p', ceiling: 10 },
          { account: 'q', ceiling: 10 },
        ],
        2,
      )) as string;
      await s.ledgerCommit(r1);
      const snap = await s.ledgerSnapshot(['q', 'p', 'never-charged']);
      // Accounts by name (an account never charged is absent: zeros); only open reservations.
      expect(snap.accounts).toEqual([
        { account: 'p', spent: 3, reserved: 2 },
        { account: 'q', spent: 0, reserved: 2 },
      ]);
      expect(snap.reservations).toEqual([{ id: r2, accounts: ['p', 'q'], amount: 2 }]);
      expect((await s.ledgerSnapshot([])).accounts).toEqual([]);
    });

    it('generated reservation ids never collide with ids admitted by the caller', async () => {
      const { store: s } = await db();
      await s.admitCall(admission('a', { reservationId: 'budget-res-7' }), [
        { op: 'reserve', id: 'budget-res-7', charges: [{ account: 'x', ceiling: 100 }], amount: 1 },
      ]);
      const next = await s.ledgerReserve([{ account: 'x', ceiling: 100 }], 1);
      expect(Number(next?.slice('budget-res-'.length))).toBeGreaterThan(7);
    });

    it('releases at start-up the reservations no admission holds, and only those', async () => {
      const { store: s } = await db();
      const c = [{ account: 'a', ceiling: 100 }];
      const orphan = (await s.ledgerReserve(c, 5)) as string;
      await s.admitCall(admission('held', { reservationId: 'held-res' }), [
        { op: 'reserve', id: 'held-res', charges: c, amount: 2 },
      ]);
      expect(await s.releaseOrphanReservations()).toEqual([orphan]);
      expect(await s.releaseOrphanReservations()).toEqual([]);
      expect(await s.ledgerState('a')).toEqual({ spent: 0, reserved: 2 });
      expect(await s.ledgerReservation('held-res')).toEqual({ accounts: ['a'], amount: 2 });
    });

    it('idempotency: the first writer wins', async () => {
      const { store: s } = await db();
      expect(await s.putIdempotency('k', 'r1', { first: true })).toBe(true);
      expect(await s.putIdempotency('k', 'r2', { first: false })).toBe(false);
      expect(await s.idempotency('k')).toEqual({ first: true });
      const st = fresh();
      await rejectsWith(
        s.commitCall({ ...makeCall(st, 's', 0), idempotency: { key: 'k', value: 2 } }),
        'STORE_IDEMPOTENCY_CONFLICT',
      );
      expect(await s.receipts()).toEqual([]);
    });

    it('refuses every operation once closed', async () => {
      const { store: s } = await db();
      await s.close();
      await s.close(); // closing twice is harmless
      await rejectsWith(s.commitCall(makeCall(fresh(), 's', 0)), 'STORE_CLOSED');
      await rejectsWith(s.admitCall(admission('a')), 'STORE_CLOSED');
      await rejectsWith(s.chainHead(), 'STORE_CLOSED');
      await rejectsWith(s.consumeNonce('a', 'b'), 'STORE_CLOSED');
    });

    describeGovernanceContract(db);

    describe('several handles on one database', () => {
      it('two writers racing for one chain head: exactly one wins, no fork, no gap', async () => {
        const d = await db();
        const b = await d.peer();
        const a = d.store;
        for (let round = 0; round < 4; round++) {
          const head = await a.chainHead('shared');
          const base = { lamport: head?.lamport ?? 0, hash: head?.hash ?? GENESIS };
          const mine = makeCall({ ...base }, 'A', round, 'shared');
          const theirs = makeCall({ ...base }, 'B', round, 'shared');
          const out = await Promise.allSettled([a.commitCall(mine), b.commitCall(theirs)]);
          expect(out.filter((o) => o.status === 'fulfilled').length).toBe(1);
          const lost = out.find((o) => o.status === 'rejected') as PromiseRejectedResult;
          expect(lost.reason).toMatchObject({ code: 'STORE_CHAIN_CONFLICT' });
        }
        const chain = await b.receipts({ chainId: 'shared' });
        expect(chain.map((r) => r.lamport)).toEqual([1, 2, 3, 4]);
        expect(verifyChain(chain)).toBe(4);
      });

      it('a nonce burns once across handles', async () => {
        const d = await db();
        const b = await d.peer();
        const tries = Array.from({ length: 16 }, (_, i) =>
          (i % 2 ? b : d.store).consumeNonce('deleg', 'once'),
        );
        expect((await Promise.all(tries)).filter(Boolean).length).toBe(1);
        const st = [fresh(), fresh()];
        const calls = [d.store, b].map((s, i) =>
          s.commitCall({
            ...makeCall(st[i] as ChainState, `s${i}`, 0, `chain-${i}`),
            nonces: [{ scope: 'deleg', nonce: 'twice' }],
          }),
        );
        const out = await Promise.allSettled(calls);
        expect(out.filter((o) => o.status === 'fulfilled').length).toBe(1);
        expect(out.find((o) => o.status === 'rejected')).toMatchObject({
          reason: { code: 'STORE_NONCE_REUSED' },
        });
      });

      it('the ledger never overspends across handles', async () => {
        const d = await db();
        const b = await d.peer();
        const charges = [{ account: 'shared', ceiling: 10 }];
        const ids = await Promise.all(
          Array.from({ length: 64 }, (_, i) => (i % 2 ? b : d.store).ledgerReserve(charges, 1)),
        );
        const granted = ids.filter((x): x is string => x !== null);
        expect(granted.length).toBe(10);
        expect(new Set(granted).size).toBe(10);
        expect(await b.ledgerState('shared')).toEqual({ spent: 0, reserved: 10 });
        // Settling races too: of a commit and a refund of one reservation, exactly one lands.
        const settle = await Promise.allSettled(
          granted.flatMap((id, i) => [
            (i % 2 ? b : d.store).ledgerCommit(id),
            (i % 2 ? d.store : b).ledgerRefund(id),
          ]),
        );
        expect(settle.filter((o) => o.status === 'fulfilled').length).toBe(10);
        const committed = settle.filter((o, i) => i % 2 === 0 && o.status === 'fulfilled').length;
        expect(await d.store.ledgerState('shared')).toEqual({ spent: committed, reserved: 0 });
      });

      it('an idempotency key keeps its first record across handles', async () => {
        const d = await db();
        const b = await d.peer();
        const out = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? b : d.store).putIdempotency('same', `r${i}`, { i })),
        );
        expect(out.filter(Boolean).length).toBe(1);
        const winner = out.indexOf(true);
        expect(await b.idempotency('same')).toEqual({ i: winner });
      });
    });
  });
}
