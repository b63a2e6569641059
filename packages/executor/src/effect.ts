// Effect construction on the executor side (docs/spec/pipeline.md §Effect). The executor builds the
// Effect of a call from the pinned descriptor alone — never from caller claims — and checks that
// the guardian's intent binds exactly its digest. The rule matches the guardian's: `destination`
// is the destination host (present only for tools with a declared destination).
import { EFFECT_TYPE, type Effect } from '@helm/contracts/effect';
import type { ToolDescriptor } from '@helm/contracts/tool';
import type { JsonValue } from '@helm/contracts/wire';
import { canonicalize } from '@helm/crypto/jcs';
import type { Destination } from '@helm/guardian';

/**
 * The effect's resource: the string at the descriptor's `resource_pointer` (RFC 6901) in the args;
 * a non-string value there is its JCS text; a missing one is ""; no pointer means the tool name.
 */
export function resolveResource(args: JsonValue, pointer: string | undefined, toolName: string): string {
  if (pointer === undefined) return toolName;
  let node: JsonValue | undefined = args;
  if (pointer !== '') {
    for (const raw of pointer.slice(1).split('/')) {
      const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      if (typeof node !== 'object' || node === null) return '';
      if (Array.isArray(node)) {
        node = /^(0|[1-9][0-9]*)$/.test(token) ? (node as readonly JsonValue[])[Number(token)] : undefined;
      } else {
        const record = node as { readonly [key: string]: JsonValue };
        node = Object.hasOwn(record, token) ? record[token] : undefined;
      }
      if (node === undefined) return '';
    }
  }
  return typeof node === 'string' ? node : canonicalize(node);
}

/** The parsed parts of a descriptor `destination` origin, or undefined when it is not an origin. */
export function parseOrigin(origin: string): { host: string; protocol: string; port?: number } | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  // Only a canonical origin is accepted: no path, query, fragment, credentials or default port.
  if (url.origin !== origin || url.hostname.length === 0) return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const protocol = url.protocol.slice(0, -1);
  return url.port === '' ? { host, protocol } : { host, protocol, port: Number(url.port) };
}

/** Gate 3's view of a call: the descriptor's destination plus the payload size. */
export function egressDestination(descriptor: ToolDescriptor, payload: Uint8Array): Destination | null {
  if (descriptor.destination === undefined) return null;
  const origin = parseOrigin(descriptor.destination);
  // The registry admits only parseable origins; an unparseable one here means tampering: no egress.
  if (!origin) return { host: '', protocol: 'invalid', payload_bytes: payload.length };
  return { ...origin, payload_bytes: payload.length };
}

/** The Effect of a call on a pinned tool: what the guardian authorizes and the intent binds. */
export function buildEffect(
  descriptor: ToolDescriptor,
  principal: string,
  args: JsonValue,
  argsHash: string,
): Effect {
  const origin = descriptor.destination === undefined ? undefined : parseOrigin(descriptor.destination);
  return {
    type: EFFECT_TYPE,
    effect_type: descriptor.effect_type,
    tool: descriptor.name,
    action: descriptor.action,
    resource: resolveResource(args, descriptor.resource_pointer, descriptor.name),
    principal,
    args_hash: argsHash,
    ...(origin ? { destination: origin.host } : {}),
    risk_tier: descriptor.risk_tier,
  };
}
