// Receipt policies of a data directory (docs/cli.md §Receipt policies): one per effect class — the
// receipts' retention tier, whether a call must present its own idempotency key, approvals and
// evidence the receipt must carry — and the idempotency window of each class. They decide how
// receipts are kept and what a repeat may release, so they are rules like the P1 bundle: a signed
// `helm.receipt_policies.v1` envelope (policy/receipt-policies.signed.json) that verifies under a
// key holding `policy` in the trust registry at its head, validated strictly. Without the file the
// built-in defaults apply.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { ToolDescriptor } from '@helm/contracts';
import { EFFECT_CLASSES, EFFECT_TYPE_PATTERN, RISK_TIERS, type SignedEnvelope } from '@helm/contracts';
import { fromBase64Url, openVerifiedEnvelope, type Signer, signEnvelope } from '@helm/crypto';
import { type PreconditionContext, type ReceiptPolicy, ReceiptPolicySet } from '@helm/receipts';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import { type DataDir, writeWhole } from './datadir.js';
import { parseJson } from './json.js';
import { currentUnit } from './unit.js';

export const RECEIPT_POLICIES_TYPE = 'helm.receipt_policies.v1';
/** How long an explicit idempotency key deduplicates, unless its class says otherwise: 24 h. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 86_400_000;
/** The longest idempotency window a policy may set: 366 days. */
export const MAX_IDEMPOTENCY_WINDOW_MS = 366 * 86_400_000;
/** The effect class of receipts for calls denied before their tool was known. */
export const UNKNOWN_EFFECT_CLASS = 'unknown';
/**
 * The effect class of the receipts of administrative governance events (`helm.admin.<action>`).
 * Reserved: its policy is fixed (HIGH, never condensed; each receipt names the signed event it
 * records) and always in force; a receipt-policies file may not define it.
 */
export const GOVERNANCE_EFFECT_CLASS = 'governance';
const GOVERNANCE_POLICY: ReceiptPolicy = {
  effect_class: GOVERNANCE_EFFECT_CLASS,
  risk_tier: 'HIGH',
  require_idempotency_key: false,
  min_approvals: 0,
  required_evidence: ['governance_event'],
};

export interface ReceiptPolicyEntry extends ReceiptPolicy {
  /** This class's idempotency window (default: the document's). */
  readonly idempotency_window_ms?: number;
}

export interface ReceiptPoliciesDocument {
  readonly type: typeof RECEIPT_POLICIES_TYPE;
  /** The idempotency window of every class without its own. */
  readonly idempotency_window_ms: number;
  readonly policies: readonly ReceiptPolicyEntry[];
}

const HIGH = new Set(['payment.transfer', 'credential.use', 'publish', 'code.execute', 'data.export']);

/** The built-in set: one policy per known effect class, plus `unknown` at HIGH. */
export function defaultReceiptPolicies(): ReceiptPoliciesDocument {
  return {
    type: RECEIPT_POLICIES_TYPE,
    idempotency_window_ms: DEFAULT_IDEMPOTENCY_WINDOW_MS,
    policies: [...EFFECT_CLASSES, UNKNOWN_EFFECT_CLASS].map((c) => ({
      effect_class: c,
      risk_tier: HIGH.has(c) || c === UNKNOWN_EFFECT_CLASS ? 'HIGH' : c === 'compute' ? 'MEDIUM' : 'LOW',
      require_idempotency_key: false,
      min_approvals: 0,
      required_evidence: [],
    })),
  };
}

const CLASS = new RegExp(EFFECT_TYPE_PATTERN);
const EVIDENCE_KEY = /^[a-z][a-z0-9_]{0,63}$/;
const ENTRY_FIELDS = [
  'effect_class',
  'risk_tier',
  'require_idempotency_key',
  'min_approvals',
  'required_evidence',
  'idempotency_window_ms',
];

function isWindow(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_IDEMPOTENCY_WINDOW_MS;
}

/**
 * Validate a receipt-policies document strictly: exactly the documented fields, each of its type
 * and range, one policy per class (`where` names the document in messages). RECEIPT_POLICY_INVALID
 * otherwise.
 */
export function parseReceiptPolicies(doc: unknown, where: string): ReceiptPoliciesDocument {
  const bad = (what: string): RuntimeError =>
    new RuntimeError(
      'RECEIPT_POLICY_INVALID',
      `${where}: ${what}`,
      'see docs/cli.md §Receipt policies for the format; `helmts receipt-policy show --json` prints the set in force',
    );
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a JSON object');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d))
    if (!['type', 'idempotency_window_ms', 'policies'].includes(k)) throw bad(`unknown field ${k}`);
  if (d.type !== RECEIPT_POLICIES_TYPE) throw bad(`type must be ${RECEIPT_POLICIES_TYPE}`);
  if (!isWindow(d.idempotency_window_ms))
    throw bad(`idempotency_window_ms must be an integer from 1 to ${MAX_IDEMPOTENCY_WINDOW_MS}`);
  if (!Array.isArray(d.policies) || d.policies.length === 0 || d.policies.length > 1024)
    throw bad('policies must be a list of 1 to 1024 receipt policies');
  const seen = new Set<string>();
  for (const [i, p] of d.policies.entries()) {
    const at = `policies[${i}]`;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad(`${at} is not an object`);
    const e = p as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!ENTRY_FIELDS.includes(k)) throw bad(`${at}: unknown field ${k}`);
    if (typeof e.effect_class !== 'string' || e.effect_class.length > 128 || !CLASS.test(e.effect_class))
      throw bad(`${at}.effect_class must be a dotted lowercase effect class (e.g. crm.write)`);
    if (seen.has(e.effect_class)) throw bad(`two policies for ${e.effect_class}`);
    if (e.effect_class === GOVERNANCE_EFFECT_CLASS)
      throw bad(`${GOVERNANCE_EFFECT_CLASS} is reserved for administrative receipts (its policy is fixed)`);
    seen.add(e.effect_class);
    if (!(RISK_TIERS as readonly unknown[]).includes(e.risk_tier))
      throw bad(`${at}.risk_tier must be one of ${RISK_TIERS.join(', ')}`);
    if (typeof e.require_idempotency_key !== 'boolean')
      throw bad(`${at}.require_idempotency_key must be a boolean`);
    if (
      !Number.isSafeInteger(e.min_approvals) ||
      (e.min_approvals as number) < 0 ||
      (e.min_approvals as number) > 64
    )
      throw bad(`${at}.min_approvals must be an integer from 0 to 64`);
    if (
      !Array.isArray(e.required_evidence) ||
      e.required_evidence.length > 32 ||
      !e.required_evidence.every((f) => typeof f === 'string' && EVIDENCE_KEY.test(f)) ||
      new Set(e.required_evidence).size !== e.required_evidence.length
    )
      throw bad(`${at}.required_evidence must be a list of distinct evidence field names`);
    if (e.idempotency_window_ms !== undefined && !isWindow(e.idempotency_window_ms))
      throw bad(`${at}.idempotency_window_ms must be an integer from 1 to ${MAX_IDEMPOTENCY_WINDOW_MS}`);
  }
  return doc as ReceiptPoliciesDocument;
}

/**
 * The runtime's receipt policies. `require_idempotency_key` means a key the *caller* presents
 * (`request.idempotency_key`): the executor derives a key for every call, so the runtime tells
 * the set, per call, whether the caller gave one (`explicitKey`), and a class that requires one
 * refuses a call without it (RECEIPT_POLICY_VIOLATION, receipted).
 */
export class RuntimeReceiptPolicies extends ReceiptPolicySet {
  readonly document: ReceiptPoliciesDocument;
  /**
   * Whether the call being executed carries its own idempotency key: read from the call's own unit
   * of work (unit.ts), never from a field calls in flight would share.
   */
  get explicitKey(): boolean {
    return currentUnit()?.explicitKey ?? false;
  }

  constructor(document: ReceiptPoliciesDocument) {
    super([
      ...document.policies.map((p) => ({
        effect_class: p.effect_class,
        risk_tier: p.risk_tier,
        require_idempotency_key: p.require_idempotency_key,
        min_approvals: p.min_approvals,
        required_evidence: p.required_evidence,
      })),
      GOVERNANCE_POLICY,
    ]);
    this.document = document;
  }

  override admit(
    effectClass: string,
    context: PreconditionContext = {},
  ): ReturnType<ReceiptPolicySet['admit']> {
    if (this.get(effectClass)?.require_idempotency_key === true && !this.explicitKey) {
      return {
        ok: false,
        reason_code: 'RECEIPT_POLICY_VIOLATION',
        detail: `effect class ${effectClass} requires the caller's own idempotency key (request.idempotency_key, \`helmts run --idempotency-key\`)`,
      };
    }
    return super.admit(effectClass, context);
  }

  /** The idempotency window of an effect class. */
  windowFor(effectClass: string): number {
    const entry = this.document.policies.find((p) => p.effect_class === effectClass);
    return entry?.idempotency_window_ms ?? this.document.idempotency_window_ms;
  }
}

export interface LoadedReceiptPolicies {
  readonly set: RuntimeReceiptPolicies;
  /** `file`: the signed file verified; `built-in`: there is none. */
  readonly source: 'file' | 'built-in';
  /** The key that signed the file. */
  readonly signedBy: string | null;
}

const SIGNED = ['policy', 'receipt-policies.signed.json'] as const;
const SOURCE = ['policy', 'receipt-policies.json'] as const;

const readJson = (path: string): unknown => parseJson(new Uint8Array(readFileSync(path)), path);
const writeJson = (path: string, value: unknown): void =>
  writeWhole(path, `${JSON.stringify(value, null, 2)}\n`);

/**
 * The receipt policies in force in a data directory: the signed file, verified under the policy
 * keys of `registry` at its head and validated, or the built-in defaults when there is none.
 */
export function loadReceiptPolicies(data: DataDir, registry: TrustRegistry): LoadedReceiptPolicies {
  const path = data.path(...SIGNED);
  if (!existsSync(path))
    return { set: new RuntimeReceiptPolicies(defaultReceiptPolicies()), source: 'built-in', signedBy: null };
  const envelope = readJson(path) as SignedEnvelope;
  let body: unknown;
  let signedBy: string | null;
  try {
    const verified = openVerifiedEnvelope(
      envelope,
      RECEIPT_POLICIES_TYPE,
      registry.lookupFor('policy', registry.seq),
    );
    body = verified.body;
    signedBy = verified.keyIds[0] ?? null;
  } catch (error) {
    throw new RuntimeError(
      'RECEIPT_POLICY_INVALID',
      `policy/receipt-policies.signed.json does not verify under a policy key of the trust registry at seq ${registry.seq} (${(error as { code?: string }).code ?? 'UNKNOWN'})`,
      'sign it again with the live policy key: `helmts receipt-policy sign policy/receipt-policies.json` (`helmts keys rotate policy` does this itself)',
    );
  }
  const document = parseReceiptPolicies(body, 'policy/receipt-policies.signed.json');
  return { set: new RuntimeReceiptPolicies(document), source: 'file', signedBy };
}

/** Validate, sign with the policy key and install a receipt-policies document (source + signed). */
export function writeReceiptPolicies(data: DataDir, document: unknown, signer: Signer): SignedEnvelope {
  const doc = parseReceiptPolicies(document, 'the receipt policies');
  mkdirSync(data.path('policy'), { recursive: true });
  const signed = signEnvelope(doc as unknown as { type: string }, [signer]);
  writeJson(data.path(...SOURCE), doc);
  writeJson(data.path(...SIGNED), signed);
  return signed;
}

/** Re-sign the installed receipt policies (if any) with `signer`; the document is unchanged. */
export function resignReceiptPolicies(data: DataDir, signer: Signer): SignedEnvelope | null {
  const path = data.path(...SIGNED);
  if (!existsSync(path)) return null;
  const envelope = readJson(path) as SignedEnvelope;
  const bytes = typeof envelope?.payload === 'string' ? fromBase64Url(envelope.payload) : undefined;
  if (!bytes)
    throw new RuntimeError('RECEIPT_POLICY_INVALID', 'policy/receipt-policies.signed.json has no payload');
  const payload = parseJson(bytes, 'policy/receipt-policies.signed.json payload');
  return writeReceiptPolicies(data, payload, signer);
}

/**
 * Registration check: a tool's effect class must have a receipt policy, or every call to it would
 * be refused RECEIPT_POLICY_MISSING. Returns the error to throw, or undefined.
 */
export function missingReceiptPolicy(
  descriptor: ToolDescriptor,
  set: RuntimeReceiptPolicies,
): RuntimeError | undefined {
  const known = set.document.policies.map((p) => p.effect_class).filter((c) => c !== UNKNOWN_EFFECT_CLASS);
  // The reserved class is for administrative receipts; no tool may claim it.
  if (descriptor.effect_type === GOVERNANCE_EFFECT_CLASS)
    return new RuntimeError(
      'RECEIPT_POLICY_MISSING',
      `tool ${descriptor.name} declares effect class ${GOVERNANCE_EFFECT_CLASS}, which is reserved for administrative receipts`,
      `use a class of its own (${known.join(', ')}, or one you add: docs/cli.md §Receipt policies)`,
    );
  if (set.get(descriptor.effect_type) !== undefined) return undefined;
  return new RuntimeError(
    'RECEIPT_POLICY_MISSING',
    `tool ${descriptor.name} declares effect class ${descriptor.effect_type}, which has no receipt policy: every call to it would be refused`,
    `use a class that has one (${known.join(', ')}), or add a policy for ${descriptor.effect_type}: \`helmts receipt-policy show --json\` prints the set in force; add an entry and install it with \`helmts receipt-policy sign <file>\` (docs/cli.md §Receipt policies)`,
  );
}
