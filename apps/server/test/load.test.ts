// I-SERVE-5 under load: autocannon drives a bounded number of governed calls over keep-alive
// connections; afterwards every acknowledged call has its receipt (none lost, none extra), the
// Lamport values run 1..n without a gap, and the exported pack verifies. Asserts behaviour only:
// throughput is the bench's business (apps/server/bench).
import { verifyEvidencePack } from '@helm/evidencepack';
import { DataDir, exportPack } from '@helm/runtime';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HelmServer, startHelmServer } from '../src/index.ts';
import { makeHome, makeKeys, tempRoot } from './helpers.ts';

const root = tempRoot('helm-serve-load-');
let dir = '';
let server: HelmServer;
let keys: Awaited<ReturnType<typeof makeKeys>>;

beforeAll(async () => {
  dir = await makeHome(root, 'home');
  keys = await makeKeys(dir);
  server = await startHelmServer({ dataDir: dir, rateLimit: { rate: 0 } });
}, 120_000);
afterAll(() => server?.close());

describe('I-SERVE-5 load: zero lost receipts and a verifying chain', () => {
  it('300 calls on 16 keep-alive connections: every 200 is a stored receipt, the pack verifies', async () => {
    const result = await autocannon({
      url: `${server.url}/v1/calls`,
      method: 'POST',
      connections: 16,
      amount: 300,
      headers: { authorization: `Bearer ${keys.call}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'echo', args: { x: 1 } }),
    });
    expect(result.errors).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result['2xx']).toBe(300);
    await server.close();
    const data = new DataDir(dir);
    try {
      const chain = data.config().chain_id;
      const lamports = data.store.receiptsSync({ chainId: chain }).map((r) => r.lamport);
      expect(lamports).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      const pack = exportPack(data);
      const report = await verifyEvidencePack(pack.bytes, { trustAnchor: data.config().trust_anchor });
      expect(report.status).toBe('PASS');
    } finally {
      data.close();
    }
  });
});
