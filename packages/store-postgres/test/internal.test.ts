// The pure parts: SQLSTATE → stable code, and the checks made before anything is sent.
import { StoreError } from '@helm/store';
import { DatabaseError } from 'pg';
import { describe, expect, it } from 'vitest';
import { connectionBroken, retryable, toStoreError } from '../src/internal/errors.ts';
import { AsyncGroupCommitter } from '../src/internal/group-commit.ts';
import { checkAdmission, checkCall, checkLedger, checkText, readJson } from '../src/internal/records.ts';

function serverError(code: string, constraint?: string): DatabaseError {
  const e = new DatabaseError('server says no', 0, 'error');
  e.code = code;
  if (constraint) e.constraint = constraint;
  return e;
}

describe('SQLSTATE mapping', () => {
  it.each([
    ['55P03', undefined, 'STORE_TIMEOUT'],
    ['57014', undefined, 'STORE_TIMEOUT'],
    ['40001', undefined, 'STORE_CONFLICT'],
    ['40P01', undefined, 'STORE_CONFLICT'],
    ['23505', 'receipts_chain_lamport', 'STORE_CHAIN_CONFLICT'],
    ['23505', 'nodes_pkey', 'STORE_DUPLICATE'],
    ['23503', 'receipts_no_gap', 'STORE_CHAIN_CONFLICT'],
    ['23503', 'session_artifacts_digest_fkey', 'STORE_INVALID_RECORD'],
    ['23514', undefined, 'STORE_INVALID_RECORD'],
    ['22021', undefined, 'STORE_INVALID_RECORD'],
    ['57P01', undefined, 'STORE_UNAVAILABLE'],
    ['57P02', undefined, 'STORE_UNAVAILABLE'],
    ['57P03', undefined, 'STORE_UNAVAILABLE'],
    ['53300', undefined, 'STORE_UNAVAILABLE'],
    ['3D000', undefined, 'STORE_UNAVAILABLE'],
    ['28000', undefined, 'STORE_UNAVAILABLE'],
    ['28P01', undefined, 'STORE_UNAVAILABLE'],
    ['25006', undefined, 'STORE_UNAVAILABLE'],
    ['08006', undefined, 'STORE_UNAVAILABLE'],
    ['53100', undefined, 'STORE_UNAVAILABLE'],
    ['58030', undefined, 'STORE_UNAVAILABLE'],
    ['42P01', undefined, 'STORE_IO'],
  ])('%s (%s) is %s', (state, constraint, code) => {
    const e = toStoreError(serverError(state, constraint), 'op');
    expect(e).toBeInstanceOf(StoreError);
    expect(e.code).toBe(code);
    expect(e.cause).toBeInstanceOf(DatabaseError);
  });

  it('anything that is not a server error is STORE_UNAVAILABLE; StoreErrors pass through', () => {
    expect(toStoreError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'op').code).toBe(
      'STORE_UNAVAILABLE',
    );
    expect(toStoreError(Object.assign(new Error('x'), { code: 'EPIPE' }), 'op').code).toBe(
      'STORE_UNAVAILABLE',
    );
    expect(toStoreError('not even an error', 'op').code).toBe('STORE_UNAVAILABLE');
    const own = new StoreError('STORE_NONCE_REUSED', 'x');
    expect(toStoreError(own, 'op')).toBe(own);
  });

  it('retries only what left nothing behind; a broken connection is never reused', () => {
    expect(retryable(serverError('40P01'))).toBe(true);
    expect(retryable(serverError('40001'))).toBe(true);
    expect(retryable(serverError('55P03'))).toBe(false);
    expect(retryable(new Error('socket'))).toBe(false);
    expect(connectionBroken(new Error('socket'))).toBe(true);
    expect(connectionBroken(serverError('08003'))).toBe(true);
    expect(connectionBroken(serverError('57P01'))).toBe(true);
    expect(connectionBroken(serverError('23505'))).toBe(false);
  });
});

describe('checks before anything is sent', () => {
  const bad = (fn: () => void): void => {
    expect(fn).toThrow(expect.objectContaining({ code: 'STORE_INVALID_RECORD' }) as unknown as Error);
  };
  const receipt = {
    id: 'r',
    lamport: 1,
    prevHash: 'p',
    hash: 'h',
    envelope: { payload: 'x', signatures: [] },
  };
  const call = { sessionId: 's', receipt } as never;

  it('refuses malformed calls, admissions and ledger movements', () => {
    expect(() => checkCall(call)).not.toThrow();
    bad(() => checkCall(undefined as never));
    bad(() => checkCall({ ...(call as object), chainId: 7 } as never));
    bad(() => checkCall({ ...(call as object), receipt: { ...receipt, lamport: 0 } } as never));
    bad(() => checkCall({ ...(call as object), budget: [{ key: 'k', delta: 1, limit: 'x' }] } as never));
    bad(() =>
      checkCall({ ...(call as object), nodes: [{ id: 'n', kind: 'K', lamport: 1.5, parents: [] }] } as never),
    );
    bad(() => checkCall({ ...(call as object), nonces: [{ scope: 's' }] } as never));
    bad(() => checkCall({ ...(call as object), idempotency: { key: 1 } } as never));
    bad(() => checkCall({ ...(call as object), admissionId: 1 } as never));
    bad(() => checkLedger('nope' as never));
    bad(() =>
      checkLedger([
        { op: 'reserve', id: 'r', charges: [{ account: 'a', ceiling: '1' }], amount: 1 },
      ] as never),
    );
    expect(() => checkLedger([{ op: 'refund', id: 'r' }])).not.toThrow();
    bad(() => checkAdmission({ id: 'a', sessionId: 's', reservationId: 3, body: null } as never));
    bad(() => checkAdmission({ id: 'a', sessionId: 's', chainId: 3, body: null } as never));
    expect(() => checkAdmission({ id: 'a', sessionId: 's', reservationId: null, body: null })).not.toThrow();
    // Fields a later record version adds are refused, never silently dropped.
    bad(() => checkCall({ ...(call as object), grant: { challengeId: 'c' } } as never));
    bad(() =>
      checkCall({
        ...(call as object),
        idempotency: { key: 'k', value: 1, supersedes: 'r0', ttl: 1 },
      } as never),
    );
    bad(() =>
      checkCall({ ...(call as object), idempotency: { key: 'k', value: 1, supersedes: 7 } } as never),
    );
    expect(() =>
      checkCall({ ...(call as object), idempotency: { key: 'k', value: 1, supersedes: 'r0' } } as never),
    ).not.toThrow();
    bad(() => checkAdmission({ id: 'a', sessionId: 's', body: null, grant: { challengeId: '' } } as never));
    bad(() =>
      checkAdmission({
        id: 'a',
        sessionId: 's',
        body: null,
        grant: { challengeId: 'c', decisionId: 1 },
      } as never),
    );
    expect(() =>
      checkAdmission({ id: 'a', sessionId: 's', body: null, grant: { challengeId: 'c', decisionId: 'd' } }),
    ).not.toThrow();
    bad(() => checkLedger([{ op: 'reset', account: '' }] as never));
    bad(() => checkLedger([{ op: 'zero', account: 'a' }] as never));
    expect(() => checkLedger([{ op: 'reset', account: 'a' }])).not.toThrow();
    expect(() => checkCall({ ...(call as object), grant: undefined } as never)).not.toThrow();
    // A governance application is refused with synchronous writes it could not run in its
    // transaction, or with fields this store does not know.
    const app = { seq: 1, digest: 'd', chain: 'c', record: {}, cursor: { payload: 'p' } };
    expect(() => checkCall({ ...(call as object), governance: app } as never)).not.toThrow();
    bad(() => checkCall({ ...(call as object), governance: { ...app, apply: () => {} } } as never));
    bad(() => checkCall({ ...(call as object), governance: { ...app, seq: 0 } } as never));
    bad(() => checkCall({ ...(call as object), governance: { ...app, extra: 1 } } as never));
    bad(() => checkCall({ ...(call as object), challenges: [{ id: 'c', chainId: 'x' }] } as never));
    bad(() => checkCall({ ...(call as object), closedChallenges: [{ id: 'c' }] } as never));
  });

  it('refuses text PostgreSQL cannot hold exactly, and JSON that is not strict', () => {
    bad(() => checkText('\u0000', 'x'));
    bad(() => checkText('a\udfff', 'x'));
    expect(() => checkText('\ud83d\ude00 ok', 'x')).not.toThrow();
    expect(readJson('{"a":[1,2]}', 'x')).toEqual({ a: [1, 2] });
    bad(() => readJson('{"a":1,"a":1}', 'x'));
    bad(() => readJson('NaN', 'x'));
  });
});

describe('AsyncGroupCommitter', () => {
  it('batches what arrives while a flush runs, keeps order, and rejects a whole batch whose flush throws', async () => {
    const batches: number[][] = [];
    const g = new AsyncGroupCommitter<number, number>(async (items) => {
      batches.push([...items]);
      if (items.includes(-1)) throw new Error('boom');
      return items.map((x) => (x === 0 ? new Error('zero') : x * 2));
    }, 3);
    const ps = [1, 2, 3, 4].map((x) => g.submit(x));
    expect(await Promise.all(ps)).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1, 2, 3], [4]]);
    await expect(g.submit(0)).rejects.toThrow('zero');
    await expect(g.submit(-1)).rejects.toThrow('boom');
    await g.idle();
    expect(g.flushes).toBe(4);
  });
});
