// I-REPLAY-1 on a shared database: an open admission claims its caller's idempotency key, so one
// key runs one driver cluster-wide — a second node's admission of the key is refused while the
// first is open (STORE_IDEMPOTENCY_CONFLICT, nothing written), and after the first committed its
// result, unless it supersedes exactly that (expired) result.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from '../src/index.ts';
import { createTestDatabase } from './harness.ts';

const db = await createTestDatabase('sp_idem_claim');
afterAll(() => db.drop());
const opened: PostgresStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
});
const open = async (nodeId: string) => {
  const s = await openPostgresStore({
    connectionString: db.url,
    nodeId,
    schema: 'claim',
    groupCommit: false,
  });
  opened.push(s);
  return s;
};
const admission = (id: string, key: string, supersedes?: string) => ({
  id,
  chainId: id,
  sessionId: id,
  body: { id },
  idempotency: { key, ...(supersedes === undefined ? {} : { supersedes }) },
});

describe('idempotency claims at admission (I-REPLAY-1)', () => {
  it('attacker: two nodes admit one key at once — exactly one admission is written', async () => {
    const a = await open('node-a');
    const b = await open('node-b');
    const [x, y] = await Promise.all([
      a.admitCalls([{ admission: admission('a-1', 'k1') }]),
      b.admitCalls([{ admission: admission('b-1', 'k1') }]),
    ]);
    const outcomes = [x[0], y[0]];
    expect(outcomes.filter((o) => o === true)).toHaveLength(1);
    expect(outcomes.find((o) => o !== true)).toMatchObject({ code: 'STORE_IDEMPOTENCY_CONFLICT' });
    expect((await a.leasedAdmissions()).map((l) => l.id)).toHaveLength(1);
    expect(await a.idempotencyClaimed('k1')).toBe(true);
    expect(await a.idempotencyClaimed('k2')).toBe(false);
  });

  it('a key with a stored result is admitted only to supersede exactly that result', async () => {
    const a = await open('node-c');
    expect(await a.putIdempotency('k3', 'rcpt-1', { v: 1 })).toBe(true);
    await expect(a.admitCall(admission('c-1', 'k3'))).rejects.toMatchObject({
      code: 'STORE_IDEMPOTENCY_CONFLICT',
    });
    await expect(a.admitCall(admission('c-2', 'k3', 'rcpt-0'))).rejects.toMatchObject({
      code: 'STORE_IDEMPOTENCY_CONFLICT',
    });
    await a.admitCall(admission('c-3', 'k3', 'rcpt-1'));
    expect((await a.leasedAdmissions()).map((l) => l.id)).toContain('c-3');
  });
});
