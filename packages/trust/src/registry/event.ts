// Trust events (`helm.trust.event.v1`): structural validation of the signed body and the envelope
// digest that links the chain. Normative: docs/spec/trust-event.md. Authoring is authoring.ts.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import {
  TRUST_EVENT_KINDS,
  TRUST_EVENT_TYPE,
  TRUST_ROLES,
  type TrustEvent,
  type TrustEventKind,
  type TrustKeyRef,
  type TrustRole,
} from '@helm/contracts/trust-event';
import { isKeyId, keyIdFor } from '@helm/crypto/ed25519';
import { fromBase64Url } from '@helm/crypto/encoding';
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
