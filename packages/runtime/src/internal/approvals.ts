// Approvals across processes (docs/cli.md §Approvals, docs/spec/governance-event.md §Bodies).
//
// A call the policy holds (ESCALATE) leaves a guardian-signed challenge in the store, written in
// the transaction of its ESCALATED receipt together with the request that escalated. Approvers
// answer with governance events — `approval.grant` carrying their signed `helm.approval.v1`
// statement, `approval.deny` — appended without the runtime. A runtime restores every stored
// challenge at open (`ApprovalCeremonies#restore`: only its own guardian's signature is accepted),
// re-applies the applied approvals, closes what was denied, expired or consumed, and submits new
// approvals before its next decision. The call then runs once: the grant's use is recorded with
// its admission (`governance_grants`, one row per grant), before the driver can run.
//
// The read side (`challengeViews`) computes a challenge's state from the log alone — no runtime,
// no lock — for `helmts approvals list|show` and for the checks that refuse a useless approval early.
import {
  APPROVAL_CHALLENGE_TYPE,
  APPROVAL_TYPE,
  type ApprovalChallenge,
  type ApprovalStatement,
  type SignedEnvelope,
} from '@helm/contracts';
import {
  canonicalBytes,
  digest,
  fromBase64Url,
  openVerifiedEnvelope,
  parseStrictJson,
  type Signer,
  signEnvelope,
} from '@helm/crypto';
import type { Json, StoredGovernanceChallenge } from '@helm/store';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import type { DataDir } from './datadir.js';
// A cycle with governance.ts, used at call time only (both sides).
import {
  type GovernanceApplyContext,
  type GovernanceEventRecord,
  type GovernanceHandler,
  type GovernanceOutcome,
  type PendingGovernanceEvent,
  readGovernanceEventsAbout,
  readGovernanceLog,
} from './governance.js';
import { readJsonFile } from './json.js';
import { keyOfFile } from './keys.js';
import type { GovernedRuntime } from './runtime.js';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body of an envelope, decoded without verifying it (for display and lookups only). */
function unverifiedBody(envelope: unknown): Record<string, unknown> | undefined {
  try {
    const e = envelope as SignedEnvelope;
    const body = parseStrictJson(new TextDecoder().decode(fromBase64Url(e.payload) ?? new Uint8Array()));
    return isObject(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A stored challenge whose guardian signature verifies under a key holding `guardian` in the
 * registry at its head: what approvers may rely on.
 */
export function verifiedChallenge(
  stored: StoredGovernanceChallenge,
  registry: TrustRegistry,
): ApprovalChallenge {
  let challenge: ApprovalChallenge;
  try {
    challenge = openVerifiedEnvelope(
      stored.envelope,
      APPROVAL_CHALLENGE_TYPE,
      registry.lookupFor('guardian', registry.seq),
    ).body as unknown as ApprovalChallenge;
  } catch {
    throw new RuntimeError(
      'GOVERNANCE_EVENT_INVALID',
      `challenge ${stored.id} is not signed by a guardian key of this registry (edited, or signed before a guardian key rotation)`,
      'a challenge the runtime can no longer restore cannot be approved: run the call again for a new challenge',
    );
  }
  if (challenge.challenge_id !== stored.id)
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', `challenge ${stored.id} is stored under another id`);
  return challenge;
}

/** One approver's answer to a challenge, as the log shows it. */
export interface ChallengeAnswer {
  readonly seq: number;
  readonly action: 'approval.grant' | 'approval.deny';
  readonly keyid: string;
  /** The approver identity of a grant's statement (null for a denial). */
  readonly approver: string | null;
  readonly emergency: boolean;
  readonly signed_at_ms: number;
  /** `pending`: appended, not yet applied by a runtime; `rejected`: applied with no effect. */
  readonly status: 'pending' | 'applied' | 'rejected';
  readonly code: string | null;
  readonly reason: string | null;
}

/**
 * `invalid`: the stored challenge does not verify under a guardian key of the registry now (edited,
 * or signed before a guardian key rotation): no runtime restores it, so it can never be granted.
 */
export type ChallengeState =
  | 'pending'
  | 'timelocked'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'consumed'
  | 'invalid';

export interface ChallengeView {
  readonly challenge_id: string;
  readonly state: ChallengeState;
  readonly challenge: ApprovalChallenge;
  /** The request that escalated (what `helmts run --challenge` executes). */
  readonly request: Json;
  /** Grants counted toward quorum: distinct keys and identities, not rejected. */
  readonly approvals: number;
  readonly emergency_approvals: number;
  readonly quorum: number;
  readonly emergency_quorum: number | null;
  /** Approvals still needed for quorum. */
  readonly needed: number;
  readonly not_before_ms: number;
  readonly expires_at_ms: number;
  readonly answers: readonly ChallengeAnswer[];
  /** The decision that consumed the grant. */
  readonly consumed_by: string | null;
  readonly receipt_id: string | null;
}

/** Every answer the log holds for one challenge, oldest first. */
function answersOf(
  challengeId: string,
  applied: ReadonlyMap<number, { outcome: string; code: string | null }>,
  events: readonly GovernanceEventRecord[],
): ChallengeAnswer[] {
  return events
    .filter(
      (e) => e.subject === challengeId && (e.action === 'approval.grant' || e.action === 'approval.deny'),
    )
    .map((e) => {
      const a = applied.get(e.seq);
      const statement = e.action === 'approval.grant' ? unverifiedBody(e.body.statement) : undefined;
      return {
        seq: e.seq,
        action: e.action as ChallengeAnswer['action'],
        keyid: e.signer,
        approver: typeof statement?.approver === 'string' ? statement.approver : null,
        emergency: statement?.emergency === true,
        signed_at_ms: e.signed_at_ms,
        status: a === undefined ? 'pending' : a.outcome === 'applied' ? 'applied' : 'rejected',
        code: a?.code ?? null,
        reason: typeof e.body.reason === 'string' ? e.body.reason : null,
      };
    });
}

/**
 * The state of one challenge as the data directory records it at `now` (read-only): consumed (its
 * grant was used), denied, expired, else approved (quorum and timelock met, or the emergency
 * quorum), timelocked (quorum met, timelock running) or pending. Approvals count once per key and
 * per identity, in log order; rejected ones never count.
 */
export function challengeView(
  data: DataDir,
  stored: StoredGovernanceChallenge,
  now: number,
  context: {
    registry: TrustRegistry;
    events: readonly GovernanceEventRecord[];
    applied: ReadonlyMap<number, { outcome: string; code: string | null }>;
  },
): ChallengeView {
  let c: ApprovalChallenge;
  let invalid = false;
  try {
    c = verifiedChallenge(stored, context.registry);
  } catch {
    // Shown for what it claims, never trusted: its state is `invalid`.
    c = (unverifiedBody(stored.envelope) ?? {}) as unknown as ApprovalChallenge;
    invalid = true;
  }
  const answers = answersOf(stored.id, context.applied, context.events);
  const keys = new Set<string>();
  const names = new Set<string>();
  let approvals = 0;
  let emergency = 0;
  let denied = false;
  for (const a of answers) {
    if (a.status === 'rejected') continue;
    if (a.action === 'approval.deny') {
      denied = true;
      continue;
    }
    if (keys.has(a.keyid) || (a.approver !== null && names.has(a.approver))) continue;
    keys.add(a.keyid);
    if (a.approver !== null) names.add(a.approver);
    approvals++;
    if (a.emergency) emergency++;
  }
  const grant = data.store.governanceGrantSync(stored.id);
  let state: ChallengeState;
  if (invalid) state = 'invalid';
  else if (grant) state = 'consumed';
  else if (denied) state = 'denied';
  else if (stored.closed === 'expired' || now >= c.expires_at_ms) state = 'expired';
  else if (c.emergency_quorum !== null && emergency >= c.emergency_quorum) state = 'approved';
  else if (approvals >= c.quorum) state = now >= c.not_before_ms ? 'approved' : 'timelocked';
  else state = 'pending';
  return {
    challenge_id: stored.id,
    state,
    challenge: c,
    request: stored.request,
    approvals,
    emergency_approvals: emergency,
    quorum: c.quorum,
    emergency_quorum: c.emergency_quorum,
    needed: Math.max(0, c.quorum - approvals),
    not_before_ms: c.not_before_ms,
    expires_at_ms: c.expires_at_ms,
    answers,
    consumed_by: grant?.decisionId ?? null,
    receipt_id: stored.receiptId,
  };
}

/** What approval checks and views read: the verified log, the registry and the application records. */
export interface ApprovalContext {
  readonly registry: TrustRegistry;
  readonly events: readonly GovernanceEventRecord[];
  readonly applied: ReadonlyMap<number, { outcome: string; code: string | null }>;
}

/** One challenge by id (CHALLENGE_UNKNOWN if the store has none). */
export function storedChallenge(data: DataDir, challengeId: string): StoredGovernanceChallenge {
  const stored =
    typeof challengeId === 'string' ? data.store.governanceChallengeSync(challengeId) : undefined;
  if (!stored)
    throw new RuntimeError(
      'CHALLENGE_UNKNOWN',
      `no approval challenge ${String(challengeId)} in ${data.dir}`,
      'list them with `helmts approvals list`',
    );
  return stored;
}

const STATE_TEXT: Record<ChallengeState, string> = {
  pending: 'still needs approvals',
  timelocked: 'approved, but its timelock has not passed',
  approved: 'approved',
  denied: 'denied by an approver',
  expired: 'expired',
  consumed: 'already used: its call ran',
  invalid: 'not verifiable: its guardian signature does not verify under a guardian key of this registry',
};

/** Refuse an answer to a challenge that can no longer change anything. */
function requireOpen(view: ChallengeView): void {
  if (view.state === 'invalid')
    throw new RuntimeError(
      'GOVERNANCE_EVENT_INVALID',
      `challenge ${view.challenge_id} is ${STATE_TEXT.invalid}`,
      'run the call again for a new challenge',
    );
  if (view.state === 'denied' || view.state === 'expired' || view.state === 'consumed')
    throw new RuntimeError(
      'CHALLENGE_CLOSED',
      `challenge ${view.challenge_id} is ${STATE_TEXT[view.state]}`,
      view.state === 'consumed'
        ? 'a grant is used once; run the call again for a new challenge'
        : 'run the call again for a new challenge',
    );
}

/** The signed statement an `approval.grant` body carries, verified under its signer's key. */
function statementOf(
  body: { readonly [key: string]: Json },
  signer: string,
  registry: TrustRegistry,
): ApprovalStatement {
  const envelope = body.statement as unknown as SignedEnvelope;
  if (
    !isObject(envelope) ||
    envelope.type !== APPROVAL_TYPE ||
    !Array.isArray(envelope.signatures) ||
    envelope.signatures.length !== 1 ||
    envelope.signatures[0]?.keyid !== signer
  )
    throw new RuntimeError(
      'GOVERNANCE_EVENT_INVALID',
      `approval.grant carries one ${APPROVAL_TYPE} statement signed by the event's own signer`,
    );
  const known = registry.keyValidFor(signer, 'approver', registry.seq);
  let statement: ApprovalStatement;
  try {
    if (!known.ok) throw new Error(known.code);
    statement = openVerifiedEnvelope(envelope, APPROVAL_TYPE, (id) =>
      id === signer ? known.publicKey : undefined,
    ).body as unknown as ApprovalStatement;
  } catch {
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', 'the approval statement does not verify');
  }
  if (statement.challenge_id !== body.challenge_id)
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', 'the statement approves another challenge');
  return statement;
}

function checkGrant(event: PendingGovernanceEvent, data: DataDir, registry: TrustRegistry): void {
  const stored = storedChallenge(data, String(event.body.challenge_id));
  const context = approvalContext(data, registry, stored.id);
  const view = challengeView(data, stored, event.appended_at_ms, context);
  const c = view.challenge;
  const statement = statementOf(event.body, event.signer, registry);
  if (
    statement.intent_hash !== c.intent_hash ||
    statement.policy_bundle_hash !== c.policy_bundle_hash ||
    statement.p0_ceiling_hash !== c.p0_ceiling_hash
  )
    throw new RuntimeError(
      'GOVERNANCE_EVENT_INVALID',
      `the statement is bound to another call or policy than challenge ${c.challenge_id}`,
    );
  const role = registry.keyValidFor(event.signer, c.role, registry.seq);
  if (!role.ok)
    throw new RuntimeError(
      'KEY_NOT_VALID',
      `${event.signer} does not hold role ${c.role}, which challenge ${c.challenge_id} needs (${role.code})`,
    );
  if (statement.emergency && c.emergency_quorum === null)
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', 'the rule allows no emergency override');
  requireOpen(view);
  const twice = view.answers.find(
    (a) =>
      a.action === 'approval.grant' &&
      a.status !== 'rejected' &&
      (a.keyid === event.signer || a.approver === statement.approver),
  );
  if (twice)
    throw new RuntimeError(
      'APPROVAL_DUPLICATE',
      `${twice.keyid === event.signer ? `key ${event.signer}` : `approver ${statement.approver}`} approved challenge ${c.challenge_id} already (event ${twice.seq})`,
      'quorum counts distinct approvers: another approver must sign',
    );
}

function checkDeny(event: PendingGovernanceEvent, data: DataDir, registry: TrustRegistry): void {
  if (event.body.reason !== undefined && typeof event.body.reason !== 'string')
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', 'approval.deny: reason is a string');
  const stored = storedChallenge(data, String(event.body.challenge_id));
  const view = challengeView(data, stored, event.appended_at_ms, approvalContext(data, registry, stored.id));
  const role = registry.keyValidFor(event.signer, view.challenge.role, registry.seq);
  if (!role.ok)
    throw new RuntimeError(
      'KEY_NOT_VALID',
      `${event.signer} does not hold role ${view.challenge.role}, which challenge ${view.challenge_id} needs (${role.code})`,
    );
  requireOpen(view);
}

/**
 * The verified log and application records, for approval views and checks: the whole log, or only
 * the events about one challenge (each verified on its own) when `subject` is given.
 */
export function approvalContext(
  data: DataDir,
  registry: TrustRegistry = data.registry(),
  subject?: string,
): ApprovalContext {
  const events =
    subject === undefined
      ? readGovernanceLog(data, registry)
      : readGovernanceEventsAbout(data, subject, registry);
  const applied = new Map(
    data.store.governanceAppliedSync().map((a) => {
      const r = a.record as { outcome?: unknown; code?: unknown };
      return [
        a.seq,
        { outcome: String(r?.outcome), code: typeof r?.code === 'string' ? r.code : null },
      ] as const;
    }),
  );
  return { registry, events, applied };
}

function applyGrant(
  event: GovernanceEventRecord,
  runtime: GovernedRuntime,
  context: GovernanceApplyContext,
): GovernanceOutcome | undefined {
  const approvals = runtime.guardian.approvals;
  if (!approvals) return { applied: false, code: 'GATE_NOT_CONFIGURED', detail: 'approvals are not enabled' };
  const statement = event.body.statement as unknown as SignedEnvelope;
  if (!isObject(statement) || statement.signatures?.[0]?.keyid !== event.signer)
    return {
      applied: false,
      code: 'APPROVAL_INVALID',
      detail: 'the statement is not signed by the event signer',
    };
  try {
    approvals.submit(statement);
  } catch (error) {
    // Re-applied at a later open, an approval the guardian no longer takes (its challenge could
    // not be restored, say after a guardian key rotation) simply does not count: fail closed.
    if (!context.first) return undefined;
    const code =
      typeof (error as { code?: unknown }).code === 'string'
        ? (error as { code: string }).code
        : 'APPROVAL_INVALID';
    return { applied: false, code, detail: error instanceof Error ? error.message : String(error) };
  }
  return undefined;
}

function applyDeny(
  event: GovernanceEventRecord,
  runtime: GovernedRuntime,
  context: GovernanceApplyContext,
): GovernanceOutcome | undefined {
  const approvals = runtime.guardian.approvals;
  if (!approvals) return { applied: false, code: 'GATE_NOT_CONFIGURED', detail: 'approvals are not enabled' };
  const id = String(event.body.challenge_id);
  const c = approvals.getChallenge(id);
  // On a shared database the first applier may not hold the challenge (another node opened it,
  // and its row can be hidden by the database writer while this node looks): the denial passed
  // its append check against the challenge, so it is recorded applied — every node that holds
  // the challenge then closes it. Recorded rejected, it would bind every node to ignore it.
  if (!c)
    return context.first && runtime.data.shared === undefined
      ? { applied: false, code: 'APPROVAL_INVALID', detail: 'unknown challenge' }
      : undefined;
  const role = context.registry.keyValidFor(event.signer, c.role, context.trust_seq);
  if (!role.ok) return { applied: false, code: role.code, detail: `${event.signer} does not hold ${c.role}` };
  if (!approvals.close(id, 'denied') && context.first)
    return { applied: false, code: 'APPROVAL_INVALID', detail: 'the challenge is closed already' };
  return undefined;
}

export const APPROVAL_HANDLERS: Readonly<Record<'approval.grant' | 'approval.deny', GovernanceHandler>> = {
  'approval.grant': { check: checkGrant, apply: applyGrant },
  'approval.deny': { check: checkDeny, apply: applyDeny },
};

/**
 * An approver's signed `helm.approval.v1` statement for a challenge (approves exactly its intent
 * and policy hashes). `approver` is the identity counted toward quorum (default: the key id).
 */
export function approvalStatement(
  challenge: ApprovalChallenge,
  signer: Signer,
  options: { approver?: string; emergency?: boolean } = {},
): SignedEnvelope {
  const body: ApprovalStatement = {
    type: APPROVAL_TYPE,
    challenge_id: challenge.challenge_id,
    intent_hash: challenge.intent_hash,
    policy_bundle_hash: challenge.policy_bundle_hash,
    p0_ceiling_hash: challenge.p0_ceiling_hash,
    approver: options.approver ?? signer.keyId,
    emergency: options.emergency ?? false,
  };
  return signEnvelope(body as unknown as { type: string }, [signer]);
}

/** The file `helmts approvals export` writes for an approver on another machine. */
export const APPROVAL_REQUEST_TYPE = 'helm.approval.request.v1';

export interface ApprovalRequestFile {
  readonly type: typeof APPROVAL_REQUEST_TYPE;
  readonly trust_anchor: string;
  readonly chain_id: string;
  /** The guardian-signed challenge. */
  readonly challenge: SignedEnvelope;
  /** The request that escalated: its arguments hash to the challenge's args_hash. */
  readonly request: Json;
}

/**
 * Read an exported challenge without a data directory: its fields, and whether the recorded
 * request's arguments hash to the challenge's args hash (what the approver is shown). The guardian
 * signature is verified where the approval is imported (the approver has no registry here).
 */
export function readApprovalRequest(file: unknown): {
  request: ApprovalRequestFile;
  challenge: ApprovalChallenge;
  args: Json | undefined;
} {
  const f = file as Partial<ApprovalRequestFile>;
  if (
    !isObject(f) ||
    f.type !== APPROVAL_REQUEST_TYPE ||
    typeof f.trust_anchor !== 'string' ||
    typeof f.chain_id !== 'string'
  )
    throw new RuntimeError(
      'INVALID_INPUT',
      `not a ${APPROVAL_REQUEST_TYPE} file`,
      'write one with `helmts approvals export <id>`',
    );
  const c = unverifiedBody(f.challenge) as unknown as ApprovalChallenge | undefined;
  if (!c || c.type !== APPROVAL_CHALLENGE_TYPE || typeof c.challenge_id !== 'string')
    throw new RuntimeError('INVALID_INPUT', 'the file carries no approval challenge');
  const { challenge_id: id, ...rest } = c;
  if (id !== digest(canonicalBytes(rest)))
    throw new RuntimeError('INVALID_INPUT', 'the challenge id does not match its fields (edited)');
  const req = isObject(f.request) ? f.request : {};
  let args: Json | undefined;
  try {
    args = (typeof req.args_text === 'string' ? parseStrictJson(req.args_text) : req.args) as
      | Json
      | undefined;
  } catch {
    args = undefined;
  }
  if (args === undefined || digest(canonicalBytes(args)) !== c.args_hash)
    throw new RuntimeError(
      'INVALID_INPUT',
      'the exported request does not carry the arguments the challenge binds (args hash mismatch)',
    );
  return { request: f as ApprovalRequestFile, challenge: c, args };
}

/**
 * The signer of a key file given by path (an approver's own key, possibly outside any data
 * directory): only its seed counts, and its keyid/public_key must be the seed's (KEY_FILE_MISMATCH).
 * Whether the key may approve is the trust registry's answer, checked where the approval is appended.
 */
export function signerFromKeyFile(path: string): Signer {
  return keyOfFile(readJsonFile(path), path).signer;
}

/** Every stored challenge with its state at `now`, oldest first (read-only). */
export function challengeViews(data: DataDir, now: number): ChallengeView[] {
  const context = approvalContext(data);
  return data.store
    .governanceChallengesSync(data.config().chain_id)
    .map((stored) => challengeView(data, stored, now, context));
}

/** The state of one challenge at `now` (read-only; CHALLENGE_UNKNOWN when there is none). */
export function challengeViewById(data: DataDir, challengeId: string, now: number): ChallengeView {
  const stored = storedChallenge(data, challengeId);
  return challengeView(data, stored, now, approvalContext(data, data.registry(), stored.id));
}

/** `helmts approvals export`: the challenge, for an approver who signs elsewhere. */
export function approvalRequestFile(data: DataDir, challengeId: string): ApprovalRequestFile {
  const stored = storedChallenge(data, challengeId);
  verifiedChallenge(stored, data.registry());
  const config = data.config();
  return {
    type: APPROVAL_REQUEST_TYPE,
    trust_anchor: config.trust_anchor,
    chain_id: config.chain_id,
    challenge: stored.envelope,
    request: stored.request,
  };
}
