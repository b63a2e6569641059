// The egress allowlist of a data directory (Gate 3, docs/spec/policy.md §Egress allowlist): the
// rules `config.json` starts with, then the `egress.allow` / `egress.remove` governance events in
// order. One fold (`applyEgressEdit`) serves the runtime, which replaces the guardian's allowlist
// as it ingests each event, and the commands that list it without opening the runtime.
//
// What an operator types (`helmts egress allow <target>`) becomes one rule. A target is a hostname,
// a `*.suffix` wildcard, an IP address or a CIDR range. An IP address is accepted here and written
// as the /32 (IPv4) or /128 (IPv6) `cidrs` entry the spec matches IP destinations against; a
// numeric spelling of an address (`2130706433`, `0x7f.1`, `127.1`) is refused, because what it
// means is not what it looks like. A URL is refused with the command that says what was meant.

import type { Signer } from '@helm/crypto';
import { canonicalBytes, digest } from '@helm/crypto';
import {
  type EgressConfig,
  EgressPolicy,
  type EgressRule,
  GuardianError,
  normalizeHost,
} from '@helm/guardian';
import type { Json } from '@helm/store';
import { RuntimeError } from '../errors.js';
import type { DataDir, HelmConfig } from './datadir.js';
import {
  appendGovernanceEvent,
  type GovernanceAction,
  type GovernanceEventRecord,
  type GovernanceHandler,
  readGovernanceApplications,
  readGovernanceLog,
} from './governance.js';
import type { GovernedRuntime } from './runtime.js';

/** Where the documentation of the format lives (every configuration error's hint points there). */
export const EGRESS_DOC_HINT =
  'edit the allowlist with `helmts egress allow|remove` (docs/cli.md §Egress); config.json "egress" is {"rules": [{hosts?, cidrs?, protocols, ports?, max_payload_bytes}]}';

/** Default payload cap of a rule made by `helmts egress allow` (1 MiB). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

/** One rule of the allowlist with its id (the first 16 hex digits of the digest of its JCS). */
export interface EgressEntry {
  readonly id: string;
  readonly rule: EgressRule;
}

/** The id of a rule: content-addressed, so the same rule has the same id wherever it comes from. */
export function egressRuleId(rule: EgressRule): string {
  return digest(canonicalBytes(rule)).slice('sha256:'.length, 'sha256:'.length + 16);
}

/** Compile the rules the guardian's way; a defect is CONFIG_INVALID with `where` and the doc hint. */
function compile(rules: readonly EgressRule[], where: string): void {
  try {
    new EgressPolicy({ rules });
  } catch (error) {
    if (error instanceof GuardianError)
      throw new RuntimeError('CONFIG_INVALID', `${where}: ${error.message}`, EGRESS_DOC_HINT);
    throw error;
  }
}

/**
 * The rules `config.json` declares: `{"rules": [...]}` as documented, or the bare list earlier
 * versions wrote (still read). Validated whole: CONFIG_INVALID names the defect and the fix.
 */
export function baseEgress(config: HelmConfig): EgressEntry[] {
  const raw = (config as { egress?: unknown }).egress;
  let rules: unknown;
  if (raw === undefined || raw === null) rules = [];
  else if (Array.isArray(raw)) rules = raw;
  else if (typeof raw === 'object') {
    const keys = Object.keys(raw);
    const extra = keys.find((k) => k !== 'rules');
    if (extra !== undefined)
      throw new RuntimeError('CONFIG_INVALID', `config.json egress: unknown field ${extra}`, EGRESS_DOC_HINT);
    rules = (raw as { rules?: unknown }).rules;
  }
  if (!Array.isArray(rules))
    throw new RuntimeError('CONFIG_INVALID', 'config.json egress: "rules" must be a list', EGRESS_DOC_HINT);
  compile(rules as EgressRule[], 'config.json egress');
  return dedupe((rules as EgressRule[]).map((rule) => ({ id: egressRuleId(rule), rule })));
}

function dedupe(entries: readonly EgressEntry[]): EgressEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.id) && seen.add(e.id));
}

/** The guardian configuration for an allowlist. */
export function egressConfig(entries: readonly EgressEntry[]): EgressConfig {
  return { rules: entries.map((e) => e.rule) };
}

/** What an `egress.allow` / `egress.remove` event carries. */
export type EgressEdit =
  | { readonly action: 'egress.allow'; readonly body: { readonly rule: EgressRule } }
  | { readonly action: 'egress.remove'; readonly body: { readonly rule_id: string } };

/** The outcome of one edit: the new allowlist, or the old one and why the edit changed nothing. */
export type EgressEditResult =
  | { readonly applied: true; readonly entries: EgressEntry[]; readonly id: string }
  | { readonly applied: false; readonly entries: readonly EgressEntry[]; readonly why: string };

/**
 * Apply one edit (pure, deterministic: the runtime and the listing commands fold the same events
 * the same way). `strict` (first application, and the check before appending): an allow of a rule
 * already listed, a remove of a rule not listed, or a body that does not validate changes nothing.
 * `replay` (re-applying at a later open an edit whose first application is recorded): an allow of a
 * listed rule and a remove of an unlisted one are no-ops that succeed, so re-application never
 * fails on what config.json says now.
 */
export function applyEgressEdit(
  entries: readonly EgressEntry[],
  edit: EgressEdit,
  mode: 'strict' | 'replay' = 'strict',
): EgressEditResult {
  const body = edit.body as unknown as Record<string, unknown> | null;
  if (body === null || typeof body !== 'object') return { applied: false, entries, why: 'malformed body' };
  for (const key of Object.keys(body))
    if (key !== (edit.action === 'egress.allow' ? 'rule' : 'rule_id'))
      return { applied: false, entries, why: `unknown field ${key}` };
  if (edit.action === 'egress.allow') {
    const rule = body.rule as EgressRule;
    try {
      new EgressPolicy({ rules: [rule] });
    } catch (error) {
      return { applied: false, entries, why: (error as Error).message };
    }
    const id = egressRuleId(rule);
    if (entries.some((e) => e.id === id))
      return mode === 'replay'
        ? { applied: true, entries: [...entries], id }
        : { applied: false, entries, why: `rule ${id} is already listed` };
    return { applied: true, entries: [...entries, { id, rule }], id };
  }
  const id = body.rule_id;
  if (typeof id !== 'string') return { applied: false, entries, why: 'rule_id must be a string' };
  if (!entries.some((e) => e.id === id))
    return mode === 'replay'
      ? { applied: true, entries: [...entries], id }
      : { applied: false, entries, why: `no rule ${id} is listed` };
  return { applied: true, entries: entries.filter((e) => e.id !== id), id };
}

const IPV4_STRICT = /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/;

/** Canonical text of an address from normalizeHost: dotted IPv4, or 8 hex groups. */
function addressText(ip: { readonly version: 4 | 6; readonly bytes: Uint8Array }): string {
  if (ip.version === 4) return [...ip.bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

/** What one `helmts egress allow` target contributes to the rule: a host pattern or a CIDR. */
export type EgressTarget = { readonly host: string } | { readonly cidr: string };

/**
 * Parse one target typed by an operator. Throws USAGE with a hint that shows what to type for a
 * URL, a `host:port`, a numeric address spelling, or anything that is not a host at all.
 */
export function parseEgressTarget(text: string): EgressTarget {
  const usage = (message: string, hint: string) => new RuntimeError('USAGE', message, hint);
  if (typeof text !== 'string' || text.length === 0 || text.length > 1024)
    throw usage(
      'an egress target must be a hostname, *.domain, an IP address or a CIDR range',
      EGRESS_TARGETS,
    );
  const url = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(text);
  if (url) {
    let suggestion = '';
    try {
      const u = new URL(text);
      const protocol = u.protocol.slice(0, -1);
      suggestion = `helmts egress allow ${u.hostname} --protocol ${protocol}${u.port ? ` --port ${u.port}` : ''}`;
    } catch {
      suggestion = 'helmts egress allow <host> --protocol <protocol> --port <port>';
    }
    throw usage(
      `${text} is a URL: an egress rule names a host (or address), its protocols and ports separately`,
      `${suggestion} (paths are not part of an egress rule)`,
    );
  }
  if (text.includes('/')) {
    const slash = text.indexOf('/');
    const address = text.slice(0, slash);
    const literal = normalizeHost(address);
    if (literal?.kind !== 'ip' || !isStrictLiteral(address))
      throw usage(
        `${text} is not a CIDR range`,
        'a CIDR range is an IP address and a prefix length, e.g. 10.0.0.0/8 or 2001:db8::/32',
      );
    const cidr = `${literal.ip.version === 4 ? addressText(literal.ip) : address.toLowerCase()}${text.slice(slash)}`;
    try {
      new EgressPolicy({ rules: [{ cidrs: [cidr], protocols: ['https'], max_payload_bytes: 0 }] });
    } catch {
      throw usage(
        `${text} is not a CIDR range`,
        'the prefix length is 0-32 for IPv4 and 0-128 for IPv6, e.g. 10.0.0.0/8',
      );
    }
    return { cidr };
  }
  const wildcard = text.startsWith('*.');
  const body = wildcard ? text.slice(2) : text;
  if (!wildcard && /^[^:[\]]+:[0-9]+$/.test(text)) {
    const [host, port] = text.split(':');
    throw usage(`${text} includes a port`, `helmts egress allow ${host} --port ${port}`);
  }
  const normalized = normalizeHost(body);
  if (normalized === undefined || body.includes('*'))
    throw usage(`${text} is not a hostname, IP address or CIDR range`, EGRESS_TARGETS);
  if (normalized.kind === 'ip') {
    if (wildcard)
      throw usage(`${text}: a wildcard must be followed by a domain name, not an address`, EGRESS_TARGETS);
    const canonical = addressText(normalized.ip);
    if (!isStrictLiteral(body))
      throw usage(
        `${text} is the IPv4 address ${canonical} written in a numeric form; nothing was allowed`,
        `write the address as ${canonical} if that is what you mean: helmts egress allow ${canonical}`,
      );
    return { cidr: `${canonical}/${normalized.ip.version === 4 ? 32 : 128}` };
  }
  if (wildcard && !normalized.name.includes('.'))
    throw usage(
      `${text}: a wildcard must name at least two labels`,
      'e.g. *.example.com (matches every subdomain, never example.com itself)',
    );
  return { host: wildcard ? `*.${normalized.name}` : normalized.name };
}

const EGRESS_TARGETS =
  'targets: a hostname (api.example.com), a wildcard (*.example.com: every subdomain, not the domain itself), an IP address (127.0.0.1, ::1) or a CIDR range (10.0.0.0/8)';

/** An address written as an address: dotted-quad IPv4, or IPv6 (optionally in brackets). */
function isStrictLiteral(text: string): boolean {
  return IPV4_STRICT.test(text) || text.includes(':');
}

export interface EgressAllowInput {
  readonly targets: readonly string[];
  /** Lowercase protocols (default ["https"]). */
  readonly protocols?: readonly string[];
  readonly ports?: readonly number[];
  readonly maxPayloadBytes?: number;
}

/** The rule `helmts egress allow` appends: validated by the guardian's own compiler. */
export function egressRuleFrom(input: EgressAllowInput): EgressRule {
  if (input.targets.length === 0)
    throw new RuntimeError('USAGE', 'name at least one host, address or CIDR range to allow', EGRESS_TARGETS);
  const hosts: string[] = [];
  const cidrs: string[] = [];
  for (const t of input.targets.map(parseEgressTarget)) {
    if ('host' in t) hosts.includes(t.host) || hosts.push(t.host);
    else cidrs.includes(t.cidr) || cidrs.push(t.cidr);
  }
  const protocols = [...new Set((input.protocols ?? ['https']).map((p) => p.toLowerCase()))];
  for (const p of protocols)
    if (!/^[a-z][a-z0-9+.-]{0,31}$/.test(p))
      throw new RuntimeError(
        'USAGE',
        `--protocol ${p} is not a protocol name`,
        'e.g. --protocol https --protocol http',
      );
  const ports = input.ports === undefined ? undefined : [...new Set(input.ports)].sort((a, b) => a - b);
  for (const port of ports ?? [])
    if (!Number.isSafeInteger(port) || port < 1 || port > 65535)
      throw new RuntimeError('USAGE', `--port ${port} is not a port`, 'ports are integers from 1 to 65535');
  const max = input.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (!Number.isSafeInteger(max) || max < 0)
    throw new RuntimeError(
      'USAGE',
      '--max-payload must be a non-negative integer (bytes)',
      'e.g. --max-payload 65536',
    );
  const rule: EgressRule = {
    ...(hosts.length > 0 ? { hosts: hosts.sort() } : {}),
    ...(cidrs.length > 0 ? { cidrs: cidrs.sort() } : {}),
    protocols: protocols.sort(),
    ...(ports === undefined || ports.length === 0 ? {} : { ports }),
    max_payload_bytes: max,
  };
  compile([rule], 'egress rule');
  return rule;
}

// ── governance: egress.allow / egress.remove ────────────────────────────────────────────────────

/** A rule as `helmts egress list` shows it. */
export interface EgressView extends EgressEntry {
  readonly source: 'config.json' | { readonly event: number };
  /** `pending`: appended, not yet applied by a runtime (the next open or decision applies it). */
  readonly status: 'applied' | 'pending';
}

/** A governance event not yet applied by any runtime. */
export interface PendingEdit {
  readonly seq: number;
  readonly action: GovernanceAction;
  readonly body: Json;
}

/**
 * The effective allowlist of a data directory without opening the runtime: config.json's rules,
 * then every egress event of the verified governance log as the runtime applies it.
 */
export function egressList(data: DataDir): { rules: EgressView[]; pending: PendingEdit[] } {
  const events = readGovernanceLog(data);
  const applications = readGovernanceApplications(data);
  let entries: readonly EgressEntry[] = baseEgress(data.config());
  const origin = new Map<string, Pick<EgressView, 'source' | 'status'>>();
  const pending: PendingEdit[] = [];
  for (const e of events) {
    if (e.action !== 'egress.allow' && e.action !== 'egress.remove') continue;
    const recorded = applications.get(e.seq);
    if (recorded?.outcome === 'rejected') continue;
    const edit = { action: e.action, body: e.body } as unknown as EgressEdit;
    const r = applyEgressEdit(entries, edit, recorded === undefined ? 'strict' : 'replay');
    if (!r.applied) continue;
    entries = r.entries;
    if (recorded === undefined) pending.push({ seq: e.seq, action: e.action, body: e.body as Json });
    if (e.action === 'egress.allow')
      origin.set(r.id, { source: { event: e.seq }, status: recorded === undefined ? 'pending' : 'applied' });
  }
  return {
    rules: entries.map((e) => ({
      ...e,
      ...(origin.get(e.id) ?? { source: 'config.json' as const, status: 'applied' as const }),
    })),
    pending,
  };
}

/** The allowlist a runtime holds (config.json's at open, then each applied edit). */
const runtimeEntries = new WeakMap<GovernedRuntime, readonly EgressEntry[]>();

export const EGRESS_HANDLERS: Partial<Record<GovernanceAction, GovernanceHandler>> = {
  'egress.allow': egressHandler('egress.allow'),
  'egress.remove': egressHandler('egress.remove'),
};

function egressHandler(action: 'egress.allow' | 'egress.remove'): GovernanceHandler {
  return {
    // Before the event is appended: it must change the allowlist as it is now.
    check(event, data) {
      const current = egressList(data).rules.map(({ id, rule }) => ({ id, rule }));
      const r = applyEgressEdit(current, { action, body: event.body } as unknown as EgressEdit, 'strict');
      if (!r.applied)
        throw new RuntimeError(
          'INVALID_INPUT',
          `${action}: ${r.why}; nothing was appended`,
          '`helmts egress list` shows the rules in force and their ids',
        );
    },
    apply(event, runtime, context) {
      const current = runtimeEntries.get(runtime) ?? baseEgress(runtime.config);
      const edit = { action, body: event.body } as unknown as EgressEdit;
      const r = applyEgressEdit(current, edit, context.first ? 'strict' : 'replay');
      if (!r.applied) return { applied: false, code: 'EGRESS_EDIT_REFUSED', detail: r.why };
      runtime.guardian.replaceEgress(egressConfig(r.entries), event.signer);
      runtimeEntries.set(runtime, r.entries);
      return {
        applied: true,
        output: (action === 'egress.allow'
          ? { rule_id: r.id, rule: event.body.rule }
          : { rule_id: r.id }) as Json,
      };
    },
  };
}

/** Append `egress.allow` for one rule (refused when it is listed already). */
export function egressAllow(
  data: DataDir,
  rule: EgressRule,
  signer: Signer,
  at: number,
): GovernanceEventRecord {
  return appendGovernanceEvent(data, {
    action: 'egress.allow',
    body: { rule } as unknown as Json,
    signer,
    at,
  });
}

/** Append `egress.remove` for a listed rule id (refused when no rule has it). */
export function egressRemove(
  data: DataDir,
  ruleId: string,
  signer: Signer,
  at: number,
): GovernanceEventRecord {
  return appendGovernanceEvent(data, { action: 'egress.remove', body: { rule_id: ruleId }, signer, at });
}
