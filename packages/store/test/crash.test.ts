import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../src/index.ts';
import { type ChainState, makeCall, verifyChain } from './fixtures/chain.ts';

const dir = mkdtempSync(join(tmpdir(), 'helm-store-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hooks = fileURLToPath(new URL('./fixtures/ts-hooks.mjs', import.meta.url));
const child = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const journalChild = fileURLToPath(new URL('./fixtures/crash-journal-child.ts', import.meta.url));

/** Run the child until it has acknowledged `minAcks` calls, then SIGKILL it mid-burst. */
function runAndKill(
  path: string,
  mode: string,
  minAcks: number,
): Promise<{ start: number; acked: number[] }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', hooks, child, path, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let start = -1;
    let buffer = '';
    let stderr = '';
    let killed = false;
    proc.stderr.on('data', (d) => {
      stderr += String(d);
    });
    proc.stdout.on('data', (d) => {
      buffer += String(d);
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const [word, n] = line.split(' ');
        if (word === 'start') start = Number(n);
        if (word === 'ack') acked.push(Number(n));
      }
      if (!killed && acked.length >= minAcks) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited without being killed: ${stderr}`));
      else resolve({ start, acked });
    });
  });
}

describe('crash safety (SIGKILL during a burst of appends)', () => {
  for (const mode of ['group', 'single']) {
    it(`loses nothing acknowledged and resumes the chain (${mode} commit)`, async () => {
      const path = join(dir, `${mode}.db`);
      const first = await runAndKill(path, mode, 200);
      expect(first.start).toBe(0);
      let store = openSqliteStore(path);
      let receipts = await store.receipts();
      // The chain verifies end to end and every acknowledged Lamport value is present.
      expect(verifyChain(receipts)).toBe(receipts.length);
      const stored = new Set(receipts.map((r) => r.lamport));
      for (const a of first.acked) expect(stored.has(a)).toBe(true);
      // Every stored receipt has its decision, node, request, idempotency record and budget movement.
      const nodes = await store.nodes();
      expect(nodes.length).toBe(receipts.length);
      expect((await store.requests()).length).toBe(receipts.length);
      expect(await store.budgetBalance('budget:crash')).toBe(receipts.length);
      expect((await store.decisions(receipts.map((r) => r.decisionId ?? ''))).length).toBe(receipts.length);
      await store.close();

      // Second crash: the child resumes from the stored head (Lamport and hash link continue).
      const second = await runAndKill(path, mode, 100);
      expect(second.start).toBe(receipts.length);
      store = openSqliteStore(path);
      receipts = await store.receipts();
      expect(verifyChain(receipts)).toBe(receipts.length);
      const stored2 = new Set(receipts.map((r) => r.lamport));
      for (const a of [...first.acked, ...second.acked]) expect(stored2.has(a)).toBe(true);
      // And the parent can continue the chain itself.
      const head = await store.chainHead();
      const state: ChainState = { lamport: head?.lamport ?? 0, hash: head?.hash ?? '' };
      await store.commitCall(makeCall(state, 'crash', 1e6));
      expect(verifyChain(await store.receipts())).toBe(receipts.length + 1);
      await store.close();
    });
  }
});

/**
 * Run the journal child: release each burst's drivers (`go`) until `minAcks` calls are
 * acknowledged, then SIGKILL it while the next burst is admitted and its drivers are running.
 */
function runJournalAndKill(
  path: string,
  minAcks: number,
): Promise<{ start: number; acked: number[]; admitted: string[]; open: Set<string> }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', hooks, journalChild, path], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    const admitted: string[] = [];
    const open = new Set<string>();
    let start = -1;
    let buffer = '';
    let stderr = '';
    let killed = false;
    proc.stderr.on('data', (d) => {
      stderr += String(d);
    });
    proc.stdout.on('data', (d) => {
      buffer += String(d);
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const [word, a, b] = line.split(' ');
        if (word === 'start') start = Number(a);
        if (word === 'admit') {
          admitted.push(a as string);
          open.add(a as string);
          // A whole burst is admitted and waiting in its drivers.
          if (open.size === 4 && !killed) {
            if (acked.length >= minAcks) {
              killed = true;
              proc.kill('SIGKILL');
            } else proc.stdin.write('go\n');
          }
        }
        if (word === 'ack') {
          acked.push(Number(a));
          open.delete(b as string);
        }
      }
    });
    proc.stdin.on('error', () => undefined);
    proc.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited without being killed: ${stderr}`));
      else resolve({ start, acked, admitted, open });
    });
  });
}

/** Start-up recovery as the executor does it: one FAILED interruption receipt per open admission. */
function recover(store: SqliteStore): string[] {
  const head = store.chainHeadSync();
  const state: ChainState = { lamport: head?.lamport ?? 0, hash: head?.hash ?? '' };
  const closed: string[] = [];
  for (const a of store.admissionsSync()) {
    const call = makeCall(state, 'crash', -1);
    store.commitCallSync({
      ...call,
      request: { id: `q-${call.receipt.id}`, body: { interrupted: a.id } },
      admissionId: a.id,
      ledger: a.reservationId ? [{ op: 'commit', id: a.reservationId }] : [],
    });
    closed.push(a.id);
  }
  return closed;
}

describe('crash safety (SIGKILL while drivers of admitted calls run)', () => {
  it('recovery receipts every interrupted admission; nothing acknowledged is lost; the chain resumes', async () => {
    const path = join(dir, 'journal.db');
    const acked: number[] = [];
    let head = 0;
    for (const round of [0, 1]) {
      const run = await runJournalAndKill(path, round === 0 ? 60 : 40);
      acked.push(...run.acked);
      const store = openSqliteStore(path);
      // The child resumed exactly at the stored head (Lamport and hash link continue).
      expect(run.start).toBe(head);
      // The killed burst is durably admitted, with its reservations held, and has no receipt.
      const open = store.admissionsSync();
      expect(open.map((a) => a.id).sort()).toEqual([...run.open].sort());
      expect(open).toHaveLength(4);
      expect(store.ledgerStateSync('calls').reserved).toBe(4);
      const before = store.receiptsSync().length;
      expect(recover(store).sort()).toEqual([...run.open].sort());
      // Every admitted call now has exactly one receipt; nothing is open or reserved.
      const receipts = store.receiptsSync();
      expect(receipts).toHaveLength(before + 4);
      expect(store.admissionsSync()).toEqual([]);
      expect(verifyChain(receipts)).toBe(receipts.length);
      const stored = new Set(receipts.map((r) => r.lamport));
      for (const a of acked) expect(stored.has(a)).toBe(true);
      // Each receipt has its node and its budget movement (interrupted calls are charged).
      expect(store.nodesSync()).toHaveLength(receipts.length);
      expect(store.ledgerStateSync('calls')).toEqual({ spent: receipts.length, reserved: 0 });
      expect(store.releaseOrphanReservationsSync()).toEqual([]);
      head = receipts.length;
      store.closeSync();
    }
  });
});
