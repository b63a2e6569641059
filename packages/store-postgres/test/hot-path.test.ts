// I-MULTINODE-1: The per-call path of a node on PostgreSQL (#18, #25). The freshness read of calls in flight is
// one statement per wave, each answer read after its call. Group commit: a group whose calls only close their admission and
// settle their reservation — every plain governed call — is written with a constant number of
// statements, not five per call; a group with a call that cannot be committed ends exactly as the
// one-call-at-a-time write ends it; and groups of two nodes settling reservations on shared
// accounts in opposite orders race without a failure or an overspent account.
import type { GovernedCallRecord, LedgerOp } from '@helm/store';
import { StoreError } from '@helm/store';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ChainState, GENESIS, makeCall, verifyChain } from '../../store/test/fixtures/chain.ts';
import { openPostgresStore, type PostgresStore } from '../src/index.ts';
import { createTestDatabase, raw } from './harness.ts';

const db = await createTestDatabase('commit_batch');
afterAll(() => db.drop());

const open: PostgresStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

// Every statement any connection of this process sends, while `counting` (one round trip each).
let counting = false;
let statements = 0;
let begins = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (counting) statements += 1;
  if (counting && typeof args[0] === 'string' && args[0].startsWith('BEGIN')) begins += 1;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

async function counted<T>(fn: () => Promise<T>): Promise<{ out: T; statements: number; begins: number }> {
  statements = 0;
  begins = 0;
  counting = true;
  try {
    return { out: await fn(), statements, begins };
  } finally {
    counting = false;
  }
}

let n = 0;
async function nodes(count: number): Promise<PostgresStore[]> {
  const schema = `cb${++n}`;
  const out: PostgresStore[] = [];
  for (let i = 0; i < count; i++) {
    const s = await openPostgresStore({ connectionString: db.url, nodeId: `node-${i}`, schema });
    open.push(s);
    out.push(s);
  }
  return out;
}

const fresh = (): ChainState => ({ lamport: 0, hash: GENESIS });

/** A plain governed call's record: its receipt, decision, request and node; it closes its admission and settles. */
function plainCall(
  state: ChainState,
  chainId: string,
  i: number,
  settle: LedgerOp | undefined,
): GovernedCallRecord {
  const { budget: _b, idempotency: _i, ...call } = makeCall(state, chainId, i, chainId);
  return { ...call, admissionId: `adm-${chainId}-${i}`, ...(settle ? { ledger: [settle] } : {}) };
}

/** Admit `count` calls of `chainId` on `s`, call i reserving `amount` on `accounts(i)`. */
async function admit(
  s: PostgresStore,
  chainId: string,
  count: number,
  accounts: (i: number) => string[],
  amount = 1,
): Promise<void> {
  const out = await s.admitCalls(
    Array.from({ length: count }, (_, i) => ({
      admission: {
        id: `adm-${chainId}-${i}`,
        chainId,
        sessionId: chainId,
        reservationId: `res-${chainId}-${i}`,
        body: { i },
      },
      ledger: () => [
        {
          op: 'reserve' as const,
          id: `res-${chainId}-${i}`,
          charges: accounts(i).map((account) => ({ account, ceiling: 1_000_000 })),
          amount,
        },
      ],
    })),
  );
  expect(out.filter((r) => r !== true)).toEqual([]);
}

const codeOf = (r: unknown): string =>
  r instanceof StoreError ? r.code : r instanceof Error ? 'other' : 'ok';

describe('batched admissions', () => {
  it('32 admissions reserving on shared accounts are written with 4 statements, all of them there', async () => {
    const [s] = (await nodes(1)) as [PostgresStore];
    // BEGIN; accounts locked + ids already used; accounts moved + reservations + admissions; COMMIT.
    const { statements: sent } = await counted(() =>
      admit(s, 'c', 32, (i) => (i % 2 ? ['t', 'a'] : ['t', 'b']), 2),
    );
    expect(sent).toBeLessThanOrEqual(4);
    expect((await s.admissions()).map((a) => a.id)).toEqual(
      Array.from({ length: 32 }, (_, i) => `adm-c-${i}`),
    );
    expect(await s.ledgerState('t')).toEqual({ spent: 0, reserved: 64 });
    expect(await s.ledgerState('a')).toEqual({ spent: 0, reserved: 32 });
    expect(await s.ledgerReservation('res-c-31')).toEqual({ accounts: ['t', 'a'], amount: 2 });
  });
});

describe('group commit of plain governed calls', () => {
  it('32 calls are written with a constant number of statements, and everything each call writes is there', async () => {
    const [s] = (await nodes(1)) as [PostgresStore];
    await admit(s, 'c', 32, (i) => (i % 2 ? ['tenant', 'alice'] : ['tenant', 'bob']), 3);
    const st = fresh();
    const records = Array.from({ length: 32 }, (_, i) =>
      plainCall(st, 'c', i, { op: i % 4 === 3 ? 'refund' : 'commit', id: `res-c-${i}` }),
    );
    // The group that starts the chain, then one extending it (the steady state).
    for (const group of [records.slice(0, 12), records.slice(12)]) {
      const { out, statements: sent } = await counted(() => s.commitCalls(group));
      expect(out.map(codeOf)).toEqual(group.map(() => 'ok'));
      // BEGIN; the head, the calls' rows, the admissions and reservations; the accounts; COMMIT.
      expect(sent).toBeLessThanOrEqual(4);
    }
    expect(verifyChain(await s.receipts({ chainId: 'c' }))).toBe(32);
    expect(await s.admissions()).toEqual([]);
    expect(await s.ledgerReservation('res-c-0')).toBeUndefined();
    // 24 committed, 8 refunded (all of them alice's), 3 each; alice and bob 16 calls each.
    expect(await s.ledgerState('tenant')).toEqual({ spent: 72, reserved: 0 });
    expect(await s.ledgerState('alice')).toEqual({ spent: 24, reserved: 0 });
    expect(await s.ledgerState('bob')).toEqual({ spent: 48, reserved: 0 });
    expect((await s.requests({ chainId: 'c' })).length).toBe(32);
    expect((await s.decisions(records.map((r) => r.decision?.id as string))).length).toBe(32);
    expect((await s.nodes({ sessionId: 'c' })).map((x) => x.id).sort()).toEqual(
      records.map((r) => r.nodes?.[0]?.id).sort(),
    );
    expect(await s.chainHead('c')).toMatchObject({ lamport: 32, hash: st.hash });
  });

  it('a reservation counted twice by one call is settled twice on its account, as one by one', async () => {
    const [s] = (await nodes(1)) as [PostgresStore];
    await admit(s, 'c', 4, () => ['x', 'x', 'y'], 2);
    const st = fresh();
    const out = await s.commitCalls(
      Array.from({ length: 4 }, (_, i) => plainCall(st, 'c', i, { op: 'commit', id: `res-c-${i}` })),
    );
    expect(out.map(codeOf)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(await s.ledgerState('x')).toEqual({ spent: 16, reserved: 0 });
    expect(await s.ledgerState('y')).toEqual({ spent: 8, reserved: 0 });
  });

  it.each([
    [
      'its admission is not open',
      'STORE_INVALID_RECORD',
      (r: GovernedCallRecord) => ({ ...r, admissionId: 'adm-none' }),
    ],
    [
      'its reservation is not open',
      'STORE_RESERVATION_UNKNOWN',
      (r: GovernedCallRecord) => ({ ...r, ledger: [{ op: 'commit' as const, id: 'res-none' }] }),
    ],
    [
      'its decision is stored already',
      'STORE_DUPLICATE',
      (r: GovernedCallRecord, first: GovernedCallRecord) => ({ ...r, decision: first.decision }),
    ],
  ])(
    'a call of the group that cannot be committed (%s) fails alone, the group ends as one by one',
    async (_, code, broken) => {
      const [s] = (await nodes(1)) as [PostgresStore];
      await admit(s, 'c', 6, () => ['tenant']);
      const st = fresh();
      const records = Array.from({ length: 6 }, (_, i) =>
        plainCall(st, 'c', i, { op: 'commit', id: `res-c-${i}` }),
      );
      records[3] = broken(records[3] as GovernedCallRecord, records[0] as GovernedCallRecord);
      const { out, begins: transactions } = await counted(() => s.commitCalls(records));
      // The group once, then call by call (without, then with savepoints): the failed group is
      // rolled back on its connection, not retried as if the connection had been lost.
      expect(transactions).toBe(3);
      // The receipts after the failed one do not extend the head it did not move.
      expect(out.map(codeOf)).toEqual([
        'ok',
        'ok',
        'ok',
        code,
        'STORE_CHAIN_CONFLICT',
        'STORE_CHAIN_CONFLICT',
      ]);
      expect(verifyChain(await s.receipts({ chainId: 'c' }))).toBe(3);
      expect(await s.ledgerState('tenant')).toEqual({ spent: 3, reserved: 3 });
      expect((await s.admissions()).map((a) => a.id)).toEqual(['adm-c-3', 'adm-c-4', 'adm-c-5']);
    },
  );

  it.each([
    [
      'closes one admission twice',
      (r: GovernedCallRecord[]) => [r[0], { ...r[1], admissionId: r[0]?.admissionId }],
      'STORE_INVALID_RECORD',
    ],
    [
      'settles one reservation twice',
      (r: GovernedCallRecord[]) => [r[0], { ...r[1], ledger: r[0]?.ledger }],
      'STORE_RESERVATION_UNKNOWN',
    ],
    [
      'does not chain (its second receipt repeats the first Lamport)',
      (r: GovernedCallRecord[]) => [r[0], { ...r[1], receipt: { ...r[1]?.receipt, lamport: 1 } }],
      'STORE_CHAIN_CONFLICT',
    ],
  ] as const)('a group that %s ends as one by one', async (_, edit, code) => {
    const [s] = (await nodes(1)) as [PostgresStore];
    await admit(s, 'c', 2, () => ['tenant']);
    const st = fresh();
    const records = Array.from({ length: 2 }, (_, i) =>
      plainCall(st, 'c', i, { op: 'commit', id: `res-c-${i}` }),
    );
    const out = await s.commitCalls(edit(records) as GovernedCallRecord[]);
    expect(out.map(codeOf)).toEqual(['ok', code]);
    expect((await s.chainHead('c'))?.lamport).toBe(1);
  });

  it('a group of bare calls (no request, decision, nodes or ledger movement) and an admission batch refused whole', async () => {
    const [s] = (await nodes(1)) as [PostgresStore];
    await admit(s, 'c', 3, () => []);
    const st = fresh();
    const bare = Array.from({ length: 3 }, (_, i) => {
      const { request: _r, decision: _d, nodes: _n, ledger: _l, ...call } = plainCall(st, 'c', i, undefined);
      return { ...call, receipt: { ...call.receipt, decisionId: undefined } };
    });
    const { out, statements: sent } = await counted(() => s.commitCalls(bare));
    expect(out.map(codeOf)).toEqual(['ok', 'ok', 'ok']);
    expect(sent).toBeLessThanOrEqual(3);
    expect(verifyChain(await s.receipts({ chainId: 'c' }))).toBe(3);
    expect(await s.requests({ chainId: 'c' })).toEqual([]);
    // Every admission of a batch over its ceiling: nothing written, each refused in its slot.
    const refused = await s.admitCalls(
      ['x', 'y'].map((id) => ({
        admission: { id, chainId: 'c', sessionId: 'c', reservationId: `res-${id}`, body: {} },
        ledger: () => [
          { op: 'reserve' as const, id: `res-${id}`, charges: [{ account: 't', ceiling: 1 }], amount: 2 },
        ],
      })),
    );
    expect(refused.map(codeOf)).toEqual(['STORE_BUDGET_EXCEEDED', 'STORE_BUDGET_EXCEEDED']);
    expect(await s.admissions()).toEqual([]);
  });

  it('an admission another node took over is not closed by the group (STORE_LEASE_LOST), nothing of that call is written', async () => {
    const [s] = (await nodes(1)) as [PostgresStore];
    await admit(s, 'c', 3, () => ['tenant']);
    const c = await raw(db.url);
    await c.query(`UPDATE cb${n}.admissions SET node_id = 'other' WHERE admission_id = 'adm-c-2'`);
    await c.end();
    const st = fresh();
    const out = await s.commitCalls(
      Array.from({ length: 3 }, (_, i) => plainCall(st, 'c', i, { op: 'commit', id: `res-c-${i}` })),
    );
    expect(out.map(codeOf)).toEqual(['ok', 'ok', 'STORE_LEASE_LOST']);
    expect(await s.ledgerState('tenant')).toEqual({ spent: 2, reserved: 1 });
    expect((await s.chainHead('c'))?.lamport).toBe(2);
  });

  it('two writers of one chain race a group each from the same head: one group commits whole, the other writes nothing', async () => {
    const [a, b] = (await nodes(2)) as [PostgresStore, PostgresStore];
    // The chain exists (its head row too) with one receipt; both groups extend it from there.
    await admit(a, 'c', 1, () => ['tenant']);
    const st = fresh();
    expect(
      (await a.commitCalls([plainCall(st, 'c', 0, { op: 'commit', id: 'res-c-0' })])).map(codeOf),
    ).toEqual(['ok']);
    const mk = (s: PostgresStore, tag: string) => async () => {
      const out = await s.admitCalls(
        Array.from({ length: 8 }, (_, i) => ({
          admission: {
            id: `adm-${tag}-${i}`,
            chainId: 'c',
            sessionId: tag,
            reservationId: `res-${tag}-${i}`,
            body: { i },
          },
          ledger: () => [
            {
              op: 'reserve' as const,
              id: `res-${tag}-${i}`,
              charges: [{ account: 'tenant', ceiling: 1000 }],
              amount: 1,
            },
          ],
        })),
      );
      expect(out.filter((r) => r !== true)).toEqual([]);
      const from = { ...st };
      return Array.from({ length: 8 }, (_, i) => {
        const { budget: _b, idempotency: _i, ...call } = makeCall(from, tag, i, 'c');
        return {
          ...call,
          admissionId: `adm-${tag}-${i}`,
          ledger: [{ op: 'commit' as const, id: `res-${tag}-${i}` }],
        };
      });
    };
    const [ga, gb] = [await mk(a, 'x')(), await mk(b, 'y')()];
    const [ra, rb] = await Promise.all([a.commitCalls(ga), b.commitCalls(gb)]);
    const outcomes = [ra, rb].map((r) => [...new Set(r.map(codeOf))].join());
    expect(outcomes.sort()).toEqual(['STORE_CHAIN_CONFLICT', 'ok']);
    expect(verifyChain(await a.receipts({ chainId: 'c' }))).toBe(9);
    // The loser's calls are still admitted, their reservations held: nothing of them was written.
    expect((await a.admissions()).length).toBe(8);
    expect(await a.ledgerState('tenant')).toEqual({ spent: 9, reserved: 8 });
  });

  it('a group that does not start at the head (the head moved on) writes nothing: STORE_CHAIN_CONFLICT for each call', async () => {
    const [s] = (await nodes(1)) as [PostgresStore];
    await admit(s, 'c', 4, () => ['tenant']);
    const st = fresh();
    const records = Array.from({ length: 4 }, (_, i) =>
      plainCall(st, 'c', i, { op: 'commit', id: `res-c-${i}` }),
    );
    expect((await s.commitCalls(records.slice(0, 2))).map(codeOf)).toEqual(['ok', 'ok']);
    // The same group again, and one starting a Lamport too far.
    expect((await s.commitCalls(records.slice(0, 2))).map(codeOf)).toEqual([
      'STORE_CHAIN_CONFLICT',
      'STORE_CHAIN_CONFLICT',
    ]);
    expect((await s.commitCalls(records.slice(3))).map(codeOf)).toEqual(['STORE_CHAIN_CONFLICT']);
    expect((await s.chainHead('c'))?.lamport).toBe(2);
    expect(await s.ledgerState('tenant')).toEqual({ spent: 2, reserved: 2 });
  });

  it('2 nodes commit groups settling reservations on shared accounts in opposite orders: every call commits, no account overspent', async () => {
    const [a, b] = (await nodes(2)) as [PostgresStore, PostgresStore];
    const rounds = 6;
    const per = 16;
    const states = new Map([
      ['a', fresh()],
      ['b', fresh()],
    ]);
    for (let round = 0; round < rounds; round++) {
      // Node a's calls charge x then y, node b's y then x; each group mixes both orders too.
      const chainA = `a${round}`;
      const chainB = `b${round}`;
      await Promise.all([
        admit(a, chainA, per, (i) => (i % 2 ? ['x', 'y'] : ['y', 'x'])),
        admit(b, chainB, per, (i) => (i % 2 ? ['y', 'x'] : ['x', 'y'])),
      ]);
      const group = (s: PostgresStore, chain: string, key: string) => {
        const st = fresh();
        states.set(key, st);
        return s.commitCalls(
          Array.from({ length: per }, (_, i) =>
            plainCall(st, chain, i, { op: 'commit', id: `res-${chain}-${i}` }),
          ),
        );
      };
      const [ra, rb] = await Promise.all([
        group(a, chainA, 'a'),
        group(b, chainB, 'b'),
        // A third party reserving and refunding on the same accounts meanwhile.
        (async () => {
          const id = await a.ledgerReserve(
            [
              { account: 'y', ceiling: 1_000_000 },
              { account: 'x', ceiling: 1_000_000 },
            ],
            5,
          );
          await b.ledgerRefund(id as string);
        })(),
      ]);
      expect([...ra, ...rb].map(codeOf).filter((c) => c !== 'ok')).toEqual([]);
      expect(verifyChain(await a.receipts({ chainId: chainA }))).toBe(per);
      expect(verifyChain(await b.receipts({ chainId: chainB }))).toBe(per);
    }
    const total = rounds * per * 2;
    expect(await a.ledgerState('x')).toEqual({ spent: total, reserved: 0 });
    expect(await b.ledgerState('y')).toEqual({ spent: total, reserved: 0 });
    expect(await a.admissions()).toEqual([]);
  });
});

describe('the per-call freshness read', () => {
  it('32 calls in flight read freshness with at most 2 statements; a reading never predates its call', async () => {
    const [s] = (await nodes(1)) as [PostgresStore];
    await s.putDocument('trust', 'e1', { n: 1 });
    const { out, statements: sent } = await counted(() =>
      Promise.all(Array.from({ length: 32 }, () => s.freshness('trust'))),
    );
    expect(sent).toBeLessThanOrEqual(2);
    expect(out.every((f) => f.documents === 1 && f.head === out[0]?.head)).toBe(true);
    // A write acknowledged before a call is in that call's reading, even while another reading runs.
    const running = s.freshness('trust');
    await s.putDocument('trust', 'e2', { n: 2 });
    const after = await s.freshness('trust');
    await running;
    expect(after.documents).toBe(2);
    expect(after.head).not.toBe(out[0]?.head);
  });
});
