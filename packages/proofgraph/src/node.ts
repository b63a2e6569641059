// ProofGraph nodes `helm.node.v1` (normative: docs/spec/node.md): the body rule and the verifier.
// Signing is node-sign.ts, off the verify path.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import {
  MAX_NODE_PARENTS,
  NODE_FIELDS,
  NODE_KIND_PATTERN,
  NODE_TYPE,
  type NodeBody,
} from '@helm/contracts/node';
import { isKeyId, verifyEd25519 } from '@helm/crypto/ed25519';
import { digest, isDigest } from '@helm/crypto/hash';
import { canonicalBytes } from '@helm/crypto/jcs';
import { isSafeInt } from '@helm/crypto/json';
import { fieldsProblem, openSingleSigned } from './internal/envelope.js';
import { envelopeHash } from './internal/envelope-hash.js';
import { type KeyLookup, nodeSignerRole } from './keys.js';

export interface SignedNode {
  /** Node hash: digest of the canonical signed envelope (a receipt node: its receipt hash). */
  readonly hash: string;
  /** The node body (a receipt node: its node view, read from the receipt). */
  readonly body: NodeBody;
  /** The signed `helm.node.v1` envelope, or for a receipt node the `helm.receipt.v1` receipt. */
  readonly envelope: SignedEnvelope;
  /** The payload (JSON), when not withheld; digest(JCS(payload)) = body.payload_hash. */
  readonly payload?: unknown;
}

const KIND = new RegExp(NODE_KIND_PATTERN);

export function nodeBodyProblem(b: Record<string, unknown>): string | undefined {
  const f = fieldsProblem(b, NODE_FIELDS);
  if (f) return f;
  if (b.type !== NODE_TYPE) return 'type';
  if (typeof b.kind !== 'string' || !KIND.test(b.kind)) return 'kind';
  if (!Array.isArray(b.parents) || b.parents.length > MAX_NODE_PARENTS || !b.parents.every(isDigest))
    return 'parents';
  for (let i = 1; i < b.parents.length; i++) {
    if ((b.parents[i - 1] as string) >= (b.parents[i] as string)) return 'parents must be strictly ascending';
  }
  if (!isSafeInt(b.lamport, 1)) return 'lamport';
  if (b.parents.length === 0 && b.lamport !== 1) return 'a root node has lamport 1';
  if (typeof b.principal !== 'string' || b.principal.length < 1 || b.principal.length > 1024)
    return 'principal';
  if (!isDigest(b.payload_hash)) return 'payload_hash';
  if (!isKeyId(b.keyid)) return 'keyid';
  if (!isSafeInt(b.issued_at_ms, 0)) return 'issued_at_ms';
  return undefined;
}

export type NodeVerifyCode =
  | 'NODE_MALFORMED'
  /** A receipt node whose receipt does not verify (docs/spec/node.md §Receipt nodes). */
  | 'RECEIPT_INVALID'
  | 'KEYID_MISMATCH'
  | 'KEY_UNKNOWN'
  | 'SIGNATURE_INVALID'
  | 'PAYLOAD_MISMATCH';

export type NodeCheck =
  | { readonly ok: true; readonly node: SignedNode }
  | { readonly ok: false; readonly code: NodeVerifyCode; readonly message: string };

/**
 * Verify one node in isolation (structure, key for role node:<KIND> at its lamport, signature, payload).
 *
 * @example
 * ```ts
 * import { verifyNode } from '@helm/proofgraph/verify';
 *
 * declare const envelope: unknown;
 * // Role is `node:<KIND>`, height the node's lamport (e.g. TrustRegistry#keyLookup).
 * declare const keys: (keyid: string, role: string, lamport: number) => Uint8Array | undefined;
 * const check = verifyNode(envelope, keys); // never throws
 * if (!check.ok) console.log(check.code, check.message);
 * ```
 */
export function verifyNode(
  envelope: unknown,
  keys: KeyLookup,
  payload?: { readonly value: unknown },
): NodeCheck {
  const decoded = openSingleSigned(envelope, NODE_TYPE);
  if (typeof decoded === 'string') return { ok: false, code: 'NODE_MALFORMED', message: decoded };
  const problem = nodeBodyProblem(decoded.body);
  if (problem) return { ok: false, code: 'NODE_MALFORMED', message: problem };
  const body = decoded.body as unknown as NodeBody;
  if (body.keyid !== decoded.keyid) return { ok: false, code: 'KEYID_MISMATCH', message: 'keyid differs' };
  const key = keys(body.keyid, nodeSignerRole(body.kind), body.lamport);
  if (!key)
    return {
      ok: false,
      code: 'KEY_UNKNOWN',
      message: `no key ${body.keyid} for ${nodeSignerRole(body.kind)}`,
    };
  if (!verifyEd25519(key, decoded.pae, decoded.sig).ok) {
    return { ok: false, code: 'SIGNATURE_INVALID', message: 'node signature does not verify' };
  }
  const env = envelope as SignedEnvelope;
  if (payload) {
    let h: string | undefined;
    try {
      h = digest(canonicalBytes(payload.value));
    } catch {
      h = undefined;
    }
    if (h !== body.payload_hash)
      return { ok: false, code: 'PAYLOAD_MISMATCH', message: 'payload does not match' };
    return { ok: true, node: { hash: envelopeHash(env), body, envelope: env, payload: payload.value } };
  }
  return { ok: true, node: { hash: envelopeHash(env), body, envelope: env } };
}
