// The composed policy stack (docs/spec/policy.md): P0 ceiling ∩ P1 bundles ∩ P2 overlays.
// Loading verifies P1 signatures against supplied trusted keys, validates every document with
// ajv (unknown fields rejected), rejects rules that reference undeclared fields or can never
// match, and reports stack conflicts. Default deny; deny overrides allow; overlays only narrow.
import { RISK_TIERS } from '@helm/contracts/effect';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import {
  type ApprovalRequirement,
  type P0Ceiling,
  POLICY_BUNDLE_TYPE,
  type PolicyBundle,
  type PolicyMatch,
  type PolicyOverlay,
  type PolicyRule,
  type PolicyWhen,
} from '@helm/contracts/policy';
import { openVerifiedEnvelope, type PublicKeyLookup } from '@helm/crypto/envelope';
import { digest } from '@helm/crypto/hash';
import { canonicalBytes } from '@helm/crypto/jcs';
import { GuardianError } from './errors.js';
import { compileMatch, type Matcher, mayOverlap, neverMatchReason } from './internal/match.js';
import { resourceDefect, resourceMatchDefect } from './internal/resource.js';
import { describeErrors, validateBundle, validateOverlay, validateP0 } from './internal/schemas.js';

/**
 * The attributes of a call every guardian matcher starts from: what a delegation grant is matched
 * against (gate 5), and the base of what a policy rule (`PolicySubject`) and the executor's call
 * (`ExecutorCall`) carry. Declared once so the three cannot drift apart.
 */
export interface ScopeSubject {
  readonly principal: string;
  readonly tenant: string | null;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  readonly effect_type: string;
}

/** The attributes a rule is evaluated against. */
export interface PolicySubject extends ScopeSubject {
  readonly risk_tier: string;
  readonly args: unknown;
  readonly context: Readonly<Record<string, unknown>>;
}

/** Declared field vocabulary: args paths per tool and context attribute names. */
export interface PolicyVocabulary {
  readonly tools?: Readonly<Record<string, readonly string[]>>;
  readonly context?: readonly string[];
}

export interface LoadPolicyStackInput {
  readonly p0: unknown;
  /** P1 bundles: signed `helm.policy.bundle.v1` envelopes. */
  readonly bundles: readonly SignedEnvelope[];
  /** P2 overlays (plain documents; they can only narrow). */
  readonly overlays?: readonly unknown[];
  /** Keys trusted to sign P1 bundles. */
  readonly trustedBundleKeys: PublicKeyLookup;
  readonly vocabulary?: PolicyVocabulary;
  /** Optional content pins: when given, every bundle's digest must be one of these. */
  readonly pinnedBundleDigests?: readonly string[];
}

export type StackLayer = 'P0' | 'P1' | 'P2';

export interface StackConflict {
  /** The higher-priority layer holding the deny (P0 forbidden type or a deny rule). */
  readonly deny_layer: StackLayer;
  readonly deny_rule: string;
  readonly allow_layer: StackLayer;
  readonly allow_rule: string;
}

export type PolicyOutcome =
  | {
      readonly allowed: true;
      readonly rule_id: string;
      readonly approval: (ApprovalRequirement & { readonly rule_id: string }) | null;
      readonly proofs: readonly string[];
    }
  | {
      readonly allowed: false;
      readonly code: 'POLICY_CEILING_VIOLATION' | 'POLICY_DENY' | 'NO_POLICY' | 'RESOURCE_NONCANONICAL';
      readonly rule_id: string | null;
    };

/**
 * The attributes a tool and its caller fix before any call: what `couldAllow` decides on. The
 * resource, arguments and context of a call are not among them.
 */
export type PolicyToolSubject = Pick<
  PolicySubject,
  'principal' | 'tenant' | 'tool' | 'action' | 'effect_type' | 'risk_tier'
>;

interface CompiledRule {
  readonly rule: PolicyRule;
  readonly checks: readonly ((s: PolicySubject) => boolean)[];
  /** The checks on the fixed attributes of PolicyToolSubject only. */
  readonly fixed: readonly ((s: PolicyToolSubject) => boolean)[];
  /** True when the rule has no check beyond `fixed` (no resource, args or context condition). */
  readonly onlyFixed: boolean;
}

const FIXED_FIELDS = [
  'principal',
  'tenant',
  'tool',
  'action',
  'resource',
  'effect_type',
  'risk_tier',
] as const;

function invalid(message: string): GuardianError {
  return new GuardianError('POLICY_BUNDLE_INVALID', message);
}

/** Resolve a dotted path over own properties of plain objects. */
export function resolvePath(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function compileRule(rule: PolicyRule): CompiledRule {
  const checks: ((s: PolicySubject) => boolean)[] = [];
  const fixed: ((s: PolicyToolSubject) => boolean)[] = [];
  const when = rule.when;
  for (const field of FIXED_FIELDS) {
    const m = when[field];
    if (m === undefined) continue;
    const test: Matcher = compileMatch(m);
    checks.push((s) => test(s[field]));
    if (field !== 'resource') fixed.push((s) => test(s[field]));
  }
  for (const [path, m] of Object.entries(when.args ?? {})) {
    const test = compileMatch(m);
    checks.push((s) => test(resolvePath(s.args, path)));
  }
  for (const [name, m] of Object.entries(when.context ?? {})) {
    const test = compileMatch(m);
    checks.push((s) => Object.hasOwn(s.context, name) && test(s.context[name]));
  }
  return { rule, checks, fixed, onlyFixed: fixed.length === checks.length };
}

function fixedMatches(compiled: CompiledRule, subject: PolicyToolSubject): boolean {
  for (const check of compiled.fixed) if (!check(subject)) return false;
  return true;
}

function ruleMatches(compiled: CompiledRule, subject: PolicySubject): boolean {
  for (const check of compiled.checks) if (!check(subject)) return false;
  return true;
}

function checkRule(rule: PolicyRule, where: string, vocabulary: PolicyVocabulary | undefined): void {
  const label = `${where} rule ${rule.id}`;
  const when: PolicyWhen = rule.when;
  for (const field of FIXED_FIELDS) {
    const m = when[field];
    if (m === undefined) continue;
    const reason = neverMatchReason(m);
    if (reason !== null) throw invalid(`${label}: ${field} can never match (${reason})`);
  }
  if (when.resource !== undefined) {
    const reason = resourceMatchDefect(when.resource);
    if (reason !== null) throw invalid(`${label}: resource ${reason}`);
  }
  const tiers = when.risk_tier;
  if (tiers !== undefined && !RISK_TIERS.some((t) => compileMatch(tiers)(t))) {
    throw invalid(`${label}: risk_tier can never match a known tier`);
  }
  const toolFields = vocabulary?.tools ?? {};
  const tools = ruleTools(when.tool);
  for (const [path, m] of Object.entries(when.args ?? {})) {
    const declaredIn = (tool: string): boolean =>
      Object.hasOwn(toolFields, tool) && toolFields[tool]?.includes(path) === true;
    const known =
      tools === undefined
        ? Object.keys(toolFields).some(declaredIn)
        : tools.length > 0 && tools.every(declaredIn);
    if (!known) throw invalid(`${label}: args.${path} is not a declared field`);
    const reason = neverMatchReason(m);
    if (reason !== null) throw invalid(`${label}: args.${path} can never match (${reason})`);
  }
  for (const [name, m] of Object.entries(when.context ?? {})) {
    if (!(vocabulary?.context ?? []).includes(name))
      throw invalid(`${label}: context.${name} is not declared`);
    const reason = neverMatchReason(m);
    if (reason !== null) throw invalid(`${label}: context.${name} can never match (${reason})`);
  }
  if (
    rule.effect === 'deny' &&
    (rule.requires_approval !== undefined || rule.requires_proofs !== undefined)
  ) {
    throw invalid(`${label}: a deny rule cannot carry requirements`);
  }
  const approval = rule.requires_approval;
  if (approval?.emergency_quorum !== undefined && approval.emergency_quorum <= approval.quorum) {
    throw invalid(`${label}: emergency_quorum must be stricter (greater) than quorum`);
  }
}

function ruleTools(m: PolicyMatch | undefined): readonly string[] | undefined {
  if (m === undefined) return undefined;
  if (m.eq !== undefined) return typeof m.eq === 'string' ? [m.eq] : [];
  if (m.in !== undefined) return m.in.filter((v): v is string => typeof v === 'string');
  return undefined;
}

function rulesOverlap(a: PolicyWhen, b: PolicyWhen): boolean {
  for (const field of FIXED_FIELDS) if (!mayOverlap(a[field], b[field])) return false;
  for (const [path, m] of Object.entries(a.args ?? {})) if (!mayOverlap(m, b.args?.[path])) return false;
  for (const [name, m] of Object.entries(a.context ?? {}))
    if (!mayOverlap(m, b.context?.[name])) return false;
  return true;
}

/** Whether an effect type is forbidden by a P0 entry (exact, or a dotted-segment ancestor). */
export function effectTypeForbidden(forbidden: readonly string[], effectType: string): boolean {
  for (const f of forbidden) if (effectType === f || effectType.startsWith(`${f}.`)) return true;
  return false;
}

function strictest(
  a: (ApprovalRequirement & { rule_id: string }) | null,
  b: ApprovalRequirement,
  ruleId: string,
): ApprovalRequirement & { rule_id: string } {
  if (a === null) return { ...b, rule_id: ruleId };
  const base = b.quorum > a.quorum ? { role: b.role, rule_id: ruleId } : { role: a.role, rule_id: a.rule_id };
  const emergency =
    a.emergency_quorum === undefined || b.emergency_quorum === undefined
      ? undefined
      : Math.max(a.emergency_quorum, b.emergency_quorum);
  return {
    ...base,
    quorum: Math.max(a.quorum, b.quorum),
    timelock_ms: Math.max(a.timelock_ms, b.timelock_ms),
    ttl_ms: Math.min(a.ttl_ms, b.ttl_ms),
    ...(emergency === undefined ? {} : { emergency_quorum: emergency }),
  };
}

interface CompiledLayer {
  readonly name: string;
  readonly denies: readonly CompiledRule[];
  readonly allows: readonly CompiledRule[];
}

type RuleIndex = Pick<CompiledLayer, 'denies' | 'allows'>;

/**
 * Index a layer by tool: for every tool named by an `eq`/`in` matcher, the rules (in original
 * order) that could match it; `wild` holds the rules without a finite tool set. Evaluating the
 * candidates of a tool is equivalent to evaluating every rule (the others cannot match).
 */
function indexByTool(layer: CompiledLayer): { byTool: Map<string, RuleIndex>; wild: RuleIndex } {
  const finite = (r: CompiledRule): readonly string[] | undefined => ruleTools(r.rule.when.tool);
  const tools = new Set<string>();
  for (const r of [...layer.denies, ...layer.allows]) for (const t of finite(r) ?? []) tools.add(t);
  const pick = (rules: readonly CompiledRule[], tool: string | null): CompiledRule[] =>
    rules.filter((r) => {
      const ts = finite(r);
      return ts === undefined || (tool !== null && ts.includes(tool));
    });
  const byTool = new Map<string, RuleIndex>();
  for (const t of tools) byTool.set(t, { denies: pick(layer.denies, t), allows: pick(layer.allows, t) });
  return { byTool, wild: { denies: pick(layer.denies, null), allows: pick(layer.allows, null) } };
}

/** A loaded, validated, immutable policy stack. */
export class PolicyStack {
  readonly p0: P0Ceiling;
  readonly bundles: readonly PolicyBundle[];
  readonly overlays: readonly PolicyOverlay[];
  /** digest(JCS(P0 document)). */
  readonly p0Hash: string;
  /** digest(JCS([bundle digests])): the P1 "policy bundle hash" bound by approval challenges. */
  readonly bundleHash: string;
  readonly bundleDigests: readonly string[];
  /** digest(JCS({p0, p1, p2})) — bound by every decision. */
  readonly stackHash: string;
  readonly conflicts: readonly StackConflict[];
  private readonly p1: CompiledLayer;
  private readonly p1Index: { byTool: Map<string, RuleIndex>; wild: RuleIndex };
  private readonly p2: readonly CompiledLayer[];

  /** @internal use loadPolicyStack. */
  constructor(p0: P0Ceiling, bundles: readonly PolicyBundle[], overlays: readonly PolicyOverlay[]) {
    this.p0 = p0;
    this.bundles = bundles;
    this.overlays = overlays;
    this.p0Hash = digest(canonicalBytes(p0));
    this.bundleDigests = bundles.map((b) => digest(canonicalBytes(b)));
    this.bundleHash = digest(canonicalBytes(this.bundleDigests));
    const overlayDigests = overlays.map((o) => digest(canonicalBytes(o)));
    this.stackHash = digest(canonicalBytes({ p0: this.p0Hash, p1: this.bundleDigests, p2: overlayDigests }));
    const p1Rules = bundles.flatMap((b) => b.rules.map(compileRule));
    this.p1 = {
      name: 'P1',
      denies: p1Rules.filter((r) => r.rule.effect === 'deny'),
      allows: p1Rules.filter((r) => r.rule.effect === 'allow'),
    };
    this.p1Index = indexByTool(this.p1);
    this.p2 = overlays.map((o) => {
      const rules = o.rules.map(compileRule);
      return {
        name: o.name,
        denies: rules.filter((r) => r.rule.effect === 'deny'),
        allows: rules.filter((r) => r.rule.effect === 'allow'),
      };
    });
    this.conflicts = this.findConflicts();
  }

  private findConflicts(): StackConflict[] {
    const out: StackConflict[] = [];
    const layers: { layer: StackLayer; l: CompiledLayer }[] = [
      { layer: 'P1', l: this.p1 },
      ...this.p2.map((l) => ({ layer: 'P2' as const, l })),
    ];
    for (const forbidden of this.p0.forbidden_effect_types) {
      const deny: PolicyMatch = { prefix: forbidden };
      for (const { layer, l } of layers) {
        for (const allow of l.allows) {
          const et = allow.rule.when.effect_type;
          if (mayOverlap(et, { eq: forbidden }) || mayOverlap(et, deny)) {
            out.push({
              deny_layer: 'P0',
              deny_rule: forbidden,
              allow_layer: layer,
              allow_rule: allow.rule.id,
            });
          }
        }
      }
    }
    for (let i = 0; i < layers.length; i++) {
      const high = layers[i]!;
      for (let j = i; j < layers.length; j++) {
        const low = layers[j]!;
        for (const deny of high.l.denies) {
          for (const allow of low.l.allows) {
            if (rulesOverlap(deny.rule.when, allow.rule.when)) {
              out.push({
                deny_layer: high.layer,
                deny_rule: deny.rule.id,
                allow_layer: low.layer,
                allow_rule: allow.rule.id,
              });
            }
          }
        }
      }
    }
    return out;
  }

  /**
   * Evaluate P0 ∩ P1 ∩ P2 for one subject. Pure. A resource that is not in canonical form
   * (docs/spec/policy.md §Resource canonical form) matches nothing: RESOURCE_NONCANONICAL.
   */
  evaluate(subject: PolicySubject): PolicyOutcome {
    if (resourceDefect(subject.resource) !== null) {
      return { allowed: false, code: 'RESOURCE_NONCANONICAL', rule_id: null };
    }
    if (effectTypeForbidden(this.p0.forbidden_effect_types, subject.effect_type)) {
      return { allowed: false, code: 'POLICY_CEILING_VIOLATION', rule_id: null };
    }
    const p1 = this.p1Index.byTool.get(subject.tool) ?? this.p1Index.wild;
    for (const r of p1.denies) {
      if (ruleMatches(r, subject)) return { allowed: false, code: 'POLICY_DENY', rule_id: r.rule.id };
    }
    let first: string | null = null;
    let approval: (ApprovalRequirement & { rule_id: string }) | null = null;
    let proofs: string[] | null = null;
    for (const r of p1.allows) {
      if (!ruleMatches(r, subject)) continue;
      first ??= r.rule.id;
      if (r.rule.requires_approval !== undefined)
        approval = strictest(approval, r.rule.requires_approval, r.rule.id);
      if (r.rule.requires_proofs !== undefined) {
        proofs ??= [];
        for (const p of r.rule.requires_proofs) if (!proofs.includes(p)) proofs.push(p);
      }
    }
    if (first === null) return { allowed: false, code: 'NO_POLICY', rule_id: null };
    for (const layer of this.p2) {
      for (const r of layer.denies) {
        if (ruleMatches(r, subject)) return { allowed: false, code: 'POLICY_DENY', rule_id: r.rule.id };
      }
      if (layer.allows.length > 0 && !layer.allows.some((r) => ruleMatches(r, subject))) {
        return { allowed: false, code: 'POLICY_DENY', rule_id: `${layer.name}:allowlist` };
      }
    }
    return { allowed: true, rule_id: first, approval, proofs: proofs === null ? [] : proofs.sort() };
  }

  /**
   * False when the stack denies every call of `subject` outright, whatever its resource, arguments
   * and context: the P0 ceiling forbids its effect type, a deny rule with conditions on these
   * fixed attributes only matches, no allow rule of P1 can match them, or an overlay's deny rule
   * of that kind matches or its allow-list cannot. True otherwise — some call may still be denied
   * by its arguments. Pure; sound with respect to `evaluate`: when false, `evaluate` denies every
   * subject with these attributes (what an MCP gateway needs to leave a tool out of a principal's
   * tools/list, docs/spec/policy.md §Tools a principal can never call).
   */
  couldAllow(subject: PolicyToolSubject): boolean {
    if (effectTypeForbidden(this.p0.forbidden_effect_types, subject.effect_type)) return false;
    const p1 = this.p1Index.byTool.get(subject.tool) ?? this.p1Index.wild;
    if (p1.denies.some((r) => r.onlyFixed && fixedMatches(r, subject))) return false;
    if (!p1.allows.some((r) => fixedMatches(r, subject))) return false;
    for (const layer of this.p2) {
      if (layer.denies.some((r) => r.onlyFixed && fixedMatches(r, subject))) return false;
      if (layer.allows.length > 0 && !layer.allows.some((r) => fixedMatches(r, subject))) return false;
    }
    return true;
  }

  /** Allow rules of P1 and of each overlay (used by the delegation subset proof). */
  allowRules(): { p1: readonly PolicyRule[]; overlays: readonly (readonly PolicyRule[])[] } {
    return {
      p1: this.p1.allows.map((r) => r.rule),
      overlays: this.p2.map((l) => l.allows.map((r) => r.rule)),
    };
  }

  /** Deny rules of every layer. */
  denyRules(): readonly PolicyRule[] {
    return [...this.p1.denies, ...this.p2.flatMap((l) => l.denies)].map((r) => r.rule);
  }
}

function checkRuleSet(
  rules: readonly PolicyRule[],
  where: string,
  vocabulary: PolicyVocabulary | undefined,
): void {
  const ids = new Set<string>();
  for (const rule of rules) {
    if (ids.has(rule.id)) throw invalid(`${where}: duplicate rule id ${rule.id}`);
    ids.add(rule.id);
    checkRule(rule, where, vocabulary);
  }
}

/** Parse and validate a P0 ceiling document. */
export function parseP0(doc: unknown): P0Ceiling {
  if (!validateP0(doc)) throw invalid(`P0 ceiling ${describeErrors(validateP0.errors)}`);
  return doc as P0Ceiling;
}

/** Verify a signed P1 bundle envelope against the trusted keys and validate it. */
export function loadBundle(
  envelope: SignedEnvelope,
  trustedKeys: PublicKeyLookup,
  vocabulary?: PolicyVocabulary,
): PolicyBundle {
  let body: unknown;
  try {
    body = openVerifiedEnvelope(envelope, POLICY_BUNDLE_TYPE, trustedKeys).body;
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'UNKNOWN';
    throw invalid(`P1 bundle signature/envelope rejected (${code})`);
  }
  if (!validateBundle(body)) throw invalid(`P1 bundle ${describeErrors(validateBundle.errors)}`);
  const bundle = body as PolicyBundle;
  checkRuleSet(bundle.rules, `P1 ${bundle.name}`, vocabulary);
  return bundle;
}

/** Validate a P2 overlay document. Overlay rules may not carry requirements (they only narrow). */
export function parseOverlay(doc: unknown, vocabulary?: PolicyVocabulary): PolicyOverlay {
  if (!validateOverlay(doc)) throw invalid(`P2 overlay ${describeErrors(validateOverlay.errors)}`);
  const overlay = doc as PolicyOverlay;
  checkRuleSet(overlay.rules, `P2 ${overlay.name}`, vocabulary);
  for (const rule of overlay.rules) {
    if (rule.requires_approval !== undefined || rule.requires_proofs !== undefined) {
      throw invalid(`P2 ${overlay.name} rule ${rule.id}: overlays cannot add requirements`);
    }
  }
  return overlay;
}

/** Load and validate a complete stack. Throws GuardianError('POLICY_BUNDLE_INVALID') on any defect. */
export function loadPolicyStack(input: LoadPolicyStackInput): PolicyStack {
  const p0 = parseP0(input.p0);
  if (input.bundles.length === 0) throw invalid('at least one signed P1 bundle is required');
  const bundles = input.bundles.map((b) => loadBundle(b, input.trustedBundleKeys, input.vocabulary));
  const pins = input.pinnedBundleDigests;
  if (pins !== undefined) {
    for (const bundle of bundles) {
      const d = digest(canonicalBytes(bundle));
      if (!pins.includes(d)) throw invalid(`P1 bundle ${bundle.name} digest ${d} is not pinned`);
    }
  }
  for (const bundle of bundles) {
    // A bundle's budget accounts are named after it (budgetAccount): two bundles of one name
    // would charge the same accounts twice.
    if (bundle.budgets !== undefined && bundles.filter((b) => b.name === bundle.name).length > 1)
      throw invalid(`P1 ${bundle.name}: a bundle with budgets needs a name no other loaded bundle has`);
  }
  const overlays = (input.overlays ?? []).map((o) => parseOverlay(o, input.vocabulary));
  return new PolicyStack(p0, bundles, overlays);
}
