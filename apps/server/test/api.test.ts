// The API of `helmts serve` over real HTTP on loopback (port 0): every route, every way to be
// refused (I-SERVE-1: no token, a bad or revoked one, a wrong scope, a body naming another
// principal or tenant — nothing executes and no receipt appears), approvals signed elsewhere, the
// pack byte-for-byte `helmts export`, and the C2SP checkpoint with its proofs. Attackers first.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStrictJson } from '@helm/crypto';
import { envelopeBody, readTar } from '@helm/evidencepack';
import { logLeafHash } from '@helm/proofgraph/verify';
import {
  approvalStatement,
  DataDir,
  exportPack,
  signGovernanceEvent,
  storedChallenge,
  verifiedChallenge,
} from '@helm/runtime';
import { exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkConsistency,
  checkInclusion,
  type HelmServer,
  parseCheckpoint,
  parseNote,
  parseVkey,
  revokeApiKey,
  startHelmServer,
  verifyNote,
} from '../src/index.ts';
import { bearer, errorCode, jsonPost, makeHome, makeKeys, tempRoot } from './helpers.ts';

const root = tempRoot('helm-serve-api-');
let dir = '';
let server: HelmServer;
let keys: Awaited<ReturnType<typeof makeKeys>>;
let base = '';
const ISSUER = 'https://idp.example';
const AUDIENCE = 'helm-api';
const idp = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');

async function jwt(
  claims: Record<string, unknown>,
  opts: { key?: typeof idp; iss?: string; aud?: string; exp?: string } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign((opts.key ?? idp).privateKey);
}

/** Receipts of the chain, by status (what the store holds, not what the API said). */
function receiptStatuses(): string[] {
  const data = new DataDir(dir);
  try {
    return data.store
      .receiptsSync({ chainId: data.config().chain_id })
      .map((r) => envelopeBody<{ status: string }>(r.envelope).status);
  } finally {
    data.close();
  }
}

beforeAll(async () => {
  dir = await makeHome(root, 'home');
  keys = await makeKeys(dir);
  const jwks = join(root, 'jwks.json');
  writeFileSync(
    jwks,
    JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'k1', alg: 'EdDSA' }] }),
  );
  server = await startHelmServer({
    dataDir: dir,
    rateLimit: { rate: 0 },
    oidc: { jwks, issuer: ISSUER, audience: AUDIENCE },
  });
  base = server.url;
}, 120_000);
afterAll(() => server?.close());

describe('I-SERVE-1 authentication and authorization fail closed', () => {
  it('binds loopback by default', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('401 without a token, with a malformed, unknown, tampered or revoked key; nothing executes', async () => {
    const before = receiptStatuses().length;
    const call = { tool: 'echo', args: { x: 1 } };
    const tampered = `${keys.call.slice(0, -2)}${keys.call.endsWith('AA') ? 'BB' : 'AA'}`;
    const data = new DataDir(dir);
    const revoked = (await makeKeys(dir)).call;
    await revokeApiKey(data, revoked.split('_')[1] as string);
    data.close();
    for (const headers of [
      {},
      { authorization: keys.call },
      { authorization: 'Basic Zm9vOmJhcg==' },
      { authorization: 'Bearer ' },
      { authorization: 'Bearer helm_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      bearer(tampered),
      bearer(revoked),
      bearer('not-a-jwt'),
    ]) {
      const res = await fetch(`${base}/v1/calls`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(call),
      });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(await errorCode(res)).toBe('UNAUTHENTICATED');
    }
    expect(receiptStatuses().length).toBe(before);
  });

  it('403 for a missing scope on every guarded route', async () => {
    const cases: [string, RequestInit][] = [
      ['/v1/calls', jsonPost(keys.audit, { tool: 'echo' })],
      ['/v1/receipts', { headers: bearer(keys.call) }],
      ['/v1/evidencepack', { headers: bearer(keys.call) }],
      ['/v1/approvals', { headers: bearer(keys.call) }],
      ['/v1/approvals/x', jsonPost(keys.audit, {})],
      ['/v1/delegations', jsonPost(keys.call, {})],
      ['/v1/delegations', { headers: bearer(keys.call) }],
      ['/v1/log/checkpoint', { headers: bearer(keys.call) }],
      ['/metrics', { headers: bearer(keys.call) }],
    ];
    for (const [path, init] of cases) {
      const res = await fetch(`${base}${path}`, init);
      expect(res.status, path).toBe(403);
      expect(await errorCode(res)).toBe('FORBIDDEN');
    }
  });

  it('a body naming another principal or tenant is refused 403; the identity decides', async () => {
    const before = receiptStatuses().length;
    for (const body of [
      { tool: 'echo', principal: 'mallory' },
      { tool: 'echo', tenant: 'other' },
      { tool: 'echo', principal: 'local', tenant: 'acme' },
    ]) {
      const res = await fetch(`${base}/v1/calls`, jsonPost(keys.call, body));
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect(await errorCode(res)).toBe('IDENTITY_MISMATCH');
    }
    expect(receiptStatuses().length).toBe(before);
    // mallory's own key: the call runs as mallory, whom the policy does not allow (a receipted DENY).
    const res = await fetch(`${base}/v1/calls`, jsonPost(keys.mallory, { tool: 'echo', args: {} }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'DENIED', verdict: 'DENY' });
  });

  it('OIDC: a valid JWT acts as its subject; wrong issuer, audience, key, expiry or alg is 401', async () => {
    const good = await jwt({ sub: 'local', scope: 'call' });
    const ok = await fetch(`${base}/v1/calls`, jsonPost(good, { tool: 'echo', args: { x: 7 } }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'SUCCEEDED', output: { x: 7 } });
    const bad = [
      await jwt({ sub: 'local', scope: 'call' }, { iss: 'https://evil.example' }),
      await jwt({ sub: 'local', scope: 'call' }, { aud: 'other' }),
      await jwt({ sub: 'local', scope: 'call' }, { key: stranger }),
      await jwt({ sub: 'local', scope: 'call' }, { exp: '-1m' }),
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"local","scope":"call","iss":"https://idp.example","aud":"helm-api","exp":9999999999}').toString('base64url')}.`,
    ];
    for (const token of bad) {
      const res = await fetch(`${base}/v1/calls`, jsonPost(token, { tool: 'echo' }));
      expect(res.status).toBe(401);
    }
    const noScope = await jwt({ sub: 'local', scope: 'audit' });
    expect((await fetch(`${base}/v1/calls`, jsonPost(noScope, { tool: 'echo' }))).status).toBe(403);
  });
});

describe('routes', () => {
  it('health, readiness, OpenAPI, reason codes and security headers', async () => {
    const h = await fetch(`${base}/healthz`);
    expect(await h.json()).toEqual({ ok: true });
    expect(h.headers.get('x-content-type-options')).toBe('nosniff');
    expect(h.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(h.headers.get('cache-control')).toBe('no-store');
    const r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ready: true, checks: { store: 'ok', keys: 'ok', policy: 'ok' } });
    const o = (await (await fetch(`${base}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { $id?: string }> };
    };
    expect(o.openapi).toBe('3.1.0');
    expect(Object.keys(o.paths)).toContain('/v1/calls');
    expect(o.components.schemas.Receipt).toBeDefined();
    expect(o.components.schemas.GovernanceEvent).toBeDefined();
    const rc = (await (await fetch(`${base}/v1/reason-codes`)).json()) as { reason_codes: string[] };
    expect(rc.reason_codes).toContain('ALLOW');
  });

  it('405 with Allow for a wrong method, 404 for an unknown route', async () => {
    const res = await fetch(`${base}/v1/calls`, { method: 'DELETE', headers: bearer(keys.admin) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await errorCode(res)).toBe('METHOD_NOT_ALLOWED');
    const missing = await fetch(`${base}/v2/nothing`);
    expect(missing.status).toBe(404);
    expect(await errorCode(missing)).toBe('NOT_FOUND');
  });

  it('POST /v1/calls answers the result with its signed receipt; GET /v1/calls/{id} reads it back', async () => {
    const res = await fetch(`${base}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { x: 1 } }));
    expect(res.status).toBe(200);
    const r = (await res.json()) as { status: string; output: unknown; receipt: { payload: string } };
    expect(r).toMatchObject({ status: 'SUCCEEDED', verdict: 'ALLOW', output: { x: 1 } });
    const body = envelopeBody<{ receipt_id: string; principal: string }>(r.receipt as never);
    const got = await fetch(`${base}/v1/calls/${body.receipt_id}`, { headers: bearer(keys.audit) });
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ id: body.receipt_id, receipt: r.receipt });
    // Its caller may read it with `call`; another principal may not even learn it exists.
    expect((await fetch(`${base}/v1/calls/${body.receipt_id}`, { headers: bearer(keys.call) })).status).toBe(
      200,
    );
    expect(
      (await fetch(`${base}/v1/calls/${body.receipt_id}`, { headers: bearer(keys.mallory) })).status,
    ).toBe(404);
    // args_text goes to the strict PEP: a duplicate key there is a receipted ARGS_MALFORMED denial.
    const dup = await fetch(
      `${base}/v1/calls`,
      jsonPost(keys.call, { tool: 'echo', args_text: '{"x":1,"x":2}' }),
    );
    expect(await dup.json()).toMatchObject({ status: 'DENIED', reason_code: 'ARGS_MALFORMED' });
  });

  it('approvals: held call, full binding, a signed approval from elsewhere, then the approved run', async () => {
    const held = await fetch(`${base}/v1/calls`, jsonPost(keys.call, { tool: 'deploy', args: { v: 2 } }));
    expect(held.status).toBe(202);
    const { approval_challenge_id: id } = (await held.json()) as { approval_challenge_id: string };
    const list = (await (
      await fetch(`${base}/v1/approvals?state=pending`, { headers: bearer(keys.approve) })
    ).json()) as {
      approvals: { challenge_id: string; tool: string }[];
    };
    expect(list.approvals.map((a) => a.challenge_id)).toContain(id);
    const one = await fetch(`${base}/v1/approvals/${id}`, { headers: bearer(keys.audit) });
    expect(await one.json()).toMatchObject({
      state: 'pending',
      request: { tool: 'deploy', args: { v: 2 } },
      quorum: 1,
    });
    // The approval page: HTML for a browser, every caller-controlled value escaped.
    const xss = await fetch(
      `${base}/v1/calls`,
      jsonPost(keys.call, { tool: 'deploy', args: { v: '<script>alert(1)</script>' } }),
    );
    const xssId = ((await xss.json()) as { approval_challenge_id: string }).approval_challenge_id;
    const page = await fetch(`${base}/v1/approvals/${xssId}`, {
      headers: { ...bearer(keys.approve), accept: 'text/html' },
    });
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('deploy');
    // Running it before approval is refused.
    const early = await fetch(`${base}/v1/calls`, jsonPost(keys.call, { challenge: id }));
    expect(early.status).toBe(409);
    // The approver signs on its own machine (its key never reaches the server).
    const data = new DataDir(dir);
    const sign = (keyName: string) => {
      const signer = data.localKey(keyName).signer;
      const c = verifiedChallenge(storedChallenge(data, id), data.registry());
      return signGovernanceEvent({
        action: 'approval.grant',
        body: { challenge_id: id, statement: approvalStatement(c, signer) as never },
        signer,
        at: Date.now(),
        trustAnchor: data.config().trust_anchor,
        chainId: data.config().chain_id,
      });
    };
    const forged = sign('policy');
    const good = sign('approver-1');
    data.close();
    const refused = await fetch(`${base}/v1/approvals/${id}`, jsonPost(keys.approve, { event: forged }));
    expect(refused.status).toBe(409);
    const wrongTarget = await fetch(`${base}/v1/approvals/other`, jsonPost(keys.approve, { event: good }));
    expect(wrongTarget.status).toBe(400);
    const noScope = await fetch(`${base}/v1/approvals/${id}`, jsonPost(keys.call, { event: good }));
    expect(noScope.status).toBe(403);
    const accepted = await fetch(`${base}/v1/approvals/${id}`, jsonPost(keys.approve, { event: good }));
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({
      action: 'approval.grant',
      challenge: { state: 'approved' },
    });
    // Another principal cannot run it; its caller can, once.
    const theft = await fetch(`${base}/v1/calls`, jsonPost(keys.mallory, { challenge: id }));
    expect(theft.status).toBe(403);
    const run = await fetch(`${base}/v1/calls`, jsonPost(keys.call, { challenge: id }));
    expect(await run.json()).toMatchObject({ status: 'SUCCEEDED', output: { v: 2 } });
    const again = await fetch(`${base}/v1/calls`, jsonPost(keys.call, { challenge: id }));
    expect(again.status).toBe(409);
  });

  it('delegation sessions: create as the identity, list, revoke', async () => {
    const other = await fetch(
      `${base}/v1/delegations`,
      jsonPost(keys.admin, { delegator: 'root', delegate: 'bob', ttl: '1h', tools: ['echo'] }),
    );
    expect(other.status).toBe(403);
    // P0 wants MFA at creation: an API key cannot attest it, and a body saying so is refused.
    const claimed = await fetch(
      `${base}/v1/delegations`,
      jsonPost(keys.admin, { delegate: 'bob', ttl: '1h', tools: ['echo'], mfa_verified: true }),
    );
    expect(claimed.status).toBe(403);
    const noMfa = await fetch(
      `${base}/v1/delegations`,
      jsonPost(keys.admin, { delegate: 'bob', ttl: '1h', tools: ['echo'] }),
    );
    expect(noMfa.status).toBe(400);
    const admin = await jwt({ sub: 'local', scope: 'admin', amr: ['pwd', 'mfa'] });
    const res = await fetch(
      `${base}/v1/delegations`,
      jsonPost(admin, { delegate: 'bob', ttl: '1h', tools: ['echo'] }),
    );
    expect(res.status, await res.clone().text()).toBe(201);
    const created = (await res.json()) as {
      session: { session_id: string; delegator: string };
      code_verifier: string;
    };
    expect(created.session.delegator).toBe('local');
    expect(created.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const list = (await (await fetch(`${base}/v1/delegations`, { headers: bearer(keys.audit) })).json()) as {
      sessions: { session_id: string; status: string }[];
    };
    expect(list.sessions.find((s) => s.session_id === created.session.session_id)?.status).toBe('active');
    const del = await fetch(`${base}/v1/delegations/${created.session.session_id}`, {
      method: 'DELETE',
      headers: bearer(keys.admin),
    });
    expect(del.status).toBe(200);
    const after = (await (
      await fetch(`${base}/v1/delegations?all=true`, { headers: bearer(keys.audit) })
    ).json()) as {
      sessions: { session_id: string; status: string }[];
    };
    expect(after.sessions.find((s) => s.session_id === created.session.session_id)?.status).toBe('revoked');
    expect(
      (
        await fetch(`${base}/v1/delegations/sha256:${'0'.repeat(64)}`, {
          method: 'DELETE',
          headers: bearer(keys.admin),
        })
      ).status,
    ).toBe(404);
  });

  it('receipts by range; the pack is byte for byte `helmts export` and verifies', async () => {
    const res = await fetch(`${base}/v1/receipts?from=1&to=2`, { headers: bearer(keys.audit) });
    const page = (await res.json()) as { receipts: { lamport: number }[] };
    expect(page.receipts.map((r) => r.lamport)).toEqual([1, 2]);
    expect((await fetch(`${base}/v1/receipts?from=0`, { headers: bearer(keys.audit) })).status).toBe(400);
    const pack = await fetch(`${base}/v1/evidencepack`, { headers: bearer(keys.audit) });
    expect(pack.headers.get('content-type')).toBe('application/x-tar');
    const bytes = new Uint8Array(await pack.arrayBuffer());
    const data = new DataDir(dir);
    const local = exportPack(data);
    const anchor = data.config().trust_anchor;
    data.close();
    expect(Buffer.from(bytes).equals(Buffer.from(local.bytes))).toBe(true);
    expect(pack.headers.get('x-helm-pack-digest')).toBe(local.digest);
    const verified = await fetch(`${base}/v1/evidencepack/verify?trust_anchor=${anchor}`, {
      method: 'POST',
      headers: bearer(keys.audit),
      body: bytes,
    });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ report: { status: 'PASS' } });
    const tampered = Uint8Array.from(bytes);
    tampered[3000] = (tampered[3000] ?? 0) ^ 1;
    const failed = await fetch(`${base}/v1/evidencepack/verify?trust_anchor=${anchor}`, {
      method: 'POST',
      headers: bearer(keys.audit),
      body: tampered,
    });
    expect(failed.status).toBe(422);
    expect(
      (
        await fetch(`${base}/v1/evidencepack/verify?trust_anchor=nope`, {
          method: 'POST',
          headers: bearer(keys.audit),
          body: bytes,
        })
      ).status,
    ).toBe(400);
    expect((await fetch(`${base}/v1/evidencepack/verify`, { method: 'POST', body: bytes })).status).toBe(401);
  });

  it('the log: a C2SP checkpoint signed by the log key, inclusion and consistency proofs that verify', async () => {
    // Two calls first, so this test stands alone (run with -t) on a log of at least two leaves.
    for (const x of [1, 2])
      await fetch(`${base}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { x } }));
    const first = await fetch(`${base}/v1/log/checkpoint`, { headers: bearer(keys.audit) });
    const vkey = parseVkey(first.headers.get('x-helm-log-vkey') as string);
    expect(`${vkey.name}+`).toBe(server.logVkey.slice(0, vkey.name.length + 1));
    const note1 = parseNote(await first.text());
    expect(verifyNote(note1, [vkey])).toHaveLength(1);
    const cp1 = parseCheckpoint(note1.text);
    await fetch(`${base}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { x: 99 } }));
    const note2 = parseNote(
      await (await fetch(`${base}/v1/log/checkpoint`, { headers: bearer(keys.audit) })).text(),
    );
    verifyNote(note2, [vkey]);
    const cp2 = parseCheckpoint(note2.text);
    expect(cp2.size).toBe(cp1.size + 1);
    const cons = (await (
      await fetch(`${base}/v1/log/consistency?old=${cp1.size}&size=${cp2.size}`, {
        headers: bearer(keys.audit),
      })
    ).json()) as { proof: string[] };
    const proof = cons.proof.map((p) => new Uint8Array(Buffer.from(p, 'base64')));
    expect(checkConsistency(cp1, cp2, proof)).toBe(true);
    expect(checkConsistency({ ...cp1, root: cp2.root }, cp2, proof)).toBe(false);
    // Inclusion of receipt 2 (its leaf: helm.log_leaf.v1 over its hash and receipt 1's).
    const data = new DataDir(dir);
    const [r1, r2] = data.store.receiptsSync({ chainId: data.config().chain_id, toLamport: 2 });
    data.close();
    const inc = (await (
      await fetch(`${base}/v1/log/inclusion?lamport=2&size=${cp2.size}`, { headers: bearer(keys.audit) })
    ).json()) as { index: number; proof: string[] };
    const leaf = logLeafHash({
      entry_hash: r2?.hash as string,
      prev_hash: r1?.hash as string,
      lamport: 2,
      risk_tier: envelopeBody<{ risk_tier: 'LOW' }>(r2?.envelope as never).risk_tier,
    });
    const incProof = inc.proof.map((p) => new Uint8Array(Buffer.from(p, 'base64')));
    expect(checkInclusion(inc.index, leaf, incProof, cp2)).toBe(true);
    expect(checkInclusion(inc.index, leaf, incProof, cp1)).toBe(false);
    expect(
      (await fetch(`${base}/v1/log/inclusion?lamport=99999`, { headers: bearer(keys.audit) })).status,
    ).toBe(404);
    expect(
      (await fetch(`${base}/v1/log/consistency?old=5&size=2`, { headers: bearer(keys.audit) })).status,
    ).toBe(400);
  });

  it('/metrics: Prometheus text with decisions by verdict and reason', async () => {
    const res = await fetch(`${base}/metrics`, { headers: bearer(keys.audit) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/helm_decisions_total\{verdict="ALLOW",reason_code="ALLOW"\} \d+/);
    expect(text).toContain('helm_http_request_duration_seconds_bucket');
    expect(text).toMatch(/helm_auth_failures_total\{status="401"\} \d+/);
  });
});
