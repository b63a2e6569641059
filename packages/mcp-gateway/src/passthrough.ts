// The MCP methods besides tools that an operator may pass through to an upstream
// (docs/mcp-gateway.md §Methods): resources, prompts and completion, per upstream, only when
// gateway.json's `upstreams.<name>.allow` names the family. Nothing here is governed like a tool
// call (no policy decision, no receipt): a pass-through is the operator's standing decision for
// that upstream, so the gateway only routes, renames, bounds and counts it. Every other target
// (an upstream that does not allow the family, an unknown upstream, a name without its prefix) is
// refused with a stable reason code and never reaches any upstream.
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { GatewayConfig, PassThrough } from './config.js';
import type { PassThroughMethod, Upstream } from './upstream.js';

/** Why a pass-through request was refused (JSON-RPC error `data.helm.reason_code`). */
export type PassThroughRefusal =
  /** The target's upstream does not allow this method family (or no upstream has that name). */
  | 'METHOD_NOT_ALLOWED'
  /** The upstream's answer is larger than `max_result_bytes`: withheld. */
  | 'RESULT_TOO_LARGE'
  /** The upstream failed without a JSON-RPC error of its own. */
  | 'UPSTREAM_ERROR'
  /**
   * The upstream answered with a request of its own (a 2026-07-28 input-required result asking
   * for sampling, elicitation or roots): never relayed to the client.
   */
  | 'UPSTREAM_REQUEST_REFUSED';

/**
 * Characters of an upstream's JSON-RPC error message relayed, and bytes of its `data` (as JSON;
 * larger data is dropped): an error is an answer of the upstream's too, bounded far below
 * max_result_bytes and scanned by the face like any answer (I-MCP-12).
 */
export const UPSTREAM_ERROR_CHARS = 1024;

/** The client's request params without its `_meta` (session handle, progress token): the gateway's, not the upstream's. */
function withoutMeta(params: Json): Json {
  const { _meta: _, ...rest } = params;
  return rest;
}

/** An upstream error's `data` when it is an object whose JSON fits UPSTREAM_ERROR_CHARS; else none. */
function boundedData(data: unknown): Json | undefined {
  if (!isObject(data)) return undefined;
  return Buffer.byteLength(JSON.stringify(data)) <= UPSTREAM_ERROR_CHARS ? data : undefined;
}

/** `_meta` key marking a passed-through result as untrusted input, as tool results are. */
export const UNTRUSTED_META = 'helm.dev/untrusted';
/** Scheme of a prefixed resource URI: `helm+<upstream>:<the upstream's URI>`. */
const URI_SCHEME = /^helm\+([a-z0-9][a-z0-9-]{0,31}):/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One counter per `<upstream|-> <method> <forwarded|refused reason>` (bounded: upstreams x methods x outcomes). */
export type PassThroughCounts = Readonly<Record<string, number>>;

export class PassThroughRouter {
  readonly #config: GatewayConfig;
  readonly #upstreams: ReadonlyMap<string, Upstream>;
  readonly #counts = new Map<string, number>();

  constructor(config: GatewayConfig, upstreams: ReadonlyMap<string, Upstream>) {
    this.#config = config;
    this.#upstreams = upstreams;
  }

  /** Whether any upstream allows `family` (the face declares the capability only then). */
  offers(family: PassThrough): boolean {
    return Object.values(this.#config.upstreams).some((u) => u.allow.includes(family));
  }

  /** Pass-through requests so far, forwarded and refused, per upstream and method. */
  counts(): PassThroughCounts {
    return Object.fromEntries(this.#counts);
  }

  #count(upstream: string, method: string, outcome: string): void {
    const key = `${upstream} ${method} ${outcome}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** The client-facing URI of an upstream's resource URI (template or URI alike). */
  clientUri(upstream: string, uri: string): string {
    return this.#config.prefix ? `helm+${upstream}:${uri}` : uri;
  }

  #byUri(uri: unknown): { upstream: string; target: string } | undefined {
    if (typeof uri !== 'string') return undefined;
    if (!this.#config.prefix)
      return { upstream: Object.keys(this.#config.upstreams)[0] as string, target: uri };
    const m = URI_SCHEME.exec(uri);
    return m ? { upstream: m[1] as string, target: uri.slice(m[0].length) } : undefined;
  }

  #byName(name: unknown): { upstream: string; target: string } | undefined {
    if (typeof name !== 'string') return undefined;
    if (!this.#config.prefix)
      return { upstream: Object.keys(this.#config.upstreams)[0] as string, target: name };
    const at = name.indexOf('__');
    return at > 0 ? { upstream: name.slice(0, at), target: name.slice(at + 2) } : undefined;
  }

  /** The connected upstream allowing `family` for this target, or a refusal (counted). */
  #route(
    method: string,
    family: PassThrough,
    target: { upstream: string; target: string } | undefined,
  ): { upstream: Upstream; target: string } {
    const config =
      target && Object.hasOwn(this.#config.upstreams, target.upstream)
        ? this.#config.upstreams[target.upstream]
        : undefined;
    const upstream = config?.allow.includes(family)
      ? this.#upstreams.get(target?.upstream as string)
      : undefined;
    if (!upstream || !target) {
      this.#count(config ? (target?.upstream as string) : '-', method, 'refused METHOD_NOT_ALLOWED');
      throw refusal(
        ProtocolErrorCode.InvalidParams,
        `HELM: ${method} is not allowed for this target (gateway.json upstreams.<name>.allow)`,
        'METHOD_NOT_ALLOWED',
      );
    }
    return { upstream, target: target.target };
  }

  /** Forward one request; bound its answer; count it. */
  async #forward(upstream: Upstream, method: PassThroughMethod, params: Json): Promise<Json> {
    let result: unknown;
    try {
      result = await upstream.request(method, params, this.#config.call_timeout_ms);
    } catch (error) {
      // The gateway's upstream client declares no client capabilities, so an input-required
      // result asking for sampling, elicitation or roots fails in the SDK with -32021.
      if (error instanceof ProtocolError && error.code === ProtocolErrorCode.MissingRequiredClientCapability)
        return this.#upstreamAsked(upstream, method);
      this.#count(upstream.name, method, 'refused UPSTREAM_ERROR');
      // The upstream's own JSON-RPC error (e.g. resource not found) keeps its code; its message
      // is the upstream's text, passed as such. Anything else is one stable code.
      if (
        error instanceof ProtocolError &&
        Number.isSafeInteger(error.code) &&
        error.code !== ProtocolErrorCode.InternalError
      )
        throw refusal(
          error.code,
          `upstream ${upstream.name}: ${error.message.slice(0, UPSTREAM_ERROR_CHARS)}`,
          'UPSTREAM_ERROR',
          boundedData(error.data),
        );
      throw refusal(
        ProtocolErrorCode.InternalError,
        `HELM: upstream ${upstream.name} failed`,
        'UPSTREAM_ERROR',
      );
    }
    if (!isObject(result) || Buffer.byteLength(JSON.stringify(result)) > this.#config.max_result_bytes) {
      this.#count(upstream.name, method, 'refused RESULT_TOO_LARGE');
      throw refusal(
        ProtocolErrorCode.InternalError,
        `HELM: the answer of upstream ${upstream.name} was withheld (not an object or over max_result_bytes)`,
        'RESULT_TOO_LARGE',
      );
    }
    // An upstream's server→client request rides in an input-required result on 2026-07-28 (on
    // 2025-11-25 it is a request the gateway's upstream client answers "method not found"): the
    // client never sees it, whatever it asks for.
    if ((result.resultType !== undefined && result.resultType !== 'complete') || 'inputRequests' in result)
      return this.#upstreamAsked(upstream, method);
    this.#count(upstream.name, method, 'forwarded');
    return result;
  }

  #upstreamAsked(upstream: Upstream, method: PassThroughMethod): never {
    this.#count(upstream.name, method, 'refused UPSTREAM_REQUEST_REFUSED');
    throw refusal(
      ProtocolErrorCode.InternalError,
      `HELM: upstream ${upstream.name} asked for client input; the gateway relays no server-to-client request`,
      'UPSTREAM_REQUEST_REFUSED',
    );
  }

  /** resources/list, resources/templates/list, prompts/list: every allowing upstream's, renamed. */
  async list(method: 'resources/list' | 'resources/templates/list' | 'prompts/list'): Promise<Json> {
    const family: PassThrough = method === 'prompts/list' ? 'prompts' : 'resources';
    const member =
      method === 'resources/list' ? 'resources' : method === 'prompts/list' ? 'prompts' : 'resourceTemplates';
    const items: unknown[] = [];
    for (const [name, config] of Object.entries(this.#config.upstreams)) {
      const upstream = this.#upstreams.get(name);
      if (!upstream || !config.allow.includes(family)) continue;
      // One upstream failing leaves its items out of the list; the others still answer.
      const page = await this.#forward(upstream, method, {}).catch(() => undefined);
      const listed = page?.[member];
      if (!Array.isArray(listed)) continue;
      for (const item of listed) {
        if (!isObject(item)) continue;
        if (family === 'prompts' && typeof item.name === 'string')
          items.push({ ...item, name: this.#config.prefix ? `${name}__${item.name}` : item.name });
        else if (member === 'resources' && typeof item.uri === 'string')
          items.push({ ...item, uri: this.clientUri(name, item.uri) });
        else if (member === 'resourceTemplates' && typeof item.uriTemplate === 'string')
          items.push({ ...item, uriTemplate: this.clientUri(name, item.uriTemplate) });
      }
    }
    // The whole aggregate in one page: upstream cursors cannot be merged into one.
    return { [member]: items, _meta: { [UNTRUSTED_META]: true } };
  }

  async readResource(params: Json): Promise<Json> {
    const { upstream, target } = this.#route('resources/read', 'resources', this.#byUri(params.uri));
    const r = await this.#forward(upstream, 'resources/read', { ...withoutMeta(params), uri: target });
    const contents = Array.isArray(r.contents)
      ? r.contents.map((c) =>
          isObject(c) && typeof c.uri === 'string' ? { ...c, uri: this.clientUri(upstream.name, c.uri) } : c,
        )
      : r.contents;
    return { ...r, contents, _meta: { ...(isObject(r._meta) ? r._meta : {}), [UNTRUSTED_META]: true } };
  }

  async getPrompt(params: Json): Promise<Json> {
    const { upstream, target } = this.#route('prompts/get', 'prompts', this.#byName(params.name));
    const r = await this.#forward(upstream, 'prompts/get', { ...withoutMeta(params), name: target });
    return { ...r, _meta: { ...(isObject(r._meta) ? r._meta : {}), [UNTRUSTED_META]: true } };
  }

  async complete(params: Json): Promise<Json> {
    const ref = isObject(params.ref) ? params.ref : {};
    const byRef =
      ref.type === 'ref/prompt'
        ? this.#byName(ref.name)
        : ref.type === 'ref/resource'
          ? this.#byUri(ref.uri)
          : undefined;
    const { upstream, target } = this.#route('completion/complete', 'completion', byRef);
    const renamed = ref.type === 'ref/prompt' ? { ...ref, name: target } : { ...ref, uri: target };
    return this.#forward(upstream, 'completion/complete', { ...withoutMeta(params), ref: renamed });
  }
}

/** The error to the client; an upstream's own error `data` (an object) is kept beside `helm`. */
function refusal(code: number, message: string, reason: PassThroughRefusal, data?: unknown): ProtocolError {
  return new ProtocolError(code, message, { ...(isObject(data) ? data : {}), helm: { reason_code: reason } });
}
