// I-SERVE-7: the governance routes of `helmts serve` on a shared PostgreSQL database (real servers,
// real HTTP on loopback, a fresh database for this file; no server = failure, never a skip). Two
// servers — two data directories, two chains — on one database are one service behind a load
// balancer: a call held on A is listed and answered on either, its approved retry runs exactly once
// cluster-wide (B's retry runs it, then no node runs it again; a race of both runs it once); a
// delegation session created on A is usable on B and its revocation on A denies B's next call; a
// call whose API key or JWT names no credential is bound through the identity bindings of the
// database's governance log (an identity.add appended there binds it on every node). Attackers
// first: before this, every one of these routes answered 501 DATABASE_ROUTE_UNSUPPORTED.
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envelopeBody } from '@helm/evidencepack';
import {
  appendGovernanceEventAsync,
  approvalStatement,
  attachDatabase,
  DataDir,
  migrateDatabase,
  publishTrust,
  signGovernanceEvent,
  verifiedChallenge,
} from '@helm/runtime';
import { exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../../packages/store-postgres/test/harness.ts';
import { createApiKey, type HelmServer, startHelmServer } from '../src/index.ts';
import { bearer, errorCode, jsonPost, makeHome, tempRoot } from './helpers.ts';

const db = await createTestDatabase('serve_gov');
const root = tempRoot('helm-serve-pg-gov-');
const servers: HelmServer[] = [];
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  await db.drop();
});

const ISSUER = 'https://idp.example';
const AUDIENCE = 'helm-api';
const idp = generateKeyPairSync('ed25519');
let jwks = '';

async function jwt(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(idp.privateKey);
}

/** A node: a copy of the template directory with its own chain id and no helm.db. */
function nodeDir(template: string, name: string): string {
  const dir = join(root, name);
  cpSync(template, dir, { recursive: true });
  rmSync(join(dir, 'helm.db'), { force: true });
  const d = new DataDir(dir);
  d.writeConfig({ ...d.config(), chain_id: name });
  return dir;
}

/** Receipt statuses of `tool` over every chain of the database (what it holds, not what the API said). */
async function ran(tool: string): Promise<string[]> {
  const c = await raw(db.url);
  try {
    const r = await c.query('SELECT envelope FROM receipts ORDER BY chain_id, lamport');
    return r.rows
      .map((row) => envelopeBody<{ tool?: string; status?: string }>(JSON.parse(row.envelope as string)))
      .filter((b) => b.tool === tool)
      .map((b) => String(b.status));
  } finally {
    await c.end();
  }
}

let template = '';
const keys = { call: '', approve: '', audit: '', nocred: '', bob: '', carol: '' };

/** An administrator's identity.add, appended to the database's one governance log. */
async function bind(credential: string, principal: string): Promise<void> {
  const d = new DataDir(nodeDir(template, `admin-${credential}`));
  await attachDatabase(d, { url: db.url });
  try {
    await appendGovernanceEventAsync(d, {
      action: 'identity.add',
      body: { credential_id: credential, principal },
      signer: d.localKey('policy').signer,
      at: Date.now(),
    });
  } finally {
    await d.closeAll();
  }
}

/** Two servers, A and B, on the database (each its own data directory and chain). */
async function pair(name: string): Promise<[HelmServer, HelmServer]> {
  const [a, b] = await Promise.all(
    ['a', 'b'].map((n) =>
      startHelmServer({
        dataDir: nodeDir(template, `${name}-${n}`),
        database: { url: db.url },
        rateLimit: { rate: 0 },
        oidc: { jwks, issuer: ISSUER, audience: AUDIENCE },
      }),
    ),
  );
  servers.push(a as HelmServer, b as HelmServer);
  return [a as HelmServer, b as HelmServer];
}

/**
 * approver-1's signed grant of a challenge, made on the approver's side (its key never reaches a
 * server) from what the database holds: the challenge, the registry and the governance log's name.
 */
async function signedGrant(id: string, keyName = 'approver-1'): Promise<unknown> {
  const d = new DataDir(nodeDir(template, `approver-${id.slice(7, 19)}`));
  await attachDatabase(d, { url: db.url });
  try {
    const stored = await d.shared?.governanceChallenge(id);
    expect(stored, `challenge ${id} is in the database`).toBeDefined();
    const signer = d.localKey(keyName).signer;
    const c = verifiedChallenge(stored as never, await d.registryAsync());
    return signGovernanceEvent({
      action: 'approval.grant',
      body: { challenge_id: id, statement: approvalStatement(c, signer) as never },
      signer,
      at: Date.now(),
      trustAnchor: d.config().trust_anchor,
      chainId: d.governanceLog as string,
    });
  } finally {
    await d.closeAll();
  }
}

beforeAll(async () => {
  template = await makeHome(root, 'template');
  jwks = join(root, 'jwks.json');
  writeFileSync(
    jwks,
    JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'k1', alg: 'EdDSA' }] }),
  );
  await migrateDatabase({ url: db.url });
  const t = new DataDir(template);
  await publishTrust(t, { url: db.url });
  t.close();
  const d = new DataDir(nodeDir(template, 'keys-node'));
  await attachDatabase(d, { url: db.url });
  try {
    const mk = async (principal: string, scopes: string[], credential: string | null) =>
      (await createApiKey(d, { principal, scopes, credential })).key;
    keys.call = await mk('local', ['call'], 'cred-local');
    keys.approve = await mk('local', ['approve'], 'cred-local');
    keys.audit = await mk('local', ['audit'], 'cred-local');
    // Keys that name no credential: the server looks the binding up in the governance state.
    keys.nocred = await mk('local', ['call'], null);
    keys.bob = await mk('bob', ['call'], null);
    keys.carol = await mk('carol', ['call'], null);
  } finally {
    await d.closeAll();
  }
}, 120_000);

describe('I-SERVE-7 governance routes on a shared PostgreSQL database (two servers)', () => {
  it('a call held on A is listed and answered on B; the retry runs once on B, never again on A or B', async () => {
    const [a, b] = await pair('appr');
    const held = await fetch(`${a.url}/v1/calls`, jsonPost(keys.call, { tool: 'deploy', args: { v: 1 } }));
    expect(held.status).toBe(202);
    const id = ((await held.json()) as { approval_challenge_id: string }).approval_challenge_id;
    expect(id).toMatch(/^sha256:/);
    // B lists the challenge A holds (the database's, not only its own chain's) and shows it.
    const list = await fetch(`${b.url}/v1/approvals?state=pending`, { headers: bearer(keys.approve) });
    expect(list.status, await list.clone().text()).toBe(200);
    const listed = (await list.json()) as { approvals: { challenge_id: string; tool: string }[] };
    expect(listed.approvals.map((x) => x.challenge_id)).toContain(id);
    const one = await fetch(`${b.url}/v1/approvals/${id}`, { headers: bearer(keys.audit) });
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ state: 'pending', request: { tool: 'deploy', args: { v: 1 } } });
    // Before the approval: B refuses the retry (409) and nothing runs.
    const early = await fetch(`${b.url}/v1/calls`, jsonPost(keys.call, { challenge: id }));
    expect(early.status).toBe(409);
    // An approval signed by a key without the approver role is refused on A (409), nothing appended.
    const forged = await fetch(
      `${a.url}/v1/approvals/${id}`,
      jsonPost(keys.approve, { event: await signedGrant(id, 'policy') }),
    );
    expect(forged.status).toBe(409);
    const grant = await signedGrant(id);
    const accepted = await fetch(`${a.url}/v1/approvals/${id}`, jsonPost(keys.approve, { event: grant }));
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    expect(await accepted.json()).toMatchObject({
      action: 'approval.grant',
      challenge: { state: 'approved' },
    });
    // The same signed event twice is refused (the log holds it already).
    const twice = await fetch(`${b.url}/v1/approvals/${id}`, jsonPost(keys.approve, { event: grant }));
    expect(twice.status).toBe(409);
    // A caller of another principal cannot run it on B.
    const theft = await fetch(`${b.url}/v1/calls`, jsonPost(keys.bob, { challenge: id }));
    expect(theft.status).toBe(403);
    const run = await fetch(`${b.url}/v1/calls`, jsonPost(keys.call, { challenge: id }));
    expect(run.status, await run.clone().text()).toBe(200);
    expect(await run.json()).toMatchObject({ status: 'SUCCEEDED', output: { v: 1 } });
    for (const s of [a, b]) {
      const again = await fetch(`${s.url}/v1/calls`, jsonPost(keys.call, { challenge: id }));
      expect(again.status).toBe(409);
    }
    const consumed = await fetch(`${a.url}/v1/approvals/${id}`, { headers: bearer(keys.audit) });
    expect(await consumed.json()).toMatchObject({ state: 'consumed' });
    expect((await ran('deploy')).filter((st) => st === 'SUCCEEDED')).toHaveLength(1);
  });

  it("the console's approvals are signed for the database's one governance log, not the node's chain", async () => {
    const [a] = await pair('console');
    const ctx = (await (await fetch(`${a.url}/console/context.json`)).json()) as { chain_id: string };
    const d = new DataDir(nodeDir(template, 'console-probe'));
    await attachDatabase(d, { url: db.url });
    try {
      expect(ctx.chain_id).toBe(d.governanceLog);
      expect(ctx.chain_id).not.toBe('console-a');
    } finally {
      await d.closeAll();
    }
  });

  it('attacker: A and B race the retry of one approved call — it runs exactly once cluster-wide', async () => {
    const [a, b] = await pair('race');
    const before = (await ran('deploy')).filter((st) => st === 'SUCCEEDED').length;
    for (const v of [2, 3, 4]) {
      const held = await fetch(`${a.url}/v1/calls`, jsonPost(keys.call, { tool: 'deploy', args: { v } }));
      const id = ((await held.json()) as { approval_challenge_id: string }).approval_challenge_id;
      const ok = await fetch(
        `${b.url}/v1/approvals/${id}`,
        jsonPost(keys.approve, { event: await signedGrant(id) }),
      );
      expect(ok.status).toBe(200);
      const answers = await Promise.all(
        [a, b, a, b].map(async (s) => {
          const res = await fetch(`${s.url}/v1/calls`, jsonPost(keys.call, { challenge: id }));
          const body = (await res.json()) as { status?: string };
          return body.status ?? `http ${res.status}`;
        }),
      );
      expect(
        answers.filter((x) => x === 'SUCCEEDED'),
        answers.join(', '),
      ).toHaveLength(1);
    }
    expect((await ran('deploy')).filter((st) => st === 'SUCCEEDED')).toHaveLength(before + 3);
  });

  it('a call whose key names no credential is bound by the database identity bindings; an identity.add appended there binds on every node', async () => {
    const [a, b] = await pair('ident');
    for (const s of [a, b]) {
      const res = await fetch(`${s.url}/v1/calls`, jsonPost(keys.nocred, { tool: 'echo', args: { x: 1 } }));
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await res.json()).toMatchObject({ verdict: 'ALLOW', status: 'SUCCEEDED' });
    }
    // bob has no binding yet: his call names no credential and the identity gate denies it.
    const unbound = await fetch(`${b.url}/v1/calls`, jsonPost(keys.bob, { tool: 'echo', args: { x: 2 } }));
    expect(unbound.status, await unbound.clone().text()).toBe(200);
    expect(await unbound.json()).toMatchObject({ verdict: 'DENY', reason_code: 'GATE_IDENTITY_ISOLATION' });
    // An administrator binds cred-bob to bob through the database's governance log.
    await bind('cred-bob', 'bob');
    const bound = await fetch(`${a.url}/v1/calls`, jsonPost(keys.bob, { tool: 'echo', args: { x: 3 } }));
    expect(bound.status, await bound.clone().text()).toBe(200);
    // Past the identity gate now (bob has no policy rule: NO_POLICY), on A and on B, whose
    // bindings were read before the edit (refreshed because the log's head moved).
    expect(await bound.json()).toMatchObject({ verdict: 'DENY', reason_code: 'NO_POLICY' });
    const onB = await fetch(`${b.url}/v1/calls`, jsonPost(keys.bob, { tool: 'echo', args: { x: 4 } }));
    expect(await onB.json()).toMatchObject({ verdict: 'DENY', reason_code: 'NO_POLICY' });
  });

  it('a delegation created on A is listed and usable on B; its revocation on A denies B next call', async () => {
    const [a, b] = await pair('deleg');
    await bind('cred-carol', 'carol');
    const admin = await jwt({ sub: 'local', scope: 'admin', amr: ['pwd', 'mfa'] });
    const created = await fetch(
      `${a.url}/v1/delegations`,
      jsonPost(admin, { delegate: 'carol', ttl: '1h', tools: ['echo'] }),
    );
    expect(created.status, await created.clone().text()).toBe(201);
    const { session, code_verifier } = (await created.json()) as {
      session: { session_id: string; delegator: string };
      code_verifier: string;
    };
    expect(session.delegator).toBe('local');
    const list = await fetch(`${b.url}/v1/delegations`, { headers: bearer(admin) });
    expect(list.status).toBe(200);
    const sessions = ((await list.json()) as { sessions: { session_id: string; status: string }[] }).sessions;
    expect(sessions.find((x) => x.session_id === session.session_id)?.status).toBe('active');
    const call = { tool: 'echo', args: { d: 1 }, session: session.session_id, code_verifier };
    const used = await fetch(`${b.url}/v1/calls`, jsonPost(keys.carol, call));
    expect(used.status, await used.clone().text()).toBe(200);
    expect(await used.json()).toMatchObject({ status: 'SUCCEEDED' });
    const del = await fetch(`${a.url}/v1/delegations/${session.session_id}`, {
      method: 'DELETE',
      headers: bearer(admin),
    });
    expect(del.status, await del.clone().text()).toBe(200);
    const after = await fetch(`${b.url}/v1/calls`, jsonPost(keys.carol, { ...call, args: { d: 2 } }));
    expect(await after.json()).toMatchObject({ status: 'DENIED', reason_code: 'DELEGATION_INVALID' });
    const all = await fetch(`${b.url}/v1/delegations?all=true`, { headers: bearer(admin) });
    const gone = ((await all.json()) as { sessions: { session_id: string; status: string }[] }).sessions;
    expect(gone.find((x) => x.session_id === session.session_id)?.status).toBe('revoked');
    // An unknown session is 404 on either node; nothing is appended for it.
    const unknown = await fetch(`${b.url}/v1/delegations/sha256:${'0'.repeat(64)}`, {
      method: 'DELETE',
      headers: bearer(admin),
    });
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe('NOT_FOUND');
    for (const s of [a, b])
      expect(existsSync(join(root, `deleg-${s === a ? 'a' : 'b'}`, 'helm.db'))).toBe(false);
  });

  it('a node that cannot apply a pending governance event in time answers 503 NODE_REFUSED (GOVERNANCE_PENDING), signs nothing, and decides once it can', async () => {
    const [a] = await pair('pending');
    const first = await fetch(`${a.url}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { x: 1 } }));
    expect(first.status, await first.clone().text()).toBe(200);
    // Another node holds the governance lock without finishing while an event waits to be applied.
    const holder = new DataDir(nodeDir(template, 'pending-holder'));
    const store = await attachDatabase(holder, { url: db.url });
    const lead = await store.tryLead('governance');
    try {
      expect(lead, 'the governance lock is free before the test takes it').toBeDefined();
      await appendGovernanceEventAsync(holder, {
        action: 'identity.add',
        body: { credential_id: 'cred-dave', principal: 'dave' },
        signer: holder.localKey('policy').signer,
        at: Date.now(),
      });
      const before = (await ran('echo')).length;
      const refused = await fetch(`${a.url}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { x: 2 } }));
      expect(refused.status, await refused.clone().text()).toBe(503);
      const body = (await refused.json()) as { error: { code: string; message: string; hint?: string } };
      expect(body.error.code).toBe('NODE_REFUSED');
      expect(body.error.message).toContain('GOVERNANCE_PENDING');
      expect(body.error.hint).toBeTruthy();
      expect((await ran('echo')).length, 'nothing was receipted for the refused call').toBe(before);
    } finally {
      await lead?.release();
      await holder.closeAll();
    }
    // The lock released: the node applies the event itself and decides.
    const after = await fetch(`${a.url}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { x: 3 } }));
    expect(after.status, await after.clone().text()).toBe(200);
    expect(await after.json()).toMatchObject({ status: 'SUCCEEDED' });
  }, 60_000);
});
