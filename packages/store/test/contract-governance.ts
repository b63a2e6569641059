// The governance part of the store-port contract (GovernanceStore in src/port.ts): the signed
// event log, application records, approval challenges and grants, ledger resets and idempotency
// supersession. Run by `describeStoreContract` against every engine; the cluster-wide guarantees
// (I-GOVERN-2: an event applied once, a grant consumed once) are raced across two handles.
import type { SignedEnvelope } from '@helm/contracts';
import { describe, expect, it } from 'vitest';
import {
  type GovernanceApplication,
  type GovernanceEventRow,
  type RuntimeStore,
  StoreError,
} from '../src/index.ts';
import { type ChainState, GENESIS, makeCall } from './fixtures/chain.ts';

export interface ContractHandles {
  readonly store: RuntimeStore;
  peer(): Promise<RuntimeStore>;
}

const ZERO = `sha256:${'0'.repeat(64)}`;
const h = (c: string | number) => `sha256:${String(c).padStart(64, '0')}`;
const env = (payload: string): SignedEnvelope => ({
  type: 'helm.test.governance.v1',
  payload,
  signatures: [{ keyid: `ed25519:${'a'.repeat(64)}`, sig: 'x' }],
});
const fresh = (): ChainState => ({ lamport: 0, hash: GENESIS });

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof StoreError && e.code === code);
}

const row = (
  head: { seq: number; chain: string } | undefined,
  digest: string,
  subject: string | null = null,
): GovernanceEventRow => ({
  seq: (head?.seq ?? 0) + 1,
  digest,
  prev: head?.chain ?? ZERO,
  chain: h(`c${(head?.seq ?? 0) + 1}`),
  action: 'approval.grant',
  signer: `ed25519:${'a'.repeat(64)}`,
  subject,
  trustSeq: 3,
  envelope: env(digest),
});

const application = (seq: number, extra: Partial<GovernanceApplication> = {}): GovernanceApplication => ({
  seq,
  digest: h(`e${seq}`),
  chain: h(`a${seq}`),
  record: { seq, outcome: 'applied' },
  cursor: env(`cursor-${seq}`),
  ...extra,
});

const challenge = (id: string, createdAtMs: number) => ({
  id,
  chainId: 'default',
  createdAtMs,
  expiresAtMs: createdAtMs + 60_000,
  envelope: env(`challenge-${id}`),
  request: { tool: 'pay', id },
});

export function describeGovernanceContract(db: () => Promise<ContractHandles>): void {
  describe('governance log, applications, challenges, grants', () => {
    it('appends only at the head, once per digest; reads back in order, by subject, seq and digest', async () => {
      const { store: s } = await db();
      expect(await s.governanceHead()).toBeUndefined();
      expect((await s.appendGovernanceEvent((head) => row(head, h('a'), 'c1'))).seq).toBe(1);
      await s.appendGovernanceEvent((head) => row(head, h('b'), 'c2'));
      await s.appendGovernanceEvent((head) => row(head, h('c'), 'c1'));
      expect(await s.governanceHead()).toEqual({ seq: 3, chain: h('c3') });
      await rejectsWith(
        s.appendGovernanceEvent((head) => ({ ...row(head, h('d')), seq: 7 })),
        'STORE_GOVERNANCE_CONFLICT',
      );
      await rejectsWith(
        s.appendGovernanceEvent((head) => ({ ...row(head, h('d')), prev: ZERO })),
        'STORE_GOVERNANCE_CONFLICT',
      );
      await rejectsWith(
        s.appendGovernanceEvent((head) => row(head, h('a'))),
        'STORE_DUPLICATE',
      );
      expect((await s.governanceEvents()).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect((await s.governanceEvents(2)).map((e) => e.digest)).toEqual([h('b'), h('c')]);
      expect((await s.governanceEventsAbout('c1')).map((e) => e.seq)).toEqual([1, 3]);
      expect(await s.governanceEventSeq(h('b'))).toBe(2);
      expect(await s.governanceEventSeq(h('z'))).toBeUndefined();
      expect(await s.governanceEvent(2)).toEqual(row({ seq: 1, chain: h('c1') }, h('b'), 'c2'));
      expect(await s.governanceEvent(9)).toBeUndefined();
      // A failure of the caller's own `make` is the caller's: rethrown unchanged, not retried,
      // not reported as a database failure; nothing appended.
      const own = new Error('signing failed');
      let calls = 0;
      await expect(
        s.appendGovernanceEvent(() => {
          calls += 1;
          throw own;
        }),
      ).rejects.toBe(own);
      expect(calls).toBe(1);
      expect((await s.governanceHead())?.seq).toBe(3);
    });

    it('concurrent appends from two handles serialize into one unforked log', async () => {
      const { store: a, peer } = await db();
      const b = await peer();
      const rows = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          (i % 2 ? b : a).appendGovernanceEvent((head) => row(head, h(`x${i}`))),
        ),
      );
      expect(rows.map((r) => r.seq).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 16 }, (_, i) => i + 1),
      );
      const log = await b.governanceEvents();
      for (const [i, e] of log.entries()) expect(e.prev).toBe(i === 0 ? ZERO : log[i - 1]?.chain);
    });

    it('an event is applied once, with its cursor and ledger movements, or not at all', async () => {
      const { store: s } = await db();
      expect(await s.governanceCursor()).toBeUndefined();
      const r = await s.ledgerReserve([{ account: 'acct', ceiling: 10 }], 4);
      await s.ledgerCommit(r as string);
      const held = await s.ledgerReserve([{ account: 'acct', ceiling: 10 }], 2);
      await s.applyGovernanceEvent(application(1, { ledger: [{ op: 'reset', account: 'acct' }] }));
      expect(await s.ledgerState('acct')).toEqual({ spent: 0, reserved: 2 });
      expect(await s.governanceCursor()).toEqual(env('cursor-1'));
      await rejectsWith(
        s.applyGovernanceEvent(application(1, { cursor: env('cursor-again') })),
        'STORE_DUPLICATE',
      );
      expect(await s.governanceCursor()).toEqual(env('cursor-1'));
      // A failing ledger movement takes the application down with it.
      await rejectsWith(
        s.applyGovernanceEvent(application(2, { ledger: [{ op: 'commit', id: 'budget-res-999' }] })),
        'STORE_RESERVATION_UNKNOWN',
      );
      expect((await s.governanceApplied()).map((x) => x.seq)).toEqual([1]);
      expect(await s.governanceApplied()).toEqual([
        { seq: 1, digest: h('e1'), chain: h('a1'), record: { seq: 1, outcome: 'applied' } },
      ]);
      await s.ledgerRefund(held as string);
    });

    it('I-GOVERN-2: two nodes applying one event race; exactly one application is recorded', async () => {
      const { store: a, peer } = await db();
      const b = await peer();
      const out = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? b : a).applyGovernanceEvent(application(1, { cursor: env(`c${i}`) })),
        ),
      );
      expect(out.filter((o) => o.status === 'fulfilled').length).toBe(1);
      for (const o of out.filter((o) => o.status === 'rejected'))
        expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'STORE_DUPLICATE' });
      expect((await a.governanceApplied()).length).toBe(1);
    });

    it('an administrative receipt applies its event atomically; a duplicate application writes no receipt', async () => {
      const { store: s } = await db();
      const st = fresh();
      await s.commitCall({ ...makeCall(st, 's', 0), governance: application(1) });
      expect((await s.governanceApplied()).map((x) => x.seq)).toEqual([1]);
      const again = makeCall({ ...st }, 's', 1);
      await rejectsWith(s.commitCall({ ...again, governance: application(1) }), 'STORE_DUPLICATE');
      expect((await s.receipts()).length).toBe(1);
      expect(await s.idempotency(again.idempotency?.key ?? '')).toBeUndefined();
      // In one group, the duplicate is rolled back alone.
      const st2 = fresh();
      const results = await s.commitCalls([
        { ...makeCall(st2, 'g', 0, 'g'), governance: application(1) },
        { ...makeCall({ lamport: 0, hash: GENESIS }, 'g', 0, 'g'), governance: application(2) },
      ]);
      expect(results[0]).toMatchObject({ code: 'STORE_DUPLICATE' });
      expect(results[1]).toMatchObject({ lamport: 1 });
      expect((await s.governanceApplied()).map((x) => x.seq)).toEqual([1, 2]);
      // A node catching up reads only the records from the position it needs.
      expect((await s.governanceApplied(2)).map((x) => x.seq)).toEqual([2]);
      expect(await s.governanceApplied(3)).toEqual([]);
    });

    it('stores challenges with the receipt that escalated them and closes each once', async () => {
      const { store: s } = await db();
      const st = fresh();
      const first = makeCall(st, 's', 0);
      await s.commitCall({ ...first, challenges: [challenge('ch-b', 20), challenge('ch-a', 10)] });
      const other = { ...challenge('ch-c', 5), chainId: 'other' };
      const second = makeCall(st, 's', 1);
      await s.commitCall({ ...second, challenges: [other, challenge('ch-a', 99)] });
      const all = await s.governanceChallenges();
      expect(all.map((c) => c.id)).toEqual(['ch-c', 'ch-a', 'ch-b']);
      // The first stored version of a challenge stays (no overwrite by a later receipt).
      expect(await s.governanceChallenge('ch-a')).toEqual({
        ...challenge('ch-a', 10),
        receiptId: first.receipt.id,
        closed: null,
      });
      expect((await s.governanceChallenges('other')).map((c) => c.receiptId)).toEqual([second.receipt.id]);
      await s.commitCall({ ...makeCall(st, 's', 2), closedChallenges: [{ id: 'ch-a', why: 'expired' }] });
      await s.commitCall({ ...makeCall(st, 's', 3), closedChallenges: [{ id: 'ch-a', why: 'again' }] });
      expect((await s.governanceChallenge('ch-a'))?.closed).toBe('expired');
      expect(await s.governanceChallenge('nope')).toBeUndefined();
    });

    it('governanceView: the log, applications, cursor, challenges (of a chain) and grants as the single reads list them', async () => {
      const { store: s } = await db();
      expect(await s.governanceView()).toEqual({
        events: [],
        applied: [],
        cursor: undefined,
        challenges: [],
        grants: [],
      });
      let head: { seq: number; chain: string } | undefined;
      for (const d of ['e1', 'e2'])
        head = (await s.appendGovernanceEvent((now) => row(now, h(d), `sub-${d}`))) as never;
      await s.applyGovernanceEvent(application(1));
      const st = fresh();
      await s.commitCall({
        ...makeCall(st, 's', 0),
        challenges: [challenge('ch-b', 20), { ...challenge('ch-o', 5), chainId: 'other' }],
      });
      await s.admitCall({
        id: 'adm-g',
        sessionId: 's',
        body: {},
        grant: { challengeId: 'ch-b', decisionId: 'd' },
      });
      const view = await s.governanceView('default');
      expect(head?.seq).toBe(2);
      expect(view).toEqual({
        events: await s.governanceEvents(),
        applied: await s.governanceApplied(),
        cursor: await s.governanceCursor(),
        challenges: await s.governanceChallenges('default'),
        grants: await s.governanceGrants(),
      });
      expect([view.events.length, view.applied.length, view.challenges.length, view.grants.length]).toEqual([
        2, 1, 1, 1,
      ]);
      expect((await s.governanceView()).challenges.map((c) => c.id)).toEqual(['ch-o', 'ch-b']);
    });

    it('I-GOVERN-2: a grant is consumed by one admission, cluster-wide; the loser writes nothing', async () => {
      const { store: a, peer } = await db();
      const b = await peer();
      const grant = { challengeId: 'ch-1', decisionId: 'dec-1' };
      const out = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? b : a).admitCall({ id: `adm-${i}`, sessionId: 's', body: { i }, grant }),
        ),
      );
      expect(out.filter((o) => o.status === 'fulfilled').length).toBe(1);
      for (const o of out.filter((o) => o.status === 'rejected'))
        expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'STORE_GRANT_CONSUMED' });
      const admitted = await a.admissions();
      expect(admitted.length).toBe(1);
      expect(await b.governanceGrants()).toEqual([{ ...grant, admissionId: admitted[0]?.id }]);
      expect(await a.governanceGrant('ch-1')).toEqual({ ...grant, admissionId: admitted[0]?.id });
      expect(await a.governanceGrant('ch-2')).toBeUndefined();
      // A refused grant also takes the admission's reservation down with it.
      const res = await a.ledgerReserve([{ account: 'g', ceiling: 5 }], 1);
      await a.ledgerRefund(res as string);
      await rejectsWith(
        a.admitCall({ id: 'adm-x', sessionId: 's', body: {}, grant }, [
          { op: 'reserve', id: 'held-1', charges: [{ account: 'g', ceiling: 5 }], amount: 3 },
        ]),
        'STORE_GRANT_CONSUMED',
      );
      expect(await a.ledgerState('g')).toEqual({ spent: 0, reserved: 0 });
    });

    it('a ledger reset zeroes spent, keeps what open reservations hold, and is listed per account', async () => {
      const { store: s } = await db();
      const charges = [
        { account: 'b:day', ceiling: 100 },
        { account: 'a:day', ceiling: 100 },
      ];
      const r1 = await s.ledgerReserve(charges, 7);
      await s.ledgerCommit(r1 as string);
      const r2 = await s.ledgerReserve(charges, 3);
      expect(await s.ledgerAccounts()).toEqual([
        { account: 'a:day', spent: 7, reserved: 3 },
        { account: 'b:day', spent: 7, reserved: 3 },
      ]);
      await s.ledgerApply([{ op: 'reset', account: 'a:day' }]);
      expect(await s.ledgerState('a:day')).toEqual({ spent: 0, reserved: 3 });
      expect(await s.ledgerState('b:day')).toEqual({ spent: 7, reserved: 3 });
      // A reset inside a governed call, next to the commit of the held reservation.
      await s.commitCall({
        ...makeCall(fresh(), 's', 0),
        ledger: [
          { op: 'commit', id: r2 as string },
          { op: 'reset', account: 'b:day' },
        ],
      });
      expect(await s.ledgerAccounts()).toEqual([
        { account: 'a:day', spent: 3, reserved: 0 },
        { account: 'b:day', spent: 0, reserved: 0 },
      ]);
      await s.ledgerApply([{ op: 'reset', account: 'never-charged' }]);
      expect(await s.ledgerState('never-charged')).toEqual({ spent: 0, reserved: 0 });
      await rejectsWith(s.ledgerApply([{ op: 'reset', account: '' }]), 'STORE_INVALID_RECORD');
    });

    it('idempotency: a record is replaced only by a call superseding exactly its receipt', async () => {
      const { store: s, peer } = await db();
      const st = fresh();
      const first = makeCall(st, 's', 0);
      await s.commitCall({ ...first, idempotency: { key: 'k', value: { n: 1 } } });
      expect(await s.idempotencyEntry('k')).toEqual({
        key: 'k',
        receiptId: first.receipt.id,
        value: { n: 1 },
      });
      expect(await s.idempotencyEntry('none')).toBeUndefined();
      await rejectsWith(
        s.commitCall({
          ...makeCall({ ...st }, 's', 1),
          idempotency: { key: 'k', value: 2, supersedes: 'r-x' },
        }),
        'STORE_IDEMPOTENCY_CONFLICT',
      );
      expect((await s.receipts()).length).toBe(1);
      const second = makeCall(st, 's', 1);
      await s.commitCall({
        ...second,
        idempotency: { key: 'k', value: { n: 2 }, supersedes: first.receipt.id },
      });
      expect(await s.idempotencyEntry('k')).toEqual({
        key: 'k',
        receiptId: second.receipt.id,
        value: { n: 2 },
      });
      // Supersedes of a key never stored: an ordinary first write.
      const third = makeCall(st, 's', 2);
      await s.commitCall({ ...third, idempotency: { key: 'new', value: 3, supersedes: 'r-gone' } });
      expect(await s.idempotency('new')).toBe(3);
      // Two nodes superseding the same expired record: one replaces it, the other conflicts.
      const b = await peer();
      const racers = [s, b].map((x, i) =>
        x.commitCall({
          ...makeCall(fresh(), `race${i}`, 0, `race-${i}`),
          idempotency: { key: 'k', value: { winner: i }, supersedes: second.receipt.id },
        }),
      );
      const out = await Promise.allSettled(racers);
      expect(out.filter((o) => o.status === 'fulfilled').length).toBe(1);
      expect(out.find((o) => o.status === 'rejected')).toMatchObject({
        reason: { code: 'STORE_IDEMPOTENCY_CONFLICT' },
      });
      const winner = out.findIndex((o) => o.status === 'fulfilled');
      expect(await b.idempotency('k')).toEqual({ winner });
    });
  });
}
