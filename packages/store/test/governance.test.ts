// The governance tables (migration 5): an append-only, position-checked event log; application
// records written once with the runtime's cursor and the action's writes in one transaction;
// approval challenges stored with their receipt; a grant recorded as used at most once; and
// nested transactions (savepoints) so a caller can make several writes one unit.
import type { SignedEnvelope } from '@helm/contracts';
import { describe, expect, it } from 'vitest';
import { type GovernanceEventRow, openSqliteStore, type StoreError } from '../src/index.ts';
import { type ChainState, GENESIS, makeCall } from './fixtures/chain.ts';

const ZERO = `sha256:${'0'.repeat(64)}`;
const h = (c: string) => `sha256:${c.repeat(64)}`;
const env = (payload: string): SignedEnvelope => ({
  type: 'helm.governance.event.v1',
  payload,
  signatures: [{ keyid: 'ed25519:' + 'a'.repeat(64), sig: 'x' }],
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as StoreError).code;
  }
  return undefined;
}

const row = (
  head: { seq: number; chain: string } | undefined,
  digest: string,
  subject: string | null = null,
): GovernanceEventRow => ({
  seq: (head?.seq ?? 0) + 1,
  digest,
  prev: head?.chain ?? ZERO,
  chain: h(String((head?.seq ?? 0) + 1)),
  action: 'approval.grant',
  signer: 'ed25519:' + 'a'.repeat(64),
  subject,
  trustSeq: 3,
  envelope: env(digest),
});

describe('governance log', () => {
  it('appends only at the head, once per digest, and reads back in order and by subject', () => {
    const store = openSqliteStore(':memory:');
    expect(store.governanceHeadSync()).toBeUndefined();
    const first = store.appendGovernanceEventSync((head) => row(head, h('a'), 'c1'));
    expect(first.seq).toBe(1);
    store.appendGovernanceEventSync((head) => row(head, h('b'), 'c2'));
    store.appendGovernanceEventSync((head) => row(head, h('c'), 'c1'));
    expect(store.governanceHeadSync()).toEqual({ seq: 3, chain: h('3') });
    // Not the next position, or not linked to the head: nothing is written.
    expect(code(() => store.appendGovernanceEventSync((head) => ({ ...row(head, h('d')), seq: 7 })))).toBe(
      'STORE_GOVERNANCE_CONFLICT',
    );
    expect(
      code(() => store.appendGovernanceEventSync((head) => ({ ...row(head, h('d')), prev: ZERO }))),
    ).toBe('STORE_GOVERNANCE_CONFLICT');
    expect(code(() => store.appendGovernanceEventSync((head) => row(head, h('a'))))).toBe('STORE_DUPLICATE');
    expect(store.governanceEventsSync().map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(store.governanceEventsSync(2).map((e) => e.digest)).toEqual([h('b'), h('c')]);
    expect(store.governanceEventsAboutSync('c1').map((e) => e.seq)).toEqual([1, 3]);
    expect(store.governanceEventSync(2)).toMatchObject({
      digest: h('b'),
      trustSeq: 3,
      envelope: env(h('b')),
    });
    expect(store.governanceEventSync(9)).toBeUndefined();
    expect(store.governanceEventSeqSync(h('c'))).toBe(3);
    expect(store.governanceEventSeqSync(h('f'))).toBeUndefined();
  });

  it('an application is written once, with the cursor and the action’s writes, or not at all', () => {
    const store = openSqliteStore(':memory:');
    store.appendGovernanceEventSync((head) => row(head, h('a')));
    const cursor = env('cursor-1');
    expect(store.governanceCursorSync()).toBeUndefined();
    // The action's writes fail: neither the record nor the cursor is written.
    expect(() =>
      store.applyGovernanceEventSync({
        seq: 1,
        digest: h('a'),
        chain: h('e'),
        record: { outcome: 'applied' },
        cursor,
        apply: () => {
          store.putDocumentSync('test', 'k', 1);
          throw new Error('disk full');
        },
      }),
    ).toThrow('disk full');
    expect(store.governanceAppliedSync()).toEqual([]);
    expect(store.governanceCursorSync()).toBeUndefined();
    expect(store.getDocumentSync('test', 'k')).toBeUndefined();
    store.applyGovernanceEventSync({
      seq: 1,
      digest: h('a'),
      chain: h('e'),
      record: { outcome: 'applied' },
      cursor,
      apply: () => store.putDocumentSync('test', 'k', 1),
    });
    expect(store.getDocumentSync('test', 'k')).toBe(1);
    expect(store.governanceAppliedSync()).toEqual([
      { seq: 1, digest: h('a'), chain: h('e'), record: { outcome: 'applied' } },
    ]);
    expect(store.governanceCursorSync()).toEqual(cursor);
    expect(
      code(() =>
        store.applyGovernanceEventSync({
          seq: 1,
          digest: h('a'),
          chain: h('e'),
          record: {},
          cursor: env('cursor-2'),
        }),
      ),
    ).toBe('STORE_DUPLICATE');
    expect(store.governanceCursorSync()).toEqual(cursor);
  });

  it('challenges are stored with the receipt that escalated, closures recorded; an application rides on a receipt', async () => {
    const store = openSqliteStore(':memory:');
    const state: ChainState = { lamport: 0, hash: GENESIS };
    const challenge = {
      id: h('1'),
      chainId: 'default',
      createdAtMs: 10,
      expiresAtMs: 20,
      envelope: env('challenge'),
      request: { tool: 'deploy' },
    };
    const first = makeCall(state, 's', 1);
    await store.commitCall({ ...first, challenges: [challenge] });
    // Stored once (a later call holding the same challenge changes nothing).
    await store.commitCall({
      ...makeCall(state, 's', 2),
      challenges: [{ ...challenge, request: { tool: 'other' } }],
    });
    expect(store.governanceChallengesSync()).toEqual([
      { ...challenge, receiptId: first.receipt.id, closed: null },
    ]);
    expect(store.governanceChallengesSync('other-chain')).toEqual([]);
    await store.commitCall({
      ...makeCall(state, 's', 3),
      closedChallenges: [{ id: h('1'), why: 'expired' }],
    });
    expect(store.governanceChallengeSync(h('1'))?.closed).toBe('expired');
    expect(store.governanceChallengeSync(h('2'))).toBeUndefined();
    store.appendGovernanceEventSync((head) => row(head, h('a')));
    const admin = makeCall(state, 's', 4);
    await store.commitCall({
      ...admin,
      governance: {
        seq: 1,
        digest: h('a'),
        chain: h('e'),
        record: { receipt_id: admin.receipt.id },
        cursor: env('c'),
      },
    });
    expect(store.governanceAppliedSync()[0]?.record).toEqual({ receipt_id: admin.receipt.id });
  });

  it('a grant is recorded used with its admission, at most once', () => {
    const store = openSqliteStore(':memory:');
    store.admitCallSync({
      id: 'adm-1',
      sessionId: 's',
      body: {},
      grant: { challengeId: h('1'), decisionId: h('d') },
    });
    expect(store.governanceGrantSync(h('1'))).toEqual({
      challengeId: h('1'),
      decisionId: h('d'),
      admissionId: 'adm-1',
    });
    expect(
      code(() =>
        store.admitCallSync({
          id: 'adm-2',
          sessionId: 's',
          body: {},
          grant: { challengeId: h('1'), decisionId: h('f') },
        }),
      ),
    ).toBe('STORE_GRANT_CONSUMED');
    // The refused admission was not written either.
    expect(store.admissionsSync().map((a) => a.id)).toEqual(['adm-1']);
    expect(store.governanceGrantsSync()).toHaveLength(1);
    expect(store.governanceGrantSync(h('2'))).toBeUndefined();
  });

  it('transactionSync makes several writes one unit; nested transactions are savepoints', async () => {
    const store = openSqliteStore(':memory:');
    expect(() =>
      store.transactionSync(() => {
        store.putDocumentSync('t', 'a', 1);
        store.appendGovernanceEventSync((head) => row(head, h('a')));
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(store.getDocumentSync('t', 'a')).toBeUndefined();
    expect(store.governanceHeadSync()).toBeUndefined();
    const state: ChainState = { lamport: 0, hash: GENESIS };
    store.transactionSync(() => {
      store.putDocumentSync('t', 'b', 2);
      // An inner failure rolls back only its savepoint.
      expect(code(() => store.appendGovernanceEventSync((head) => ({ ...row(head, h('a')), seq: 5 })))).toBe(
        'STORE_GOVERNANCE_CONFLICT',
      );
      store.appendGovernanceEventSync((head) => row(head, h('a')));
      store.commitCallSync(makeCall(state, 's', 1));
      // A failing call inside the caller's transaction throws (it is not half-committed).
      expect(() => store.commitCallsSync([makeCall({ lamport: 5, hash: GENESIS }, 's', 9)])).toThrow();
    });
    expect(store.getDocumentSync('t', 'b')).toBe(2);
    expect(store.governanceHeadSync()?.seq).toBe(1);
    expect(store.chainHeadSync()?.lamport).toBe(1);
    const pending = store.commitCall(makeCall(state, 's', 2));
    store.flushSync();
    expect(store.chainHeadSync()?.lamport).toBe(2);
    await pending;
    store.closeSync();
    expect(code(() => store.transactionSync(() => 1))).toBe('STORE_CLOSED');
  });
});
