// I-REPLAY-2 — stored results are namespaced by the authenticated principal and tenant (and the
// verified session), and released only as what their own receipt signed. An attacker with its own
// valid credential reuses a victim's client key; a data-directory writer edits or moves a stored row.
import { canonicalBytes, digest, toBase64Url } from '@helm/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ExecuteRequest,
  type IdempotencyRecord,
  type IdempotencyStore,
  InMemoryIdempotencyStore,
} from '../../src/index.ts';
import { aliceContext, body, build, FINGERPRINT } from '../helpers/world.ts';

const READ: ExecuteRequest = {
  tool: 'files.read',
  principal: 'alice',
  args: { path: '/data/report.csv' },
  idempotency_key: 'read-1',
  context: aliceContext(),
};

/** A store whose rows the attacker (a data-dir writer) can rewrite between calls. */
class WritableStore implements IdempotencyStore {
  readonly inner = new InMemoryIdempotencyStore();
  readonly rows = new Map<string, IdempotencyRecord>();
  get(key: string): IdempotencyRecord | undefined {
    return this.rows.get(key);
  }
  put(record: IdempotencyRecord): void {
    if (!this.rows.has(record.key)) this.rows.set(record.key, record);
  }
}

describe('I-REPLAY-2: stored results are namespaced by authenticated identity and bound to their receipt', () => {
  it('another authenticated principal reusing the client key never receives the stored output', async () => {
    const w = build();
    const first = await w.executor.execute(READ);
    expect(first.status).toBe('SUCCEEDED');
    // agent-7 holds its own valid credential; it is not allowed to read /data/report.csv itself.
    const r = await w.executor.execute({
      ...READ,
      principal: 'agent-7',
      context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-agent' },
    });
    expect(r.output).toBeUndefined();
    expect(r.replayed).toBe(false);
    expect(r.verdict).toBe('DENY');
  });

  it('the replay receipt names the original, carries its output hash, and is not charged', async () => {
    const w = build();
    const first = await w.executor.execute(READ);
    const spent = w.ledger.state('principal:alice');
    const r = await w.executor.execute(READ);
    const original = body<{ receipt_id: string; output_hash: string }>(first.receipt!);
    const replay = body<{ output_hash: string; reason_code: string; evidence: Record<string, string> }>(
      r.receipt!,
    );
    expect(replay.reason_code).toBe('IDEMPOTENT_REPLAY');
    expect(replay.evidence.replay_of).toBe(original.receipt_id);
    expect(replay.output_hash).toBe(original.output_hash);
    expect(replay.output_hash).toBe(digest(canonicalBytes(r.output)));
    expect(w.ledger.state('principal:alice')).toEqual(spent);
  });

  it('property: an edited stored row (output, receipt, tool, args) releases nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'output',
          'receipt_hash',
          'receipt_payload',
          'moved_key',
          'forged_payload_same_signature',
        ) as fc.Arbitrary<string>,
        fc.string({ minLength: 1, maxLength: 20 }),
        async (edit, junk) => {
          const store = new WritableStore();
          const w = build({ idempotency: store });
          const first = await w.executor.execute(READ);
          const [key, row] = [...store.rows][0]!;
          let edited: IdempotencyRecord;
          if (edit === 'output') edited = { ...row, output: { text: `forged ${junk}` } };
          else if (edit === 'receipt_hash') edited = { ...row, receipt_hash: digest(canonicalBytes(junk)) };
          else if (edit === 'receipt_payload') {
            const other = await w.executor.execute({
              ...READ,
              idempotency_key: `other-${junk}`,
              args: { path: '/data/x.csv' },
            });
            edited = { ...row, receipt: other.receipt!, receipt_hash: other.receipt_hash! };
          } else if (edit === 'forged_payload_same_signature') {
            // The payload is rewritten to name the forged output's hash; the signature bytes (and so
            // receipt_hash, a digest of them) are kept: only a full signature check catches it.
            const forged = { text: `forged ${junk}` };
            const original = body<Record<string, unknown>>(row.receipt);
            const payload = toBase64Url(
              canonicalBytes({ ...original, output_hash: digest(canonicalBytes(forged)) }),
            );
            edited = { ...row, output: forged, receipt: { ...row.receipt, payload } };
          } else {
            // A row stored under one key copied under another principal's key: its receipt names
            // another key, so it is refused even if the attacker could also pass the gates.
            const stolen = await w.executor.execute({ ...READ, idempotency_key: `stolen-${junk}` });
            const stolenRow = store.rows.get(stolen.idempotency_key!)!;
            edited = { ...row, receipt: stolenRow.receipt, receipt_hash: stolenRow.receipt_hash };
          }
          store.rows.set(key, edited);
          const calls = w.driverCalls.length;
          const r = await w.executor.execute(READ);
          expect(r).toMatchObject({
            status: 'DENIED',
            reason_code: 'IDEMPOTENCY_RECORD_INVALID',
            replayed: false,
          });
          expect(r.output).toBeUndefined();
          expect(r.receipt).not.toBeNull();
          expect(w.driverCalls).toHaveLength(calls);
          expect(first.status).toBe('SUCCEEDED');
        },
      ),
      { seed: 15, numRuns: 24 },
    );
  });

  it('a client key is scoped to the verified delegation session: another session never replays it', async () => {
    const w = build();
    const verifier = `${'v'.repeat(43)}-verifier_0123456789`;
    const { pkceChallenge } = await import('@helm/guardian');
    const session = (ttl: number) =>
      w.guardian.delegations!.create({
        delegator: 'alice',
        delegate: 'agent-7',
        grants: [
          {
            tool: { eq: 'files.read' },
            effect_type: { eq: 'fs.read' },
            resource: { prefix: '/data/public/' },
          },
        ],
        ttl_ms: ttl,
        code_challenge: pkceChallenge(verifier),
        mfa_verified: true,
      }).session;
    const [s1, s2] = [session(600_000), session(600_001)];
    expect(s1.session_id).not.toBe(s2.session_id);
    const call = (id: string, nonce: string) =>
      w.executor.execute({
        tool: 'files.read',
        principal: 'agent-7',
        args: { path: '/data/public/menu.txt' },
        idempotency_key: 'same-client-key',
        context: {
          environment_fingerprint: FINGERPRINT,
          credential_id: 'cred-agent',
          delegation: { session_id: id, code_verifier: verifier, nonce },
        },
      });
    const first = await call(s1.session_id, 'nonce-0000000001');
    expect(first).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW' });
    const other = await call(s2.session_id, 'nonce-0000000002');
    expect(other).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW', replayed: false });
    expect(w.driverCalls).toHaveLength(2);
    const same = await call(s1.session_id, 'nonce-0000000003');
    expect(same).toMatchObject({ reason_code: 'IDEMPOTENT_REPLAY', replayed: true });
  });
});
