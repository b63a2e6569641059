// SIGKILL during driver execution, through the real CLI stack: a child process runs `helmts run` of
// an HTTP tool; the test server receives the driver's request (the effect is happening) and the
// parent SIGKILLs the child before anything answers. The next open of the data directory receipts
// the call EXECUTION_INTERRUPTED; the chain continues, the pack verifies, replay reproduces it.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envelopeBody } from '@helm/evidencepack';
import { DataDir } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import {
  exportCommand,
  initCommand,
  reexecuteCommand,
  replayCommand,
  runCall,
  toolRegister,
  verifyCommand,
} from '../src/commands/index.ts';
import { ECHO_TOOL, fixedBudgetWindow, tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-crash-');
const hooks = fileURLToPath(new URL('./fixtures/ts-hooks.mjs', import.meta.url));
const child = fileURLToPath(new URL('./fixtures/crash-run.ts', import.meta.url));

const echo = ECHO_TOOL;

describe('SIGKILL while a governed call runs its driver (real CLI stack)', () => {
  it('the next open receipts it EXECUTION_INTERRUPTED; nothing acknowledged is lost', async () => {
    let arrived: (() => void) | undefined;
    const requests: string[] = [];
    // Answers every request except the second, which stays in flight (that call's process dies).
    const server = createServer((req, res) => {
      requests.push(String(req.url));
      if (requests.length === 2) {
        arrived?.();
        return;
      }
      let body = '';
      req.on('data', (c) => {
        body += String(c);
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const dir = join(root, 'home');
      initCommand(dir);
      // The ledger counts below span calls made in separate processes: one budget account.
      fixedBudgetWindow(dir);
      let data = new DataDir(dir);
      data.writeConfig({
        ...data.config(),
        egress: [{ hosts: ['localhost'], protocols: ['http'], max_payload_bytes: 4096 }],
      });
      writeFileSync(
        join(root, 'echo.json'),
        JSON.stringify({
          ...echo,
          effect_type: 'net.egress',
          destination: `http://localhost:${port}`,
          driver: { kind: 'http', ref: `http://localhost:${port}/echo`, timeout_ms: 60_000 },
        }),
      );
      expect((await toolRegister(data, join(root, 'echo.json'), undefined)).exitCode).toBe(0);
      const first = await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":1}' });
      expect(first.json).toMatchObject({ status: 'SUCCEEDED' });
      data.close();

      // The child's call is admitted, its driver sends the request, and the process dies.
      const proc = spawn(
        process.execPath,
        ['--experimental-transform-types', '--no-warnings', '--import', hooks, child, dir, 'echo'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      proc.stdout.on('data', (d) => {
        out += String(d);
      });
      proc.stderr.on('data', (d) => {
        out += String(d);
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_c, s) => resolve(s)));
      await new Promise<void>((resolve, reject) => {
        arrived = resolve;
        void exited.then(() => reject(new Error(`child exited before its driver ran: ${out}`)));
      });
      // While the child's call is in flight its runtime holds the data directory: another process's
      // open — whose start-up recovery would receipt that call EXECUTION_INTERRUPTED — is refused.
      await expect(
        runCall(new DataDir(dir), { tool: 'echo', principal: 'local', args: '{"x":9}' }),
      ).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
      proc.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(requests).toEqual(['/echo', '/echo']);
      expect(out).not.toContain('returned');

      // After the crash: the admission (and its reservation) is durable, the receipt is not.
      data = new DataDir(dir);
      const store = data.store;
      const chain = data.config().chain_id;
      const open = store.admissionsSync(chain);
      expect(open).toHaveLength(1);
      expect(open[0]?.body).toMatchObject({
        entry: { type: 'helm.admission.v1', tool: 'echo', principal: 'local' },
        request: { tool: 'echo', principal: 'local', args_text: '{"x":5}' },
      });
      expect(store.receiptsSync({ chainId: chain })).toHaveLength(1);
      expect(store.ledgerStateSync('principal:local')).toEqual({ spent: 1, reserved: 1 });

      // Restart: the next command recovers first, then runs its own call.
      const next = await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":3}' });
      expect(next.json).toMatchObject({ status: 'SUCCEEDED' });
      expect(store.admissionsSync()).toEqual([]);
      const receipts = store.receiptsSync({ chainId: chain });
      expect(receipts.map((r) => r.lamport)).toEqual([1, 2, 3]);
      expect(receipts[0]?.hash).toBe((first.json as { receipt_hash: string }).receipt_hash);
      expect(envelopeBody<Record<string, unknown>>(receipts[1]?.envelope as never)).toMatchObject({
        status: 'FAILED',
        reason_code: 'EXECUTION_INTERRUPTED',
        tool: 'echo',
        decision_id: (open[0]?.body as { entry?: { decision_id?: string } } | undefined)?.entry?.decision_id,
      });
      expect(store.ledgerStateSync('principal:local')).toEqual({ spent: 3, reserved: 0 });
      // Receipts are their own ProofGraph nodes (receipt nodes): no separate node is stored; the
      // pack's PROOFGRAPH check below validates them as a DAG.
      expect(store.nodesSync()).toEqual([]);

      const pack = join(root, 'pack.tar');
      expect(exportCommand(data, { out: pack }).exitCode).toBe(0);
      expect(
        (await verifyCommand(pack, { trustAnchor: data.config().trust_anchor, workers: '0' })).exitCode,
      ).toBe(0);
      // The pack's own offline replay re-derives the interrupted call's args hash and clock reading.
      const offline = replayCommand(pack);
      expect(offline.exitCode).toBe(0);
      const rerun = await reexecuteCommand(data);
      expect(rerun.json.reexecution).toMatchObject({ ok: true, calls: 3, identical: 3 });
      // Replay re-ran calls 1 and 3 and reproduced the interruption without calling the tool.
      expect(requests).toHaveLength(5);
      data.close();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
