// I-SERVE-5 with no queue in front of the runtime (#19): many HTTP calls in flight at once on one
// server — duplicates sharing an idempotency key, allows past a budget that runs out mid-flight,
// escalations, denials — must leave receipts with Lamports 1..n (every answered call's receipt the
// stored one), each key executed once, the budget charged exactly to its cap and a pack that
// verifies; the drivers really overlap (the endpoint sees several calls at once, which a server
// that serializes calls never shows); and a graceful close finishes every call in flight.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvidencePack } from '@helm/evidencepack';
import { DataDir, exportPack, identityAdd, identityRemove, initDataDir } from '@helm/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, type HelmServer, startHelmServer } from '../src/index.ts';

const FINGERPRINT = `sha256:${'cd'.repeat(32)}`;
/** alice's hourly cap: her 50 echo calls ask for more, so the budget runs out mid-flight. */
const CAP = 30;
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

// A real endpoint behind bob's `post` tool: counts what was sent per key and how many requests it
// holds at once. `hold` keeps answers back until released (the drain test).
let hook: Server;
let port = 0;
const hits = new Map<string, number>();
let open = 0;
let maxOpen = 0;
let held: (() => void)[] | undefined;
const pairing: (() => void)[] = [];
beforeAll(async () => {
  let n = 0;
  hook = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => {
      body += String(c);
    });
    req.on('end', () => {
      const parsed = JSON.parse(body || '{}') as { k?: string };
      hits.set(String(parsed.k), (hits.get(String(parsed.k)) ?? 0) + 1);
      open++;
      maxOpen = Math.max(maxOpen, open);
      const answer = () => {
        open--;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ got: parsed }));
      };
      if (held) held.push(answer);
      else {
        // Answers wait for company: released once two requests are open at once, or after a
        // second alone. Calls that overlap finish fast; calls made one at a time never reach two.
        pairing.push(answer);
        if (open >= 2) for (const a of pairing.splice(0)) setTimeout(a, n++ % 7);
        else
          setTimeout(() => {
            const at = pairing.indexOf(answer);
            if (at >= 0) pairing.splice(at, 1)[0]?.();
          }, 1000);
      }
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, resolve));
  port = (hook.address() as { port: number }).port;
});
afterAll(async () => {
  hook.closeAllConnections();
  await new Promise<void>((resolve) => hook.close(() => resolve()));
});

interface Home {
  readonly dir: string;
  readonly anchor: string;
  readonly keys: { alice: string; bob: string; audit: string };
}

async function home(): Promise<Home> {
  const dir = join(mkdtempSync(join(tmpdir(), 'helm-serve-conc-')), 'home');
  roots.push(dir);
  const { data, anchor } = initDataDir(dir, {
    chainId: 'serve-conc',
    fingerprint: FINGERPRINT,
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'capped',
      forbidden_effect_types: [],
      budgets: {
        default_principal_max: 10_000,
        default_tenant_max: 10_000,
        principals: { alice: CAP, bob: 1_000 },
        window: 'hour',
      },
      max_delegation_ttl_ms: 3_600_000,
      require_delegation_mfa: false,
    },
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'serve-conc-rules',
      version: 1,
      rules: [
        { id: 'echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'echo' } } },
        { id: 'post', effect: 'allow', when: { principal: { eq: 'bob' }, tool: { eq: 'post' } } },
        {
          id: 'deploy-needs-approval',
          effect: 'allow',
          when: { principal: { eq: 'alice' }, tool: { eq: 'deploy' } },
          requires_approval: { quorum: 1, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
        },
      ],
    },
    identity: [
      { credential_id: 'cred-alice', principal: 'alice' },
      { credential_id: 'cred-bob', principal: 'bob' },
    ],
  });
  const tool = (name: string, extra: Record<string, unknown>) => ({
    type: 'helm.tool.v1',
    name,
    description: name,
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
    ...extra,
  });
  data.writeTool(tool('echo', {}));
  data.writeTool(tool('deploy', { risk_tier: 'HIGH' }));
  data.writeTool(
    tool('post', {
      effect_type: 'net.egress',
      destination: `http://localhost:${port}`,
      driver: { kind: 'http', ref: `http://localhost:${port}/hook`, timeout_ms: 60_000 },
    }),
  );
  data.writeConfig({
    ...data.config(),
    egress: [{ hosts: ['localhost'], protocols: ['http'], max_payload_bytes: 4096 }],
  });
  const keys = {
    alice: (await createApiKey(data, { principal: 'alice', scopes: ['call'] })).key,
    bob: (await createApiKey(data, { principal: 'bob', scopes: ['call'] })).key,
    audit: (await createApiKey(data, { principal: 'alice', scopes: ['audit'] })).key,
  };
  data.close();
  return { dir, anchor, keys };
}

/** The clock is frozen at server start, so the hourly budget window cannot roll over mid-test. */
async function serve(h: Home): Promise<HelmServer> {
  const t0 = Date.now();
  return startHelmServer({ dataDir: h.dir, rateLimit: { rate: 0 }, now: () => t0 });
}

interface CallAnswer {
  readonly http: number;
  readonly status: string;
  readonly reason_code: string;
  readonly output?: unknown;
  readonly receipt: { payload: string };
  readonly receipt_hash: string;
}

async function call(server: HelmServer, key: string, body: unknown): Promise<CallAnswer> {
  const res = await fetch(`${server.url}/v1/calls`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { http: res.status, ...((await res.json()) as Omit<CallAnswer, 'http'>) };
}

const payload = (envelope: { payload: string }) =>
  JSON.parse(Buffer.from(envelope.payload, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('I-SERVE-5 calls in flight concurrently through HTTP — attackers first', () => {
  it('90 calls at once (duplicate keys, a budget running out, escalations, denials): Lamports 1..90, each key runs once, budget exact, pack verifies', async () => {
    const h = await home();
    const server = await serve(h);
    type Job = { key: 'alice' | 'bob'; body: Record<string, unknown> };
    const jobs: Job[] = [];
    for (let i = 0; i < 50; i++) jobs.push({ key: 'alice', body: { tool: 'echo', args: { i } } });
    for (let k = 0; k < 10; k++)
      for (let d = 0; d < 3; d++)
        jobs.push({ key: 'bob', body: { tool: 'post', args: { k: `k${k}` }, idempotency_key: `key-${k}` } });
    for (let i = 0; i < 5; i++) jobs.push({ key: 'alice', body: { tool: 'deploy', args: { v: i } } });
    for (let i = 0; i < 5; i++) jobs.push({ key: 'alice', body: { tool: 'no-such-tool', args: { i } } });
    // A fixed interleaving: duplicates and kinds mixed.
    const order = jobs.map((_, j) => jobs[(j * 37) % jobs.length] as Job);
    maxOpen = 0;
    let answers: CallAnswer[];
    try {
      answers = await Promise.all(order.map((j) => call(server, h.keys[j.key], j.body)));
    } finally {
      await server.close();
    }
    // The drivers overlapped: a server that queued calls one at a time never has two open.
    expect(maxOpen).toBeGreaterThan(1);

    // Every call answered with a receipt; Lamports 1..90, each once.
    for (const a of answers) expect([200, 202]).toContain(a.http);
    const lamports = answers.map((a) => payload(a.receipt).lamport as number);
    expect([...lamports].sort((x, y) => x - y)).toEqual(Array.from({ length: jobs.length }, (_, i) => i + 1));

    // Each idempotency key executed once; its two repeats replayed that result.
    for (let k = 0; k < 10; k++) {
      const mine = answers.filter((_, i) => order[i]?.body.idempotency_key === `key-${k}`);
      expect(hits.get(`k${k}`)).toBe(1);
      expect(mine.filter((a) => a.status === 'SUCCEEDED' && a.reason_code === 'ALLOW')).toHaveLength(1);
      expect(mine.filter((a) => a.reason_code === 'IDEMPOTENT_REPLAY')).toHaveLength(2);
      for (const m of mine) expect(m.output).toEqual({ got: { k: `k${k}` } });
    }

    // The budget ran out mid-flight and ends exact: CAP echoes ran, the rest were denied for it.
    const echoes = answers.filter((_, i) => order[i]?.body.tool === 'echo');
    expect(echoes.filter((a) => a.status === 'SUCCEEDED')).toHaveLength(CAP);
    expect(echoes.filter((a) => a.reason_code === 'BUDGET_EXCEEDED')).toHaveLength(50 - CAP);
    // A deploy is held for approval (202) while alice has budget; once it is spent, denied for it.
    for (const a of answers.filter((_, i) => order[i]?.body.tool === 'deploy'))
      expect(`${a.http} ${a.reason_code}`).toMatch(/^(202 APPROVAL_REQUIRED|200 BUDGET_EXCEEDED)$/);

    const data = new DataDir(h.dir);
    try {
      const stored = data.store.receiptsSync({ chainId: 'serve-conc' });
      expect(stored.map((r) => r.lamport)).toEqual(Array.from({ length: jobs.length }, (_, i) => i + 1));
      for (const a of answers)
        expect(stored[(payload(a.receipt).lamport as number) - 1]?.hash).toBe(a.receipt_hash);
      const spent = data.store
        .ledgerAccountsSync()
        .filter((acc) => acc.account.endsWith('principal:alice'))
        .map((acc) => ({ spent: acc.spent, reserved: acc.reserved }));
      expect(spent).toEqual([{ spent: CAP, reserved: 0 }]);
      const report = await verifyEvidencePack(exportPack(data).bytes, { trustAnchor: h.anchor });
      expect(report.status).toBe('PASS');
    } finally {
      data.close();
    }
  }, 120_000);

  it('GET /v1/calls/{id} reads each call back by id while others are in flight; lookalike ids are 404', async () => {
    const h = await home();
    const server = await serve(h);
    try {
      const first = await Promise.all(
        Array.from({ length: 20 }, (_, i) => call(server, h.keys.alice, { tool: 'echo', args: { i } })),
      );
      // Reads and new calls interleaved.
      const reads = first.map(async (a, i) => {
        const id = payload(a.receipt).receipt_id as string;
        const res = await fetch(`${server.url}/v1/calls/${encodeURIComponent(id)}`, {
          headers: { authorization: `Bearer ${h.keys.audit}` },
        });
        expect(res.status).toBe(200);
        const got = (await res.json()) as {
          receipt: unknown;
          receipt_hash: string;
          lamport: number;
          request: unknown;
        };
        expect(got.receipt).toEqual(a.receipt);
        expect(got.receipt_hash).toBe(a.receipt_hash);
        expect(got.lamport).toBe(payload(a.receipt).lamport);
        // The stored request record: the call as executed, with its clock reading and epoch.
        expect((got.request as { request?: { args?: unknown } }).request?.args).toEqual({ i });
        return got;
      });
      const more = Array.from({ length: 10 }, (_, i) =>
        call(server, h.keys.alice, { tool: 'echo', args: { j: i } }),
      );
      await Promise.all([...reads, ...more]);
      const someId = payload(first[0]?.receipt as { payload: string }).receipt_id as string;
      for (const bad of [
        '1',
        '%',
        `${someId.slice(0, -1)}%`,
        `${someId}'--`,
        someId.toUpperCase(),
        `${someId} `,
      ]) {
        if (bad === someId) continue;
        const res = await fetch(`${server.url}/v1/calls/${encodeURIComponent(bad)}`, {
          headers: { authorization: `Bearer ${h.keys.audit}` },
        });
        expect(res.status, bad).toBe(404);
      }
      // A caller without `audit` sees only its own calls: bob does not see alice's.
      const res = await fetch(`${server.url}/v1/calls/${someId}`, {
        headers: { authorization: `Bearer ${h.keys.bob}` },
      });
      expect(res.status).toBe(404);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('the credential of an API-key identity follows identity edits made while the server runs (cached per governance head)', async () => {
    const h = await home();
    const server = await serve(h);
    try {
      expect((await call(server, h.keys.alice, { tool: 'echo', args: { n: 1 } })).status).toBe('SUCCEEDED');
      // Rebind alice to a new credential from "another process" (a governance event; no runtime).
      const admin = new DataDir(h.dir);
      try {
        const key = admin.localKey('policy').signer;
        identityRemove(admin, 'cred-alice', key, Date.now());
        identityAdd(admin, { credential_id: 'cred-alice-2', principal: 'alice' }, key, Date.now());
      } finally {
        admin.close();
      }
      // A server that kept the old binding would present the unbound cred-alice: denied.
      const after = await call(server, h.keys.alice, { tool: 'echo', args: { n: 2 } });
      expect(`${after.status} ${after.reason_code}`).toBe('SUCCEEDED ALLOW');
    } finally {
      await server.close();
    }
  }, 120_000);

  it('graceful close with calls in flight: every accepted call finishes with its stored receipt, later requests are refused', async () => {
    const h = await home();
    const server = await serve(h);
    held = [];
    const N = 8;
    let answers: CallAnswer[] = [];
    try {
      const pending = Array.from({ length: N }, (_, k) =>
        call(server, h.keys.bob, { tool: 'post', args: { k: `drain-${k}` }, idempotency_key: `drain-${k}` }),
      );
      // All N are inside the runtime, each waiting on its driver.
      const deadline = Date.now() + 30_000;
      while ((held as (() => void)[]).length < N) {
        // A server that ran calls one at a time would never have N drivers open at once.
        if (Date.now() > deadline)
          throw new Error(`only ${held?.length} of ${N} calls reached their driver at once`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const closing = server.close();
      // Closing began: a new request is refused, the held calls are not cut.
      const late = await fetch(`${server.url}/healthz`).then(
        (r) => r.status,
        () => 'refused',
      );
      expect(late === 503 || late === 'refused').toBe(true);
      for (const release of (held as (() => void)[]).splice(0)) release();
      answers = await Promise.all(pending);
      await closing;
    } finally {
      held = undefined;
      await server.close();
    }
    expect(answers.map((a) => `${a.http} ${a.status}`)).toEqual(
      Array.from({ length: N }, () => '200 SUCCEEDED'),
    );
    const data = new DataDir(h.dir);
    try {
      const stored = data.store.receiptsSync({ chainId: 'serve-conc' });
      expect(stored.map((r) => r.hash).sort()).toEqual(answers.map((a) => a.receipt_hash).sort());
      const report = await verifyEvidencePack(exportPack(data).bytes, { trustAnchor: h.anchor });
      expect(report.status).toBe('PASS');
    } finally {
      data.close();
    }
  }, 120_000);
});
