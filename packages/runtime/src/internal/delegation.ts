// Delegation sessions of a data directory (Gate 5, docs/spec/delegation.md), durable as governance
// events: `delegation.create` carries the whole session body, drafted (validated, proven ⊆ the
// delegator's authority under the policy stack of the data directory, id computed) by the command
// that appends it; `delegation.revoke` names a session. A runtime restores every session from the
// events at open and ingests new ones before its next decision, so a revocation appended by another
// process takes effect there before its next call. The guardian re-validates each body it restores
// (`DelegationRegistry#restore`) and re-proves its grants at use: a body is never trusted for
// having been appended.
import { randomBytes } from 'node:crypto';
import type { DelegationGrant, DelegationPresentation, DelegationSession } from '@helm/contracts';
import type { Signer } from '@helm/crypto';
import { createSigner, toBase64Url } from '@helm/crypto';
import {
  type CreateSessionInput,
  DelegationRegistry,
  draftSession,
  GuardianError,
  InMemoryNonceStore,
  loadPolicyStack,
  ManualClock,
  type PolicyStack,
  pkceChallenge,
} from '@helm/guardian';
import type { Json } from '@helm/store';
import { RuntimeError } from '../errors.js';
import type { DataDir } from './datadir.js';
import {
  appendGovernanceEvent,
  appendGovernanceEventAsync,
  type GovernanceAction,
  type GovernanceEventRecord,
  type GovernanceHandler,
  readGovernanceApplications,
  readGovernanceLog,
} from './governance.js';
import { governanceSnapshot } from './governance-snapshot.js';
import { parseJson } from './json.js';

/** The policy stack the data directory's runtime loads at open (P0 ∩ the signed P1 bundle). */
export function policyStackOf(data: DataDir): PolicyStack {
  const registry = data.registry();
  return loadPolicyStack({
    p0: data.p0(),
    bundles: [data.signedBundle()],
    trustedBundleKeys: registry.lookupFor('policy', registry.seq),
  });
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `2d`, `500ms` → milliseconds (USAGE otherwise). */
export function parseTtl(text: string): number {
  const m = /^([1-9][0-9]{0,12})(ms|s|m|h|d)$/.exec(text);
  const ms = m ? Number(m[1]) * (UNITS[m[2] as string] as number) : Number.NaN;
  if (!Number.isSafeInteger(ms))
    throw new RuntimeError(
      'USAGE',
      `--ttl ${text} is not a duration`,
      'a number and a unit: 500ms, 90s, 15m, 1h, 2d',
    );
  return ms;
}

/** A fresh PKCE code verifier: 32 random bytes, base64url (43 unreserved characters). */
export function newCodeVerifier(): string {
  return toBase64Url(new Uint8Array(randomBytes(32)));
}

/** The presentation a delegate's call carries: the session, its verifier and a fresh nonce. */
export function presentation(sessionId: string, codeVerifier: string): DelegationPresentation {
  if (!/^sha256:[0-9a-f]{64}$/.test(sessionId))
    throw new RuntimeError(
      'USAGE',
      '--session must be a session id (sha256:<64 hex>)',
      'list sessions: helmts delegate list',
    );
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(codeVerifier))
    throw new RuntimeError(
      'USAGE',
      'the code verifier must be 43-128 characters from A-Z a-z 0-9 . _ ~ -',
      'use the verifier `helmts delegate create` printed (or the one whose S256 challenge you gave it)',
    );
  return { session_id: sessionId, code_verifier: codeVerifier, nonce: randomBytes(16).toString('hex') };
}

export interface GrantOptions {
  /** Tool names: one grant over all of them (`tool` eq, or in for several). */
  readonly tools?: readonly string[];
  readonly action?: string;
  /** A resource prefix (paths and URLs end with `/`, docs/spec/policy.md §Resource matchers). */
  readonly resourcePrefix?: string;
  readonly resource?: string;
  /** Effect classes; default: the registered descriptors' effect types of `tools`. */
  readonly effectTypes?: readonly string[];
  /** Full grants as JSON text (`--grant`), each a `{tool, action?, resource?, effect_type?}`. */
  readonly grants?: readonly string[];
}

const one = (values: readonly string[]) =>
  values.length === 1 ? { eq: values[0] as string } : { in: [...new Set(values)].sort() };

/**
 * The grants of a `helmts delegate create`. With `--tool`, the grant's effect class defaults to the
 * pinned descriptors' (a grant that leaves `effect_type` open could reach a P0-forbidden class and
 * is refused at creation).
 */
export function grantsFrom(data: DataDir, opts: GrantOptions): DelegationGrant[] {
  const grants: DelegationGrant[] = [];
  for (const text of opts.grants ?? []) {
    const g = parseJson(text, '--grant');
    if (g === null || typeof g !== 'object' || Array.isArray(g))
      throw new RuntimeError('USAGE', '--grant must be a JSON object', GRANT_HINT);
    grants.push(g as DelegationGrant);
  }
  const tools = opts.tools ?? [];
  if (tools.length > 0) {
    let effectTypes = opts.effectTypes;
    if (effectTypes === undefined || effectTypes.length === 0) {
      const descriptors = new Map(data.toolDescriptors().map((d) => [String(d.name), d]));
      effectTypes = tools.map((t) => {
        const d = descriptors.get(t);
        if (!d)
          throw new RuntimeError(
            'USAGE',
            `no tool named ${t} is registered`,
            'register it first (`helmts tool register`), or give its class with --effect-type',
          );
        return String(d.effect_type);
      });
    }
    if (opts.resource !== undefined && opts.resourcePrefix !== undefined)
      throw new RuntimeError('USAGE', '--resource and --resource-prefix exclude each other');
    grants.push({
      tool: one(tools),
      ...(opts.action === undefined ? {} : { action: { eq: opts.action } }),
      ...(opts.resource === undefined ? {} : { resource: { eq: opts.resource } }),
      ...(opts.resourcePrefix === undefined ? {} : { resource: { prefix: opts.resourcePrefix } }),
      effect_type: one(effectTypes),
    });
  } else if (opts.action !== undefined || opts.resource !== undefined || opts.resourcePrefix !== undefined)
    throw new RuntimeError(
      'USAGE',
      '--action/--resource/--resource-prefix narrow a --tool grant',
      GRANT_HINT,
    );
  if (grants.length === 0) throw new RuntimeError('USAGE', 'a session needs at least one grant', GRANT_HINT);
  return grants;
}

const GRANT_HINT =
  'e.g. --tool echo (effect class from its descriptor) [--action run] [--resource-prefix /data/public/], or --grant \'{"tool":{"eq":"fs"},"effect_type":{"eq":"fs.read"}}\'';

/** Map the guardian's refusal of a session to a user error with what to change. */
function sessionRefused(error: unknown, stack: PolicyStack, input: CreateSessionInput): never {
  if (!(error instanceof GuardianError)) throw error;
  const max = stack.p0.max_delegation_ttl_ms;
  let hint: string;
  if (/ttl_ms exceeds/.test(error.message))
    hint = `P0 caps a session at ${max} ms (${Math.floor(max / 60_000)} min): choose a shorter --ttl`;
  else if (/MFA/.test(error.message))
    hint =
      'P0 requires the delegator to have passed MFA: pass --mfa-verified once they have (it is recorded in the signed event)';
  else if (/code_challenge/.test(error.message))
    hint =
      '--code-challenge is base64url(SHA-256(verifier)) without padding (43 characters); omit it to have one generated';
  else if (error.code === 'DELEGATION_SCOPE_VIOLATION')
    hint = `a grant must lie within what ${input.delegator} may do now (P0 ∩ P1, no deny rule overlapping it); see helmts policy show`;
  else hint = GRANT_HINT;
  throw new RuntimeError('INVALID_INPUT', `delegation refused (${error.code}): ${error.message}`, hint);
}

/**
 * The session `helmts delegate create` appends: drafted at `at` under the data directory's policy
 * stack exactly as the guardian would create it (INVALID_INPUT with a hint when refused).
 */
export function draftDelegation(data: DataDir, input: CreateSessionInput, at: number): DelegationSession {
  const stack = policyStackOf(data);
  try {
    return draftSession(stack, input, at);
  } catch (error) {
    return sessionRefused(error, stack, input);
  }
}

/** The S256 challenge of a verifier (re-exported for the commands). */
export const codeChallenge = pkceChallenge;

export type DelegationEdit =
  | { readonly action: 'delegation.create'; readonly body: { readonly session: DelegationSession } }
  | {
      readonly action: 'delegation.revoke';
      readonly body: { readonly session_id: string; readonly reason?: string };
    };

/** A session as the listing shows it. */
export interface SessionView {
  readonly session: DelegationSession;
  /** `refused`: the guardian would not restore this body now (why says why). */
  readonly status: 'active' | 'expired' | 'revoked' | 'not_yet_valid' | 'refused';
  readonly why?: string;
  readonly revoked?: { readonly at: number; readonly by: string; readonly reason: string | null };
}

/**
 * Fold the delegation events into the sessions a runtime would hold, through a real registry over
 * the data directory's policy stack (so `refused` means exactly what the runtime would refuse).
 */
export function foldSessions(
  stack: PolicyStack,
  events: readonly (DelegationEdit & { readonly at: number; readonly signer: string })[],
  now: number,
): SessionView[] {
  // A registry only to validate and fold: it never creates (so never signs) a session.
  const registry = new DelegationRegistry({
    clock: new ManualClock(now),
    signer: createSigner(new Uint8Array(32)),
    nonces: new InMemoryNonceStore(),
    policy: () => stack,
  });
  const views = new Map<
    string,
    { session: DelegationSession; why?: string; revoked?: SessionView['revoked'] }
  >();
  for (const e of events) {
    if (e.action === 'delegation.create') {
      const session = e.body?.session;
      if (session === null || typeof session !== 'object' || typeof session.session_id !== 'string') continue;
      if (views.has(session.session_id)) continue;
      try {
        registry.restore(session);
        views.set(session.session_id, { session });
      } catch (error) {
        views.set(session.session_id, { session, why: (error as Error).message });
      }
    } else {
      const view = views.get(String(e.body?.session_id));
      if (view && !view.revoked)
        views.set(view.session.session_id, {
          ...view,
          revoked: {
            at: e.at,
            by: e.signer,
            reason: typeof e.body.reason === 'string' ? e.body.reason : null,
          },
        });
    }
  }
  return [...views.values()].map((v) => ({
    session: v.session,
    status:
      v.why !== undefined
        ? 'refused'
        : v.revoked
          ? 'revoked'
          : now >= v.session.expires_at_ms
            ? 'expired'
            : now < v.session.created_at_ms
              ? 'not_yet_valid'
              : 'active',
    ...(v.why === undefined ? {} : { why: v.why }),
    ...(v.revoked ? { revoked: v.revoked } : {}),
  }));
}

// ── governance: delegation.create / delegation.revoke ──────────────────────────────────────────

/**
 * The sessions of a data directory without opening the runtime: every delegation event of the
 * verified governance log (events a runtime rejected skipped), folded through a registry over the
 * current policy stack, with each session's status at `now`.
 */
export function delegationList(data: DataDir, now: number): SessionView[] {
  const applications = readGovernanceApplications(data);
  const events = readGovernanceLog(data)
    .filter((e) => e.action === 'delegation.create' || e.action === 'delegation.revoke')
    .filter((e) => applications.get(e.seq)?.outcome !== 'rejected')
    .map(
      (e) =>
        ({
          action: e.action,
          body: e.body,
          at: applications.get(e.seq)?.clock_ms ?? e.signed_at_ms,
          signer: e.signer,
        }) as unknown as DelegationEdit & { at: number; signer: string },
    );
  return foldSessions(policyStackOf(data), events, now);
}

const sessionIdOf = (body: unknown): string | undefined => {
  const id = (body as { session_id?: unknown } | null)?.session_id;
  return typeof id === 'string' ? id : undefined;
};

export const DELEGATION_HANDLERS: Partial<Record<GovernanceAction, GovernanceHandler>> = {
  'delegation.create': {
    // Before appending: the body is a session the guardian restores under the current stack.
    check(event, data) {
      const body = event.body as { session?: unknown };
      if (Object.keys(body).some((k) => k !== 'session'))
        throw new RuntimeError('INVALID_INPUT', 'delegation.create: the body is {"session": {…}}');
      const [view] = foldSessions(
        policyStackOf(data),
        [{ action: 'delegation.create', body: body as never, at: event.signed_at_ms, signer: event.signer }],
        event.signed_at_ms,
      );
      if (view === undefined || view.status === 'refused')
        throw new RuntimeError(
          'INVALID_INPUT',
          `delegation.create: the guardian would refuse this session (${view?.why ?? 'malformed'}); nothing was appended`,
          'create sessions with `helmts delegate create` (docs/cli.md §Delegation)',
        );
    },
    apply(event, runtime, context) {
      const registry = runtime.guardian.delegations;
      if (!registry)
        return { applied: false, code: 'GATE_NOT_CONFIGURED', detail: 'delegation is not enabled' };
      try {
        registry.restore((event.body as unknown as { session: DelegationSession }).session);
      } catch (error) {
        // First application: recorded as rejected. Re-applied at a later open under a stack that
        // refuses it now (a lower P0 maximum, say): the session is simply not held — calls naming
        // it are DELEGATION_INVALID — rather than the runtime refusing to open.
        if (!context.first) return { applied: true };
        return {
          applied: false,
          code: (error as { code?: string }).code ?? 'DELEGATION_INVALID',
          detail: (error as Error).message,
        };
      }
      return { applied: true, output: { session_id: sessionIdOf(event.body.session) ?? null } };
    },
  },
  'delegation.revoke': {
    check(event, data) {
      const id = sessionIdOf(event.body);
      const known = delegationList(data, event.signed_at_ms).find((v) => v.session.session_id === id);
      if (!known)
        throw new RuntimeError(
          'INVALID_INPUT',
          `delegation.revoke: no session ${String(id)}; nothing was appended`,
          '`helmts delegate list --all` shows the sessions and their ids',
        );
      if (known.status === 'revoked')
        throw new RuntimeError('INVALID_INPUT', `delegation.revoke: session ${id} is revoked already`);
    },
    apply(event, runtime, context) {
      const registry = runtime.guardian.delegations;
      const id = sessionIdOf(event.body);
      const reason = typeof event.body.reason === 'string' ? event.body.reason : '';
      if (!registry || id === undefined || registry.get(id) === undefined)
        return context.first
          ? { applied: false, code: 'DELEGATION_INVALID', detail: `unknown session ${String(id)}` }
          : { applied: true };
      registry.revoke(id, event.signer, reason);
      return { applied: true, output: { session_id: id } };
    },
  },
};

export interface DelegateCreateInput extends Omit<CreateSessionInput, 'code_challenge'> {
  /** The delegate's S256 challenge; absent: a verifier is generated and returned (once). */
  readonly code_challenge?: string;
}

/**
 * Draft a session at `at` (validated and proven under the data directory's policy stack) and
 * append it as `delegation.create`. Returns the session and, when none was given, the generated
 * code verifier — the delegate's secret, stored nowhere.
 */
export function delegateCreate(
  data: DataDir,
  input: DelegateCreateInput,
  signer: Signer,
  at: number,
): { session: DelegationSession; code_verifier: string | null; event: GovernanceEventRecord } {
  const { session, code_verifier } = draftWithVerifier(data, input, at);
  const event = appendGovernanceEvent(data, {
    action: 'delegation.create',
    body: { session } as unknown as Json,
    signer,
    at,
  });
  return { session, code_verifier, event };
}

/**
 * `delegateCreate` on a shared database: the session is drafted on one read of the database's
 * governance state (its registry) and appended to its one governance log, which every node applies
 * before its next decision. On the embedded store it is `delegateCreate`.
 */
export async function delegateCreateAsync(
  data: DataDir,
  input: DelegateCreateInput,
  signer: Signer,
  at: number,
): Promise<{ session: DelegationSession; code_verifier: string | null; event: GovernanceEventRecord }> {
  if (data.shared === undefined) return delegateCreate(data, input, signer, at);
  const { session, code_verifier } = draftWithVerifier(await governanceSnapshot(data), input, at);
  const event = await appendGovernanceEventAsync(data, {
    action: 'delegation.create',
    body: { session } as unknown as Json,
    signer,
    at,
  });
  return { session, code_verifier, event };
}

/** The session drafted at `at`, with a generated code verifier when the input names no challenge. */
function draftWithVerifier(
  data: DataDir,
  input: DelegateCreateInput,
  at: number,
): { session: DelegationSession; code_verifier: string | null } {
  const verifier = input.code_challenge === undefined ? newCodeVerifier() : null;
  const session = draftDelegation(
    data,
    { ...input, code_challenge: input.code_challenge ?? pkceChallenge(verifier as string) },
    at,
  );
  return { session, code_verifier: verifier };
}

/** Append `delegation.revoke` for a known, unrevoked session. */
export function delegateRevoke(
  data: DataDir,
  sessionId: string,
  reason: string | undefined,
  signer: Signer,
  at: number,
): GovernanceEventRecord {
  return appendGovernanceEvent(data, revokeInput(sessionId, reason, signer, at));
}

/** `delegateRevoke` on a shared database: appended to its one governance log (see delegateCreateAsync). */
export async function delegateRevokeAsync(
  data: DataDir,
  sessionId: string,
  reason: string | undefined,
  signer: Signer,
  at: number,
): Promise<GovernanceEventRecord> {
  return appendGovernanceEventAsync(data, revokeInput(sessionId, reason, signer, at));
}

function revokeInput(
  sessionId: string,
  reason: string | undefined,
  signer: Signer,
  at: number,
): { action: 'delegation.revoke'; body: Json; signer: Signer; at: number } {
  if (!/^sha256:[0-9a-f]{64}$/.test(sessionId))
    throw new RuntimeError(
      'USAGE',
      'a session id is sha256:<64 hex>',
      'list sessions: helmts delegate list --all',
    );
  return {
    action: 'delegation.revoke',
    body: { session_id: sessionId, ...(reason === undefined ? {} : { reason }) },
    signer,
    at,
  };
}
