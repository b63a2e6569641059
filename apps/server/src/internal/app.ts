// The HTTP API of `helmts serve` on hono (docs/api.md). Composition only: every governed call,
// approval, delegation edit, receipt and pack goes through @helm/runtime's public API.
//
// Fail closed at every step: no or bad token -> 401, missing scope or a body naming another
// principal/tenant -> 403, store unreachable -> 503 before anything executes, a body over its
// limit -> 413 without buffering it, anything but strict JSON -> 400/415, wrong method -> 405, an
// unexpected error -> 500 with a code and no stack.
import type { SignedEnvelope } from '@helm/contracts';
import { REASON_CODE_LIST } from '@helm/contracts';
import { isDigest } from '@helm/crypto';
import {
  envelopeBody,
  parseTrustHeadPin,
  replayEvidencePack,
  type VerifyOptions,
  verifyEvidencePack,
} from '@helm/evidencepack';
import {
  approvalContext,
  type ChallengeView,
  challengeView,
  challengeViewById,
  challengeViews,
  type DataDir,
  delegateCreateAsync,
  delegateRevokeAsync,
  delegationList,
  exportPack,
  exportPackFrom,
  type GovernedRuntime,
  governanceSnapshot,
  grantsFrom,
  identityList,
  importGovernanceEventAsync,
  isWellFormedText,
  loadDataDirPolicy,
  parseTtl,
  presentation,
  RuntimeError,
} from '@helm/runtime';
import { type Context, Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { Authenticator, Identity } from './auth.js';
import { readBounded, readJsonObject } from './body.js';
import { mountConsole } from './console.js';
import { ServeError } from './errors.js';
import type { InFlight, RateLimiter } from './limits.js';
import type { McpRoute } from './mcp.js';
import type { ServeMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import type { ReceiptLog } from './receipt-log.js';

export interface AppLimits {
  /** Largest JSON body (bytes). */
  readonly maxJsonBytes: number;
  /** Largest EvidencePack accepted by POST /v1/evidencepack/verify (bytes). */
  readonly maxPackBytes: number;
}

export interface AppParts {
  readonly data: DataDir;
  readonly runtime: GovernedRuntime;
  readonly authenticate: Authenticator;
  readonly inFlight: InFlight;
  readonly rate: RateLimiter;
  readonly metrics: ServeMetrics;
  readonly log: ReceiptLog;
  readonly limits: AppLimits;
  readonly now: () => number;
  /** True once shutdown began: new requests are refused 503. */
  readonly closing: () => boolean;
  /** The MCP gateway's face at `/mcp` (`helmts serve --mcp`), if served (mcp.ts). */
  readonly mcp?: McpRoute;
}

type Env = { Variables: { identity: Identity } };

/**
 * Codes with which this node refuses a call without deciding it — a result without a receipt or a
 * thrown RuntimeError — and the operator's fix. One table for both ways: each is 503 NODE_REFUSED
 * (the store answered; the fix is on this node, or a retry), never a client error.
 */
const NODE_REFUSALS: ReadonlyMap<string, string> = new Map([
  [
    'TRUST_REGISTRY_STALE',
    'the trust registry was republished (e.g. a key rotated out): restart this server to run under it',
  ],
  ['CLOCK_SKEW', "synchronize this host's clock (NTP) with the database host's"],
  [
    'GOVERNANCE_PENDING',
    'another node holds the governance-application lock: retry shortly (it decides once the event is applied)',
  ],
  ['RUNTIME_CLOSED', 'this server is shutting down: retry on another node'],
]);

/** Route templates by path pattern: for 405 answers and metric labels. */
const ROUTES: readonly { pattern: RegExp; template: string; methods: readonly string[] }[] = [
  ['/healthz', ['GET']],
  ['/readyz', ['GET']],
  ['/metrics', ['GET']],
  ['/openapi.json', ['GET']],
  ['/v1/reason-codes', ['GET']],
  ['/v1/calls', ['POST']],
  ['/v1/calls/:id', ['GET']],
  ['/v1/approvals', ['GET']],
  ['/v1/approvals/:id', ['GET', 'POST']],
  ['/v1/delegations', ['GET', 'POST']],
  ['/v1/delegations/:id', ['DELETE']],
  ['/v1/receipts', ['GET']],
  ['/v1/evidencepack', ['GET']],
  ['/v1/evidencepack/verify', ['POST']],
  ['/v1/log/checkpoint', ['GET']],
  ['/v1/log/inclusion', ['GET']],
  ['/v1/log/consistency', ['GET']],
  ['/mcp', ['GET', 'POST', 'DELETE']],
].map(([template, methods]) => ({
  template: template as string,
  methods: methods as string[],
  pattern: new RegExp(`^${(template as string).replace(/:[a-z]+/g, '[^/]+')}$`),
}));

function routeOf(path: string): (typeof ROUTES)[number] | undefined {
  return ROUTES.find((r) => r.pattern.test(path));
}

const SEQ = /^[1-9][0-9]{0,15}$/;

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!SEQ.test(value) || !Number.isSafeInteger(Number(value)))
    throw new ServeError('BAD_REQUEST', `${name} must be a positive integer`);
  return Number(value);
}

function nonNegativeInt(value: string | undefined, name: string): number | undefined {
  return value === '0' ? 0 : positiveInt(value, name);
}

const CALL_FIELDS = new Set([
  'tool',
  'args',
  'args_text',
  'principal',
  'tenant',
  'idempotency_key',
  'session',
  'code_verifier',
  'challenge',
]);

function refuseUnknown(body: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const k of Object.keys(body))
    if (!allowed.has(k)) throw new ServeError('BAD_REQUEST', `unknown field ${JSON.stringify(k)}`);
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096 || !isWellFormedText(v))
    throw new ServeError('BAD_REQUEST', `${name} must be a non-empty string`);
  return v;
}

/** The principal and tenant come from the identity; a body naming others is refused (403). */
function bindIdentity(identity: Identity, body: Record<string, unknown>, principalField = 'principal'): void {
  const p = body[principalField];
  if (p !== undefined && p !== identity.principal)
    throw new ServeError(
      'IDENTITY_MISMATCH',
      `the body names ${principalField} ${JSON.stringify(p)}, but this identity is ${JSON.stringify(identity.principal)}`,
    );
  const t = body.tenant;
  if (t !== undefined && t !== identity.tenant)
    throw new ServeError(
      'IDENTITY_MISMATCH',
      `the body names tenant ${JSON.stringify(t)}, not this identity's tenant`,
    );
}

/** RuntimeError -> HTTP error (refusals 409, input 400, locks/IO 503). */
function fromRuntime(error: unknown): never {
  if (error instanceof RuntimeError) {
    const hint = error.hint;
    switch (error.code) {
      case 'USAGE':
      case 'INVALID_INPUT':
      case 'JSON_INVALID':
      case 'NAME_INVALID':
        throw new ServeError('BAD_REQUEST', error.message, hint);
      case 'IO_ERROR':
        throw new ServeError('STORE_UNAVAILABLE', error.message, hint);
      case 'FILE_NOT_FOUND':
        throw new ServeError('NOT_FOUND', error.message, hint);
      default: {
        const nodeHint = NODE_REFUSALS.get(error.code);
        if (nodeHint !== undefined)
          throw new ServeError(
            'NODE_REFUSED',
            `this node decides nothing: ${error.code}: ${error.message}`,
            hint ?? nodeHint,
          );
        throw new ServeError('REFUSED', `${error.code}: ${error.message}`, hint);
      }
    }
  }
  throw error;
}

export function createApp(parts: AppParts): Hono<Env> {
  const { data, runtime, authenticate, rate, metrics, log, limits } = parts;
  const chainId = data.config().chain_id;
  /**
   * The shared database this node runs on (`--database-url`), if any. Every store read of a route
   * goes through the async store port then — never the data directory's embedded store.
   */
  const shared = data.shared;
  // Read on every use (never cached): the data directory decides what its store is.
  const port = () => shared ?? data.store;
  /**
   * The governance state the approval, delegation and identity views and checks read: the data
   * directory itself, or on a shared database one snapshot of the database's (its log, application
   * records, challenges, grants and registry, read through the async port per request): what every
   * node applies before its next decision, so any node answers for the cluster. Writes never go
   * through a snapshot: an append goes to the database's one log (the runtime's *Async twins).
   */
  const governance = (): Promise<DataDir> => governanceSnapshot(data);
  /**
   * Every challenge the governance state holds, at `now`. On a shared database that is every
   * node's (the cluster is one service: a call held on A is approved and retried on any node);
   * on the embedded store, this data directory's chain's.
   */
  const allChallengeViews = (view: DataDir, now: number): ChallengeView[] => {
    if (!shared) return challengeViews(view, now);
    const context = approvalContext(view);
    return view.store.governanceChallengesSync().map((stored) => challengeView(view, stored, now, context));
  };
  const app = new Hono<Env>();
  // The console's static files, before the API's middleware. Its approvals are signed for the
  // governance log they are appended to: on a shared database the database's one log, not this
  // node's chain (an event signed for the chain would not verify there).
  mountConsole(app, { ...data.config(), chain_id: data.governanceLog ?? chainId });

  app.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      strictTransportSecurity: 'max-age=63072000; includeSubDomains',
      crossOriginResourcePolicy: 'same-origin',
      referrerPolicy: 'no-referrer',
    }),
  );
  app.use(async (c, next) => {
    const started = performance.now();
    c.header('cache-control', 'no-store');
    if (parts.closing()) {
      c.header('connection', 'close');
      throw new ServeError('SHUTTING_DOWN', 'the server is shutting down');
    }
    const route = routeOf(c.req.path);
    if (!route) throw new ServeError('NOT_FOUND', `no route ${c.req.path}`);
    if (!route.methods.includes(c.req.method)) {
      c.header('allow', route.methods.join(', '));
      throw new ServeError('METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${route.template}`);
    }
    parts.inFlight.enter();
    try {
      await next();
    } finally {
      parts.inFlight.leave();
      metrics.requests.observe(
        { method: c.req.method, route: route.template, status: String(c.res.status) },
        (performance.now() - started) / 1000,
      );
    }
  });

  /** Authenticate, rate-limit and check one of `scopes`; the identity for the handler. */
  const guard = async (
    c: Context<Env>,
    ...scopes: Identity['scopes'] extends ReadonlySet<infer S> ? S[] : never
  ) => {
    let identity: Identity;
    try {
      identity = await authenticate(c.req.header('authorization'));
    } catch (error) {
      metrics.authFailures.inc({ status: '401' });
      c.header('www-authenticate', 'Bearer realm="helm"');
      throw error;
    }
    if (!rate.take(identity.id)) {
      c.header('retry-after', '1');
      throw new ServeError('RATE_LIMITED', 'too many requests for this identity');
    }
    if (scopes.length > 0 && !scopes.some((s) => identity.scopes.has(s) || identity.scopes.has('admin'))) {
      metrics.authFailures.inc({ status: '403' });
      throw new ServeError('FORBIDDEN', `this identity needs one of the scopes: ${scopes.join(', ')}`);
    }
    c.set('identity', identity);
    return identity;
  };

  /**
   * The credential bound to a principal (an API key's identity carries none). identityList
   * re-verifies the trust registry and the whole governance log — a quarter of a call's CPU when
   * done per call — so the bindings are recomputed only when the governance log has moved. A
   * stale answer cannot widen anything: the guardian's identity gate checks the binding itself.
   */
  let bindings: { head: string; list: ReturnType<typeof identityList>['bindings'] } | undefined;
  const credentialOf = async (principal: string): Promise<string | undefined> => {
    // On a shared database the head is one indexed read of the database's one governance log (an
    // identity edit appended by any node or administrator moves it), and the bindings are folded
    // from one snapshot of it.
    const h = shared ? await shared.governanceHead() : data.store.governanceHeadSync();
    const head = h ? `${h.seq}:${h.chain}` : '';
    if (bindings?.head !== head) bindings = { head, list: identityList(await governance()).bindings };
    return bindings.list.find((b) => b.principal === principal)?.credential_id;
  };

  /**
   * On a shared database the probe is a network round trip: requests that arrive while one is in
   * flight share its answer (64 calls in flight pay ~1 probe, not 64). The probe is the early,
   * cheap refusal only — the runtime's own admission transaction is what keeps a call from
   * running without the database (I-MULTINODE-2), whatever the probe said.
   */
  let probe: Promise<unknown> | undefined;
  const probeStore = (): Promise<unknown> => {
    if (!shared) return port().chainHead(chainId);
    probe ??= shared.chainHead(chainId).finally(() => {
      probe = undefined;
    });
    return probe;
  };

  /** The store answers, or 503 and nothing runs. */
  const storeReachable = async () => {
    try {
      await probeStore();
    } catch (error) {
      if (error instanceof ServeError) throw error;
      metrics.storeErrors.inc();
      throw new ServeError('STORE_UNAVAILABLE', 'the store is unavailable; nothing was executed');
    }
  };

  app.get('/healthz', (c) => c.json({ ok: true }));

  // MCP (mcp.ts): the `call` scope, for the authenticated identity; without --mcp, 404.
  app.all('/mcp', async (c) => {
    if (!parts.mcp) throw new ServeError('NOT_FOUND', 'this server does not serve MCP (helmts serve --mcp)');
    const identity = await guard(c, 'call');
    await storeReachable();
    const credential = identity.credential ?? (await credentialOf(identity.principal));
    return parts.mcp(c.req.raw, {
      principal: identity.principal,
      tenant: identity.tenant,
      ...(credential ? { credential } : {}),
    });
  });

  app.get('/readyz', async (c) => {
    const checks: Record<string, string> = {};
    try {
      await port().chainHead(chainId);
      checks.store = 'ok';
    } catch (error) {
      checks.store = `unavailable: ${(error as Error).message}`;
    }
    try {
      data.localKey('executor');
      checks.keys = 'ok';
    } catch (error) {
      checks.keys = `not loaded: ${(error as Error).message}`;
    }
    try {
      // The trust registry as this node's store holds it (the shared database's, when attached).
      loadDataDirPolicy(data, shared ? await data.registryAsync() : data.registry());
      checks.policy = 'ok';
    } catch (error) {
      checks.policy = `invalid: ${(error as Error).message}`;
    }
    const ready = Object.values(checks).every((v) => v === 'ok');
    return c.json({ ready, checks }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    await guard(c, 'audit');
    metrics.callsInFlight.set(runtime.inFlight);
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });

  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.get('/v1/reason-codes', (c) => c.json({ reason_codes: REASON_CODE_LIST }));

  // ── governed calls ────────────────────────────────────────────────────────────────────────
  app.post('/v1/calls', async (c) => {
    const identity = await guard(c, 'call');
    const body = await readJsonObject(c.req.raw, limits.maxJsonBytes);
    refuseUnknown(body, CALL_FIELDS);
    await storeReachable();
    bindIdentity(identity, body);
    const challenge = optionalString(body, 'challenge');
    let request: Record<string, unknown>;
    if (challenge !== undefined) {
      if (Object.keys(body).some((k) => k !== 'challenge'))
        throw new ServeError('BAD_REQUEST', 'a challenge run names nothing else: it runs the recorded call');
      // The view is a pre-check (a clear 409 before anything runs); the runtime's grant decides,
      // and on a shared database the grant's row is consumed once cluster-wide (its primary key).
      let v: ReturnType<typeof challengeViewById>;
      try {
        v = challengeViewById(await governance(), challenge, parts.now());
      } catch (error) {
        fromRuntime(error);
      }
      const recorded = v.request as Record<string, unknown>;
      if (recorded.principal !== identity.principal)
        throw new ServeError('IDENTITY_MISMATCH', 'the held call was made by another principal');
      if (v.state !== 'approved')
        throw new ServeError(
          'REFUSED',
          `challenge ${challenge} is ${v.state}`,
          `${v.needed} more approval(s) needed`,
        );
      request = recorded;
    } else {
      const tool = optionalString(body, 'tool');
      if (tool === undefined) throw new ServeError('BAD_REQUEST', 'tool is required');
      if (body.args !== undefined && body.args_text !== undefined)
        throw new ServeError('BAD_REQUEST', 'give args or args_text, not both');
      const argsText = optionalString(body, 'args_text');
      const session = optionalString(body, 'session');
      const verifier = optionalString(body, 'code_verifier');
      if ((session === undefined) !== (verifier === undefined))
        throw new ServeError('BAD_REQUEST', 'session and code_verifier go together');
      const idempotencyKey = optionalString(body, 'idempotency_key');
      const credential = identity.credential ?? (await credentialOf(identity.principal));
      let delegation: unknown;
      try {
        delegation = session === undefined ? undefined : presentation(session, verifier as string);
      } catch (error) {
        fromRuntime(error);
      }
      request = {
        tool,
        principal: identity.principal,
        ...(identity.tenant === null ? {} : { tenant: identity.tenant }),
        ...(argsText !== undefined ? { args_text: argsText } : { args: body.args ?? {} }),
        context: {
          environment_fingerprint: data.config().environment_fingerprint,
          ...(credential ? { credential_id: credential } : {}),
          ...(delegation ? { delegation } : {}),
        },
        ...(idempotencyKey === undefined ? {} : { idempotency_key: idempotencyKey }),
      };
    }
    // No queue in front of the runtime: it takes any number of calls in flight and commits them
    // as a one-at-a-time run would (I-CONC-1), so each call goes straight in (I-SERVE-5).
    let result: Awaited<ReturnType<GovernedRuntime['execute']>>;
    try {
      result = await runtime.execute(request as never);
    } catch (error) {
      fromRuntime(error);
    }
    metrics.decisions.inc({ verdict: result.verdict, reason_code: result.reason_code });
    if (result.receipt === null) {
      // A node on a shared database that decides nothing (docs/deployment.md "Checks a node
      // makes"): the store answered, this node refused, so the operator's fix is on the node.
      const hint = NODE_REFUSALS.get(result.reason_code);
      if (hint !== undefined)
        throw new ServeError('NODE_REFUSED', `this node decides nothing: ${result.reason_code}`, hint);
      throw new ServeError('STORE_UNAVAILABLE', `no receipt could be persisted (${result.reason_code})`);
    }
    return c.json(
      {
        status: result.status,
        verdict: result.verdict,
        reason_code: result.reason_code,
        rule: result.rule,
        ...(result.output === undefined ? {} : { output: result.output }),
        replayed: result.replayed,
        approval_challenge_id: result.approval_challenge_id,
        receipt: result.receipt,
        receipt_hash: result.receipt_hash,
        decision: result.decision,
        ...(result.errors ? { errors: result.errors } : {}),
        ...(result.message ? { message: result.message } : {}),
      },
      result.status === 'ESCALATED' ? 202 : 200,
    );
  });

  app.get('/v1/calls/:id', async (c) => {
    const identity = await guard(c, 'call', 'audit');
    const id = c.req.param('id');
    await storeReachable();
    // An indexed lookup by id (the receipt_id unique index) on either engine, not a scan of the
    // chain: the answer costs the same at any chain length. A receipt of another node's chain on
    // a shared database is not this node's call (NOT_FOUND below).
    const hit = shared ? await shared.receiptById(id) : data.store.receiptByIdSync(id);
    const found = hit?.receipt.chainId === chainId ? hit.receipt : undefined;
    if (!found) throw new ServeError('NOT_FOUND', `no call ${id}`);
    const body = found.envelope.payload ? receiptBody(found.envelope) : {};
    // A caller without `audit` sees only its own calls.
    if (
      !identity.scopes.has('audit') &&
      !identity.scopes.has('admin') &&
      body.principal !== identity.principal
    )
      throw new ServeError('NOT_FOUND', `no call ${id}`);
    const request = hit?.request;
    return c.json({
      id,
      lamport: found.lamport,
      receipt: found.envelope,
      receipt_hash: found.hash,
      request: request?.body ?? null,
    });
  });

  // ── approvals ─────────────────────────────────────────────────────────────────────────────
  app.get('/v1/approvals', async (c) => {
    await guard(c, 'approve', 'audit');
    const state = c.req.query('state') ?? 'pending';
    const states = ['pending', 'timelocked', 'approved', 'denied', 'expired', 'consumed', 'invalid', 'all'];
    if (!states.includes(state)) throw new ServeError('BAD_REQUEST', `state is one of ${states.join(', ')}`);
    await storeReachable();
    const views = allChallengeViews(await governance(), parts.now()).filter(
      (v) => state === 'all' || v.state === state,
    );
    return c.json({
      approvals: views.map((v) => ({
        challenge_id: v.challenge_id,
        state: v.state,
        tool: v.challenge.tool,
        principal: v.challenge.principal,
        approvals: v.approvals,
        quorum: v.quorum,
        needed: v.needed,
        expires_at_ms: v.expires_at_ms,
      })),
    });
  });

  app.get('/v1/approvals/:id', async (c) => {
    await guard(c, 'approve', 'audit');
    await storeReachable();
    let v: ReturnType<typeof challengeViewById>;
    try {
      v = challengeViewById(await governance(), c.req.param('id'), parts.now());
    } catch (error) {
      fromRuntime(error);
    }
    // The approval page (DECISIONS: a challenge is a resource, JSON plus a minimal HTML view).
    if (/^text\/html\b/.test(c.req.header('accept') ?? '')) return c.html(approvalPage(v));
    return c.json(v);
  });

  app.post('/v1/approvals/:id', async (c) => {
    await guard(c, 'approve');
    const id = c.req.param('id');
    const body = await readJsonObject(c.req.raw, limits.maxJsonBytes);
    // `{ "event": <signed governance event> }` or the envelope itself (what `helmts approve
    // --sign-only` writes): signed by the approver's key elsewhere — the server holds none.
    const envelope = ('event' in body ? body.event : body) as SignedEnvelope;
    if (
      typeof envelope !== 'object' ||
      envelope === null ||
      typeof (envelope as { payload?: unknown }).payload !== 'string'
    )
      throw new ServeError('BAD_REQUEST', 'the body is a signed approval envelope ({"event": …})');
    let target: unknown;
    try {
      target = envelopeBody<{ body?: { challenge_id?: unknown } }>(envelope).body?.challenge_id;
    } catch {
      throw new ServeError('BAD_REQUEST', 'the envelope payload is not a governance event');
    }
    if (target !== id)
      throw new ServeError('BAD_REQUEST', `the envelope answers challenge ${String(target)}, not ${id}`);
    await storeReachable();
    // A governance write is one short store transaction the runtime ingests before its next
    // decision (governance.ts): safe next to calls in flight, as it is from another process. On a
    // shared database it is appended to the database's one log, which every node applies.
    let event: Awaited<ReturnType<typeof importGovernanceEventAsync>>;
    try {
      event = await importGovernanceEventAsync(data, envelope, parts.now());
    } catch (error) {
      fromRuntime(error);
    }
    const v = challengeViewById(await governance(), id, parts.now());
    return c.json({ event_seq: event.seq, action: event.action, signer: event.signer, challenge: v });
  });

  // ── delegation sessions ───────────────────────────────────────────────────────────────────
  app.get('/v1/delegations', async (c) => {
    await guard(c, 'admin', 'audit');
    await storeReachable();
    const all = c.req.query('all') === 'true';
    const views = delegationList(await governance(), parts.now()).filter(
      (v) => all || v.status === 'active' || v.status === 'not_yet_valid',
    );
    return c.json({ sessions: views.map((v) => ({ ...v.session, status: v.status })) });
  });

  app.post('/v1/delegations', async (c) => {
    const identity = await guard(c, 'admin');
    const body = await readJsonObject(c.req.raw, limits.maxJsonBytes);
    refuseUnknown(
      body,
      new Set(['delegator', 'delegate', 'tenant', 'tools', 'ttl', 'code_challenge', 'mfa_verified']),
    );
    bindIdentity(identity, body, 'delegator');
    const delegate = optionalString(body, 'delegate');
    const ttl = optionalString(body, 'ttl');
    const tools = body.tools;
    if (
      delegate === undefined ||
      ttl === undefined ||
      !Array.isArray(tools) ||
      tools.some((t) => typeof t !== 'string')
    )
      throw new ServeError('BAD_REQUEST', 'delegate, ttl and tools (an array of tool names) are required');
    const codeChallenge = optionalString(body, 'code_challenge');
    // MFA is what the identity provider attests (JWT amr), never what the body claims.
    if (body.mfa_verified !== undefined && body.mfa_verified !== identity.mfa)
      throw new ServeError(
        'IDENTITY_MISMATCH',
        'mfa_verified comes from the identity (a JWT whose amr holds mfa), not from the body',
      );
    await storeReachable();
    let created: Awaited<ReturnType<typeof delegateCreateAsync>>;
    try {
      created = await delegateCreateAsync(
        data,
        {
          delegator: identity.principal,
          delegate,
          ...(identity.tenant === null ? {} : { tenant: identity.tenant }),
          grants: grantsFrom(data, { tools: tools as string[] }),
          ttl_ms: parseTtl(ttl),
          ...(codeChallenge === undefined ? {} : { code_challenge: codeChallenge }),
          mfa_verified: identity.mfa,
        },
        data.localKey('policy').signer,
        parts.now(),
      );
    } catch (error) {
      fromRuntime(error);
    }
    return c.json(
      { session: created.session, code_verifier: created.code_verifier, event_seq: created.event.seq },
      201,
    );
  });

  app.delete('/v1/delegations/:id', async (c) => {
    await guard(c, 'admin');
    await storeReachable();
    const id = c.req.param('id');
    if (!delegationList(await governance(), parts.now()).some((v) => v.session.session_id === id))
      throw new ServeError('NOT_FOUND', `no session ${id}`);
    let event: Awaited<ReturnType<typeof delegateRevokeAsync>>;
    try {
      event = await delegateRevokeAsync(data, id, undefined, data.localKey('policy').signer, parts.now());
    } catch (error) {
      fromRuntime(error);
    }
    return c.json({ session_id: id, event_seq: event.seq });
  });

  // ── evidence ──────────────────────────────────────────────────────────────────────────────
  app.get('/v1/receipts', async (c) => {
    await guard(c, 'audit');
    const from = positiveInt(c.req.query('from'), 'from');
    const to = positiveInt(c.req.query('to'), 'to');
    const limit = positiveInt(c.req.query('limit'), 'limit') ?? 1000;
    await storeReachable();
    const rows = await port().receipts({
      chainId,
      ...(from === undefined ? {} : { fromLamport: from }),
      ...(to === undefined ? {} : { toLamport: to }),
    });
    const page = rows.slice(0, Math.min(limit, 10_000));
    return c.json({
      receipts: page.map((r) => ({ id: r.id, lamport: r.lamport, hash: r.hash, envelope: r.envelope })),
      next_from: rows.length > page.length ? (page.at(-1)?.lamport ?? 0) + 1 : null,
    });
  });

  app.get('/v1/evidencepack', async (c) => {
    await guard(c, 'audit');
    const from = positiveInt(c.req.query('from'), 'from');
    const to = positiveInt(c.req.query('to'), 'to');
    const condense = c.req.query('condense');
    if (condense !== undefined && condense !== 'true' && condense !== 'false')
      throw new ServeError('BAD_REQUEST', 'condense is true or false');
    await storeReachable();
    // The export is synchronous, so it reads committed receipts only — one consistent prefix of
    // the chain even while calls are in flight (each commits its receipt in one transaction).
    // On a shared database the node's chain is read through the async port (exportPackFrom: the
    // same bytes as `helmts export --database-url`).
    let pack: ReturnType<typeof exportPack>;
    try {
      const range = {
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
        ...(condense === 'true' ? { condense: true } : {}),
      };
      pack = shared ? await exportPackFrom(data, shared, range) : exportPack(data, range);
    } catch (error) {
      fromRuntime(error);
    }
    const bytes = pack.bytes;
    const CHUNK = 64 * 1024;
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= bytes.length) return controller.close();
        controller.enqueue(bytes.subarray(at, at + CHUNK));
        at += CHUNK;
      },
    });
    return c.body(stream, 200, {
      'content-type': 'application/x-tar',
      'content-length': String(bytes.length),
      'x-helm-pack-digest': pack.digest,
    });
  });

  app.post('/v1/evidencepack/verify', async (c) => {
    await guard(c);
    const options = verifyQuery(new URL(c.req.url).searchParams);
    const bytes = await readBounded(c.req.raw, limits.maxPackBytes);
    const report = await verifyEvidencePack(bytes, options);
    const replay = report.manifest ? replayEvidencePack(bytes, options) : null;
    return c.json({ report, replay }, report.status === 'PASS' ? 200 : 422);
  });

  // ── transparency log (docs/spec/tlog.md) ─────────────────────────────────────────────────
  app.get('/v1/log/checkpoint', async (c) => {
    await guard(c, 'audit');
    await storeReachable();
    const { note } = await log.checkpoint();
    return c.body(note, 200, { 'content-type': 'text/plain; charset=utf-8', 'x-helm-log-vkey': log.vkey });
  });

  app.get('/v1/log/inclusion', async (c) => {
    await guard(c, 'audit');
    const lamport = positiveInt(c.req.query('lamport'), 'lamport');
    if (lamport === undefined) throw new ServeError('BAD_REQUEST', 'lamport is required');
    await storeReachable();
    const index = await log.indexOf(lamport);
    const size = positiveInt(c.req.query('size'), 'size') ?? log.size;
    if (index < 0 || index >= size || size > log.size)
      throw new ServeError('NOT_FOUND', `no receipt with Lamport ${lamport} in a tree of size ${size}`);
    return c.json({ index, tree_size: size, proof: log.inclusion(index, size) });
  });

  app.get('/v1/log/consistency', async (c) => {
    await guard(c, 'audit');
    const oldSize = nonNegativeInt(c.req.query('old'), 'old');
    await storeReachable();
    await log.sync();
    const size = positiveInt(c.req.query('size'), 'size') ?? log.size;
    if (oldSize === undefined || oldSize > size || size > log.size)
      throw new ServeError('BAD_REQUEST', `need 0 <= old <= size <= ${log.size}`);
    return c.json({
      old_size: oldSize,
      tree_size: size,
      proof: oldSize === 0 || oldSize === size ? [] : log.consistency(oldSize, size),
    });
  });

  app.notFound((c) => c.json(new ServeError('NOT_FOUND', `no route ${c.req.path}`).toJSON(), 404));
  app.onError((error, c) => {
    if (error instanceof ServeError) return c.json(error.toJSON(), error.status as never);
    if (isStoreFailure(error)) {
      metrics.storeErrors.inc();
      return c.json(new ServeError('STORE_UNAVAILABLE', 'the store is unavailable').toJSON(), 503);
    }
    // Never a stack trace or an internal message: a code, and the operator's log has the rest.
    console.error('helmts serve: internal error:', error);
    return c.json(new ServeError('INTERNAL', 'internal error').toJSON(), 500);
  });
  return app;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
/** Every value on the page is caller-controlled text (tool args above all): escaped, always. */
// Markup characters become entities; Unicode format characters (bidi controls, zero-width spaces:
// general category Cf) become visible `\uXXXX` text, so a value cannot display as another.
const esc = (value: unknown): string =>
  String(typeof value === 'string' ? value : JSON.stringify(value, null, 2))
    .replace(/[&<>"']/g, (ch) => ESCAPES[ch] as string)
    .replace(/\p{Cf}/gu, (ch) => `\\u${(ch.codePointAt(0) as number).toString(16).padStart(4, '0')}`);

/** A static page (no script, no style: the CSP allows nothing) of what an approver approves. */
function approvalPage(v: ReturnType<typeof challengeViewById>): string {
  const request = v.request as { tool?: unknown; principal?: unknown; args?: unknown; args_text?: unknown };
  const rows: [string, unknown][] = [
    ['challenge', v.challenge_id],
    ['state', v.state],
    ['tool', request.tool],
    ['principal', request.principal],
    ['arguments', typeof request.args_text === 'string' ? request.args_text : (request.args ?? {})],
    ['rule', v.challenge.rule_id],
    ['approvals', `${v.approvals} of ${v.quorum} (${v.needed} needed)`],
    ['expires', new Date(v.expires_at_ms).toISOString()],
  ];
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>HELM approval</title></head><body>',
    `<h1>Approval ${esc(v.challenge_id)}</h1><table>`,
    ...rows.map(([k, val]) => `<tr><th>${esc(k)}</th><td><pre>${esc(val)}</pre></td></tr>`),
    '</table><h2>Answers</h2><ul>',
    ...v.answers.map((a) => `<li>${esc(a.action)} by ${esc(a.approver ?? a.keyid)}: ${esc(a.status)}</li>`),
    '</ul><p>Approve on your own machine: <code>helmts approve --sign-only challenge.json --key &lt;key file&gt;</code>, then POST the signed event to this URL.</p>',
    '</body></html>',
  ].join('\n');
}

/** node:sqlite and @helm/store failures: the store, not the request, is at fault (503). */
function isStoreFailure(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown };
  return e?.name === 'StoreError' || e?.code === 'ERR_SQLITE_ERROR';
}

function receiptBody(envelope: SignedEnvelope): Record<string, unknown> {
  try {
    return envelopeBody<Record<string, unknown>>(envelope);
  } catch {
    return {};
  }
}

type PinOptions = Pick<VerifyOptions, 'trustAnchor' | 'minTrustSeq' | 'trustHead'>;

/** The verify endpoint's query: `trust_anchor`, `min_trust_seq`, `trust_head` (400 when malformed). */
function verifyQuery(params: URLSearchParams): PinOptions {
  const options: { -readonly [K in keyof PinOptions]: PinOptions[K] } = {};
  const anchor = params.get('trust_anchor');
  if (anchor !== null) {
    if (!isDigest(anchor))
      throw new ServeError('BAD_REQUEST', 'trust_anchor must be sha256:<64 lowercase hex>');
    options.trustAnchor = anchor;
  }
  const minSeq = params.get('min_trust_seq');
  if (minSeq !== null) {
    if (!SEQ.test(minSeq) || !Number.isSafeInteger(Number(minSeq)))
      throw new ServeError('BAD_REQUEST', 'min_trust_seq must be a registry seq (a positive integer)');
    options.minTrustSeq = Number(minSeq);
  }
  const head = params.get('trust_head');
  if (head !== null) {
    const pin = parseTrustHeadPin(head);
    if (pin === undefined)
      throw new ServeError(
        'BAD_REQUEST',
        'trust_head must be <seq>:sha256:<64 lowercase hex> (see `helmts trust head`)',
      );
    options.trustHead = pin;
  }
  return options;
}
