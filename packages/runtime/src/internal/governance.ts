// Governance events (docs/spec/governance-event.md): the administrative writes of a data directory
// — approvals and denials of held calls, delegations, identity, egress, budget and tool changes.
//
// Writing one never opens the governed runtime (no runtime.lock): `appendGovernanceEvent` checks
// the signer's role in the trust registry, runs the action's own check, signs a position-free
// `helm.governance.event.v1` statement and appends it to the log in one short transaction (SQLite
// serializes writers), so it works while `helmts serve` or `mcp` holds the runtime. An approver may
// sign on another machine; `importGovernanceEvent` appends such a statement after the same checks.
//
// A running runtime (`GovernanceIngestor`) applies new events at open and before each decision,
// each exactly once: the first application of event n writes its application record, the
// runtime's guardian-signed cursor (how far the log is applied, with the link and record chains at
// that point), the action's own writes and, for an administrative action, its `helm.admin.<action>`
// receipt, in ONE transaction. At every open the whole log is verified (links, signatures, roles,
// records, cursor) and the applied events are re-applied in memory with the clock reading and
// trust state of their first application. A log that does not verify — a forged row, an edited
// record, a rolled-back tail behind the cursor — is refused loudly (GOVERNANCE_LOG_INVALID): the
// runtime does not open, or does not decide, until it is repaired. An event whose action refuses it
// (say, an approval for a closed challenge) is recorded as rejected and has no effect.
import { randomBytes } from 'node:crypto';
import type { SignedEnvelope, TrustRole } from '@helm/contracts';
import {
  canonicalBytes,
  digest,
  fromBase64Url,
  isDigest,
  openVerifiedEnvelope,
  parseStrictJson,
  type Signer,
  signEnvelope,
} from '@helm/crypto';
import {
  GOVERNANCE_ADMIN_ACTIONS,
  GOVERNANCE_APPLIED_TYPE,
  GOVERNANCE_CURSOR_TYPE,
  GOVERNANCE_EVENT_TYPE,
  GOVERNANCE_GENESIS_PREV,
  GOVERNANCE_LINK_TYPE,
  type GovernanceCursorBody,
  GOVERNANCE_ACTION_ROLES as PACK_ACTION_ROLES,
  GOVERNANCE_ACTIONS as PACK_ACTIONS,
  type GovernanceAction as PackGovernanceAction,
  type GovernanceEventBody as PackGovernanceEventBody,
} from '@helm/evidencepack';
import type {
  GovernanceApplication,
  GovernanceEventRow,
  GovernanceStore,
  GovernanceView,
  Json,
  LedgerOp,
  RuntimeStore,
  SqliteStore,
  StoredGovernanceApplication,
} from '@helm/store';
import { StoreError } from '@helm/store';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import { APPROVAL_HANDLERS } from './approvals.js';
import { BUDGET_HANDLERS } from './budget.js';
import type { DataDir } from './datadir.js';
import { DELEGATION_HANDLERS } from './delegation.js';
import { EGRESS_HANDLERS } from './egress.js';
import { checkGovernanceLogPin, schemaOf } from './governance-log-pin.js';
import { governanceSnapshot } from './governance-snapshot.js';
import { IDENTITY_HANDLERS } from './identity.js';
import { POLICY_PUBLISH_HANDLERS } from './policy-publish.js';
import type { GovernedRuntime } from './runtime.js';
import { TOOL_REPIN_HANDLERS } from './tool-repin.js';

/**
 * The actions of a governance log are the pack format's (`@helm/evidencepack`): the administrative
 * ones among them — `policy.publish` included — are receipted `helm.admin.<action>` when applied,
 * and a pack verifier checks those receipts (docs/spec/governance-event.md §2, §7).
 */
export const GOVERNANCE_ACTIONS = PACK_ACTIONS;
export type GovernanceAction = PackGovernanceAction;

/** The trust-registry role a governance event's signer must hold for its action. */
const GOVERNANCE_ACTION_ROLES: Readonly<Record<GovernanceAction, TrustRole>> = PACK_ACTION_ROLES;

/** An event body of this log. */
type GovernanceEventBody = PackGovernanceEventBody;

const isAdminAction = (action: GovernanceAction): boolean =>
  (GOVERNANCE_ADMIN_ACTIONS as readonly string[]).includes(action);

/** One verified event of the governance log. */
export interface GovernanceEventRecord {
  readonly seq: number;
  /** digest(JCS(envelope)): the event's identity (a duplicate is refused). */
  readonly digest: string;
  /** The link of the previous event. */
  readonly prev: string;
  /** This event's link. */
  readonly chain: string;
  readonly action: GovernanceAction;
  /** Key id of the signer (the registry key that holds the action's role). */
  readonly signer: string;
  /** What the event is about, when its action names one thing (the challenge id of an approval). */
  readonly subject: string | null;
  /** Registry sequence number the signer's role was checked at when the event was appended. */
  readonly trust_seq: number;
  readonly signed_at_ms: number;
  readonly body: { readonly [key: string]: Json };
  readonly envelope: SignedEnvelope;
}

/** The event as its action's `check` sees it before it is appended. */
export interface PendingGovernanceEvent {
  readonly action: GovernanceAction;
  readonly signer: string;
  readonly signed_at_ms: number;
  /** The appender's clock (what "now" is for the action's check; the signer's claim is not). */
  readonly appended_at_ms: number;
  readonly body: { readonly [key: string]: Json };
}

export interface GovernanceApplyContext {
  /**
   * True the first time the event is applied (its outcome, writes and receipt are recorded);
   * false when a later open re-applies an event whose first application is recorded — the handler
   * must then rebuild exactly the in-memory state it built the first time, and its writes are not run.
   */
  readonly first: boolean;
  /** The runtime clock reading of the (first) application. */
  readonly clock_ms: number;
  /** The registry sequence number the (first) application checked keys at. */
  readonly trust_seq: number;
  /** The registry, at least at `trust_seq`. */
  readonly registry: TrustRegistry;
  /**
   * First application on a store without synchronous reads (a shared database): what the
   * handler's `prepare` read through the port just before (undefined otherwise).
   */
  readonly prepared?: unknown;
}

/**
 * What open reads of the governance log, read through the async store port before it (a
 * networked store has no synchronous reads): the log, the application records and the cursor,
 * and the challenges and grants the approvals are restored from.
 */
export type GovernanceReads = GovernanceView;

/**
 * Read `GovernanceReads` of `chainId` through the port in ONE consistent read
 * (`GovernanceStore.governanceView`: one snapshot). On a shared database another node may apply an
 * event while this one opens (its record and the cursor move in one transaction): the view has the
 * application entirely or not at all, so a node never takes the race for a rolled-back log.
 */
export function readGovernanceForOpen(
  store: GovernanceStore,
  chainId: string | undefined,
): Promise<GovernanceReads> {
  return store.governanceView(chainId);
}

export type GovernanceOutcome =
  | {
      readonly applied: true;
      /** What an administrative action's receipt records as its output (default `{}`). */
      readonly output?: Json;
      /** Store writes of the first application, run in its transaction (sync store methods only). */
      readonly writes?: () => void;
      /**
       * Ledger movements of the first application, written in its transaction by every engine
       * (a networked store refuses `writes`).
       */
      readonly ledger?: readonly LedgerOp[];
    }
  | { readonly applied: false; readonly code: string; readonly detail: string };

/**
 * What an action does. `check` refuses an event before it is appended (throw RuntimeError); it
 * reads the data directory as it is, without the runtime. `apply` applies it to a running runtime
 * (in memory) and returns its outcome (`undefined` = applied, no writes).
 */
export interface GovernanceHandler {
  readonly check?: (event: PendingGovernanceEvent, data: DataDir, registry: TrustRegistry) => void;
  /**
   * On a store without synchronous reads (a shared database): read, through the port, what the
   * first application reads of the store (given to `apply` as `context.prepared`).
   */
  readonly prepare?: (event: GovernanceEventRecord, store: RuntimeStore) => Promise<unknown>;
  readonly apply: (
    event: GovernanceEventRecord,
    runtime: GovernedRuntime,
    context: GovernanceApplyContext,
  ) => GovernanceOutcome | undefined;
}

const registered = new Map<GovernanceAction, GovernanceHandler>();

/**
 * Handlers of the actions this package implements. Add an action's handler here (one import, one
 * entry) or register it with `registerGovernanceHandler`. Read at call time, so modules that import
 * this one may define the handlers.
 */
function builtinHandlers(): Partial<Record<GovernanceAction, GovernanceHandler>> {
  return {
    ...APPROVAL_HANDLERS,
    ...BUDGET_HANDLERS,
    ...TOOL_REPIN_HANDLERS,
    ...DELEGATION_HANDLERS,
    ...EGRESS_HANDLERS,
    ...IDENTITY_HANDLERS,
    ...POLICY_PUBLISH_HANDLERS,
  };
}

/** Register (or replace) the handler of an action, for every runtime of this process. */
export function registerGovernanceHandler(action: GovernanceAction, handler: GovernanceHandler): void {
  if (!(GOVERNANCE_ACTIONS as readonly string[]).includes(action))
    throw new RuntimeError('INVALID_INPUT', `unknown governance action ${String(action)}`);
  registered.set(action, handler);
}

function handlerFor(action: GovernanceAction): GovernanceHandler | undefined {
  return registered.get(action) ?? builtinHandlers()[action];
}

const isAction = (value: unknown): value is GovernanceAction =>
  typeof value === 'string' && (GOVERNANCE_ACTIONS as readonly string[]).includes(value);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** digest(JCS(envelope)): an event's identity. */
export function governanceEventDigest(envelope: SignedEnvelope): string {
  return digest(canonicalBytes(envelope));
}

/** The log link of an event: digest(JCS({type, seq, prev, event, trust_seq})). */
export function governanceLink(seq: number, prev: string, eventDigest: string, trustSeq: number): string {
  return digest(
    canonicalBytes({ type: GOVERNANCE_LINK_TYPE, seq, prev, event: eventDigest, trust_seq: trustSeq }),
  );
}

/** The application-record chain value: digest(JCS({type, prev, seq, event, record})). */
export function governanceAppliedLink(prev: string, seq: number, eventDigest: string, record: Json): string {
  return digest(canonicalBytes({ type: GOVERNANCE_APPLIED_TYPE, prev, seq, event: eventDigest, record }));
}

/** The subject column of an event (for lookups): the challenge id of an approval. */
function subjectOf(action: GovernanceAction, body: Record<string, unknown>): string | null {
  if (action.startsWith('approval.') && typeof body.challenge_id === 'string') return body.challenge_id;
  return null;
}

export interface SignGovernanceEventInput {
  readonly action: GovernanceAction;
  readonly body: Json;
  readonly signer: Signer;
  /** The signer's clock (milliseconds since the epoch). */
  readonly at: number;
  readonly trustAnchor: string;
  readonly chainId: string;
  /** 32 lowercase hex digits (default: fresh random). */
  readonly nonce?: string;
}

/**
 * Sign a governance event without a data directory (e.g. an approver's machine): the statement
 * names its registry and chain but no log position, so it can be appended later by anyone.
 */
export function signGovernanceEvent(input: SignGovernanceEventInput): SignedEnvelope {
  if (!isAction(input.action))
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', `unknown governance action ${String(input.action)}`);
  if (!isObject(input.body))
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', 'a governance event body is a JSON object');
  if (!Number.isSafeInteger(input.at) || input.at < 0)
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', 'the signing time is a non-negative integer (ms)');
  const nonce = input.nonce ?? randomBytes(16).toString('hex');
  const body: GovernanceEventBody = {
    type: GOVERNANCE_EVENT_TYPE,
    action: input.action,
    trust_anchor: input.trustAnchor,
    chain_id: input.chainId,
    signed_at_ms: input.at,
    nonce,
    body: input.body as GovernanceEventBody['body'],
  };
  checkBody(body);
  return signEnvelope(body as unknown as { type: string }, [input.signer]);
}

function checkBody(b: unknown): asserts b is GovernanceEventBody {
  const ok =
    isObject(b) &&
    Object.keys(b).length === 7 &&
    b.type === GOVERNANCE_EVENT_TYPE &&
    isAction(b.action) &&
    typeof b.trust_anchor === 'string' &&
    isDigest(b.trust_anchor) &&
    typeof b.chain_id === 'string' &&
    /^[A-Za-z0-9._:-]{1,128}$/.test(b.chain_id) &&
    Number.isSafeInteger(b.signed_at_ms) &&
    (b.signed_at_ms as number) >= 0 &&
    typeof b.nonce === 'string' &&
    /^[0-9a-f]{32}$/.test(b.nonce) &&
    isObject(b.body);
  if (!ok) throw new RuntimeError('GOVERNANCE_EVENT_INVALID', 'malformed helm.governance.event.v1 body');
}

/** The action and signer an envelope claims (not yet verified). */
function claimed(envelope: unknown): { action: GovernanceAction; keyid: string } {
  const e = envelope as Partial<SignedEnvelope> | null;
  if (
    !isObject(e) ||
    e.type !== GOVERNANCE_EVENT_TYPE ||
    typeof e.payload !== 'string' ||
    !Array.isArray(e.signatures) ||
    e.signatures.length !== 1 ||
    typeof e.signatures[0]?.keyid !== 'string'
  ) {
    throw new RuntimeError(
      'GOVERNANCE_EVENT_INVALID',
      `not a ${GOVERNANCE_EVENT_TYPE} envelope with exactly one signature`,
    );
  }
  let body: unknown;
  try {
    body = parseStrictJson(new TextDecoder().decode(fromBase64Url(e.payload) ?? new Uint8Array()));
  } catch {
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', 'the event payload is not strict JSON');
  }
  const action = (body as { action?: unknown } | null)?.action;
  if (!isAction(action))
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', `unknown governance action ${String(action)}`);
  return { action, keyid: e.signatures[0].keyid };
}

export interface LogIdentity {
  readonly trustAnchor: string;
  readonly chainId: string;
}

/**
 * Verify one event envelope: one signature, by a key holding the action's role at `trustSeq`, over
 * a well-formed body made for this registry and chain. Throws RuntimeError
 * (GOVERNANCE_EVENT_INVALID, or KEY_NOT_VALID when the key does not hold the role there).
 */
export function verifyGovernanceEvent(
  envelope: SignedEnvelope,
  log: LogIdentity,
  registry: TrustRegistry,
  trustSeq: number,
): { body: GovernanceEventBody; signer: string } {
  const { action, keyid } = claimed(envelope);
  const role = GOVERNANCE_ACTION_ROLES[action];
  const valid = registry.keyValidFor(keyid, role, trustSeq);
  if (!valid.ok)
    throw new RuntimeError(
      'KEY_NOT_VALID',
      `${keyid} may not sign ${action} at trust seq ${trustSeq} (${valid.code}; the action needs role ${role})`,
      `sign ${action} with a key holding ${role}: \`helmts keys list\` shows which keys do`,
    );
  let body: unknown;
  try {
    body = openVerifiedEnvelope(envelope, GOVERNANCE_EVENT_TYPE, (id) =>
      id === keyid ? valid.publicKey : undefined,
    ).body;
  } catch {
    throw new RuntimeError('GOVERNANCE_EVENT_INVALID', `the signature of ${keyid} does not verify`);
  }
  checkBody(body);
  if (body.trust_anchor !== log.trustAnchor || body.chain_id !== log.chainId)
    throw new RuntimeError(
      'GOVERNANCE_EVENT_INVALID',
      `the event is for registry ${body.trust_anchor} chain ${body.chain_id}, not this data directory`,
    );
  return { body, signer: keyid };
}

/**
 * The log a data directory's events are signed for: on the embedded store the directory's chain;
 * on a shared database the database's one governance log, which every node applies (its name is
 * drawn at the registry's first publication: docs/spec/multi-node.md §3.1).
 */
const logOf = (data: DataDir): LogIdentity => {
  const config = data.config();
  return { trustAnchor: config.trust_anchor, chainId: data.governanceLog ?? config.chain_id };
};

/**
 * Append a verified envelope to the log in one short transaction. The signer must hold the
 * action's role at the registry head now, and the action's check must pass.
 */
function appendVerified(data: DataDir, envelope: SignedEnvelope, at: number): GovernanceEventRecord {
  const prepared = prepareAppend(data, envelope, at);
  let row: GovernanceEventRow;
  try {
    row = data.store.appendGovernanceEventSync(prepared.make);
  } catch (error) {
    throw duplicateRefused(error);
  }
  return recordOf(row, prepared.body);
}

/** The async twin of `appendVerified` (a shared database): the checks read one snapshot of it. */
async function appendVerifiedAsync(
  data: DataDir,
  envelope: SignedEnvelope,
  at: number,
  snapshot?: DataDir,
): Promise<GovernanceEventRecord> {
  data.requireInitialized();
  const store: GovernanceStore = data.shared ?? data.store;
  // An event is signed for, and appended to, the log this directory belongs to only.
  const schema = schemaOf(data.shared);
  if (schema !== undefined && data.governanceLog !== undefined)
    checkGovernanceLogPin(data, schema, data.governanceLog);
  const prepared = prepareAppend(snapshot ?? (await governanceSnapshot(data)), envelope, at);
  let row: GovernanceEventRow;
  try {
    // The database serializes appenders; the row extends the head as it is then.
    row = await store.appendGovernanceEvent(prepared.make);
  } catch (error) {
    throw duplicateRefused(error);
  }
  return recordOf(row, prepared.body);
}

function duplicateRefused(error: unknown): unknown {
  if (error instanceof StoreError && error.code === 'STORE_DUPLICATE')
    return new RuntimeError('GOVERNANCE_EVENT_INVALID', 'this signed event is in the log already');
  return error;
}

/** Everything an append checks before it writes, and the row it writes after `head`. */
function prepareAppend(
  data: DataDir,
  envelope: SignedEnvelope,
  at: number,
): {
  body: GovernanceEventBody;
  make: (head: { readonly seq: number; readonly chain: string } | undefined) => GovernanceEventRow;
} {
  data.requireInitialized();
  const registry = data.registry();
  const trustSeq = registry.seq;
  const { body, signer } = verifyGovernanceEvent(envelope, logOf(data), registry, trustSeq);
  // Nothing is appended after a head that does not verify (it would extend a forged row). The
  // whole log is verified by every runtime open and by `readGovernanceLog`; here only the head, so
  // an append costs the same whatever the log's length.
  const head = data.store.governanceHeadSync();
  const headRow = head === undefined ? undefined : data.store.governanceEventSync(head.seq);
  if (headRow) verifyGovernanceRow(headRow, logOf(data), registrySource(data, registry));
  const eventDigest = governanceEventDigest(envelope);
  const present = data.store.governanceEventSeqSync(eventDigest);
  if (present !== undefined)
    throw new RuntimeError(
      'GOVERNANCE_EVENT_INVALID',
      `this signed event is in the log already (event ${present})`,
    );
  const handler = handlerFor(body.action);
  if (!handler)
    throw new RuntimeError(
      'GOVERNANCE_EVENT_INVALID',
      `this runtime cannot apply ${body.action} yet`,
      'upgrade helm, or leave the action to a runtime that implements it',
    );
  handler.check?.(
    {
      action: body.action,
      signer,
      signed_at_ms: body.signed_at_ms,
      appended_at_ms: at,
      body: body.body as never,
    },
    data,
    registry,
  );
  const subject = subjectOf(body.action, body.body);
  return {
    body,
    make: (head) => {
      const seq = (head?.seq ?? 0) + 1;
      const prev = head?.chain ?? GOVERNANCE_GENESIS_PREV;
      return {
        seq,
        digest: eventDigest,
        prev,
        chain: governanceLink(seq, prev, eventDigest, trustSeq),
        action: body.action,
        signer,
        subject,
        trustSeq,
        envelope,
      };
    },
  };
}

function recordOf(row: GovernanceEventRow, body: GovernanceEventBody): GovernanceEventRecord {
  return {
    seq: row.seq,
    digest: row.digest,
    prev: row.prev,
    chain: row.chain,
    action: body.action,
    signer: row.signer,
    subject: row.subject,
    trust_seq: row.trustSeq,
    signed_at_ms: body.signed_at_ms,
    body: body.body as GovernanceEventRecord['body'],
    envelope: row.envelope,
  };
}

/**
 * Sign and append one governance event to the data directory's log, without opening the governed
 * runtime. The signer must hold the action's role in the trust registry now (KEY_NOT_VALID), and
 * the action's own check must pass; a running runtime applies it before its next decision.
 */
export function appendGovernanceEvent(
  data: DataDir,
  input: { action: GovernanceAction; body: Json; signer: Signer; at: number },
): GovernanceEventRecord {
  return appendVerified(data, signedFor(data, data.registry(), input), input.at);
}

/**
 * `appendGovernanceEvent` on a shared database (the data directory attached to it): the signer's
 * role and the action's check are judged on one read of the database's log and registry, and the
 * event is appended to the database's one governance log, which every node applies before its
 * next decision. On the embedded store it appends as `appendGovernanceEvent` does.
 */
export async function appendGovernanceEventAsync(
  data: DataDir,
  input: { action: GovernanceAction; body: Json; signer: Signer; at: number },
): Promise<GovernanceEventRecord> {
  data.requireInitialized();
  if (data.shared === undefined) return appendGovernanceEvent(data, input);
  const snapshot = await governanceSnapshot(data);
  return appendVerifiedAsync(data, signedFor(snapshot, snapshot.registry(), input), input.at, snapshot);
}

/** `importGovernanceEvent` on a shared database (see appendGovernanceEventAsync). */
export async function importGovernanceEventAsync(
  data: DataDir,
  envelope: SignedEnvelope,
  at: number = Date.now(),
): Promise<GovernanceEventRecord> {
  if (data.shared === undefined) return importGovernanceEvent(data, envelope, at);
  return appendVerifiedAsync(data, envelope, at);
}

/** Sign `input` for `data`'s log, once its signer holds the action's role at `registry`'s head. */
function signedFor(
  data: DataDir,
  registry: TrustRegistry,
  input: { action: GovernanceAction; body: Json; signer: Signer; at: number },
): SignedEnvelope {
  data.requireInitialized();
  const { trustAnchor, chainId } = logOf(data);
  // The role is checked before anything is signed, so a key without it never produces an event.
  const role = GOVERNANCE_ACTION_ROLES[input.action];
  if (role !== undefined) {
    const valid = registry.keyValidFor(input.signer.keyId, role, registry.seq);
    if (!valid.ok)
      throw new RuntimeError(
        'KEY_NOT_VALID',
        `${input.signer.keyId} may not sign ${input.action} (${valid.code}; the action needs role ${role})`,
        `sign ${input.action} with a key holding ${role}: \`helmts keys list\` shows which keys do`,
      );
  }
  return signGovernanceEvent({
    action: input.action,
    body: input.body,
    signer: input.signer,
    at: input.at,
    trustAnchor,
    chainId,
  });
}

/**
 * Append an event signed elsewhere (`helmts approve --sign-only`), after the same checks; `at` is
 * this side's clock (default: now), against which the action's check judges it.
 */
export function importGovernanceEvent(
  data: DataDir,
  envelope: SignedEnvelope,
  at: number = Date.now(),
): GovernanceEventRecord {
  return appendVerified(data, envelope, at);
}

/**
 * Read and verify the whole log: positions 1..n without gaps, every link, every signature by a key
 * holding the action's role at its recorded trust seq. GOVERNANCE_LOG_INVALID on the first defect.
 */
export function verifyGovernanceLog(
  rows: readonly GovernanceEventRow[],
  log: LogIdentity,
  registryFor: (trustSeq: number) => TrustRegistry,
  from: { seq: number; chain: string } = { seq: 0, chain: GOVERNANCE_GENESIS_PREV },
  seen: GovernanceSeen = newGovernanceSeen(),
): GovernanceEventRecord[] {
  const out: GovernanceEventRecord[] = [];
  const digests = new Map<string, number>();
  const nonces = new Map<string, number>();
  let prev = from.chain;
  let expected = from.seq + 1;
  for (const row of rows) {
    if (row.seq !== expected)
      throw badRow(row, `expected position ${expected} (a row is missing or was inserted)`);
    if (row.prev !== prev)
      throw badRow(row, 'its link does not continue the previous event (reordered or edited)');
    const { record, nonce } = verifyRow(row, log, registryFor);
    // Each signed event is in the log once: checked here, not left to the store's UNIQUE(digest)
    // (a data-directory writer can rebuild the table without it and re-append an old event).
    const again = seen.digests.get(record.digest) ?? digests.get(record.digest);
    if (again !== undefined) throw badRow(row, `it repeats event ${again} (a signed event is applied once)`);
    const nonceAgain = seen.nonces.get(nonce) ?? nonces.get(nonce);
    if (nonceAgain !== undefined)
      throw badRow(row, `its nonce repeats event ${nonceAgain}'s (a signed event is applied once)`);
    digests.set(record.digest, row.seq);
    nonces.set(nonce, row.seq);
    out.push(record);
    prev = row.chain;
    expected++;
  }
  // Recorded only once the whole batch verified (a refused batch is verified afresh next time).
  for (const [k, v] of digests) seen.digests.set(k, v);
  for (const [k, v] of nonces) seen.nonces.set(k, v);
  return out;
}

/** The digests and nonces of the events verified so far (with their seq): each occurs once. */
export interface GovernanceSeen {
  readonly digests: Map<string, number>;
  readonly nonces: Map<string, number>;
}

export function newGovernanceSeen(): GovernanceSeen {
  return { digests: new Map(), nonces: new Map() };
}

function badRow(row: GovernanceEventRow, why: string): RuntimeError {
  return new RuntimeError(
    'GOVERNANCE_LOG_INVALID',
    `governance event ${row.seq}: ${why}; it was not applied, and nothing is decided until the log is repaired`,
    'the governance log in helm.db was changed outside helm: restore helm.db from a backup (docs/spec/governance-event.md §Integrity)',
  );
}

/**
 * One stored row on its own (its place among the others is `verifyGovernanceLog`'s): the envelope
 * hashes to its digest, its link recomputes, and the event verifies under a key holding its
 * action's role at its recorded trust seq, with the recorded action, signer and subject its own.
 */
export function verifyGovernanceRow(
  row: GovernanceEventRow,
  log: LogIdentity,
  registryFor: (trustSeq: number) => TrustRegistry,
): GovernanceEventRecord {
  return verifyRow(row, log, registryFor).record;
}

function verifyRow(
  row: GovernanceEventRow,
  log: LogIdentity,
  registryFor: (trustSeq: number) => TrustRegistry,
): { record: GovernanceEventRecord; nonce: string } {
  let digestNow: string;
  try {
    digestNow = governanceEventDigest(row.envelope);
  } catch {
    throw badRow(row, 'its envelope is not JSON');
  }
  if (digestNow !== row.digest)
    throw badRow(row, 'its envelope does not hash to its recorded digest (edited)');
  if (row.chain !== governanceLink(row.seq, row.prev, row.digest, row.trustSeq))
    throw badRow(row, 'its link does not recompute (edited)');
  let verified: { body: GovernanceEventBody; signer: string };
  try {
    if (!Number.isSafeInteger(row.trustSeq) || row.trustSeq < 1) throw new Error('trust seq');
    verified = verifyGovernanceEvent(row.envelope, log, registryFor(row.trustSeq), row.trustSeq);
  } catch (error) {
    throw badRow(row, `it does not verify (${error instanceof Error ? error.message : String(error)})`);
  }
  if (verified.body.action !== row.action || verified.signer !== row.signer)
    throw badRow(row, 'its recorded action or signer is not the signed one');
  if (row.subject !== subjectOf(verified.body.action, verified.body.body))
    throw badRow(row, 'its recorded subject is not the signed one');
  return { record: recordOf(row, verified.body), nonce: verified.body.nonce };
}

/**
 * The registry loaded from the data directory, reloaded when a newer trust seq is asked for
 * (`Number.MAX_SAFE_INTEGER`: always reload, to see the head as it is now).
 */
function registrySource(data: DataDir, initial?: TrustRegistry): (seq: number) => TrustRegistry {
  let registry = initial ?? data.registry();
  // On a shared database a node never reloads: it decides under the registry it opened with, and
  // any other registry there stops it before its next decision (TRUST_REGISTRY_STALE).
  if (data.shared !== undefined) return () => registry;
  return (seq) => {
    if (seq > registry.seq) registry = data.registry();
    return registry;
  };
}

/**
 * The events about one subject (e.g. a challenge), each verified on its own (read-only): what an
 * action's check reads without verifying the whole log.
 */
export function readGovernanceEventsAbout(
  data: DataDir,
  subject: string,
  registry?: TrustRegistry,
): GovernanceEventRecord[] {
  const log = logOf(data);
  const registryFor = registrySource(data, registry);
  return data.store
    .governanceEventsAboutSync(subject)
    .map((row) => verifyGovernanceRow(row, log, registryFor));
}

/** Every event of the log, verified (read-only; no runtime lock). */
export function readGovernanceLog(data: DataDir, registry?: TrustRegistry): GovernanceEventRecord[] {
  data.requireInitialized();
  return verifyGovernanceLog(data.store.governanceEventsSync(), logOf(data), registrySource(data, registry));
}

/** The outcome of an event's first application, as recorded. */
export interface GovernanceAppliedRecord {
  readonly outcome: 'applied' | 'rejected';
  readonly code: string | null;
  readonly detail: string | null;
  readonly trust_seq: number;
  readonly clock_ms: number;
  readonly epoch: number;
  /** The chain's head Lamport value when it was applied (its receipt, if any, is the next one). */
  readonly after_lamport: number;
  readonly receipt_id: string | null;
}

function appliedRecordOf(stored: StoredGovernanceApplication): GovernanceAppliedRecord {
  const r = stored.record as unknown as GovernanceAppliedRecord;
  const int = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const ok =
    isObject(r) &&
    (r.outcome === 'applied' || r.outcome === 'rejected') &&
    (r.code === null || typeof r.code === 'string') &&
    (r.detail === null || typeof r.detail === 'string') &&
    int(r.trust_seq) &&
    int(r.clock_ms) &&
    int(r.epoch) &&
    int(r.after_lamport) &&
    (r.receipt_id === null || typeof r.receipt_id === 'string');
  if (!ok)
    throw new RuntimeError(
      'GOVERNANCE_LOG_INVALID',
      `the application record of governance event ${stored.seq} is malformed`,
      'the governance log in helm.db was changed outside helm: restore helm.db from a backup',
    );
  return r;
}

/** Application records of the log, checked against it (read-only). */
export function readGovernanceApplications(data: DataDir): Map<number, GovernanceAppliedRecord> {
  return new Map(data.store.governanceAppliedSync().map((a) => [a.seq, appliedRecordOf(a)]));
}

/** What the runtime lends the ingestor: its clock, key authorization, chain and receipts. */
export interface IngestorHost {
  readonly data: DataDir;
  readonly runtime: GovernedRuntime;
  readonly epoch: number;
  /** The guardian key that signs the cursor, and the registry seq it was checked at. */
  readonly guardianSigner: Signer;
  readonly guardianSeq: number;
  readonly registry: TrustRegistry;
  /** The runtime's clock reading (frozen during a call). */
  now(): number;
  /** Freeze the runtime clock at `at` (undefined: release); returns the previous setting. */
  freeze(at: number | undefined): number | undefined;
  /** Approval keys are authorized at this registry state while an event is applied (undefined: the head). */
  authorizeAt(registry: TrustRegistry | undefined, seq: number | undefined): void;
  /** The chain's head Lamport value. */
  /** The chain's committed head (async on a store without synchronous reads). */
  headLamport(): number | Promise<number>;
  /**
   * Re-execution only: the registry seq the event being replayed was first applied at (its
   * recorded `trust_seq`), so keys are checked — and its receipt records — the registry as it was
   * then, not the scratch copy's head (which later rotations have moved on). Undefined: the head.
   */
  replayTrustSeq?(): number | undefined;
  /**
   * Shared database only: take the cluster's governance advisory lock (`tryLead('governance')`),
   * or undefined while another node holds it. Without it (the embedded store: one runtime per
   * data directory) events are applied first without a lock.
   */
  lead?(): Promise<{ release(): Promise<void> } | undefined>;
  /**
   * Shared database only: read what applying `event` needs that another node may have written
   * since this one opened (an approval's challenge), before it is applied — first or again.
   */
  prepare?(event: GovernanceEventRecord): Promise<void>;
  /** Mint, graph and commit an administrative receipt together with the application. */
  commitAdmin(
    event: GovernanceEventRecord,
    output: Json,
    at: { readonly clock_ms: number; readonly trust_seq: number },
    application: (receiptId: string) => GovernanceApplication,
  ): Promise<void>;
}

const rejected = (code: string, detail: string): GovernanceOutcome => ({ applied: false, code, detail });

/**
 * How long a node waits for another node's application of a new event (it holds the governance
 * lock) before it refuses the call (GOVERNANCE_PENDING): an application is one short transaction.
 */
export const GOVERNANCE_LEAD_WAIT_MS = 5_000;

/**
 * The governance side of one GovernedRuntime: verifies the log at open, re-applies what earlier
 * runtimes applied, and applies new events exactly once (at open and before each decision).
 */
export class GovernanceIngestor {
  readonly #host: IngestorHost;
  readonly #log: LogIdentity;
  readonly #registryFor: (seq: number) => TrustRegistry;
  /** Verified log prefix and applied prefix. */
  #known = { seq: 0, chain: GOVERNANCE_GENESIS_PREV };
  #applied = { seq: 0, chain: GOVERNANCE_GENESIS_PREV };
  #pending: GovernanceEventRecord[] = [];
  #running: Promise<void> = Promise.resolve();
  #broken: RuntimeError | undefined;
  /** Every event verified by this runtime, across opens' restore and later ingests. */
  #seen = newGovernanceSeen();
  /** Other nodes' application records ahead of #applied, verified under the signed cursor (#vouchFor). */
  #vouched = new Map<number, StoredGovernanceApplication>();
  /**
   * The applied events about each subject (a challenge), in log order, with the clock reading and
   * trust seq of their first application: what `replaySubject` re-applies to a challenge restored
   * on demand (from memory, verified — never from rows the database writer can hide or edit).
   */
  #bySubject = new Map<string, { event: GovernanceEventRecord; clock_ms: number; trust_seq: number }[]>();

  #noteApplied(event: GovernanceEventRecord, at: { clock_ms: number; trust_seq: number }): void {
    if (event.subject === null) return;
    const list = this.#bySubject.get(event.subject) ?? [];
    list.push({ event, clock_ms: at.clock_ms, trust_seq: at.trust_seq });
    this.#bySubject.set(event.subject, list);
  }

  /**
   * Several nodes: a challenge this runtime did not hold when earlier events about it were applied
   * (another node opened it, or its row was hidden while this one opened) and that it restores now
   * from its row is brought to the state every applied event about it left — a denial closes it,
   * approvals count — before a later event is judged against it. An event that applied once and
   * does not re-apply now means the stored state is not the log's: nothing more is decided.
   */
  replaySubject(subject: string): void {
    for (const { event, clock_ms, trust_seq } of this.#bySubject.get(subject) ?? []) {
      const outcome = this.#run(event, { first: false, clock_ms, trust_seq });
      if (!outcome.applied) {
        this.#broken = this.#refuse(
          `event ${event.seq} (${event.action}) about ${subject} was applied, but re-applying it to the challenge restored from its row fails (${outcome.code}: ${outcome.detail})`,
        );
        throw this.#broken;
      }
    }
  }

  constructor(host: IngestorHost) {
    this.#host = host;
    this.#log = logOf(host.data);
    this.#registryFor = registrySource(host.data, host.registry);
  }

  get applied(): number {
    return this.#applied.seq;
  }

  #refuse(why: string): RuntimeError {
    return new RuntimeError(
      'GOVERNANCE_LOG_INVALID',
      `governance log: ${why}; nothing is decided until it is repaired`,
      'the governance log in helm.db was changed or rolled back outside helm: restore helm.db from a backup (docs/spec/governance-event.md §Integrity)',
    );
  }

  /**
   * At open: verify the whole log, the application records and the signed cursor, and re-apply
   * the applied events in memory (challenges of `restoreState` first, closures after).
   */
  restore(hooks: { before(): void; after(): void }, reads?: GovernanceReads): void {
    const store = this.#host.data.store;
    this.#seen = newGovernanceSeen();
    this.#vouched.clear();
    this.#bySubject.clear();
    const events = verifyGovernanceLog(
      reads ? [...reads.events] : store.governanceEventsSync(),
      this.#log,
      this.#registryFor,
      undefined,
      this.#seen,
    );
    const stored = reads ? reads.applied : store.governanceAppliedSync();
    let chain = GOVERNANCE_GENESIS_PREV;
    const records: GovernanceAppliedRecord[] = [];
    for (const [i, a] of stored.entries()) {
      const event = events[i];
      if (a.seq !== i + 1) throw this.#refuse(`application record ${a.seq} is out of place`);
      if (!event) throw this.#refuse(`event ${a.seq} was applied but is missing from the log (rolled back)`);
      if (a.digest !== event.digest) throw this.#refuse(`event ${a.seq} is not the event that was applied`);
      const record = appliedRecordOf(a);
      chain = governanceAppliedLink(chain, a.seq, a.digest, a.record);
      if (a.chain !== chain) throw this.#refuse(`application record ${a.seq} was edited`);
      records.push(record);
    }
    this.#checkCursor(
      reads ? reads.cursor : store.governanceCursorSync(),
      stored.length,
      stored.length === 0
        ? GOVERNANCE_GENESIS_PREV
        : (events[stored.length - 1] as GovernanceEventRecord).chain,
      chain,
    );
    hooks.before();
    for (const [i, record] of records.entries()) {
      if (record.outcome !== 'applied') continue;
      const event = events[i] as GovernanceEventRecord;
      const outcome = this.#run(event, {
        first: false,
        clock_ms: record.clock_ms,
        trust_seq: record.trust_seq,
      });
      if (!outcome.applied)
        throw this.#refuse(
          `event ${event.seq} (${event.action}) was applied, but re-applying it now fails (${outcome.code}: ${outcome.detail})`,
        );
      this.#noteApplied(event, record);
    }
    hooks.after();
    const last = events[events.length - 1];
    this.#known = last ? { seq: last.seq, chain: last.chain } : this.#known;
    this.#applied = { seq: stored.length, chain };
    this.#pending = events.slice(stored.length);
  }

  #checkCursor(
    cursor: SignedEnvelope | undefined,
    seq: number,
    logChain: string,
    appliedChain: string,
  ): void {
    if (cursor === undefined) {
      if (seq === 0) return;
      throw this.#refuse('events were applied but the signed cursor is missing');
    }
    const body = this.#cursorBody(cursor);
    if (body.seq !== seq || body.log_chain !== logChain || body.applied_chain !== appliedChain)
      throw this.#refuse(
        `the signed cursor says ${String(body.seq)} events were applied, the store says ${seq} (rolled back or edited)`,
      );
  }

  /** The body of a stored cursor signed by a guardian key of this registry, for this log. */
  #cursorBody(cursor: SignedEnvelope): GovernanceCursorBody {
    let body: GovernanceCursorBody;
    try {
      const claimedSeq = (
        parseStrictJson(new TextDecoder().decode(fromBase64Url(cursor.payload) ?? new Uint8Array())) as {
          trust_seq?: unknown;
        }
      ).trust_seq;
      if (!Number.isSafeInteger(claimedSeq)) throw new Error('trust seq');
      const check = this.#registryFor(claimedSeq as number).verifyEnvelopeAt(
        cursor,
        GOVERNANCE_CURSOR_TYPE,
        'guardian',
        claimedSeq as number,
      );
      if (!check.ok) throw new Error(check.message);
      body = check.body as unknown as GovernanceCursorBody;
    } catch {
      throw this.#refuse('the cursor is not signed by a guardian key of this registry');
    }
    if (
      body.trust_anchor !== this.#log.trustAnchor ||
      body.chain_id !== this.#log.chainId ||
      !Number.isSafeInteger(body.seq)
    )
      throw this.#refuse('the signed cursor is for another governance log');
    return body;
  }

  /**
   * Several nodes: an application record another node wrote is used only once the guardian-signed
   * cursor covers it. The record's own link is an unkeyed digest that anyone who can write the
   * database can compute, so it proves nothing alone; the cursor is signed in the same transaction
   * as every honest record and names the applied chain through it. The records from this node's
   * applied prefix up to the cursor are read and their chain must reach the signed value exactly:
   * a record inserted or edited by a database writer (no guardian key) is refused, and the node
   * decides nothing more (GOVERNANCE_LOG_INVALID). Records verified here are kept until re-applied.
   */
  async #vouchFor(stored: StoredGovernanceApplication): Promise<void> {
    const known = this.#vouched.get(stored.seq);
    if (known !== undefined && known.chain === stored.chain && known.digest === stored.digest) return;
    const store: GovernanceStore = this.#host.data.store;
    // The cursor moves with every record in one transaction. Read after `stored` was, an honest
    // cursor covers it; the records, read after the cursor, hold every record it covers.
    const cursor = await store.governanceCursor();
    const records = await store.governanceApplied(this.#applied.seq + 1);
    const fail = (why: string): never => {
      this.#broken = this.#refuse(why);
      throw this.#broken;
    };
    if (cursor === undefined)
      return fail(`application record ${stored.seq} is not covered by a signed cursor`);
    let body: GovernanceCursorBody;
    try {
      body = this.#cursorBody(cursor);
    } catch (error) {
      this.#broken = error as RuntimeError;
      throw error;
    }
    let chain = this.#applied.chain;
    let seq = this.#applied.seq;
    const covered: StoredGovernanceApplication[] = [];
    for (const a of records) {
      if (a.seq !== seq + 1) return fail(`application record ${a.seq} is out of place`);
      chain = governanceAppliedLink(chain, a.seq, a.digest, a.record);
      if (a.chain !== chain) return fail(`application record ${a.seq} was edited`);
      seq = a.seq;
      covered.push(a);
      if (seq === body.seq) break;
    }
    if (body.seq !== seq || body.applied_chain !== chain || seq < stored.seq)
      return fail(
        `application record ${stored.seq} is not covered by the guardian-signed cursor (it says ${String(body.seq)} events were applied): inserted or edited outside helm`,
      );
    for (const a of covered) this.#vouched.set(a.seq, a);
  }

  /** Apply one event with the handler; the clock and key authorization of the application. */
  #run(
    event: GovernanceEventRecord,
    at: { first: boolean; clock_ms: number; trust_seq: number; prepared?: unknown },
  ): GovernanceOutcome {
    const host = this.#host;
    const registry = this.#registryFor(at.trust_seq);
    const handler = handlerFor(event.action);
    if (!handler) return rejected('GOVERNANCE_ACTION_UNSUPPORTED', `no handler for ${event.action}`);
    host.authorizeAt(registry, at.trust_seq);
    const previous = host.freeze(at.clock_ms);
    try {
      return handler.apply(event, host.runtime, { ...at, registry }) ?? { applied: true };
    } catch (error) {
      const code =
        typeof (error as { code?: unknown })?.code === 'string'
          ? (error as { code: string }).code
          : 'INTERNAL';
      return rejected(code, error instanceof Error ? error.message : String(error));
    } finally {
      host.freeze(previous);
      host.authorizeAt(undefined, undefined);
    }
  }

  /**
   * Apply every event appended since, exactly once each, at the runtime clock's reading now (a
   * decision's frozen reading when called before one). Concurrent calls are serialized.
   */
  ingest(
    head?:
      | { readonly seq: number; readonly chain: string }
      | null
      | Promise<{ readonly seq: number; readonly chain: string } | null | 'skip'>,
  ): Promise<void> {
    // The turn is taken now (calls ingest in the order they arrived, and so reach their decisions
    // in that order); a head still being read is awaited inside the turn ('skip': the caller
    // refused the call before deciding, nothing to apply for it).
    // (No extra await when the head is known: the turn's timing stays what concurrent calls
    // on the embedded store's port path rely on.)
    const run = this.#running.then(() =>
      head instanceof Promise
        ? head.then((h) => (h === 'skip' ? undefined : this.#ingest(h)))
        : this.#ingest(head),
    );
    this.#running = run.catch(() => undefined);
    return run;
  }

  /**
   * `head`: the log's head as the caller just read it (a shared database reads it with the
   * decision's freshness check: null for an empty log), so nothing more is read while the log has
   * not grown; undefined: read it here.
   */
  async #ingest(head?: { readonly seq: number; readonly chain: string } | null): Promise<void> {
    if (this.#broken) throw this.#broken;
    // Read through the async store port (a networked store has no synchronous reads): the head
    // check is one indexed read per call, and nothing else is read when the log has not grown.
    const store: GovernanceStore = this.#host.data.store;
    const known = this.#known;
    // The log must still hold what this runtime verified: a rollback while it runs is refused.
    // (When it grew, the first new row must link to the verified head: verifyGovernanceLog.)
    const rolledBack =
      head === undefined
        ? known.seq > 0 && (await store.governanceEvent(known.seq))?.chain !== known.chain
        : (head?.seq ?? 0) < known.seq ||
          (head !== null && head.seq === known.seq && head.chain !== known.chain);
    if (rolledBack) {
      this.#broken = this.#refuse(`event ${known.seq} changed or disappeared while the runtime ran`);
      throw this.#broken;
    }
    const grew = head === undefined || (head !== null && head.seq > known.seq);
    const rows = grew ? await store.governanceEvents(known.seq + 1) : [];
    // A row checked at a registry this runtime does not hold was appended after a publication it
    // has not seen: the node is stale (reopen it), not the log broken (no restore from backup).
    const ahead =
      this.#host.data.shared === undefined
        ? undefined
        : rows.find((r) => r.trustSeq > this.#host.registry.seq);
    if (ahead !== undefined)
      throw new RuntimeError(
        'TRUST_REGISTRY_STALE',
        `governance event ${ahead.seq} was appended at trust seq ${ahead.trustSeq}, this runtime decides under ${this.#host.registry.seq}: nothing is decided or signed until it is reopened`,
        'reopen the runtime (restart the node) to run under the published registry — docs/deployment.md',
      );
    const fresh = !grew ? [] : verifyGovernanceLog(rows, this.#log, this.#registryFor, known, this.#seen);
    const last = fresh[fresh.length - 1];
    if (last) this.#known = { seq: last.seq, chain: last.chain };
    this.#pending.push(...fresh);
    if (this.#pending.length === 0) return;
    const clockMs = this.#host.now();
    // Keys are checked at the registry head as it is now: a key revoked after it signed is not obeyed.
    const pinned = this.#host.replayTrustSeq?.();
    const registry = this.#registryFor(pinned ?? Number.MAX_SAFE_INTEGER);
    while (this.#pending.length > 0) {
      const event = this.#pending[0] as GovernanceEventRecord;
      if (this.#host.lead) await this.#applyShared(event, clockMs, registry, pinned);
      else await this.#applyFirst(event, clockMs, registry, pinned);
      this.#pending.shift();
    }
  }

  /**
   * Several nodes, one log: one application record per event cluster-wide, and every node's
   * in-memory state built from it. A node that finds the event's record (another node applied it)
   * re-applies it as `restore` does — at the recorded clock reading and trust seq, writing nothing.
   * Otherwise it applies it first under the cluster's governance lock, re-reading the record once
   * it holds the lock: so no two nodes ever apply one event first (an in-memory application and
   * its record cannot diverge between nodes). While another node holds the lock this one waits,
   * for at most GOVERNANCE_LEAD_WAIT_MS, and then refuses to decide (GOVERNANCE_PENDING) rather
   * than decide under rules it has not applied.
   */
  async #applyShared(
    event: GovernanceEventRecord,
    clockMs: number,
    registry: TrustRegistry,
    pinned: number | undefined,
  ): Promise<void> {
    const lead = this.#host.lead as NonNullable<IngestorHost['lead']>;
    await this.#host.prepare?.(event);
    const until = Date.now() + GOVERNANCE_LEAD_WAIT_MS;
    let pause = 5;
    for (;;) {
      const recorded = await this.#recordOf(event);
      if (recorded) {
        await this.#vouchFor(recorded);
        return this.#reapply(event, recorded);
      }
      const held = await lead();
      if (held) {
        try {
          const again = await this.#recordOf(event);
          if (again) {
            await this.#vouchFor(again);
            return this.#reapply(event, again);
          }
          return await this.#applyFirst(event, clockMs, registry, pinned);
        } finally {
          await held.release();
        }
      }
      if (Date.now() >= until)
        throw new RuntimeError(
          'GOVERNANCE_PENDING',
          `governance event ${event.seq} is being applied by another node and its record did not appear within ${GOVERNANCE_LEAD_WAIT_MS} ms: nothing is decided until it is`,
          'retry the call; if it persists, a node holds the governance lock without finishing (docs/spec/multi-node.md §3.1)',
        );
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 100);
    }
  }

  /** The stored application record of `event`, if any node wrote it. */
  async #recordOf(event: GovernanceEventRecord): Promise<StoredGovernanceApplication | undefined> {
    const store: GovernanceStore = this.#host.data.store;
    const [a] = await store.governanceApplied(event.seq);
    return a?.seq === event.seq ? a : undefined;
  }

  /** Re-apply an event another node applied first, from its record (which must continue ours). */
  #reapply(event: GovernanceEventRecord, stored: StoredGovernanceApplication): void {
    const vouched = this.#vouched.get(stored.seq);
    this.#vouched.delete(stored.seq);
    if (vouched === undefined || vouched.chain !== stored.chain || vouched.digest !== stored.digest) {
      this.#broken = this.#refuse(`application record ${stored.seq} is not the one the signed cursor covers`);
      throw this.#broken;
    }
    if (stored.digest !== event.digest) {
      this.#broken = this.#refuse(`event ${event.seq} is not the event that was applied`);
      throw this.#broken;
    }
    const record = appliedRecordOf(stored);
    if (
      stored.chain !== governanceAppliedLink(this.#applied.chain, stored.seq, stored.digest, stored.record)
    ) {
      this.#broken = this.#refuse(`application record ${stored.seq} was edited`);
      throw this.#broken;
    }
    if (record.outcome === 'applied') {
      const outcome = this.#run(event, {
        first: false,
        clock_ms: record.clock_ms,
        trust_seq: record.trust_seq,
      });
      if (!outcome.applied) {
        this.#broken = this.#refuse(
          `event ${event.seq} (${event.action}) was applied by another node, but re-applying it here fails (${outcome.code}: ${outcome.detail})`,
        );
        throw this.#broken;
      }
      this.#noteApplied(event, record);
    }
    this.#applied = { seq: stored.seq, chain: stored.chain };
  }

  async #applyFirst(
    event: GovernanceEventRecord,
    clockMs: number,
    registry: TrustRegistry,
    pinned: number | undefined,
  ): Promise<void> {
    const host = this.#host;
    const trustSeq = pinned !== undefined && pinned >= 1 && pinned <= registry.seq ? pinned : registry.seq;
    const role = GOVERNANCE_ACTION_ROLES[event.action];
    // A key revoked (or stripped of the role) after it signed is no longer obeyed.
    const still = registry.keyValidFor(event.signer, role, trustSeq);
    const prepare = handlerFor(event.action)?.prepare;
    const shared = host.data.shared;
    const prepared = still.ok && prepare && shared !== undefined ? await prepare(event, shared) : undefined;
    const outcome = still.ok
      ? this.#run(event, {
          first: true,
          clock_ms: clockMs,
          trust_seq: trustSeq,
          ...(prepared === undefined ? {} : { prepared }),
        })
      : rejected(still.code, `${event.signer} no longer holds ${role} at trust seq ${trustSeq}`);
    const admin = outcome.applied && isAdminAction(event.action);
    const afterLamport = await host.headLamport();
    const application = (receiptId: string | null): GovernanceApplication => {
      const record: GovernanceAppliedRecord = {
        outcome: outcome.applied ? 'applied' : 'rejected',
        code: outcome.applied ? null : outcome.code,
        detail: outcome.applied ? null : outcome.detail,
        trust_seq: trustSeq,
        clock_ms: clockMs,
        epoch: host.epoch,
        after_lamport: afterLamport,
        receipt_id: receiptId,
      };
      const chain = governanceAppliedLink(
        this.#applied.chain,
        event.seq,
        event.digest,
        record as unknown as Json,
      );
      const cursor: GovernanceCursorBody = {
        type: GOVERNANCE_CURSOR_TYPE,
        trust_anchor: this.#log.trustAnchor,
        chain_id: this.#log.chainId,
        seq: event.seq,
        log_chain: event.chain,
        applied_chain: chain,
        trust_seq: host.guardianSeq,
      };
      return {
        seq: event.seq,
        digest: event.digest,
        chain,
        record: record as unknown as Json,
        cursor: signEnvelope(cursor as unknown as { type: string }, [host.guardianSigner]),
        ...(outcome.applied && outcome.writes ? { apply: outcome.writes } : {}),
        ...(outcome.applied && outcome.ledger ? { ledger: outcome.ledger } : {}),
      };
    };
    let written: GovernanceApplication | undefined;
    try {
      if (admin) {
        const output = (outcome.applied ? outcome.output : undefined) ?? {};
        await host.commitAdmin(event, output, { clock_ms: clockMs, trust_seq: trustSeq }, (id) => {
          written = application(id);
          return written;
        });
      } else {
        written = application(null);
        const store = host.data.store as GovernanceStore & Partial<SqliteStore>;
        // A shared database's view answers every synchronous method with a refusal: it is written
        // through the port.
        if (host.data.shared === undefined && typeof store.applyGovernanceEventSync === 'function') {
          store.flushSync?.();
          store.applyGovernanceEventSync(written);
        } else await store.applyGovernanceEvent(written);
      }
    } catch (error) {
      // The event is applied in memory but not on disk: this runtime must not decide anything more.
      this.#broken = new RuntimeError(
        'INTERNAL',
        `governance event ${event.seq} could not be recorded: ${error instanceof Error ? error.message : String(error)}`,
        'reopen the runtime: the event is applied (once) at the next open',
      );
      throw this.#broken;
    }
    this.#applied = { seq: event.seq, chain: (written as GovernanceApplication).chain };
    if (outcome.applied) this.#noteApplied(event, { clock_ms: clockMs, trust_seq: trustSeq });
  }
}
