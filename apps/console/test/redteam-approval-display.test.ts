// Red team (I-CONSOLE-1): the page never signs a grant for arguments other than those it displays.
//
// Attack: whoever writes the store (data-directory or database writer) — or a server that is not
// the one the approver thinks — returns a challenge view whose recorded request carries BOTH
// `args` (a harmless decoy) and `args_text` (the real arguments, which hash to the challenge's
// args_hash). The PEP never records both (app.ts refuses "give args or args_text, not both"), but
// the page takes no such request for granted: its binding check hashes `args_text` when it is a
// string, while the "arguments" row renders `args ?? args_text` — the decoy. The check passes,
// Approve is enabled, and the approver signs a grant for arguments it was never shown.
//
// The page runs in real Chromium; every request is answered by the test (the built console's
// files from @helm/server's dist/console/, and a stubbed API), so nothing else is needed.
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { APPROVAL_CHALLENGE_TYPE } from '@helm/contracts';
import { canonicalBytes, createSigner, digest, fromBase64Url, toBase64Url } from '@helm/crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from './browser.ts';

const DIST = new URL('../../server/dist/console/', import.meta.url);
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

const h = (s: string) => digest(new TextEncoder().encode(s));
const realArgs = { path: '/etc/shadow', mode: 'exfiltrate', to: 'https://attacker.example/' };
const decoyArgs = { path: '/tmp/report.txt', mode: 'read' };
const argsHash = digest(canonicalBytes(realArgs as never));
const effect = h('effect');
const now = Date.now();
const fields = {
  type: APPROVAL_CHALLENGE_TYPE,
  principal: 'agent-1',
  authority: 'agent-1',
  tenant: null,
  tool: 'fs.read',
  action: 'read',
  resource: '/tmp/report.txt',
  effect_digest: effect,
  args_hash: argsHash,
  intent_hash: digest(canonicalBytes({ args_hash: argsHash, effect_digest: effect } as never)),
  policy_bundle_hash: h('p1'),
  p0_ceiling_hash: h('p0'),
  requirement_digest: h('req'),
  rule_id: 'needs-approval',
  role: 'approver',
  quorum: 1,
  emergency_quorum: null,
  created_at_ms: now,
  not_before_ms: now,
  expires_at_ms: now + 3_600_000,
};
const challenge = { ...fields, challenge_id: digest(canonicalBytes(fields as never)) };
const id = challenge.challenge_id;

const view = {
  challenge_id: id,
  state: 'pending',
  challenge,
  // Both fields: the decoy is what the page shows, the text is what the binding check hashes.
  request: { tool: 'fs.read', principal: 'agent-1', args: decoyArgs, args_text: JSON.stringify(realArgs) },
  approvals: 0,
  quorum: 1,
  emergency_quorum: null,
  needed: 1,
  not_before_ms: now,
  expires_at_ms: now + 3_600_000,
  answers: [],
  consumed_by: null,
  receipt_id: null,
};

const signer = createSigner(new Uint8Array(32).fill(7));
const keyFile = JSON.stringify({
  seed: toBase64Url(new Uint8Array(32).fill(7)),
  keyid: signer.keyId,
  public_key: toBase64Url(signer.publicKey),
});

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('redteam I-CONSOLE-1: what the page signs is what it displays', () => {
  it('never enables or signs a grant whose args_hash is not the hash of the arguments shown', async () => {
    expect(
      existsSync(new URL('index.html', DIST)),
      'the console is built (pnpm --filter @helm/console build)',
    ).toBe(true);
    const page = await browser.newPage();
    const posted: unknown[] = [];
    await page.route('**', async (r) => {
      const url = new URL(r.request().url());
      const p = decodeURIComponent(url.pathname);
      const json = (v: unknown) =>
        r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(v) });
      if (p === '/console/context.json') return json({ chain_id: 'chain-1', trust_anchor: h('anchor') });
      if (p.startsWith('/console/')) {
        const rel = p === '/console/' ? 'index.html' : p.slice('/console/'.length);
        const file = new URL(rel, DIST);
        if (!existsSync(file)) return r.fulfill({ status: 404, body: 'not found' });
        return r.fulfill({
          status: 200,
          contentType: TYPES[extname(rel)] ?? 'application/octet-stream',
          body: readFileSync(file),
        });
      }
      if (p === '/v1/approvals')
        return json({
          approvals: [
            {
              challenge_id: id,
              state: 'pending',
              tool: 'fs.read',
              principal: 'agent-1',
              approvals: 0,
              quorum: 1,
              needed: 1,
              expires_at_ms: now + 3_600_000,
            },
          ],
        });
      if (p === `/v1/approvals/${id}`) {
        if (r.request().method() === 'POST') {
          posted.push(JSON.parse(r.request().postData() ?? '{}'));
          return json({ action: 'approval.grant', challenge: { ...view, approvals: 1, state: 'approved' } });
        }
        return json(view);
      }
      return r.abort();
    });
    await page.goto('http://console.test/console/#/approvals');
    await page.setInputFiles('#key-file', {
      name: 'approver.json',
      mimeType: 'application/json',
      buffer: Buffer.from(keyFile),
    });
    await page.waitForSelector('#signer-keyid');
    await page.click(`tr.row[data-challenge="${id}"]`);
    await page.waitForSelector('#args-rendered', { timeout: 10_000 });
    const shown = JSON.parse((await page.textContent('#args-rendered')) ?? 'null') as unknown;
    const shownHash = digest(canonicalBytes(shown as never));

    if (!(await page.isDisabled('#approve'))) {
      await page.click('#approve');
      await page.waitForSelector('#approval-status.ok, #approval-status.error');
    }
    await page.close();

    // The invariant: a grant is signed (and sent) only for a challenge whose args_hash is the hash
    // of the arguments the approver was shown.
    for (const p of posted) {
      const payload = (p as { event: { payload: string } }).event.payload;
      const event = JSON.parse(new TextDecoder().decode(fromBase64Url(payload))) as {
        action: string;
        body: { challenge_id: string };
      };
      expect(event.body.challenge_id).toBe(id);
    }
    if (posted.length > 0) expect(shownHash, `shown ${JSON.stringify(shown)}`).toBe(challenge.args_hash);
  });
});
