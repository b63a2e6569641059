// The governance event log (I-GOVERN-1): appended without the runtime, applied by a running
// runtime at open and before each decision, each event exactly once, crash-safe; a forged,
// edited, reordered or rolled-back log is refused loudly and nothing is decided on it.
import { join } from 'node:path';
import type { DatabaseSync as DatabaseSyncType } from 'node:sqlite';
import { createSigner } from '@helm/crypto';
import { verifyEvidencePack } from '@helm/evidencepack';
import { describe, expect, it } from 'vitest';
import {
  appendGovernanceEvent,
  exportPack,
  GOVERNANCE_EFFECT_CLASS,
  governanceEventDigest,
  governanceLink,
  readGovernanceLog,
  reexecute,
  registerGovernanceHandler,
  signGovernanceEvent,
} from '../src/index.ts';
import {
  approve,
  codeOf,
  codeOfAsync,
  deployCall,
  freshGovernance,
  ManualClock,
  T0,
  withData,
  withRuntime,
} from './governance-fixture.ts';

const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');

/** A data-directory writer editing helm.db directly (no helm code, no keys). */
function sql(dir: string, fn: (db: DatabaseSyncType) => void): void {
  const db = new DatabaseSync(join(dir, 'helm.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

// A test handler for an administrative action: it records what it saw; its writes can be made to
// fail once (a crash between the event's effects and its record).
const seen: { seq: number; first: boolean }[] = [];
let failWrites = false;
registerGovernanceHandler('tool.repin', {
  check: (event) => {
    if (typeof event.body.tool !== 'string')
      throw Object.assign(new Error('tool missing'), { code: 'GOVERNANCE_EVENT_INVALID' });
  },
  apply: (event, _runtime, context) => {
    seen.push({ seq: event.seq, first: context.first });
    return {
      applied: true,
      output: { tool: event.body.tool ?? null },
      writes: () => {
        if (failWrites) throw new Error('disk full');
      },
    };
  },
});

function repin(dir: string, at: number, tool = 'echo') {
  return withData(dir, (data) =>
    appendGovernanceEvent(data, {
      action: 'tool.repin',
      body: { tool },
      signer: data.signer('policy', 'policy'),
      at,
    }),
  );
}

const receipts = (dir: string) => withData(dir, (data) => data.store.receiptsSync({ chainId: 'gov-test' }));

describe('I-GOVERN-1 the governance log — attackers first', () => {
  it('a row inserted directly in SQLite, signed by a key the registry does not give the role, is refused loudly and nothing is decided', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
    const before = receipts(dir).length;
    // A writer with no registry key; and one holding an approver key signing a policy action.
    for (const signerOf of [
      () => createSigner(new Uint8Array(32).fill(7)),
      (data: import('../src/index.ts').DataDir) => data.localKey('approver-1').signer,
    ]) {
      const { dir: d2 } = freshGovernance();
      await withRuntime(d2, clock, (rt) => rt.execute(deployCall()));
      withData(d2, (data) => {
        const signer = signerOf(data);
        const envelope = signGovernanceEvent({
          action: 'tool.repin',
          body: { tool: 'echo' },
          signer,
          at: T0,
          trustAnchor: data.config().trust_anchor,
          chainId: data.config().chain_id,
        });
        const digest = governanceEventDigest(envelope);
        const prev = `sha256:${'0'.repeat(64)}`;
        const seq = data.registry().seq;
        sql(d2, (db) =>
          db
            .prepare(
              'INSERT INTO governance_events (seq, digest, prev, chain, action, signer, subject, trust_seq, envelope) VALUES (1, ?, ?, ?, ?, ?, NULL, ?, ?)',
            )
            .run(
              digest,
              prev,
              governanceLink(1, prev, digest, seq),
              'tool.repin',
              signer.keyId,
              seq,
              JSON.stringify(envelope),
            ),
        );
      });
      expect(await codeOfAsync(() => withRuntime(d2, clock, async () => undefined))).toBe(
        'GOVERNANCE_LOG_INVALID',
      );
      expect(codeOf(() => withData(d2, (data) => readGovernanceLog(data)))).toBe('GOVERNANCE_LOG_INVALID');
      // And no one can append after it: the log must verify first.
      expect(codeOf(() => repin(d2, T0 + 1))).toBe('GOVERNANCE_LOG_INVALID');
      withData(d2, (data) => expect(data.store.governanceAppliedSync()).toHaveLength(0));
    }
    expect(receipts(dir).length).toBe(before);
  });

  it('an edited event, an edited application record, a reordered log or a missing cursor is refused', async () => {
    const edits: [string, (db: DatabaseSyncType) => void][] = [
      [
        'envelope',
        (db) => {
          const row = db.prepare('SELECT envelope FROM governance_events WHERE seq = 2').get() as {
            envelope: string;
          };
          const env = JSON.parse(row.envelope);
          env.signatures[0].sig = env.signatures[0].sig.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A'));
          db.prepare('UPDATE governance_events SET envelope = ? WHERE seq = 2').run(JSON.stringify(env));
        },
      ],
      [
        'record',
        (db) => {
          const row = db.prepare('SELECT record FROM governance_applied WHERE seq = 1').get() as {
            record: string;
          };
          const rec = JSON.parse(row.record);
          rec.clock_ms -= 1;
          db.prepare('UPDATE governance_applied SET record = ? WHERE seq = 1').run(JSON.stringify(rec));
        },
      ],
      [
        'reorder',
        (db) => {
          db.exec('UPDATE governance_events SET seq = 99 WHERE seq = 1');
          db.exec('UPDATE governance_events SET seq = 1 WHERE seq = 2');
          db.exec('UPDATE governance_events SET seq = 2 WHERE seq = 99');
        },
      ],
      ['cursor', (db) => db.exec('DELETE FROM governance_cursor')],
    ];
    for (const [what, edit] of edits) {
      const { dir } = freshGovernance();
      const clock = new ManualClock(T0);
      repin(dir, T0);
      repin(dir, T0 + 1, 'deploy');
      await withRuntime(dir, clock, async () => undefined);
      sql(dir, edit);
      expect(await codeOfAsync(() => withRuntime(dir, clock, async () => undefined)), what).toBe(
        'GOVERNANCE_LOG_INVALID',
      );
    }
  });

  it('a rolled-back log — applied events removed — is refused at open, and while a runtime runs', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    repin(dir, T0);
    repin(dir, T0 + 1, 'deploy');
    await withRuntime(dir, clock, async () => undefined);
    sql(dir, (db) => {
      db.exec('DELETE FROM governance_events WHERE seq = 2');
      db.exec('DELETE FROM governance_applied WHERE seq = 2');
    });
    expect(await codeOfAsync(() => withRuntime(dir, clock, async () => undefined))).toBe(
      'GOVERNANCE_LOG_INVALID',
    );

    const other = freshGovernance();
    await withRuntime(other.dir, clock, async (rt) => {
      repin(other.dir, T0 + 2);
      expect((await rt.execute(deployCall())).status).toBe('ESCALATED');
      const count = receipts(other.dir).length;
      sql(other.dir, (db) => db.exec('DELETE FROM governance_events WHERE seq = 1'));
      expect(await codeOfAsync(() => rt.execute(deployCall('9.9.9')))).toBe('GOVERNANCE_LOG_INVALID');
      expect(receipts(other.dir).length).toBe(count);
    });
  });
});

describe('I-GOVERN-1 each event applies exactly once', () => {
  it('an administrative event is applied once, receipted once (helm.admin.<action>), re-applied in memory at later opens; the pack verifies and re-executes', async () => {
    seen.length = 0;
    const { dir, anchor } = freshGovernance();
    const clock = new ManualClock(T0);
    const event = repin(dir, T0 - 5);
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000);
      await withRuntime(dir, clock, async (rt) => {
        await rt.execute({ ...deployCall(), tool: 'echo', args: { n: i } });
      });
    }
    expect(seen).toEqual([
      { seq: 1, first: true },
      { seq: 1, first: false },
      { seq: 1, first: false },
    ]);
    const all = receipts(dir);
    const admin = all.filter(
      (r) =>
        JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString()).tool === 'helm.admin.tool.repin',
    );
    expect(admin).toHaveLength(1);
    const body = JSON.parse(Buffer.from(admin[0]?.envelope.payload as string, 'base64url').toString());
    expect(body).toMatchObject({
      status: 'SUCCEEDED',
      principal: withData(dir, (d) => d.localKey('policy').signer.keyId),
      decision_id: event.digest,
      effect_class: GOVERNANCE_EFFECT_CLASS,
      evidence: { governance_event: event.digest },
      lamport: 1,
    });
    const applied = withData(dir, (data) => data.store.governanceAppliedSync());
    expect(applied).toHaveLength(1);
    expect((applied[0] as { record: { receipt_id: string } }).record.receipt_id).toBe(body.receipt_id);
    const pack = withData(dir, (data) => exportPack(data));
    const report = await verifyEvidencePack(pack.bytes, { trustAnchor: anchor });
    expect(report.checks.filter((c) => c.status !== 'PASS' && c.status !== 'SKIPPED')).toEqual([]);
    expect(report.status).toBe('PASS');
    const again = await withData(dir, (data) => reexecute(data));
    expect(again.divergences).toEqual([]);
    expect(again).toMatchObject({ ok: true, calls: 4, identical: 4 });
  });

  it('a crash between an event’s effects and its record leaves nothing; the next open applies it once', async () => {
    seen.length = 0;
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    repin(dir, T0);
    failWrites = true;
    try {
      expect(await codeOfAsync(() => withRuntime(dir, clock, async () => undefined))).toBe('INTERNAL');
    } finally {
      failWrites = false;
    }
    withData(dir, (data) => {
      expect(data.store.governanceAppliedSync()).toHaveLength(0);
      expect(data.store.governanceCursorSync()).toBeUndefined();
    });
    expect(receipts(dir)).toHaveLength(0);
    clock.advance(1);
    await withRuntime(dir, clock, async () => undefined);
    await withRuntime(dir, clock, async () => undefined);
    withData(dir, (data) => expect(data.store.governanceAppliedSync()).toHaveLength(1));
    expect(receipts(dir)).toHaveLength(1);
    expect(seen.filter((s) => s.first)).toHaveLength(2); // once failed (rolled back), once recorded
  });

  it('an approval appended while another process holds the runtime needs no lock, and the runtime applies it once', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    await withRuntime(dir, clock, async (rt) => {
      const id = (await rt.execute(deployCall())).approval_challenge_id as string;
      approve(dir, id, 'approver-2', T0 + 1);
      await rt.ingestGovernance();
      await rt.ingestGovernance();
      expect(rt.guardian.approvals?.status(id)?.approvals).toBe(1);
      withData(dir, (data) => expect(data.store.governanceAppliedSync()).toHaveLength(1));
    });
  });
});
