// Input checks before anything is sent, and strict parsing of what comes back.
import { parseStrictJson } from '@helm/crypto';
import {
  type AdmissionRecord,
  type GovernanceApplication,
  type GovernanceChallengeRecord,
  type GovernedCallRecord,
  type LedgerCharge,
  type LedgerOp,
  StoreError,
} from '@helm/store';

const LIMITS = { maxBytes: 1024 * 1024 * 1024, nullPrototype: false } as const;

/**
 * Every JSON document read back is parsed strictly (no duplicate keys, no lone surrogates):
 * someone with write access to the database cannot smuggle in a value a lenient parser would
 * collapse into something else (I-INPUT-1, docs/threat-model.md).
 */
export function readJson<T>(text: unknown, what: string): T {
  try {
    return parseStrictJson(String(text), LIMITS) as T;
  } catch (error) {
    throw new StoreError('STORE_INVALID_RECORD', `${what} is not strict JSON: ${(error as Error).message}`);
  }
}

const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * PostgreSQL text cannot hold U+0000, and the driver would replace a lone surrogate with U+FFFD
 * — two different keys (nonces, idempotency keys) would then collide in the database. Such a
 * string is refused before it is sent, never silently altered.
 */
export function checkText(value: string, what: string): void {
  if (value.includes('\u0000') || !wellFormed(value)) {
    throw new StoreError('STORE_INVALID_RECORD', `${what} contains U+0000 or a lone surrogate`);
  }
}

const isText = (v: unknown): v is string => typeof v === 'string';
const nonEmpty = (v: unknown): v is string => isText(v) && v.length > 0;

/** The ledger movements this store applies; any other movement is refused (fail closed). */
export type SupportedLedgerOp =
  | {
      readonly op: 'reserve';
      readonly id: string;
      readonly charges: readonly LedgerCharge[];
      readonly amount: number;
    }
  | { readonly op: 'commit' | 'refund'; readonly id: string }
  | { readonly op: 'reset'; readonly account: string };

/**
 * Check ledger movements and narrow them to the ones this store applies. Typed loosely on
 * purpose: a movement kind added to `LedgerOp` later is refused here until this store implements
 * it, instead of being applied as something else.
 */
export function checkLedger(ops: readonly LedgerOp[]): readonly SupportedLedgerOp[] {
  if (!Array.isArray(ops)) throw new StoreError('STORE_INVALID_RECORD', 'ledger movements must be a list');
  for (const raw of ops as readonly unknown[]) {
    const op = raw as { op?: unknown; id?: unknown; amount?: unknown; charges?: unknown; account?: unknown };
    if (op?.op === 'reset') {
      if (!nonEmpty(op.account)) throw new StoreError('STORE_INVALID_RECORD', 'malformed ledger movement');
      continue;
    }
    const ok =
      isText(op?.id) &&
      (op.op === 'commit' ||
        op.op === 'refund' ||
        (op.op === 'reserve' &&
          Number.isSafeInteger(op.amount) &&
          (op.amount as number) >= 0 &&
          Array.isArray(op.charges) &&
          op.charges.every(
            (c: { account?: unknown; ceiling?: unknown }) =>
              isText(c?.account) && typeof c.ceiling === 'number',
          )));
    if (!ok) throw new StoreError('STORE_INVALID_RECORD', 'malformed or unsupported ledger movement');
  }
  return ops as unknown as readonly SupportedLedgerOp[];
}

const CALL_FIELDS = new Set([
  'sessionId',
  'chainId',
  'request',
  'decision',
  'receipt',
  'nodes',
  'budget',
  'idempotency',
  'nonces',
  'ledger',
  'admissionId',
  'challenges',
  'closedChallenges',
  'governance',
]);
const ADMISSION_FIELDS = new Set([
  'id',
  'chainId',
  'sessionId',
  'reservationId',
  'body',
  'grant',
  'idempotency',
]);
const GOVERNANCE_FIELDS = new Set(['seq', 'digest', 'chain', 'record', 'cursor', 'ledger']);

/**
 * A record field this store does not know is refused, not ignored: a later version of the record
 * (say, an approval grant to consume once) must never be half-applied by a store that predates it.
 */
function onlyKnown(record: object, known: ReadonlySet<string>, what: string): void {
  for (const [k, v] of Object.entries(record)) {
    if (v !== undefined && !known.has(k)) {
      throw new StoreError('STORE_INVALID_RECORD', `${what} field ${k} is not supported by this store`);
    }
  }
}

export function checkCall(record: GovernedCallRecord): void {
  const r = record?.receipt;
  const ok =
    nonEmpty(record?.sessionId) &&
    (record.chainId === undefined || isText(record.chainId)) &&
    nonEmpty(r?.id) &&
    Number.isSafeInteger(r.lamport) &&
    r.lamport >= 1 &&
    isText(r.prevHash) &&
    isText(r.hash) &&
    isText(r.envelope?.payload);
  if (!ok) throw new StoreError('STORE_INVALID_RECORD', 'governed call record is malformed');
  onlyKnown(record, CALL_FIELDS, 'governed call');
  if (record.idempotency !== undefined)
    onlyKnown(record.idempotency, new Set(['key', 'value', 'supersedes']), 'idempotency');
  if (record.idempotency?.supersedes !== undefined && !isText(record.idempotency.supersedes)) {
    throw new StoreError('STORE_INVALID_RECORD', 'idempotency supersedes must be a receipt id');
  }
  for (const c of record.challenges ?? []) checkChallenge(c);
  for (const c of record.closedChallenges ?? []) {
    if (!isText(c?.id) || !isText(c.why))
      throw new StoreError('STORE_INVALID_RECORD', 'closed challenge is malformed');
  }
  if (record.governance !== undefined) checkGovernanceApplication(record.governance);
  for (const m of record.budget ?? []) {
    if (
      !isText(m?.key) ||
      !Number.isSafeInteger(m.delta) ||
      (m.limit !== undefined && typeof m.limit !== 'number')
    ) {
      throw new StoreError('STORE_INVALID_RECORD', 'budget movement is malformed (integer delta)');
    }
  }
  for (const n of record.nodes ?? []) {
    if (!isText(n?.id) || !isText(n.kind) || !Number.isSafeInteger(n.lamport) || !Array.isArray(n.parents)) {
      throw new StoreError('STORE_INVALID_RECORD', 'ProofGraph node record is malformed');
    }
  }
  for (const n of record.nonces ?? []) {
    if (!isText(n?.scope) || !isText(n.nonce))
      throw new StoreError('STORE_INVALID_RECORD', 'nonce is malformed');
  }
  if (record.idempotency !== undefined && !isText(record.idempotency?.key)) {
    throw new StoreError('STORE_INVALID_RECORD', 'idempotency key is malformed');
  }
  if (record.admissionId !== undefined && !isText(record.admissionId)) {
    throw new StoreError('STORE_INVALID_RECORD', 'admissionId must be a string');
  }
  checkLedger(record.ledger ?? []);
}

export function checkAdmission(admission: AdmissionRecord): void {
  const ok =
    nonEmpty(admission?.id) &&
    isText(admission.sessionId) &&
    (admission.chainId === undefined || isText(admission.chainId)) &&
    (admission.reservationId === undefined ||
      admission.reservationId === null ||
      isText(admission.reservationId));
  if (!ok) throw new StoreError('STORE_INVALID_RECORD', 'admission record is malformed');
  onlyKnown(admission, ADMISSION_FIELDS, 'admission');
  const g = admission.grant;
  if (g !== undefined && (!nonEmpty(g?.challengeId) || !isText(g.decisionId))) {
    throw new StoreError('STORE_INVALID_RECORD', 'admission grant is malformed');
  }
  if (g !== undefined) {
    checkText(g.challengeId, 'a grant');
    checkText(g.decisionId, 'a grant');
  }
  const k = admission.idempotency;
  if (k !== undefined && (!nonEmpty(k?.key) || (k.supersedes !== undefined && !nonEmpty(k.supersedes))))
    throw new StoreError('STORE_INVALID_RECORD', 'admission idempotency claim is malformed');
  if (k !== undefined) {
    checkText(k.key, 'an idempotency claim');
    if (k.supersedes !== undefined) checkText(k.supersedes, 'an idempotency claim');
  }
}

export function checkChallenge(c: GovernanceChallengeRecord): void {
  const ok =
    nonEmpty(c?.id) &&
    isText(c.chainId) &&
    Number.isSafeInteger(c.createdAtMs) &&
    Number.isSafeInteger(c.expiresAtMs) &&
    isText(c.envelope?.payload);
  if (!ok) throw new StoreError('STORE_INVALID_RECORD', 'approval challenge record is malformed');
  checkText(c.id, 'a challenge id');
  checkText(c.chainId, 'a challenge chain');
}

/**
 * A governance application. Its `apply` closure (synchronous writes of the embedded store) cannot
 * run inside a PostgreSQL transaction: refused, never run outside it.
 */
export function checkGovernanceApplication(a: GovernanceApplication): void {
  if (a?.apply !== undefined) {
    throw new StoreError(
      'STORE_INVALID_RECORD',
      'a governance application with synchronous writes (apply) is not supported by this store; use ledger',
    );
  }
  const ok =
    Number.isSafeInteger(a?.seq) &&
    a.seq >= 1 &&
    isText(a.digest) &&
    isText(a.chain) &&
    isText(a.cursor?.payload);
  if (!ok) throw new StoreError('STORE_INVALID_RECORD', 'governance application is malformed');
  onlyKnown(a, GOVERNANCE_FIELDS, 'governance application');
  checkLedger(a.ledger ?? []);
}

export function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new StoreError('STORE_INVALID_RECORD', 'amount must be a non-negative integer');
  }
}

/** Every string of a call that is sent as text (JSON documents are escaped by JSON.stringify). */
export function checkCallText(record: GovernedCallRecord): void {
  const r = record.receipt;
  const texts: unknown[] = [
    record.chainId,
    record.sessionId,
    r.id,
    r.prevHash,
    r.hash,
    r.decisionId,
    r.riskTier,
    record.decision?.id,
    record.request?.id,
    record.idempotency?.key,
    record.admissionId,
  ];
  for (const n of record.nodes ?? []) texts.push(n.id, n.kind);
  for (const n of record.nonces ?? []) texts.push(n.scope, n.nonce);
  for (const m of record.budget ?? []) texts.push(m.key);
  texts.push(record.idempotency?.supersedes);
  for (const c of record.closedChallenges ?? []) texts.push(c.id, c.why);
  for (const op of [...checkLedger(record.ledger ?? []), ...checkLedger(record.governance?.ledger ?? [])]) {
    if (op.op === 'reset') {
      texts.push(op.account);
      continue;
    }
    texts.push(op.id);
    if (op.op === 'reserve') for (const ch of op.charges) texts.push(ch.account);
  }
  for (const t of texts) if (typeof t === 'string') checkText(t, 'a field of the call');
}
