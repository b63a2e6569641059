// Red team (I-CONSOLE-1): the arguments the approver reads are the arguments it signs for.
//
// Attack (the Caller: it controls every byte of `args`, and the PEP records them faithfully):
// string values carrying Unicode bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE, U+2066–
// U+2069 isolates) and invisible format characters (U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER).
// The page renders the arguments as text (`JSON.stringify` into a <pre>), which is safe against
// markup but not against display reordering: `"/home/ops/\u202Etxt.hs"` reads as
// `/home/ops/sh.txt"` and a zero-width space hides inside `rm -rf /\u200B tmp`. The binding check
// passes (the page hashes exactly what it received), Approve is enabled, and the approver signs
// for a string that does not read as what it is.
//
// Invariant checked: when the page lets the approver sign, the arguments shown contain no
// character that changes how the surrounding text is displayed or is itself invisible (Unicode
// general category Cf: bidi controls, zero-width and other format characters) — such characters
// must reach the approver visibly (escaped), or signing must be refused.
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { APPROVAL_CHALLENGE_TYPE } from '@helm/contracts';
import { canonicalBytes, createSigner, digest, toBase64Url } from '@helm/crypto';
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
const realArgs = {
  path: '/home/ops/\u202Etxt.hs',
  cmd: 'rm -rf /\u200B tmp/cache',
  to: '\u2066alice@example.com\u2069\u2067moc.rekcatta@\u2069',
};
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
  request: { tool: 'fs.read', principal: 'agent-1', args: realArgs },
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

describe('redteam I-CONSOLE-1: the arguments shown read as the arguments signed', () => {
  it('never signs while the rendered arguments hold bidi controls or invisible format characters', async () => {
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
    const shownText = (await page.textContent('#args-rendered')) ?? '';

    if (!(await page.isDisabled('#approve'))) {
      await page.click('#approve');
      await page.waitForSelector('#approval-status.ok, #approval-status.error');
    }
    await page.close();

    const hidden = [...shownText]
      .filter((ch) => /\p{Cf}/u.test(ch))
      .map((ch) => `U+${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`);
    if (posted.length > 0) expect(hidden, `signed while showing ${JSON.stringify(shownText)}`).toEqual([]);
  });
});
