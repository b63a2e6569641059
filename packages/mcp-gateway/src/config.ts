// gateway.json (`helm.mcp.gateway.v1`, docs/mcp-gateway.md §Configuration): the static configuration of an
// MCP gateway. Upstreams come from here only (never from a client); what a tool may do comes from
// the operator's classification here (never from the upstream's annotations, which are untrusted).
// Parsed strictly: an unknown member anywhere is refused, so a typo cannot silently widen anything.
import { EFFECT_TYPE_PATTERN, RISK_TIERS, type RiskTier } from '@helm/contracts';
import { GatewayError } from './errors.js';

export const GATEWAY_CONFIG_TYPE = 'helm.mcp.gateway.v1';

/**
 * Method families besides tools an upstream may have passed through (docs/mcp-gateway.md
 * §Methods). Default: none. The server→client families (sampling, elicitation, roots), logging
 * and subscriptions are named in PASS_THROUGH_NOT_OFFERED: refused at load, so a config cannot
 * believe it enabled them.
 */
export const PASS_THROUGH = ['resources', 'prompts', 'completion'] as const;
export type PassThrough = (typeof PASS_THROUGH)[number];
const PASS_THROUGH_NOT_OFFERED = ['logging', 'subscriptions', 'sampling', 'elicitation', 'roots'];

/** An upstream spawned as a child process speaking MCP on its stdio. */
export interface StdioUpstreamConfig {
  readonly transport: 'stdio';
  readonly command: string;
  readonly args: readonly string[];
  /** Working directory of the child (default: the directory of gateway.json). */
  readonly cwd: string;
  /**
   * The child's whole environment besides PATH: literal values, or `{ "env": "NAME" }` read from the
   * gateway's own environment. Nothing else of the gateway's environment is passed on.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Method families passed through to this upstream (default: none). */
  readonly allow: readonly PassThrough[];
}

/** An upstream reached over Streamable HTTP with its own credentials. */
export interface HttpUpstreamConfig {
  readonly transport: 'http';
  readonly url: string;
  /** Request headers (credentials) for this upstream only; values literal or `{ "env": "NAME" }`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Method families passed through to this upstream (default: none). */
  readonly allow: readonly PassThrough[];
}

export type UpstreamConfig = StdioUpstreamConfig | HttpUpstreamConfig;

/** The operator's classification of one tool (the upstream's annotations never decide it). */
export interface ToolClassification {
  readonly effect_type: string;
  readonly risk_tier: RiskTier;
  readonly action: string;
  readonly resource_pointer?: string;
}

export interface GatewayConfig {
  readonly type: typeof GATEWAY_CONFIG_TYPE;
  /** The principal every call of the stdio face is made for (the desktop user). */
  readonly principal: string;
  /** Tool names `<upstream>__<tool>` (default); false only with exactly one upstream. */
  readonly prefix: boolean;
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
  /** Classification per gateway tool name; unclassified tools are `unknown`, HIGH risk. */
  readonly tools: Readonly<Record<string, ToolClassification>>;
  /** Hard per-call upstream timeout. */
  readonly call_timeout_ms: number;
  /** Largest upstream result accepted (bytes of its JSON); larger ones are refused DRIVER_ERROR. */
  readonly max_result_bytes: number;
  /** Lifetime of a sealed escalation handle. */
  readonly escalation_ttl_ms: number;
  /**
   * The approval page of a challenge on the stdio face: an http(s) URL template holding `{id}`
   * (e.g. `http://127.0.0.1:8080/v1/approvals/{id}` of a `helmts serve` on the same data
   * directory). With it, a held call answers a client that declared URL elicitation with an
   * elicitation of that page. (`helmts serve --mcp` uses its own `/v1/approvals/{id}`.)
   */
  readonly approval_url?: string;
}

export const UPSTREAM_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

const fail = (member: string, what: string): never => {
  throw new GatewayError(
    'MCP_CONFIG_INVALID',
    `gateway.json: ${member} ${what}`,
    'docs/mcp-gateway.md §Configuration lists every member',
  );
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function only(v: Record<string, unknown>, member: string, allowed: readonly string[]): void {
  for (const k of Object.keys(v)) if (!allowed.includes(k)) fail(`${member}.${k}`, 'is not a known member');
}

function str(v: unknown, member: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(member, 'must be a non-empty string');
  return v as string;
}

function int(v: unknown, member: string, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > max)
    fail(member, `must be an integer from 1 to ${max}`);
  return v as number;
}

/** Literal values, or `{ "env": "NAME" }` resolved from `environment` (missing: refused). */
function values(
  v: unknown,
  member: string,
  environment: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) fail(member, 'must be an object');
  const out: Record<string, string> = {};
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    if (typeof raw === 'string') out[k] = raw;
    else if (isObject(raw) && Object.keys(raw).length === 1 && typeof raw.env === 'string') {
      if (!SECRET_NAME.test(raw.env)) fail(`${member}.${k}.env`, 'must name an environment variable');
      const value = environment[raw.env];
      if (value === undefined) fail(`${member}.${k}`, `reads $${raw.env}, which is not set`);
      out[k] = value as string;
    } else fail(`${member}.${k}`, 'must be a string or { "env": "NAME" }');
  }
  return out;
}

function upstream(
  v: unknown,
  member: string,
  baseDir: string,
  environment: Readonly<Record<string, string | undefined>>,
): UpstreamConfig {
  if (!isObject(v)) return fail(member, 'must be an object');
  if (v.transport === 'stdio') {
    only(v, member, ['transport', 'command', 'args', 'cwd', 'env', 'allow']);
    const args = v.args ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string'))
      fail(`${member}.args`, 'must be an array of strings');
    return {
      transport: 'stdio',
      command: str(v.command, `${member}.command`),
      args: args as string[],
      cwd: v.cwd === undefined ? baseDir : str(v.cwd, `${member}.cwd`),
      env: values(v.env, `${member}.env`, environment),
      allow: allowList(v.allow, `${member}.allow`),
    };
  }
  if (v.transport === 'http') {
    only(v, member, ['transport', 'url', 'headers', 'allow']);
    const url = str(v.url, `${member}.url`);
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      fail(`${member}.url`, 'is not a URL');
    }
    if (parsed?.protocol !== 'https:' && parsed?.protocol !== 'http:')
      fail(`${member}.url`, 'must be http(s)');
    return {
      transport: 'http',
      url,
      headers: values(v.headers, `${member}.headers`, environment),
      allow: allowList(v.allow, `${member}.allow`),
    };
  }
  return fail(`${member}.transport`, 'must be "stdio" or "http"');
}

/** `allow`: distinct names of PASS_THROUGH; anything else is refused at load. */
function allowList(v: unknown, member: string): PassThrough[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return fail(member, 'must be an array');
  const out: PassThrough[] = [];
  for (const name of v as unknown[]) {
    if (typeof name === 'string' && PASS_THROUGH_NOT_OFFERED.includes(name))
      fail(`${member}: "${name}"`, 'is not offered by this gateway version (docs/mcp-gateway.md §Methods)');
    if (!(PASS_THROUGH as readonly unknown[]).includes(name))
      fail(`${member}: ${JSON.stringify(name)}`, `is not one of ${PASS_THROUGH.join(', ')}`);
    if (out.includes(name as PassThrough)) fail(`${member}: "${name}"`, 'is named twice');
    out.push(name as PassThrough);
  }
  return out;
}

function classification(v: unknown, member: string): ToolClassification {
  if (!isObject(v)) return fail(member, 'must be an object');
  only(v, member, ['effect_type', 'risk_tier', 'action', 'resource_pointer']);
  const effect = str(v.effect_type, `${member}.effect_type`);
  if (!new RegExp(EFFECT_TYPE_PATTERN).test(effect)) fail(`${member}.effect_type`, 'is not an effect class');
  if (!(RISK_TIERS as readonly unknown[]).includes(v.risk_tier))
    fail(`${member}.risk_tier`, `must be one of ${RISK_TIERS.join(', ')}`);
  const pointer = v.resource_pointer;
  if (pointer !== undefined && (typeof pointer !== 'string' || !pointer.startsWith('/')))
    fail(`${member}.resource_pointer`, 'must be a JSON Pointer such as /path');
  return {
    effect_type: effect,
    risk_tier: v.risk_tier as RiskTier,
    action: str(v.action, `${member}.action`),
    ...(pointer === undefined ? {} : { resource_pointer: pointer as string }),
  };
}

/**
 * Parse a gateway.json document. `baseDir` is the default working directory of stdio upstreams;
 * `environment` is where `{ "env": NAME }` values come from (the gateway's own environment).
 */
export function parseGatewayConfig(
  doc: unknown,
  baseDir: string,
  environment: Readonly<Record<string, string | undefined>> = {},
): GatewayConfig {
  if (!isObject(doc)) return fail('the document', 'must be a JSON object');
  only(doc, '', [
    'type',
    'principal',
    'prefix',
    'upstreams',
    'tools',
    'call_timeout_ms',
    'max_result_bytes',
    'escalation_ttl_ms',
    'approval_url',
  ]);
  if (doc.type !== GATEWAY_CONFIG_TYPE) fail('type', `must be "${GATEWAY_CONFIG_TYPE}"`);
  if (!isObject(doc.upstreams) || Object.keys(doc.upstreams).length === 0)
    fail('upstreams', 'must name at least one upstream');
  const upstreams: Record<string, UpstreamConfig> = {};
  for (const [name, u] of Object.entries(doc.upstreams as Record<string, unknown>)) {
    if (!UPSTREAM_NAME.test(name)) fail(`upstreams.${name}`, `must be named by ${UPSTREAM_NAME.source}`);
    upstreams[name] = upstream(u, `upstreams.${name}`, baseDir, environment);
  }
  const prefix = doc.prefix ?? true;
  if (typeof prefix !== 'boolean') fail('prefix', 'must be a boolean');
  if (prefix === false && Object.keys(upstreams).length !== 1)
    fail('prefix', 'may be false only with exactly one upstream (names would collide)');
  // Null prototype: a tool named `constructor` or `__proto__` is an own entry, never an inherited one.
  const tools: Record<string, ToolClassification> = Object.create(null);
  if (doc.tools !== undefined) {
    if (!isObject(doc.tools)) fail('tools', 'must be an object');
    for (const [name, c] of Object.entries(doc.tools as Record<string, unknown>))
      tools[name] = classification(c, `tools.${name}`);
  }
  return {
    type: GATEWAY_CONFIG_TYPE,
    principal: str(doc.principal ?? 'local', 'principal'),
    prefix: prefix as boolean,
    upstreams,
    tools,
    call_timeout_ms: int(doc.call_timeout_ms, 'call_timeout_ms', 30_000, 600_000),
    max_result_bytes: int(doc.max_result_bytes, 'max_result_bytes', 1_048_576, 16_777_216),
    escalation_ttl_ms: int(doc.escalation_ttl_ms, 'escalation_ttl_ms', 3_600_000, 86_400_000),
    ...(doc.approval_url === undefined ? {} : { approval_url: approvalUrl(doc.approval_url) }),
  };
}

function approvalUrl(v: unknown): string {
  const template = str(v, 'approval_url');
  let url: URL | undefined;
  try {
    url = new URL(template.replace('{id}', 'x'));
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || template.split('{id}').length !== 2)
    fail('approval_url', 'must be an http(s) URL holding {id} once');
  return template;
}

/** The approval page of `challengeId` by the config's template (undefined: none configured). */
export function approvalPage(config: GatewayConfig, challengeId: string): string | undefined {
  return config.approval_url?.replace('{id}', encodeURIComponent(challengeId));
}
