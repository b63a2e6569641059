// Gate 3 — egress control (docs/spec/policy.md §Egress). Hostnames are normalised (IDNA to
// punycode via the WHATWG URL host parser, lowercase, one trailing dot removed) and matched
// exactly, or by an explicit `*.suffix` wildcard that matches any subdomain of `suffix` at a label
// boundary but never `suffix` itself. Never a raw prefix or substring match. IP destinations
// match CIDR ranges only. Protocol, port and payload size must also be allowed by the same rule.
import { GuardianError } from './errors.js';
import { type Cidr, cidrContains, formatIp, type IpAddress, parseCidr, parseIp } from './internal/ip.js';

/** Effect classes that leave the process: a call of one of these must name a destination. */
export const EGRESS_EFFECT_TYPES: readonly string[] = [
  'net.egress',
  'message.send',
  'publish',
  'data.export',
];

export interface EgressRule {
  /** Exact hostnames or `*.example.com` wildcards. */
  readonly hosts?: readonly string[];
  /** IPv4 / IPv6 CIDR ranges. */
  readonly cidrs?: readonly string[];
  /** Allowed protocols, lowercase, e.g. `https`. Required, non-empty. */
  readonly protocols: readonly string[];
  /** Allowed ports (any when absent). */
  readonly ports?: readonly number[];
  /** Maximum request payload in bytes. */
  readonly max_payload_bytes: number;
}

export interface EgressConfig {
  readonly rules: readonly EgressRule[];
}

export interface Destination {
  /** Hostname or IP literal. */
  readonly host: string;
  readonly protocol: string;
  readonly port?: number;
  readonly payload_bytes: number;
}

interface CompiledEgressRule {
  readonly exact: ReadonlySet<string>;
  readonly suffixes: readonly string[];
  readonly cidrs: readonly Cidr[];
  readonly protocols: ReadonlySet<string>;
  readonly ports: ReadonlySet<number> | null;
  readonly maxPayload: number;
}

export type NormalizedHost =
  | { readonly kind: 'ip'; readonly ip: IpAddress }
  | { readonly kind: 'name'; readonly name: string };

const FORBIDDEN_HOST_CHARS = /[\s/\\?#@%:[\]]/;

/** Normalise a hostname or IP literal; undefined when it is not a valid host. */
export function normalizeHost(raw: string): NormalizedHost | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 1024) return undefined;
  const literal = parseIp(raw);
  if (literal) return { kind: 'ip', ip: literal };
  if (FORBIDDEN_HOST_CHARS.test(raw)) return undefined;
  let host: string;
  try {
    host = new URL(`http://${raw}/`).hostname;
  } catch {
    return undefined;
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.startsWith('.') || host.includes('..') || host.endsWith('.'))
    return undefined;
  // The WHATWG parser turns numeric forms (0x7f.1, 2130706433) into dotted IPv4: treat as an IP.
  const asIp = parseIp(host);
  if (asIp) return { kind: 'ip', ip: asIp };
  return { kind: 'name', name: host };
}

const RULE_FIELDS = new Set(['hosts', 'cidrs', 'protocols', 'ports', 'max_payload_bytes']);

function stringList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function compileRule(rule: EgressRule, index: number): CompiledEgressRule {
  const bad = (what: string): GuardianError =>
    new GuardianError('CONFIG_INVALID', `egress rule ${index}: ${what}`);
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) throw bad('must be an object');
  // An unknown field (`port` for `ports`, `host` for `hosts`) would otherwise be ignored and leave
  // the rule wider than its author meant.
  for (const key of Object.keys(rule)) {
    if (!RULE_FIELDS.has(key)) throw bad(`unknown field ${key} (fields: ${[...RULE_FIELDS].join(', ')})`);
  }
  for (const field of ['hosts', 'cidrs'] as const) {
    if (rule[field] !== undefined && !stringList(rule[field]))
      throw bad(`${field} must be a list of strings`);
  }
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const pattern of rule.hosts ?? []) {
    const wildcard = pattern.startsWith('*.');
    const body = wildcard ? pattern.slice(2) : pattern;
    if (body.includes('*')) throw bad(`host pattern ${pattern} may only start with "*."`);
    const normalized = normalizeHost(body);
    if (normalized?.kind === 'ip' && !wildcard) {
      // IP destinations match CIDR entries only (docs/spec/policy.md §Egress allowlist).
      const text = formatIp(normalized.ip);
      throw bad(
        `host pattern ${pattern} is the IP address ${text}: IP destinations match cidrs entries only (list it as ${text}/${normalized.ip.version === 4 ? 32 : 128} under cidrs)`,
      );
    }
    if (normalized?.kind !== 'name') throw bad(`host pattern ${pattern} is not a hostname`);
    if (wildcard) {
      if (!normalized.name.includes('.')) throw bad(`wildcard ${pattern} must name at least two labels`);
      suffixes.push(`.${normalized.name}`);
    } else {
      exact.add(normalized.name);
    }
  }
  const cidrs = (rule.cidrs ?? []).map((c) => {
    const parsed = parseCidr(c);
    if (!parsed) throw bad(`invalid CIDR ${c}`);
    return parsed;
  });
  if (!stringList(rule.protocols) || rule.protocols.length === 0)
    throw bad('protocols must be a non-empty list of strings');
  if (
    rule.ports !== undefined &&
    !(Array.isArray(rule.ports) && rule.ports.every((p) => Number.isSafeInteger(p) && p >= 1 && p <= 65535))
  ) {
    throw bad('ports must be a list of integers from 1 to 65535');
  }
  if (!Number.isSafeInteger(rule.max_payload_bytes) || rule.max_payload_bytes < 0) {
    throw bad('max_payload_bytes must be a non-negative integer');
  }
  if (exact.size === 0 && suffixes.length === 0 && cidrs.length === 0) throw bad('names no destination');
  return {
    exact,
    suffixes,
    cidrs,
    protocols: new Set(rule.protocols.map((p) => p.toLowerCase())),
    ports: rule.ports === undefined ? null : new Set(rule.ports),
    maxPayload: rule.max_payload_bytes,
  };
}

/** A compiled, immutable egress allowlist. */
export class EgressPolicy {
  private readonly rules: readonly CompiledEgressRule[];
  constructor(config: EgressConfig) {
    if (!config || !Array.isArray(config.rules))
      throw new GuardianError('CONFIG_INVALID', 'egress rules missing');
    for (const key of Object.keys(config)) {
      if (key !== 'rules') throw new GuardianError('CONFIG_INVALID', `egress: unknown field ${key}`);
    }
    this.rules = config.rules.map(compileRule);
  }

  /** True when some single rule allows host, protocol, port and payload size together. */
  allows(destination: Destination): boolean {
    const host = normalizeHost(destination.host);
    if (!host) return false;
    const protocol = typeof destination.protocol === 'string' ? destination.protocol.toLowerCase() : '';
    const size = destination.payload_bytes;
    if (!Number.isSafeInteger(size) || size < 0) return false;
    for (const rule of this.rules) {
      if (!rule.protocols.has(protocol) || size > rule.maxPayload) continue;
      if (rule.ports !== null && (destination.port === undefined || !rule.ports.has(destination.port)))
        continue;
      if (host.kind === 'ip') {
        if (rule.cidrs.some((c) => cidrContains(c, host.ip))) return true;
      } else if (rule.exact.has(host.name) || rule.suffixes.some((s) => host.name.endsWith(s))) {
        return true;
      }
    }
    return false;
  }
}
