import { join } from 'node:path';
import type { SignedEnvelope } from '@helm/contracts';
import { ProofGraph } from '@helm/proofgraph';
import { describe, expect, it } from 'vitest';
import { exportCommand, runCall, verifyCommand } from '../src/commands/index.ts';
import { initEchoHome, tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-legacy-');

describe('a data directory with signed EFFECT nodes of an earlier version', () => {
  it('still runs calls and exports whole, range and condensed packs that verify', async () => {
    const { data } = await initEchoHome(root, 'home');
    for (const x of [1, 2, 3]) {
      expect((await runCall(data, { tool: 'echo', principal: 'local', args: `{"x":${x}}` })).exitCode).toBe(
        0,
      );
    }
    const config = data.config();
    const store = data.store;
    expect(store.nodesSync()).toEqual([]);

    // What an earlier version wrote: a line of executor-signed EFFECT nodes carrying the receipts.
    const graph = new ProofGraph();
    let parent: string | undefined;
    for (const r of store.receiptsSync({ chainId: config.chain_id })) {
      const node = graph.append(
        {
          kind: 'EFFECT',
          parents: parent ? [parent] : [],
          principal: 'local',
          payload: r.envelope,
          issued_at_ms: 1_800_000_000_000 + r.lamport,
        },
        data.signer('executor', 'executor'),
      );
      store.appendNodeSync(config.chain_id, {
        id: node.hash,
        kind: node.body.kind,
        lamport: node.body.lamport,
        parents: node.body.parents,
        body: { envelope: node.envelope, payload: node.payload } as unknown as SignedEnvelope,
      });
      parent = node.hash;
    }
    expect(store.nodesSync()).toHaveLength(3);

    // The runtime opens over them and keeps governing calls; no node is added for the new receipt.
    expect((await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":4}' })).exitCode).toBe(0);
    expect(store.nodesSync()).toHaveLength(3);

    const verify = async (opts: { from?: string; to?: string; condense?: boolean }, name: string) => {
      const out = join(root, `${name}.tar`);
      expect(exportCommand(data, { out, ...opts }).exitCode).toBe(0);
      const r = await verifyCommand(out, { trustAnchor: config.trust_anchor, workers: '0', json: true });
      expect(r.exitCode, JSON.stringify(r.json)).toBe(0);
      return (r.json as { report: { checks: { code: string; status: string }[] } }).report;
    };
    const whole = await verify({}, 'whole');
    expect(whole.checks.find((c) => c.code === 'PROOFGRAPH')?.status).toBe('PASS');
    expect(whole.checks.find((c) => c.code === 'PROOFGRAPH_RECEIPTS')?.status).toBe('PASS');
    const range = await verify({ from: '2' }, 'range');
    expect(range.checks.find((c) => c.code === 'PROOFGRAPH')?.status).toBe('PASS');
    const condensed = await verify({ condense: true }, 'condensed');
    expect(condensed.checks.find((c) => c.code === 'PROOFGRAPH')?.status).toBe('PASS');
  });
});
