// The console end to end: a real `helmts serve` (startHelmServer over a data directory made like
// `helmts init`), the built console it serves at /console/, and real headless Chromium.
// - Approvals: a call held for 2 approvers is approved in the page by two approver keys, each
//   loaded from its key file and signing in the browser (the server receives only the signed
//   events, and no key file content ever crosses the network), then run: the held call executes.
// - Explorer, with the network blocked in the page: the server's honest pack verifies PASS; the
//   same pack with one receipt byte changed verifies FAILED, and the highlighted first failure is
//   the one Node's verifier reports for the same bytes.
// - Live: the receipts appear and filter by verdict.
// Screenshots of each view go to test-artifacts/.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar, verifyEvidencePack, writeTar } from '@helm/evidencepack';
import { DataDir } from '@helm/runtime';
import { createApiKey, type HelmServer, startHelmServer } from '@helm/server';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCommand, policySign, toolRegister } from '../../cli/src/commands/index.ts';
import { artifact, launch } from './browser.ts';

const root = mkdtempSync(join(tmpdir(), 'helm-console-e2e-'));
const dir = join(root, 'home');
let server: HelmServer;
let browser: Browser;
let key = '';
let base = '';
// OIDC: a test identity provider — its signing key, and the JWKS file the server trusts.
const ISSUER = 'https://idp.test.example';
const AUDIENCE = 'helm-console-tests';
let idpKey: CryptoKey;
async function makeIdp(): Promise<string> {
  const pair = await generateKeyPair('ES256');
  idpKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-1', alg: 'ES256', use: 'sig' };
  const file = join(root, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  return file;
}
/** A real JWT signed by the test IdP for `sub` with `scope`, as an IdP would issue it. */
const jwt = (sub: string, scope: string) =>
  new SignJWT({ scope })
    .setProtectedHeader({ alg: 'ES256', kid: 'test-1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(idpKey);

const tool = (name: string, risk: string, effect: string) => ({
  type: 'helm.tool.v1',
  name,
  description: name,
  input_schema: { type: 'object' },
  output_schema: { type: 'object' },
  effect_type: effect,
  risk_tier: risk,
  action: name,
  driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 1000 },
});

async function makeHome(): Promise<void> {
  initCommand(dir);
  const data = new DataDir(dir);
  const bundle = join(root, 'bundle.json');
  writeFileSync(
    bundle,
    JSON.stringify({
      type: 'helm.policy.bundle.v1',
      name: 'console-tests',
      version: 2,
      rules: [
        { id: 'local-echo', effect: 'allow', when: { principal: { eq: 'local' }, tool: { eq: 'echo' } } },
        {
          id: 'deploy-two',
          effect: 'allow',
          when: { principal: { eq: 'local' }, tool: { eq: 'deploy' } },
          requires_approval: { quorum: 2, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
        },
      ],
    }),
  );
  expect(policySign(data, bundle).exitCode).toBe(0);
  // echo is a `read` (receipt tier LOW: condensable), deploy a `compute` (MEDIUM: kept in full).
  for (const [t, risk, effect] of [
    ['echo', 'LOW', 'read'],
    ['deploy', 'HIGH', 'compute'],
  ] as const) {
    const file = join(root, `${t}.json`);
    writeFileSync(file, JSON.stringify(tool(t, risk, effect)));
    expect((await toolRegister(data, file, undefined)).exitCode).toBe(0);
  }
  key = (await createApiKey(data, { principal: 'local', scopes: ['call', 'approve', 'audit'] })).key;
  data.close();
}

const api = (path: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function openConsole(view: string, credential = key): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Script errors, not resource loads (the first poll runs before the API key is entered: 401).
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  (page as Page & { errors: string[] }).errors = errors;
  await page.goto(`${base}/console/#/${view}`);
  await page.fill('#api-key', credential);
  await page.click('#api-key-save');
  return page;
}

/** Wait for the explorer's verdict; on a timeout, fail with what the page shows instead. */
async function verdict(page: Page, status: string): Promise<void> {
  try {
    await page.waitForSelector(`#verdict[data-status="${status}"]`, { timeout: 30_000 });
  } catch (error) {
    const shown = await page.textContent('#explorer-result');
    const errors = (page as Page & { errors: string[] }).errors;
    throw new Error(
      `no ${status} verdict; the page shows: ${shown?.slice(0, 2000)}; errors: ${errors.join(' | ')}`,
      { cause: error },
    );
  }
}

beforeAll(async () => {
  if (!existsSync(new URL('../../server/dist/console/index.html', import.meta.url)))
    throw new Error(
      'the console is not built into apps/server/dist/console: run `make build` (or pnpm --filter @helm/console build)',
    );
  await makeHome();
  const jwks = await makeIdp();
  server = await startHelmServer({
    dataDir: dir,
    port: 0,
    oidc: { jwks, issuer: ISSUER, audience: AUDIENCE },
  });
  base = server.url;
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the console served by helmts serve', () => {
  it('serves the page with its own CSP; the API keeps default-src none', async () => {
    const page = await fetch(`${base}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('content-security-policy')).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(await page.text()).toContain('<div id="app">');
    const apiAnswer = await fetch(`${base}/healthz`);
    expect(apiAnswer.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect((await fetch(`${base}/console/../keys/approver-1.json`)).status).toBe(404);
    expect((await fetch(`${base}/console/assets/nope.js`)).status).toBe(404);
    const ctx = (await (await fetch(`${base}/console/context.json`)).json()) as Record<string, string>;
    const data = new DataDir(dir);
    expect(ctx).toEqual({ chain_id: data.config().chain_id, trust_anchor: data.config().trust_anchor });
    data.close();
  });

  it('I-CONSOLE-1 approvals: two approver keys approve a held call in the page, then the held call executes', async () => {
    for (const args of [{ n: 1 }, { n: 2 }])
      expect((await api('/v1/calls', { tool: 'echo', args })).status).toBe(200);
    const held = await api('/v1/calls', {
      tool: 'deploy',
      args: { release: 'v2', note: '<img src=x onerror=alert(1)>' },
    });
    expect(held.status).toBe(202);
    const { approval_challenge_id: id } = (await held.json()) as { approval_challenge_id: string };

    const page = await openConsole('approvals');
    const posted: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posted.push(r.postData() ?? '');
    });
    await page.click(`tr[data-challenge="${id}"]`);
    await expect.poll(() => page.textContent('#binding-check')).toContain('✓');
    // Caller-controlled text is shown as text, never markup.
    expect(await page.textContent('#args-rendered')).toContain('<img src=x onerror=alert(1)>');
    expect(await page.locator('#approval-detail img').count()).toBe(0);
    expect(await page.isDisabled('#approve')).toBe(true); // no key loaded yet
    await page.screenshot({ path: artifact('approvals-pending.png'), fullPage: true });

    const keyFile = (n: number) => join(dir, 'keys', `approver-${n}.json`);
    const keyIdOf = (n: number) => (JSON.parse(readFileSync(keyFile(n), 'utf8')) as { keyid: string }).keyid;
    for (const n of [1, 2]) {
      await page.setInputFiles('#key-file', keyFile(n));
      await expect.poll(() => page.textContent('#signer-keyid')).toBe(keyIdOf(n));
      await page.click('#approve');
      await expect.poll(() => page.textContent('#approval-status')).toContain(`by ${keyIdOf(n)} accepted`);
    }
    await expect.poll(() => page.textContent('#challenge-state')).toBe('approved');
    expect(await page.textContent('#answers')).toContain(keyIdOf(1));
    expect(await page.textContent('#answers')).toContain(keyIdOf(2));
    await page.screenshot({ path: artifact('approvals-approved.png'), fullPage: true });

    await page.click('#run');
    await expect.poll(() => page.textContent('#approval-status')).toMatch(/The held call ran: SUCCEEDED/);
    await page.screenshot({ path: artifact('approvals.png'), fullPage: true });
    expect((page as Page & { errors: string[] }).errors).toEqual([]);

    // What the server got: two signed approval events and the run — never a seed.
    const seeds = [1, 2].map((n) => (JSON.parse(readFileSync(keyFile(n), 'utf8')) as { seed: string }).seed);
    expect(posted).toHaveLength(3);
    for (const body of posted) for (const seed of seeds) expect(body).not.toContain(seed);
    const view = (await (await api(`/v1/approvals/${id}`)).json()) as {
      state: string;
      approvals: number;
      receipt_id: string | null;
    };
    expect(view).toMatchObject({ state: 'consumed', approvals: 2 });
    // The held call's SUCCEEDED receipt is in the chain.
    const { receipts } = (await (await api('/v1/receipts')).json()) as {
      receipts: { envelope: { payload: string } }[];
    };
    const bodies = receipts.map((r) =>
      JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString('utf8')),
    );
    expect(bodies.filter((b) => b.tool === 'deploy').map((b) => b.status)).toEqual([
      'ESCALATED',
      'SUCCEEDED',
    ]);
    await page.close();
  });

  it('I-CONSOLE-2 explorer: an honest pack PASSes and a tampered one FAILs with its first failure highlighted, offline', async () => {
    const res = await api('/v1/evidencepack');
    expect(res.status).toBe(200);
    const honest = new Uint8Array(await res.arrayBuffer());
    // Tamper: one byte inside the first receipt's content (its tar header, and so the archive
    // structure, stay intact).
    const tampered = Uint8Array.from(honest);
    let header = -1;
    for (let at = 0; at < tampered.length; at += 512)
      if (Buffer.from(tampered.subarray(at, at + 26)).toString('latin1') === 'receipts/000000000001.json')
        header = at;
    expect(header).toBeGreaterThanOrEqual(0);
    const at = header + 512 + 24;
    tampered[at] = (tampered[at] as number) === 0x41 ? 0x42 : 0x41;
    const config = new DataDir(dir);
    const trustAnchor = config.config().trust_anchor;
    config.close();
    expect((await verifyEvidencePack(honest, { workers: 0, trustAnchor })).status).toBe('PASS');
    const expected = await verifyEvidencePack(tampered, { workers: 0, trustAnchor });
    const nodeFirst = expected.checks.find((c) => c.status === 'FAILED' || c.status === 'UNVERIFIABLE');
    expect(expected.status).toBe('FAILED');
    expect(nodeFirst?.code).toBe('ENTRY_HASHES');
    const honestFile = join(root, 'honest.tar');
    const tamperedFile = join(root, 'tampered.tar');
    writeFileSync(honestFile, honest);
    writeFileSync(tamperedFile, tampered);

    const page = await openConsole('explorer');
    await page.waitForSelector('#pack-file', { state: 'attached' });
    // The auditor pins the trust anchor they know (typed, as `helmts verify --trust-anchor`).
    await page.fill('#trust-anchor', trustAnchor);
    // From here the page has no network: every request is aborted, and counted.
    const attempted: string[] = [];
    await page.route('**', (r) => {
      attempted.push(r.request().url());
      return r.abort();
    });
    await page.context().setOffline(true);

    await page.setInputFiles('#pack-file', honestFile);
    await verdict(page, 'PASS');
    expect(await page.locator('tr.check[data-status="FAILED"]').count()).toBe(0);
    expect(await page.locator('#timeline li').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#proofgraph .node').count()).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: artifact('explorer-pass.png'), fullPage: true });

    await page.setInputFiles('#pack-file', tamperedFile);
    await verdict(page, 'FAILED');
    const highlighted = page.locator('tr.check.first-failure');
    expect(await highlighted.count()).toBe(1);
    expect(await highlighted.getAttribute('data-code')).toBe(nodeFirst?.code);
    expect(await page.textContent('#first-failure')).toContain(nodeFirst?.code as string);
    // The tampered receipt is marked in the timeline, not silently dropped.
    expect(await page.locator('#timeline li.blamed').getAttribute('data-lamport')).toBe('1');
    await page.screenshot({ path: artifact('explorer-failed.png'), fullPage: true });

    expect(attempted).toEqual([]);
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.context().setOffline(false);
    await page.close();
  });

  it('I-CONSOLE-4 explorer: each receipt’s inclusion proof verifies in the page; a tampered receipt’s does not, shown', async () => {
    // A condensed pack: one signed checkpoint over the chain; the LOW echo receipts (1, 2) become
    // condensed entries carrying their inclusion proofs, the MEDIUM deploy ones (3, 4) stay full
    // and their proofs are built in the page from the pack's leaves.
    const res = await api('/v1/evidencepack?condense=true');
    expect(res.status).toBe(200);
    const honest = new Uint8Array(await res.arrayBuffer());
    const entries = readTar(honest);
    expect(entries.filter((e) => /^checkpoints\/\d{12}-/.test(e.path))).toHaveLength(1);
    expect(entries.map((e) => e.path)).toEqual(
      expect.arrayContaining([
        'condensed/000000000001.json',
        'condensed/000000000002.json',
        'receipts/000000000003.json',
      ]),
    );
    // Tampered: receipt 3 claims tier LOW (a downgrade, which would let it be condensed away); its
    // leaf commits to the tier. Condensed entry 1 names another receipt hash: its carried proof no
    // longer starts from its leaf. Still readable JSON, still a canonical tar. (A change to a field
    // the leaf does not hold is bound by the receipt's signature instead: the hash in the leaf is
    // SHA-256 of that signature, and RECEIPT_CHAIN checks it; the page says so.)
    const tampered = writeTar(
      entries.map((e) => {
        if (e.path === 'condensed/000000000001.json') {
          const c = JSON.parse(new TextDecoder().decode(e.data)) as { entry_hash: string };
          const flipped = c.entry_hash.at(-1) === '0' ? '1' : '0';
          c.entry_hash = `${c.entry_hash.slice(0, -1)}${flipped}`;
          return { path: e.path, data: new TextEncoder().encode(JSON.stringify(c)) };
        }
        if (e.path !== 'receipts/000000000003.json') return e;
        const env = JSON.parse(new TextDecoder().decode(e.data)) as { payload: string };
        const body = JSON.parse(Buffer.from(env.payload, 'base64url').toString('utf8'));
        expect(body.risk_tier).toBe('MEDIUM');
        body.risk_tier = 'LOW';
        env.payload = Buffer.from(JSON.stringify(body)).toString('base64url');
        return { path: e.path, data: new TextEncoder().encode(JSON.stringify(env)) };
      }),
    );
    const config = new DataDir(dir);
    const trustAnchor = config.config().trust_anchor;
    config.close();
    expect((await verifyEvidencePack(honest, { workers: 0, trustAnchor })).status).toBe('PASS');
    const honestFile = join(root, 'checkpointed.tar');
    const tamperedFile = join(root, 'checkpointed-tampered.tar');
    writeFileSync(honestFile, honest);
    writeFileSync(tamperedFile, tampered);

    const page = await openConsole('explorer');
    await page.waitForSelector('#pack-file', { state: 'attached' });
    await page.fill('#trust-anchor', trustAnchor);
    const attempted: string[] = [];
    await page.route('**', (r) => {
      attempted.push(r.request().url());
      return r.abort();
    });
    const proofs = async (lamport: number) => {
      await page.click(`#timeline li[data-lamport="${lamport}"]`);
      await page.waitForSelector('#inclusion .proof');
      return page.locator('#inclusion .proof').evaluateAll((els) =>
        els.map((el) => ({
          ok: el.getAttribute('data-ok'),
          size: el.getAttribute('data-tree-size'),
          hashes: el.querySelectorAll('.audit-path li').length,
          text: el.textContent ?? '',
        })),
      );
    };

    await page.setInputFiles('#pack-file', honestFile);
    await verdict(page, 'PASS');
    expect(await page.locator('#timeline li').count()).toBe(4);
    for (const lamport of [1, 2, 3, 4]) {
      const shown = await proofs(lamport);
      expect(shown).toHaveLength(1);
      expect(shown[0]).toMatchObject({ ok: 'true', size: '4', hashes: 2 });
      expect(shown[0]?.text).toContain('VERIFIES');
      expect(shown[0]?.text).toContain(
        lamport <= 2 ? 'carried by the condensed entry' : 'built in this page',
      );
    }
    await page.click('#timeline li[data-lamport="3"]');
    await page.screenshot({ path: artifact('explorer-inclusion.png'), fullPage: true });

    await page.setInputFiles('#pack-file', tamperedFile);
    await verdict(page, 'FAILED');
    for (const lamport of [1, 3]) {
      const [shown] = await proofs(lamport);
      expect(shown).toMatchObject({ ok: 'false', size: '4', hashes: 2 });
      expect(shown?.text).toContain('DOES NOT VERIFY');
      expect(shown?.text).toContain('ROOT_MISMATCH');
      expect(await page.locator('#inclusion .proof.failed').count()).toBe(1);
    }
    // Condensed entry 2 is untouched and carries its own proof (its siblings' hashes as signed): its
    // path still reaches the checkpoint's root, but in this pack the verifier's CHECKPOINTS check
    // did not pass, so that root is not shown as a signed root and no proof as verifying (the red
    // team's re-rooted checkpoint: redteam-inclusion-forged-root.test.ts).
    const untouched = (await proofs(2))[0];
    expect(untouched).toMatchObject({ ok: 'false' });
    expect(untouched?.text).toContain('the path leads to this root, but the checkpoint did not verify');
    await page.click('#timeline li[data-lamport="3"]');
    await page.screenshot({ path: artifact('explorer-inclusion-tampered.png'), fullPage: true });
    expect(attempted).toEqual([]);
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('I-CONSOLE-5 OIDC: a JWT entered in the page approves with the approve scope; without it, 403 shown', async () => {
    const held = await api('/v1/calls', { tool: 'deploy', args: { release: 'v3' } });
    expect(held.status).toBe(202);
    const { approval_challenge_id: id } = (await held.json()) as { approval_challenge_id: string };
    const keyFile = (n: number) => join(dir, 'keys', `approver-${n}.json`);
    const keyIdOf = (n: number) => (JSON.parse(readFileSync(keyFile(n), 'utf8')) as { keyid: string }).keyid;
    const answers = async () =>
      ((await (await api(`/v1/approvals/${id}`)).json()) as { approvals: number; state: string }).approvals;

    // An auditor's token (scope audit): sees the queue and the binding, may not answer.
    const auditor = await openConsole('approvals', await jwt('auditor@idp.test.example', 'audit'));
    await auditor.click(`tr[data-challenge="${id}"]`);
    await expect.poll(() => auditor.textContent('#binding-check')).toContain('✓');
    await auditor.setInputFiles('#key-file', keyFile(1));
    await expect.poll(() => auditor.textContent('#signer-keyid')).toBe(keyIdOf(1));
    await auditor.click('#approve');
    await expect.poll(() => auditor.textContent('#approval-status')).toContain('(403)');
    const refused = (await auditor.textContent('#approval-status')) as string;
    expect(refused).toContain('Not allowed for this credential');
    expect(refused).toContain('FORBIDDEN');
    expect(refused).toContain('approve');
    expect(await auditor.getAttribute('#approval-status', 'class')).toContain('error');
    await auditor.screenshot({ path: artifact('approvals-oidc-403.png'), fullPage: true });
    expect(await answers()).toBe(0);
    expect((auditor as Page & { errors: string[] }).errors).toEqual([]);
    await auditor.close();

    // An approver's token (scope approve): the same two keys answer, the call reaches quorum.
    const approver = await openConsole('approvals', await jwt('alice@idp.test.example', 'approve'));
    await approver.click(`tr[data-challenge="${id}"]`);
    await expect.poll(() => approver.textContent('#binding-check')).toContain('✓');
    for (const n of [1, 2]) {
      await approver.setInputFiles('#key-file', keyFile(n));
      await expect.poll(() => approver.textContent('#signer-keyid')).toBe(keyIdOf(n));
      await approver.click('#approve');
      await expect
        .poll(() => approver.textContent('#approval-status'))
        .toContain(`by ${keyIdOf(n)} accepted`);
    }
    await expect.poll(() => approver.textContent('#challenge-state')).toBe('approved');
    expect(await answers()).toBe(2);
    expect((approver as Page & { errors: string[] }).errors).toEqual([]);
    await approver.close();
  });

  it('live: recent receipts appear and filter by verdict', async () => {
    const page = await openConsole('live');
    await expect.poll(async () => page.locator('#live-rows tr').count()).toBeGreaterThanOrEqual(4);
    await page.selectOption('#filter-verdict', 'ESCALATE');
    // the two held deploys (the approvals test's and the OIDC test's)
    await expect.poll(async () => page.locator('#live-rows tr').count()).toBe(2);
    expect(await page.textContent('#live-rows')).toContain('deploy');
    await page.selectOption('#filter-verdict', '');
    const before = await page.locator('#live-rows tr').count();
    expect((await api('/v1/calls', { tool: 'echo', args: { n: 3 } })).status).toBe(200);
    // Polling picks the new receipt up without a reload.
    await expect
      .poll(async () => page.locator('#live-rows tr').count(), { timeout: 10_000 })
      .toBe(before + 1);
    await page.screenshot({ path: artifact('live.png'), fullPage: true });
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });
});
