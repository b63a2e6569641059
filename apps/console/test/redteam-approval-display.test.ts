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
import { canonicalBytes, digest, fromBase64Url } from '@helm/crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from './browser.ts';
import { approveIfEnabled, openApproval, pendingChallenge } from './offline-console.ts';

const realArgs = { path: '/etc/shadow', mode: 'exfiltrate', to: 'https://attacker.example/' };
const decoyArgs = { path: '/tmp/report.txt', mode: 'read' };
// Both fields: the decoy is what the page shows, the text is what the binding check hashes.
const { challenge, view } = pendingChallenge(realArgs, {
  args: decoyArgs,
  args_text: JSON.stringify(realArgs),
});
const id = challenge.challenge_id;

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('redteam I-CONSOLE-1: what the page signs is what it displays', () => {
  it('never enables or signs a grant whose args_hash is not the hash of the arguments shown', async () => {
    const { page, posted } = await openApproval(browser, view);
    const shown = JSON.parse((await page.textContent('#args-rendered')) ?? 'null') as unknown;
    const shownHash = digest(canonicalBytes(shown as never));
    await approveIfEnabled(page);
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
