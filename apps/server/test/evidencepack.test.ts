import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../cli/src/commands/demo.ts';
import { createHelmServer } from '../src/index.ts';

describe('POST /v1/evidencepack/verify', () => {
  const server = createHelmServer({ maxPackBytes: 1024 * 1024 });
  const dir = mkdtempSync(join(tmpdir(), 'helm-server-'));
  let base = '';
  let pack = new Uint8Array();
  let anchor = '';
  let trustHead = '';
  beforeAll(async () => {
    const demo = await runDemo({ dataDir: join(dir, 'demo') });
    pack = new Uint8Array(readFileSync((demo.json.pack as { path: string }).path));
    anchor = demo.json.trust_anchor as string;
    trustHead = demo.json.trust_head as string;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 120_000);
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies a pack offline: PASS with the anchor, UNVERIFIABLE without, FAILED when tampered', async () => {
    const ok = await fetch(`${base}/v1/evidencepack/verify?trust_anchor=${anchor}`, {
      method: 'POST',
      body: pack,
    });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { report: { status: string }; replay: { ok: boolean } };
    expect(body.report.status).toBe('PASS');
    expect(body.replay.ok).toBe(true);
    const unpinned = await fetch(`${base}/v1/evidencepack/verify`, { method: 'POST', body: pack });
    expect(unpinned.status).toBe(422);
    expect(((await unpinned.json()) as { report: { status: string } }).report.status).toBe('UNVERIFIABLE');
    const bad = Uint8Array.from(pack);
    bad[3000] = (bad[3000] ?? 0) ^ 1;
    const tampered = await fetch(`${base}/v1/evidencepack/verify?trust_anchor=${anchor}`, {
      method: 'POST',
      body: bad,
    });
    expect(tampered.status).toBe(422);
    const junk = await fetch(`${base}/v1/evidencepack/verify`, { method: 'POST', body: new Uint8Array(10) });
    expect(((await junk.json()) as { replay: unknown }).replay).toBeNull();
  });

  it('I-FRESH-1: pins freshness from the query; the report states it, a stale pin fails', async () => {
    type Body = { report: { status: string; freshness: { pinned: boolean; seq: number; head: string } } };
    const unpinned = (await (
      await fetch(`${base}/v1/evidencepack/verify?trust_anchor=${anchor}`, { method: 'POST', body: pack })
    ).json()) as Body;
    expect(unpinned.report.freshness.pinned).toBe(false);
    const [seq, head] = [Number(trustHead.split(':')[0]), trustHead.slice(trustHead.indexOf(':') + 1)];
    expect(unpinned.report.freshness).toMatchObject({ seq, head });
    const pinned = await fetch(
      `${base}/v1/evidencepack/verify?trust_anchor=${anchor}&trust_head=${encodeURIComponent(trustHead)}`,
      { method: 'POST', body: pack },
    );
    expect(pinned.status).toBe(200);
    expect(((await pinned.json()) as Body).report.freshness.pinned).toBe(true);
    // A verifier whose registry is one event further: the pack's snapshot is stale.
    const stale = await fetch(
      `${base}/v1/evidencepack/verify?trust_anchor=${anchor}&min_trust_seq=${seq + 1}`,
      {
        method: 'POST',
        body: pack,
      },
    );
    expect(stale.status).toBe(422);
    expect(((await stale.json()) as Body).report.status).toBe('FAILED');
    for (const query of ['min_trust_seq=0', 'min_trust_seq=1e3', 'trust_head=1:nope', `trust_head=${head}`]) {
      const r = await fetch(`${base}/v1/evidencepack/verify?trust_anchor=${anchor}&${query}`, {
        method: 'POST',
        body: pack,
      });
      expect(r.status, query).toBe(400);
    }
  });

  it('rejects a malformed anchor and an oversized body', async () => {
    const r = await fetch(`${base}/v1/evidencepack/verify?trust_anchor=nope`, { method: 'POST', body: pack });
    expect(r.status).toBe(400);
    const big = await fetch(`${base}/v1/evidencepack/verify`, {
      method: 'POST',
      body: new Uint8Array(2 * 1024 * 1024),
    }).catch(() => undefined);
    if (big) expect(big.status).toBe(413);
  });
});
