// Sealed request state (docs/spec/mcp-gateway.md §Sealed request state). Whatever the gateway
// hands a client to bring back later — the handle of a held (escalated) call — is sealed with an
// HMAC-SHA-256 key only the gateway holds, bound to the principal, upstream, tool, args digest and
// an expiry, and treated as attacker-controlled on return: a handle that does not verify, has
// expired, or names another principal, tool or arguments than the call it comes with is refused.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalBytes } from '@helm/crypto';

export const SEALED_STATE_TYPE = 'helm.mcp.sealed-state.v1';
const PREFIX = 'hs1.';

export interface SealedState {
  readonly principal: string;
  readonly upstream: string;
  readonly tool: string;
  /** digest(JCS(args)) of the held call's arguments. */
  readonly args_digest: string;
  /** The approval challenge of the held call. */
  readonly challenge_id: string;
  /** Unix ms after which the handle is refused. */
  readonly expires_at_ms: number;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

function mac(key: Uint8Array, payload: Uint8Array, type = SEALED_STATE_TYPE): Buffer {
  // Domain separation: the MAC covers the type string, a NUL, then the JCS payload.
  return createHmac('sha256', key)
    .update(type)
    .update(new Uint8Array([0]))
    .update(payload)
    .digest();
}

/** Seal `state`: `hs1.<base64url JCS payload>.<base64url HMAC>`. */
export function seal(key: Uint8Array, state: SealedState): string {
  const payload = canonicalBytes({ type: SEALED_STATE_TYPE, ...state });
  return `${PREFIX}${b64(payload)}.${b64(mac(key, payload))}`;
}

/** Why an opened handle was refused (a closed set; never the secret's detail). */
export type SealRefusal = 'malformed' | 'forged' | 'expired' | 'mismatch';

/**
 * Open a handle for the call it came with: verified MAC, not expired at `now`, and every bound
 * member equal to `expect`'s. Returns the state, or why it is refused.
 */
export function unseal(
  key: Uint8Array,
  token: unknown,
  now: number,
  expect: Omit<SealedState, 'challenge_id' | 'expires_at_ms'>,
): SealedState | SealRefusal {
  if (
    typeof token !== 'string' ||
    token.length > 4096 ||
    Buffer.byteLength(token, 'utf8') > 4096 ||
    !token.startsWith(PREFIX)
  )
    return 'malformed';
  const parts = token.slice(PREFIX.length).split('.');
  if (parts.length !== 2) return 'malformed';
  const payload = Buffer.from(parts[0] as string, 'base64url');
  const tag = Buffer.from(parts[1] as string, 'base64url');
  const want = mac(key, payload);
  if (tag.length !== want.length || !timingSafeEqual(tag, want)) return 'forged';
  let state: SealedState & { type?: string };
  try {
    state = JSON.parse(payload.toString('utf8')) as SealedState & { type?: string };
  } catch {
    return 'malformed';
  }
  if (state.type !== SEALED_STATE_TYPE || typeof state.expires_at_ms !== 'number') return 'malformed';
  if (now > state.expires_at_ms) return 'expired';
  if (
    state.principal !== expect.principal ||
    state.upstream !== expect.upstream ||
    state.tool !== expect.tool ||
    state.args_digest !== expect.args_digest ||
    typeof state.challenge_id !== 'string'
  )
    return 'mismatch';
  return state;
}

/** Type of a sealed session handle (its own MAC domain: never interchangeable with a held call's). */
export const SEALED_SESSION_TYPE = 'helm.mcp.sealed-session.v1';
const SESSION_PREFIX = 'hss1.';

/** A gateway session over a stateless face: its id, bound to the authenticated principal. */
export interface SealedSession {
  readonly principal: string;
  /** 128 random bits, base64url. */
  readonly session_id: string;
  /** Unix ms after which the handle is refused (the session ends). */
  readonly expires_at_ms: number;
}

/** Seal a session handle: `hss1.<base64url JCS payload>.<base64url HMAC>`. */
export function sealSession(key: Uint8Array, state: SealedSession): string {
  const payload = canonicalBytes({ type: SEALED_SESSION_TYPE, ...state });
  return `${SESSION_PREFIX}${b64(payload)}.${b64(mac(key, payload, SEALED_SESSION_TYPE))}`;
}

/** Open a session handle for `principal` at `now`: the state, or why it is refused. */
export function unsealSession(
  key: Uint8Array,
  token: unknown,
  now: number,
  principal: string,
): SealedSession | SealRefusal {
  if (typeof token !== 'string' || token.length > 1024 || !token.startsWith(SESSION_PREFIX))
    return 'malformed';
  const parts = token.slice(SESSION_PREFIX.length).split('.');
  if (parts.length !== 2) return 'malformed';
  const payload = Buffer.from(parts[0] as string, 'base64url');
  const tag = Buffer.from(parts[1] as string, 'base64url');
  const want = mac(key, payload, SEALED_SESSION_TYPE);
  if (tag.length !== want.length || !timingSafeEqual(tag, want)) return 'forged';
  let state: SealedSession & { type?: string };
  try {
    state = JSON.parse(payload.toString('utf8')) as SealedSession & { type?: string };
  } catch {
    return 'malformed';
  }
  if (
    state.type !== SEALED_SESSION_TYPE ||
    typeof state.expires_at_ms !== 'number' ||
    typeof state.session_id !== 'string'
  )
    return 'malformed';
  if (now > state.expires_at_ms) return 'expired';
  if (state.principal !== principal) return 'mismatch';
  return state;
}
