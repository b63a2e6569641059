import { join } from 'node:path';
import { envelopeBody } from '@helm/evidencepack';
import { GovernedRuntime } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import {
  exportCommand,
  reexecuteCommand,
  replayCommand,
  runCall,
  verifyCommand,
} from '../src/commands/index.ts';
import { ECHO_TOOL, fixedBudgetWindow, initEchoHome, tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-recovery-');

const _echo = ECHO_TOOL;

describe('a process that stops between admission and receipt', () => {
  it('is receipted EXECUTION_INTERRUPTED at the next open; the pack verifies and replay reproduces it', async () => {
    const { dir, data } = await initEchoHome(root, 'home');
    // The ledger counts below span calls at the real clock and at a fixed one: one budget account.
    fixedBudgetWindow(dir);
    expect((await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":1}' })).exitCode).toBe(0);
    const config = data.config();
    const store = data.store;

    // The "crash": the driver ran, the receipt's transaction never happens.
    const rt = await GovernedRuntime.open(data, { clock: { now: () => 1_800_000_000_000 } });
    // (The runtime group-commits receipt transactions through commitCallsSync.)
    const commit = store.commitCallsSync.bind(store);
    store.commitCallsSync = () => {
      throw new Error('SIGKILL');
    };
    const credential = config.identity.find((b) => b.principal === 'local')?.credential_id;
    await expect(
      rt.execute({
        tool: 'echo',
        principal: 'local',
        args: { x: 2 },
        context: {
          environment_fingerprint: config.environment_fingerprint,
          ...(credential ? { credential_id: credential } : {}),
        },
      }),
    ).rejects.toThrow('SIGKILL');
    store.commitCallsSync = commit;
    await rt.close();
    const open = store.admissionsSync(config.chain_id);
    expect(open).toHaveLength(1);
    const before = store.receiptsSync({ chainId: config.chain_id });
    const reservation = open[0]?.reservationId ?? null;
    const held = reservation ? store.ledgerReservationSync(reservation) : undefined;
    // Admission and reservation were written together, before the driver ran.
    expect(store.ledgerStateSync('principal:local')).toEqual({ spent: 1, reserved: 1 });

    // Restart: recovery runs as the data directory is opened.
    const again = await GovernedRuntime.open(data, { clock: { now: () => 1_800_000_005_000 } });
    await again.close();
    expect(store.admissionsSync()).toEqual([]);
    const after = store.receiptsSync({ chainId: config.chain_id });
    expect(after).toHaveLength(before.length + 1);
    const last = after[after.length - 1];
    const body = envelopeBody<Record<string, unknown>>(last?.envelope as never);
    expect(body).toMatchObject({
      status: 'FAILED',
      reason_code: 'EXECUTION_INTERRUPTED',
      decision_id: (open[0]?.body as { entry?: { decision_id?: string } } | undefined)?.entry?.decision_id,
      issued_at_ms: 1_800_000_005_000,
      lamport: before.length + 1,
    });
    // The receipt is its own ProofGraph node (nothing else is stored for it); the reservation (if
    // any) is charged, none is held.
    expect(store.nodesSync()).toEqual([]);
    expect(held).toMatchObject({ accounts: ['principal:local'], amount: 1 });
    expect(store.ledgerReservationSync(reservation as string)).toBeUndefined();
    expect(store.ledgerStateSync('principal:local')).toEqual({ spent: 2, reserved: 0 });
    // Opening again recovers nothing more; the chain continues.
    expect((await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":3}' })).exitCode).toBe(0);
    expect(store.receiptsSync({ chainId: config.chain_id })).toHaveLength(before.length + 2);

    const out = join(root, 'pack.tar');
    expect(exportCommand(data, { out }).exitCode).toBe(0);
    expect((await verifyCommand(out, { trustAnchor: config.trust_anchor, workers: '0' })).exitCode).toBe(0);
    expect(replayCommand(out).exitCode).toBe(0);
    const rerun = await reexecuteCommand(data);
    expect(rerun.json.reexecution).toMatchObject({
      ok: true,
      calls: before.length + 2,
      identical: before.length + 2,
    });
    data.close();
  });
});
