// The built console (@helm/server's dist/console/) in real Chromium with no server: every request
// is answered by the test — console files from the build, API routes by the test's handler,
// anything else aborted. Used by the red-team tests that feed the page hostile server answers.
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { APPROVAL_CHALLENGE_TYPE } from '@helm/contracts';
import { canonicalBytes, createSigner, digest, toBase64Url } from '@helm/crypto';
import type { Browser, Page, Route } from 'playwright-core';
import { expect } from 'vitest';

export const DIST = new URL('../../server/dist/console/', import.meta.url);
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

/** Fails unless the console is built (the tests read the build, not the sources). */
export function requireBuild(): void {
  expect(
    existsSync(new URL('index.html', DIST)),
    'the console is built (pnpm --filter @helm/console build)',
  ).toBe(true);
}

/**
 * Routes every request of `page`: `/console/…` from the build (404 when absent), else `api(path,
 * route)`, which answers or returns false; unanswered requests are aborted.
 */
export async function routeOffline(
  page: Page,
  api: (path: string, route: Route) => Promise<boolean> | boolean = () => false,
): Promise<void> {
  await page.route('**', async (r) => {
    const p = decodeURIComponent(new URL(r.request().url()).pathname);
    if (await api(p, r)) return;
    if (!p.startsWith('/console/')) return r.abort();
    const rel = p === '/console/' ? 'index.html' : p.slice('/console/'.length);
    const file = new URL(rel, DIST);
    if (!existsSync(file)) return r.fulfill({ status: 404, body: 'not found' });
    return r.fulfill({
      status: 200,
      contentType: TYPES[extname(rel)] ?? 'application/octet-stream',
      body: readFileSync(file),
    });
  });
}

const h = (s: string) => digest(new TextEncoder().encode(s));

/** A pending `fs.read` challenge binding `args`, and its API view with the given recorded request. */
export function pendingChallenge(args: unknown, request: Record<string, unknown>) {
  const now = Date.now();
  const argsHash = digest(canonicalBytes(args as never));
  const effect = h('effect');
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
  const view = {
    challenge_id: challenge.challenge_id,
    state: 'pending',
    challenge,
    request: { tool: 'fs.read', principal: 'agent-1', ...request },
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
  return { challenge, view };
}

type View = ReturnType<typeof pendingChallenge>['view'];

/**
 * Opens `view`'s challenge in the approvals page with an approver key loaded; POSTed answers are
 * collected in `posted` (and answered as accepted). Returns once the arguments are rendered.
 */
export async function openApproval(browser: Browser, view: View): Promise<{ page: Page; posted: unknown[] }> {
  requireBuild();
  const id = view.challenge_id;
  const page = await browser.newPage();
  const posted: unknown[] = [];
  const json = (r: Route, v: unknown) =>
    r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(v) }).then(() => true);
  await routeOffline(page, (p, r) => {
    if (p === '/console/context.json') return json(r, { chain_id: 'chain-1', trust_anchor: h('anchor') });
    if (p === '/v1/approvals')
      return json(r, {
        approvals: [
          {
            challenge_id: id,
            state: 'pending',
            tool: 'fs.read',
            principal: 'agent-1',
            approvals: 0,
            quorum: 1,
            needed: 1,
            expires_at_ms: view.expires_at_ms,
          },
        ],
      });
    if (p !== `/v1/approvals/${id}`) return false;
    if (r.request().method() !== 'POST') return json(r, view);
    posted.push(JSON.parse(r.request().postData() ?? '{}'));
    return json(r, { action: 'approval.grant', challenge: { ...view, approvals: 1, state: 'approved' } });
  });
  const seed = new Uint8Array(32).fill(7);
  const signer = createSigner(seed);
  const keyFile = JSON.stringify({
    seed: toBase64Url(seed),
    keyid: signer.keyId,
    public_key: toBase64Url(signer.publicKey),
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
  return { page, posted };
}

/** Clicks Approve when the page enables it, and waits for the page's answer. */
export async function approveIfEnabled(page: Page): Promise<void> {
  if (await page.isDisabled('#approve')) return;
  await page.click('#approve');
  await page.waitForSelector('#approval-status.ok, #approval-status.error');
}
