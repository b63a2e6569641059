// Trust events (`helm.trust.event.v1`): structural validation of the signed body, the envelope
// digest that links the chain, and authoring helpers. Normative: docs/spec/trust-event.md.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import {
  TRUST_EVENT_KINDS,
  TRUST_EVENT_TYPE,
  TRUST_GENESIS_PREV,
  TRUST_ROLES,
  type TrustEvent,
  type TrustEventKind,
  type TrustKeyRef,
  type TrustRole,
} from '@helm/contracts/trust-event';
import { isKeyId, keyIdFor, type Signer } from '@helm/crypto/ed25519';
import { fromBase64Url, toBase64Url } from '@helm/crypto/encoding';
import { signEnvelope } from '@helm/crypto/envelope-sign';
import { digest, isDigest } from '@helm/crypto/hash';
import { canonicalBytes } from '@helm/crypto/jcs';
import { TrustError } from '../errors.js';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** digest(JCS(envelope)) — the value the next event's `prev` must carry. */
export function trustEventDigest(envelope: SignedEnvelope): string {
  return digest(
    canonicalBytes({ type: envelope.type, payload: envelope.payload, signatures: envelope.signatures }),
  );
}

/** The key reference (keyid + base64url public key) for a raw Ed25519 public key. */
export function trustKeyRef(publicKey: Uint8Array): TrustKeyRef {
  return { keyid: keyIdFor(publicKey), public_key: toBase64Url(publicKey) };
}

function malformed(message: string): TrustError {
  return new TrustError('TRUST_EVENT_MALFORMED', message);
}

function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= MAX_SEQ;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function exactKeys(body: Record<string, unknown>, keys: readonly string[]): void {
  const actual = Object.keys(body).sort();
  const expected = [...keys].sort();
  if (actual.length !== expected.length || actual.some((k, i) => k !== expected[i])) {
    throw malformed(`fields must be exactly: ${expected.join(', ')}`);
  }
}

function checkKeyid(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isKeyId(value)) throw malformed(`${field} is not an ed25519 key id`);
  return value;
}

function checkRole(value: unknown): TrustRole {
  if (typeof value !== 'string' || !(TRUST_ROLES as readonly string[]).includes(value)) {
    throw malformed(`unknown role ${String(value)}`);
  }
  return value as TrustRole;
}

/** Validates a key reference and returns its raw public key (keyid must match the key). */
export function decodeKeyRef(value: unknown, field: string): Uint8Array {
  if (!isRecord(value)) throw malformed(`${field} must be an object`);
  exactKeys(value, ['keyid', 'public_key']);
  const keyid = checkKeyid(value.keyid, `${field}.keyid`);
  const raw = typeof value.public_key === 'string' ? fromBase64Url(value.public_key) : undefined;
  if (raw?.length !== 32) throw malformed(`${field}.public_key is not a base64url Ed25519 key`);
  if (keyIdFor(raw) !== keyid) throw malformed(`${field}.keyid does not match its public key`);
  return raw;
}

const COMMON = ['type', 'kind', 'registry', 'seq', 'prev'] as const;
const EXTRA: Record<TrustEventKind, readonly string[]> = {
  genesis: ['root_keys', 'root_threshold'],
  key_publish: ['key', 'roles'],
  key_rotate: ['keyid', 'new_key'],
  key_revoke: ['keyid'],
  role_grant: ['keyid', 'role'],
  role_revoke: ['keyid', 'role'],
  root_threshold_set: ['threshold'],
};

/** Structural validation of a decoded event body (authorization is checked by the registry). */
export function parseTrustEvent(body: unknown): TrustEvent {
  if (!isRecord(body)) throw malformed('event body must be an object');
  if (body.type !== TRUST_EVENT_TYPE) throw malformed('wrong event type');
  const kind = body.kind;
  if (typeof kind !== 'string' || !(TRUST_EVENT_KINDS as readonly string[]).includes(kind)) {
    throw malformed(`unknown event kind ${String(kind)}`);
  }
  const k = kind as TrustEventKind;
  exactKeys(body, [...COMMON, ...EXTRA[k]]);
  if (typeof body.registry !== 'string' || body.registry.length === 0 || body.registry.length > 128) {
    throw malformed('registry must be a non-empty string of at most 128 characters');
  }
  if (!isCount(body.seq, 1)) throw malformed('seq must be a safe integer ≥ 1');
  if (!isDigest(body.prev)) throw malformed('prev must be a sha256 digest');
  switch (k) {
    case 'genesis': {
      const keys = body.root_keys;
      if (!Array.isArray(keys) || keys.length === 0 || keys.length > 64)
        throw malformed('root_keys: 1..64 keys');
      for (const [i, ref] of keys.entries()) decodeKeyRef(ref, `root_keys[${i}]`);
      const ids = new Set(keys.map((ref) => (ref as TrustKeyRef).keyid));
      if (ids.size !== keys.length) throw malformed('duplicate root key');
      const t = body.root_threshold;
      if (!isCount(t, 1) || t > keys.length) throw malformed('root_threshold must be in 1..len(root_keys)');
      break;
    }
    case 'key_publish': {
      decodeKeyRef(body.key, 'key');
      if (!Array.isArray(body.roles)) throw malformed('roles must be an array');
      const roles = body.roles.map(checkRole);
      if (new Set(roles).size !== roles.length) throw malformed('duplicate role');
      break;
    }
    case 'key_rotate':
      checkKeyid(body.keyid, 'keyid');
      decodeKeyRef(body.new_key, 'new_key');
      break;
    case 'key_revoke':
      checkKeyid(body.keyid, 'keyid');
      break;
    case 'role_grant':
    case 'role_revoke':
      checkKeyid(body.keyid, 'keyid');
      checkRole(body.role);
      break;
    case 'root_threshold_set':
      if (!isCount(body.threshold, 1) || body.threshold > 64) {
        throw malformed('threshold must be in 1..64');
      }
      break;
  }
  return body as unknown as TrustEvent;
}

/** Parameters of a genesis event. */
export interface GenesisParams {
  readonly registry: string;
  /** Raw Ed25519 public keys of the initial root keys. */
  readonly rootKeys: readonly Uint8Array[];
  readonly rootThreshold: number;
}

/** Build and sign the genesis event; at least `rootThreshold` of the root keys must sign. */
export function createGenesisEvent(params: GenesisParams, signers: readonly Signer[]): SignedEnvelope {
  const body = {
    type: TRUST_EVENT_TYPE,
    kind: 'genesis',
    registry: params.registry,
    seq: 1,
    prev: TRUST_GENESIS_PREV,
    root_keys: params.rootKeys.map(trustKeyRef),
    root_threshold: params.rootThreshold,
  };
  parseTrustEvent(body);
  return signEnvelope(body, signers);
}

/** A registry change without the chain fields (`type`, `registry`, `seq`, `prev`). */
export type TrustChange =
  | { readonly kind: 'key_publish'; readonly publicKey: Uint8Array; readonly roles: readonly TrustRole[] }
  | { readonly kind: 'key_rotate'; readonly keyid: string; readonly newPublicKey: Uint8Array }
  | { readonly kind: 'key_revoke'; readonly keyid: string }
  | { readonly kind: 'role_grant'; readonly keyid: string; readonly role: TrustRole }
  | { readonly kind: 'role_revoke'; readonly keyid: string; readonly role: TrustRole }
  | { readonly kind: 'root_threshold_set'; readonly threshold: number };

/** The JSON fields of a change (what follows the chain fields in the event body). */
export function changeFields(change: TrustChange): Record<string, unknown> {
  switch (change.kind) {
    case 'key_publish':
      return { kind: change.kind, key: trustKeyRef(change.publicKey), roles: [...change.roles] };
    case 'key_rotate':
      return { kind: change.kind, keyid: change.keyid, new_key: trustKeyRef(change.newPublicKey) };
    case 'key_revoke':
      return { kind: change.kind, keyid: change.keyid };
    case 'role_grant':
    case 'role_revoke':
      return { kind: change.kind, keyid: change.keyid, role: change.role };
    case 'root_threshold_set':
      return { kind: change.kind, threshold: change.threshold };
  }
}
