// The HTTP driver: sends a governed call's validated arguments to one fixed HTTP(S) endpoint and
// returns its JSON response. It lives outside the TCB because it does network I/O.
//
// Egress binding (why Gate 3's decision holds for the bytes that actually leave):
//   * at registration, the endpoint URL (`driver.ref`) must have exactly the descriptor's
//     `destination` as its origin — the descriptor (pinned, digest-checked) names where the tool goes;
//   * the executor derives Gate 3's destination (host, protocol, port, payload size) from that same
//     descriptor and the effect the intent signs carries the host;
//   * at call time the driver refuses (DRIVER_EGRESS_DENIED) unless the authorized effect's destination
//     is the endpoint's host and the descriptor's destination is the endpoint's origin;
//   * the request body is exactly the canonical (JCS) argument bytes whose size Gate 3 checked;
//   * redirects are never followed (a redirect could leave the allowlisted destination).
import { canonicalize, parseStrictJson } from '@helm/crypto';
import { type Driver, type DriverContext, DriverFailure, type JsonValue } from '@helm/executor';

export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export interface HttpDriverOptions {
  /** HTTP method (default POST); the body is always the canonical JSON arguments. */
  readonly method?: 'POST' | 'PUT' | 'PATCH';
  /** Static request headers (e.g. an API credential). `content-type` is always application/json. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Largest accepted response body in bytes (default 1 MiB). */
  readonly maxResponseBytes?: number;
  /** The fetch implementation (default: the global fetch). */
  readonly fetch?: FetchFn;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** The endpoint's origin and bare host (IPv6 literals without brackets), as Gate 3 names them. */
export function endpointOf(ref: string): { origin: string; host: string; url: URL } | undefined {
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.hash !== '') return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { origin: url.origin, host, url };
}

async function readCapped(response: Response, cap: number): Promise<Uint8Array> {
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > cap) {
    await response.body?.cancel();
    throw new DriverFailure('DRIVER_ERROR', `response larger than ${cap} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > cap) throw new DriverFailure('DRIVER_ERROR', `response larger than ${cap} bytes`);
      chunks.push(chunk);
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** What a socket error code means, in words an operator acts on. */
const NETWORK_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
};

/**
 * fetch() rejects with a bare "fetch failed"; the reason is its `cause` (an Error with a socket
 * `code`, or an AggregateError of one per address tried). Never throws.
 */
export function describeFetchError(error: unknown): string {
  try {
    const top = error as { message?: unknown; cause?: unknown };
    const cause = top?.cause as { code?: unknown; message?: unknown; errors?: unknown } | undefined;
    const first = Array.isArray(cause?.errors) ? (cause.errors[0] as typeof cause) : undefined;
    const code = [cause?.code, first?.code].find((c): c is string => typeof c === 'string');
    const detail = [cause?.message, first?.message].find(
      (m): m is string => typeof m === 'string' && m !== '',
    );
    const words =
      code === undefined ? undefined : Object.hasOwn(NETWORK_ERRORS, code) ? NETWORK_ERRORS[code] : code;
    const base = typeof top?.message === 'string' ? top.message : String(error);
    if (words === undefined) return detail === undefined ? base : `${base} (${detail})`;
    return detail === undefined ? words : `${words} (${detail})`;
  } catch {
    return 'an unprintable error';
  }
}

/** A driver of kind `http` for one endpoint (`driver.ref` of the descriptor it is bound to). */
export function httpDriver(options: HttpDriverOptions = {}): Driver {
  const method = options.method ?? 'POST';
  const cap = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const doFetch: FetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  const headers = {
    ...(options.headers ?? {}),
    'content-type': 'application/json',
    accept: 'application/json',
  };
  return {
    kind: 'http',
    bind(descriptor) {
      const endpoint = endpointOf(descriptor.driver.ref);
      if (!endpoint)
        throw new Error('driver.ref must be an absolute http(s) URL without credentials or fragment');
      if (descriptor.destination !== endpoint.origin) {
        throw new Error(
          `driver.ref origin ${endpoint.origin} is not the declared destination ${String(descriptor.destination)}`,
        );
      }
    },
    async invoke(args: JsonValue, context: DriverContext): Promise<unknown> {
      const endpoint = endpointOf(context.descriptor.driver.ref);
      if (
        !endpoint ||
        context.descriptor.destination !== endpoint.origin ||
        context.effect.destination !== endpoint.host
      ) {
        throw new DriverFailure(
          'DRIVER_EGRESS_DENIED',
          'the endpoint is not the destination the guardian authorized',
        );
      }
      let response: Response;
      try {
        response = await doFetch(endpoint.url.href, {
          method,
          headers,
          body: canonicalize(args),
          redirect: 'error',
          signal: context.signal,
        });
      } catch (error) {
        throw new DriverFailure('DRIVER_ERROR', `request failed: ${describeFetchError(error)}`);
      }
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel();
        throw new DriverFailure('DRIVER_ERROR', `endpoint answered HTTP ${response.status}`);
      }
      const bytes = await readCapped(response, cap);
      try {
        return parseStrictJson(bytes);
      } catch {
        throw new DriverFailure('DRIVER_ERROR', 'the response is not strict JSON');
      }
    },
  };
}
