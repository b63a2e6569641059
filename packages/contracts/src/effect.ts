// Effect: the concrete side effect one admissible tool call would have (normative:
// docs/spec/effect.md). The Guardian constructs it after gates 0–5; policy, PRG, budget, approval
// and the AuthorizedExecutionIntent all refer to it by its digest.
//
// effect digest rule: `effect_digest = digest(canonicalBytes(effect))` — i.e. "sha256:" + the
// lowercase hex SHA-256 of the RFC 8785 JCS bytes of the whole Effect object, `type` included.
// An Effect has no id field of its own; the digest is its identity. `@helm/crypto` exports
// `effectDigest(effect)` implementing exactly this rule.

/** Envelope / domain type string of an Effect body. */
export const EFFECT_TYPE = 'helm.effect.v1';

/** Proof-retention risk tier of an effect (design §7: HIGH keeps everything, LOW may condense). */
export const RISK_TIERS = ['HIGH', 'MEDIUM', 'LOW'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

/**
 * Well-known effect classes. `effect_type` is an open, dotted lowercase identifier so that
 * deployments can add classes; these are the ones the kernel and the default policies know.
 */
export const EFFECT_CLASSES = [
  'read',
  'compute',
  'fs.read',
  'fs.write',
  'fs.delete',
  'net.egress',
  'message.send',
  'payment.transfer',
  'credential.use',
  'code.execute',
  'publish',
  'data.export',
] as const;

/** Pattern of an effect class / effect_type: dotted lowercase segments, e.g. `fs.write`. */
export const EFFECT_TYPE_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$';

export interface Effect {
  readonly type: typeof EFFECT_TYPE;
  /** Effect class, e.g. `fs.write`, `net.egress`, `payment.transfer` (see EFFECT_CLASSES). */
  readonly effect_type: string;
  /** Registered tool name on the declared surface. */
  readonly tool: string;
  /** The tool's operation, e.g. `write_file`, `POST`, `send`. */
  readonly action: string;
  /** The resource acted upon (path, URL, account id, …), as the tool descriptor derives it. */
  readonly resource: string;
  /** The principal on whose authority the effect happens (agent or delegate identity). */
  readonly principal: string;
  /** `digest(canonicalBytes(args))` of the exact tool arguments. */
  readonly args_hash: string;
  /** Egress destination (host[:port] or URL origin) when the effect leaves the process. */
  readonly destination?: string;
  readonly risk_tier: RiskTier;
}
